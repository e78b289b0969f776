"""A project's artifacts in the browser: types, collections, a version's page (files, preview,
metadata, description, tags, aliases, runs), its download (a file or a streamed zip), the diff
of two versions and the lineage graph; and the thumbnails of images in tables the client
keeps."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_POST

from projects.access import get_project_for_user
from projects.selectors import all_projects_visible_to
from runs.media import thumbnail
from runs.services import RunsError
from teams.access import Need
from teamsite.lib.downloads import stored_file_download

from . import collection_edits, selectors
from . import lineage as lineage_graph
from .forms import CollectionForm, DescriptionForm, TagForm
from .models import Artifact, ArtifactFile
from .preview import artifact_file_preview
from .services import ArtifactError, artifact_update
from .zipstream import zip_stream


def _committed_file(request, entity, project, collection, version, name) -> ArtifactFile:
    project = get_project_for_user(request, entity, project)
    return get_object_or_404(
        ArtifactFile.objects.stored(),
        artifact__collection__project=project,
        artifact__collection__name=collection,
        artifact__version_index=version,
        artifact__state=Artifact.State.COMMITTED,
        name=name,
    )


def artifact_file(request, entity, project, collection, version, name):
    file = _committed_file(request, entity, project, collection, version, name)
    response = stored_file_download(file.storage_name, file.name)
    if response is None:
        raise Http404("This file is not stored.")
    return response


def artifact_thumbnail(request, entity, project, collection, version, name):
    """An image of an artifact version at most 512 px wide, made on the first request; 404 for
    anything that is not an image."""
    file = _committed_file(request, entity, project, collection, version, name)
    data = thumbnail(file)
    if data is None:
        raise Http404("This file is not an image.")
    response = HttpResponse(data, content_type="image/webp")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- pages -------------------------------------------------------------------------------------


def artifact_types(request, entity, project):
    project = get_project_for_user(request, entity, project)
    context = {"project": project, "types": selectors.project_artifact_types(project)}
    return render(request, "artifacts/types.html", context)


def may_change_collection(user, project) -> bool:
    """Whoever may log to the project (members and admins) names, types and describes it."""
    return user.is_authenticated and Need.WRITE in project.viewer_entity_permissions


def _collection_page(request, project, collection, form=None):
    context = {
        "project": project,
        "collection": collection,
        "versions": selectors.collection_versions(collection),
        "tags": list(collection.tags.all()),
        "tag_form": TagForm(),
        "can_change": may_change_collection(request.user, project),
        "edit_form": form
        or CollectionForm(
            initial={
                "name": collection.name,
                "type": collection.type,
                "description": collection.description or "",
            },
            collection=collection,
        ),
    }
    return render(request, "artifacts/collection.html", context)


def artifact_collection(request, entity, project, type_name, collection):
    project = get_project_for_user(request, entity, project)
    collection = selectors.get_collection(project, type_name, collection)
    return _collection_page(request, project, collection)


@login_required
@require_POST
def collection_edit(request, entity, project, type_name, collection):
    project = get_project_for_user(request, entity, project)
    collection = selectors.get_collection(project, type_name, collection)
    if not may_change_collection(request.user, project):
        raise PermissionDenied("Only members of the team change its artifacts.")
    form = CollectionForm(request.POST, collection=collection)
    if form.is_valid():
        try:
            collection = collection_edits.collection_edit(
                collection,
                actor=request.user,
                name=form.cleaned_data["name"].strip(),
                description=form.cleaned_data["description"].strip(),
                type_name=form.cleaned_data.get("type", "").strip() or None,
            )
        except RunsError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Collection saved.")
            return redirect(
                "artifacts:collection",
                project.entity.name,
                project.name,
                collection.type,
                collection.name,
            )
    return _collection_page(request, project, collection, form)


def _version(request, entity, project, type_name, collection, version):
    project = get_project_for_user(request, entity, project)
    collection = selectors.get_collection(project, type_name, collection)
    collection.project = project
    return project, selectors.get_version(collection, version)


def can_edit(user, project, artifact) -> bool:
    """The version's run author (still a member) and the team's admins."""
    if not user.is_authenticated:
        return False
    permissions = project.viewer_entity_permissions
    run = artifact.created_by_run
    is_author = run is not None and run.author_id == user.pk and Need.WRITE in permissions
    return is_author or Need.ADMIN in permissions


def _version_context(project, artifact, user):
    return {
        "project": project,
        "collection": artifact.collection,
        "artifact": artifact,
        "can_edit": can_edit(user, project, artifact),
    }


def artifact_version(request, entity, project, type_name, collection, version):
    project, artifact = _version(request, entity, project, type_name, collection, version)
    context = _version_context(project, artifact, request.user)
    # Runs of other projects use the version too: only those the viewer may see are named.
    visible = all_projects_visible_to(request.user).values("pk")
    context |= {
        "tags": list(artifact.tags.all()),
        "tag_form": TagForm(),
        "listing": selectors.folder_listing(artifact, request.GET.get("path", "")),
        "aliases": selectors.own_aliases(artifact),
        "registrations": selectors.registrations(artifact, visible),
        "used_by": list(
            artifact.used_by.filter(project__in=visible)
            .select_related("project__entity")
            .order_by("-created_at")
        ),
        "other_versions": list(
            artifact.collection.versions.committed()
            .exclude(pk=artifact.pk)
            .order_by("-version_index")
            .values_list("version_index", flat=True)
        ),
        "form": DescriptionForm(initial={"description": artifact.description}),
        "metadata_text": json.dumps(artifact.metadata, indent=2, ensure_ascii=False),
    }
    return render(request, "artifacts/version.html", context)


def _editable_version(request, entity, project, type_name, collection, version):
    project, artifact = _version(request, entity, project, type_name, collection, version)
    if not can_edit(request.user, project, artifact):
        raise PermissionDenied("Only the run's author and the team's admins edit this version.")
    return project, artifact


@login_required
@require_POST
def artifact_description(request, entity, project, type_name, collection, version):
    project, artifact = _editable_version(request, entity, project, type_name, collection, version)
    form = DescriptionForm(request.POST)
    if form.is_valid():
        artifact = artifact_update(artifact, description=form.cleaned_data["description"].strip())
        if not request.htmx:
            messages.success(request, "Description saved.")
    elif not request.htmx:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    if request.htmx:
        context = _version_context(project, artifact, request.user) | {"form": form}
        return render(request, "artifacts/version.html#description", context)
    return redirect(version_url(artifact, project))


def _tag_change(form, *, add: bool, current, apply, owner: str) -> None:
    """Check the posted tag and `apply(name)` it; a refusal lands on the form."""
    if not form.is_valid():
        return
    name = form.cleaned_data["name"]
    if not add and name not in current:
        form.add_error("name", f"“{name}” is not a tag of this {owner}.")
        return
    try:
        apply(name)
    except ArtifactError as error:  # the rule, or a stored name that the rule now refuses
        form.add_error("name", str(error))


def _tags_answer(request, form, *, added: bool, page_url: str, template: str, context: dict):
    """The tags panel for htmx (a failed removal's error under the tags, a failed addition's
    under its field); otherwise a message and the page."""
    if not request.htmx:
        if form.errors:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        else:
            name = form.cleaned_data["name"]
            messages.success(request, f"Tag “{name}” {'added' if added else 'removed'}.")
        return redirect(page_url)
    context |= {
        "tag_form": form if added and form.errors else TagForm(),
        "remove_form": None if added else form,
    }
    return render(request, template, context)


def _version_tag_change(request, entity, project, type_name, collection, version, *, add):
    project, artifact = _editable_version(request, entity, project, type_name, collection, version)
    form = TagForm(request.POST)
    _tag_change(
        form,
        add=add,
        current=set(artifact.tags.values_list("name", flat=True)),
        apply=lambda name: artifact_update(
            artifact, **{"tags_to_add" if add else "tags_to_delete": [name]}
        ),
        owner="version",
    )
    context = _version_context(project, artifact, request.user)
    context["tags"] = list(artifact.tags.all())
    return _tags_answer(
        request,
        form,
        added=add,
        page_url=version_url(artifact, project),
        template="artifacts/version.html#tags",
        context=context,
    )


@login_required
@require_POST
def artifact_tag_add(request, *args, **kwargs):
    return _version_tag_change(request, *args, **kwargs, add=True)


@login_required
@require_POST
def artifact_tag_remove(request, *args, **kwargs):
    return _version_tag_change(request, *args, **kwargs, add=False)


def _collection_tag_change(request, entity, project, type_name, collection, *, add):
    project = get_project_for_user(request, entity, project)
    collection = selectors.get_collection(project, type_name, collection)
    if not may_change_collection(request.user, project):
        raise PermissionDenied("Only members of the team change its artifacts.")
    form = TagForm(request.POST)
    change = (
        collection_edits.collection_tags_add if add else collection_edits.collection_tags_delete
    )
    _tag_change(
        form,
        add=add,
        current=set(collection.tags.values_list("name", flat=True)),
        apply=lambda name: change(collection, [name]),
        owner="collection",
    )
    context = {
        "project": project,
        "collection": collection,
        "tags": list(collection.tags.all()),
        "can_change": True,
    }
    page_url = reverse(
        "artifacts:collection",
        args=[project.entity.name, project.name, collection.type, collection.name],
    )
    return _tags_answer(
        request,
        form,
        added=add,
        page_url=page_url,
        template="artifacts/collection.html#tags",
        context=context,
    )


@login_required
@require_POST
def collection_tag_add(request, *args, **kwargs):
    return _collection_tag_change(request, *args, **kwargs, add=True)


@login_required
@require_POST
def collection_tag_remove(request, *args, **kwargs):
    return _collection_tag_change(request, *args, **kwargs, add=False)


def version_url(artifact, project, name="artifacts:version"):
    collection = artifact.collection
    return reverse(
        name,
        args=[
            project.entity.name,
            project.name,
            collection.type,
            collection.name,
            artifact.version,
        ],
    )


def artifact_preview(request, entity, project, type_name, collection, version, name):
    project, artifact = _version(request, entity, project, type_name, collection, version)
    file = selectors.version_file(artifact, name)
    preview = artifact_file_preview(file.storage_name, file.name)
    if preview is None:
        raise Http404("This file is not stored.")
    folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
    context = _version_context(project, artifact, request.user) | {
        "file": file,
        "folder": folder,
        "preview": preview,
        "download_url": reverse(
            "artifacts:file",
            args=[
                project.entity.name,
                project.name,
                artifact.collection.name,
                artifact.version_index,
                file.name,
            ],
        ),
    }
    return render(request, "artifacts/preview.html", context)


def artifact_zip(request, entity, project, type_name, collection, version):
    project, artifact = _version(request, entity, project, type_name, collection, version)
    files = artifact.files.stored().order_by("name").only("name", "storage_name")
    folder = f"{artifact.collection.name}-{artifact.version}"
    response = StreamingHttpResponse(
        zip_stream(files.iterator(), prefix=folder), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{folder}.zip"'
    return response


def artifact_diff(request, entity, project, type_name, collection, version):
    """This version against another (`?against=v1` or an alias; the previous one by default)."""
    project, artifact = _version(request, entity, project, type_name, collection, version)
    against = request.GET.get("against")
    if not against:
        previous = (
            artifact.collection.versions.committed()
            .filter(version_index__lt=artifact.version_index)
            .order_by("-version_index")
            .first()
        )
        if previous is None:  # the first version: nothing before it to compare with
            context = _version_context(project, artifact, request.user) | {"diff": None}
            return render(request, "artifacts/diff.html", context)
        against = previous.version
    other = selectors.get_version(artifact.collection, against)
    old, new = sorted([other, artifact], key=lambda a: a.version_index)
    context = _version_context(project, artifact, request.user) | {
        "diff": selectors.version_diff(old, new),
        "old_url": version_url(old, project),
        "new_url": version_url(new, project),
    }
    return render(request, "artifacts/diff.html", context)


@csp_override(settings.CHART_PAGE_CSP)  # Plotly adds its stylesheet at run time
def artifact_lineage(request, entity, project, type_name, collection, version):
    project, artifact = _version(request, entity, project, type_name, collection, version)
    try:
        hops = int(request.GET.get("hops", lineage_graph.DEFAULT_HOPS))
    except ValueError:
        hops = lineage_graph.DEFAULT_HOPS
    hops = max(1, min(hops, lineage_graph.MAX_HOPS))
    visible = all_projects_visible_to(request.user).values("pk")
    graph = lineage_graph.lineage(artifact, visible, hops)
    context = _version_context(project, artifact, request.user) | {
        "graph": graph,
        "figure": graph.figure_data(),
        "hop_choices": range(1, lineage_graph.MAX_HOPS + 1),
    }
    return render(request, "artifacts/lineage.html", context)
