"""The endpoints the wandb client calls: /graphql, file_stream, upload and download links.

Permanent refusals are 4xx: the client retries a 5xx for days."""

import base64

from ariadne import graphql_sync
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from alerts.services import watched_at_ingest
from alerts.tasks import evaluate_chunk_soon
from artifacts import services as artifact_services
from artifacts.models import Artifact, ArtifactFile
from projects.access import ProjectNeed, project_rights
from projects.models import Project
from runs.ingest import IngestError, apply_file_stream, check_names, load_json, parse_file_stream
from runs.models import Run, RunFile
from runs.services import RunsError
from runs.tracking import UploadTooLarge, may_change_run, run_file_store, run_files_uploaded
from teams.access import Need, entity_permissions
from teamsite.lib import objectstore
from teamsite.lib.downloads import stored_file_download

from . import transfer
from .auth import ApiKeyBasic, ApiKeyBearer
from .graphql import ApiError, schema
from .renderers import FiniteJSONEncoder

UNAUTHORIZED = "Invalid or missing API key. Create one in Settings > API keys."


def _api_user(request):
    return ApiKeyBasic()(request) or ApiKeyBearer()(request)


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message}], "error": message}, status=status)


def _read_json(request, limit: int):
    """The request's JSON body, read from the stream up to `limit` bytes (Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE, meant for forms, would refuse a client's large config)."""
    body = _request_body(request, limit)
    try:
        return load_json(body or b"{}", "The body")
    except ValueError:
        raise IngestError("The body must be JSON.") from None


@csrf_exempt
def graphql(request):
    if request.method != "POST":
        return _post_only(request)
    user = _api_user(request)
    if user is None:
        return _error(UNAUTHORIZED, 401)
    try:
        data = _read_json(request, settings.GRAPHQL_MAX_BYTES)
        check_names(data, "The body")
    except IngestError as error:
        return _error(str(error), error.status)
    if not isinstance(data, dict):
        return _error("The body must be a JSON object.", 400)
    if not data.get("operationName"):
        data.pop("operationName", None)  # the public client sends "" for "the only operation"
    statuses = []

    def format_error(error, debug=False):
        original = error.original_error
        if isinstance(original, ApiError):
            statuses.append(original.status)
        elif original is not None and error.path is not None:
            raise original  # a bug in a resolver: let Django report it, never hide it in a 200
        else:
            statuses.append(400)  # the operation or its variables do not fit the schema
        return error.formatted

    _, result = graphql_sync(
        schema,
        data,
        context_value={
            "request": request,
            "user": user,
            "username": request.headers.get("X-Wandb-Username", ""),
        },
        error_formatter=format_error,
        introspection=settings.DEBUG,
    )
    status = max(statuses) if statuses else 200
    # Compact: the scan_history pages are most of what the client reads, and parses.
    return JsonResponse(
        result,
        status=status,
        encoder=FiniteJSONEncoder,
        json_dumps_params={"separators": (",", ":")},
    )


def _request_body(request, limit: int) -> bytes:
    length = request.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise IngestError(f"The request is larger than {limit} bytes.", status=413)
    body = request.read(limit + 1)
    if len(body) > limit:
        raise IngestError(f"The request is larger than {limit} bytes.", status=413)
    return body


def _post_only(request):
    response = _error(f"Method {request.method} not allowed; use POST.", 405)
    response["Allow"] = "POST"
    return response


@csrf_exempt
def file_stream(request, entity, project, run_id):
    if request.method != "POST":
        return _post_only(request)
    user = _api_user(request)
    if user is None:
        return _error(UNAUTHORIZED, 401)
    run = (
        Run.objects.select_related("project__entity")
        .annotate(alerts_watched=watched_at_ingest(OuterRef("project")))
        .filter(project__entity__name=entity.lower(), project__name=project, run_id=run_id)
        .first()
    )
    permissions = entity_permissions(user, run.project.entity) if run is not None else set()
    if Need.VIEW not in permissions:
        return _error(f"Run {entity}/{project}/{run_id} not found.", 404)
    if not may_change_run(user, run, permissions):
        return _error("Only the run's author and admins can log to it.", 403)
    try:
        update = parse_file_stream(_read_json(request, settings.FILE_STREAM_MAX_BYTES))
    except IngestError as error:
        return _error(str(error), error.status)
    # Alert rules read what was stored, in a worker: only for a project that has rules. The
    # evaluation is enqueued in the chunk's transaction.
    if run.alerts_watched and (update.history is not None or update.complete):
        with transaction.atomic():
            apply_file_stream(run, update)
            evaluate_chunk_soon(run, update.history.keys if update.history else [])
    else:
        apply_file_stream(run, update)
    run_files_uploaded(run, update.uploaded)
    return JsonResponse({"exitcode": None, "limits": {}})


