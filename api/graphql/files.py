"""A run's files: listing them and createRunFiles."""

import re

from ariadne import ObjectType

from runs.models import RunFile
from runs.services import RunsError
from runs.tracking import run_file_storage_name, run_files_create

from .. import transfer
from .common import MAX_PAGE, actor_of, mutation, node_id, refusal, username_of, writable_run
from .runs import run_type

file_connection_type = ObjectType("FileConnection")


@file_connection_type.field("totalCount")
def resolve_file_connection_total(connection, _):
    """Every file the query matches, on all pages: counted only when the client asks."""
    matching = connection.get("matching")
    if matching is None:
        return len(connection["edges"])
    return matching.count() + connection.get("uncounted", 0)


@run_type.field("fileCount")
def resolve_run_file_count(run, _):
    return run.files.exclude(uploaded_at=None).count()


def _like_to_regex(pattern: str) -> str:
    """The client's SQL LIKE pattern (`%` any text, `_` one character) as a regex."""
    return (
        "^"
        + "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
        + "$"
    )


def _run_file_node(request, run_file: RunFile) -> dict:
    url = transfer.download_url(
        request, transfer.GET_RUN_FILE, run_file.pk, run_file.storage_name, run_file.name
    )
    return {
        "id": node_id("File", run_file.pk),
        "name": run_file.name,
        "url": url,
        "directUrl": url,
        "sizeBytes": run_file.size or 0,
        "mimetype": None,
        "updatedAt": run_file.uploaded_at,
        "md5": run_file.md5 or None,
        "uploadHeaders": [],
    }


@run_type.field("files")
def resolve_run_files(run, info, names=None, after=None, first=50, pattern=None):
    files = run.files.exclude(uploaded_at=None).order_by("name")
    if names:
        files = files.filter(name__in=names)
    if pattern:
        files = files.filter(name__regex=_like_to_regex(pattern))
    matching = files
    if after:
        files = files.filter(name__gt=after)
    first = max(1, min(first or 50, MAX_PAGE))
    page = list(files[: first + 1])
    request = info.context["request"]
    edges = [{"node": _run_file_node(request, f), "cursor": f.name} for f in page[:first]]
    return {
        "matching": matching,
        "edges": edges,
        "pageInfo": {
            "endCursor": edges[-1]["cursor"] if edges else None,
            "hasNextPage": len(page) > first,
            "hasPreviousPage": bool(after),
        },
    }


@mutation.field("createRunFiles")
def resolve_create_run_files(_, info, input):
    run = writable_run(info, input["entityName"], input["projectName"], input["runName"])
    try:
        files = run_files_create(
            actor=actor_of(info), run=run, names=input["files"], username=username_of(info)
        )
    except RunsError as error:
        raise refusal(error) from error
    request = info.context["request"]
    nodes = []
    for file in files:
        url, headers = transfer.upload_link(
            request, transfer.PUT_RUN_FILE, file.pk, run_file_storage_name(file), file.name
        )
        nodes.append(
            {
                "id": node_id("File", file.pk),
                "name": file.name,
                "uploadUrl": url,
                "uploadHeaders": headers,
            }
        )
    # No header is common to all files: a run file's MD5 is not known before its upload.
    return {"runID": node_id("Run", run.pk), "uploadHeaders": [], "files": nodes}
