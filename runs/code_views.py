"""The pages of the code a run saved (`run.log_code()`): one file of it, highlighted like the
run's other files, with a link that downloads it."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from .access import get_run_for_user
from .code import run_code_file
from .file_preview import file_preview


def run_code(request, entity, project, run_id, name):
    project, run = get_run_for_user(request, entity, project, run_id)
    found = run_code_file(run, name)
    if found is None:
        raise Http404("The run saved no code file of that name.")
    artifact, file = found
    preview = file_preview(file.storage_name, file.name)
    if preview is None:
        raise Http404("This file is not stored.")
    download_url = reverse(
        "artifacts:file",
        args=[
            project.entity.name,
            project.name,
            artifact.collection.name,
            artifact.version_index,
            file.name,
        ],
    )
    context = {
        "project": project,
        "run": run,
        "file": file,
        "preview": preview,
        "download_url": download_url,
        "back": "code",
        "source": f"{artifact.collection.name}:{artifact.version}",
    }
    return render(request, "runs/file.html", context)