@csrf_exempt
def transfer_file(request, token, filename):
    """PUT or GET one file through a signed link from a GraphQL answer."""
    parsed = transfer.read_transfer_token(token)
    if parsed is None:
        return _error("This link is invalid or has expired.", 404)
    action, object_id = parsed
    method = "PUT" if action.startswith("put-") else "GET"
    if request.method != method:
        response = _error(f"This link takes {method}.", 405)
        response["Allow"] = method
        return response
    try:
        return TRANSFERS[action](request, object_id)
    except RunsError as error:
        return _error(str(error), 413 if isinstance(error, UploadTooLarge) else 400)


def _put_run_file(request, pk):
    run_file = RunFile.objects.filter(pk=pk).first()
    if run_file is None:
        return _error("Not found.", 404)
    run_file_store(run_file, request)
    return HttpResponse(status=200)


def _download(storage_name: str, filename: str):
    """The client reads from the bucket itself when it can: a redirect to a presigned link (its
    HTTP library drops the API key when it leaves this site). Pages stream files from the site
    instead, within their Content Security Policy."""
    if storage_name and objectstore.direct_storage() is not None:
        return HttpResponseRedirect(objectstore.presigned_download(storage_name, filename))
    return stored_file_download(storage_name, filename) or _error("Not found.", 404)


def _get_run_file(request, pk):
    run_file = RunFile.objects.filter(pk=pk).first()
    if run_file is None:
        return _error("Not found.", 404)
    return _download(run_file.storage_name, run_file.name)


def _put_artifact_file(request, pk):
    artifact_file = (
        ArtifactFile.objects.select_related("artifact__collection").filter(pk=pk).first()
    )
    if artifact_file is None:
        return _error("Not found.", 404)
    artifact_services.artifact_file_store(artifact_file, request)
    return HttpResponse(status=200)


def _get_artifact_file(request, pk):
    artifact_file = ArtifactFile.objects.filter(pk=pk).first()
    if artifact_file is None or artifact_file.size is None:
        return _error("Not found.", 404)
    return _download(artifact_file.storage_name, artifact_file.name)


def _put_manifest(request, pk):
    artifact = Artifact.objects.filter(pk=pk).first()
    if artifact is None:
        return _error("Not found.", 404)
    artifact_services.artifact_manifest_store(artifact, request)
    return HttpResponse(status=200)


@require_safe
def artifact_file_v2(request, region, entity, project, collection, ids, hexhash, filename):
    """A version's file at the path the client builds from its manifest (W&B's storage layout
    V2): readable by whoever may see the project, as every other download."""
    user = _api_user(request)
    if user is None:
        return _error(UNAUTHORIZED, 401)
    found = (
        Project.objects.select_related("entity")
        .filter(entity__name=entity.lower(), name=project)
        .first()
    )
    if (
        found is None
        or not artifact_services.storage_region_known(region)
        or ProjectNeed.VIEW
        not in project_rights(user, found, entity_permissions(user, found.entity))
    ):
        return _error("Not found.", 404)
    artifact_file = (
        ArtifactFile.objects.stored()
        .filter(
            artifact__collection__project=found,
            artifact__collection__name=collection,
            md5=base64.b64encode(bytes.fromhex(hexhash)).decode(),
        )
        .first()
    )
    if artifact_file is None:
        return _error("Not found.", 404)
    return _download(artifact_file.storage_name, filename)


def _get_manifest(request, pk):
    artifact = Artifact.objects.filter(pk=pk).first()
    if artifact is None:
        return _error("Not found.", 404)
    return _download(artifact.manifest_storage_name, artifact_services.MANIFEST_NAME)


TRANSFERS = {
    transfer.PUT_RUN_FILE: _put_run_file,
    transfer.GET_RUN_FILE: _get_run_file,
    transfer.PUT_ARTIFACT_FILE: _put_artifact_file,
    transfer.GET_ARTIFACT_FILE: _get_artifact_file,
    transfer.PUT_MANIFEST: _put_manifest,
    transfer.GET_MANIFEST: _get_manifest,
}


@csrf_exempt
def telemetry_probe(request):
    # The client probes for an OpenTelemetry proxy; a 404 tells it there is none.
    return _error("No telemetry endpoint.", 404)
