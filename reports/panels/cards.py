"""The panels that show one thing: a run's images at a step, an artifact version's card, a
registered model version's card. Each reads a fixed number of queries; a thing that does not
exist (or no longer does) is said on the panel.

Images are shown through signed thumbnail links (runs.media.thumbnails): a reader without a
session (a share link) sees them too. Links to the run, artifact and registry pages are in
the template, for readers who may open them."""

from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from artifacts.registry_selectors import find_registered_version
from artifacts.selectors import find_version
from runs.compare import display
from runs.media import media_panel
from runs.media.kinds import IMAGE
from runs.media.thumbnails import signed_thumbnail_url
from runs.models import Run

from ..blocks import VERSIONED_NAME
from .base import RenderedBlock, run_url

METADATA_KEYS = 5  # metadata entries a card shows


def media(project, block: RenderedBlock) -> None:
    config = block.config
    run = Run.objects.filter(project=project, run_id=config["run"]).first()
    if run is None:
        block.error = f"This project has no run “{config['run']}”."
        return
    block.card = {"run": run, "url": run_url(project, run.run_id)}
    step = config.get("step")
    panel = media_panel(run, config["key"], step)
    if panel is None:
        where = "at any step" if step is None else f"at step {step}"
        block.error = f"Run {run.display_name} logged no media under “{config['key']}” {where}."
        return
    if panel.kind != IMAGE:
        block.error = f"“{config['key']}” holds {panel.kind} media, not images."
        return
    entity, name = project.entity.name, project.name
    block.images = [
        {
            "caption": item.caption,
            "src": signed_thumbnail_url(item.file) if item.file else "",
            "file": item.file,  # for the HTML download, which carries the thumbnail inside
            "url": reverse("runs:file", args=[entity, name, run.run_id, item.name]),
        }
        for item in panel.items
    ]
    which = "the latest step" if step is None else "the chosen step"
    first, last = panel.steps[0], panel.steps[-1]
    count = len(panel.steps)
    logged = f"logged at {count} steps, {first} to {last}" if count > 1 else "the only one"
    block.notes.append(f"Step {panel.step} ({which}; {logged}).")


def _artifact_card(artifact) -> dict:
    metadata = artifact.metadata if isinstance(artifact.metadata, dict) else {}
    items = list(metadata.items())
    return {
        "name": artifact.collection.name,
        "type": artifact.collection.type,
        "version": artifact.version,
        "aliases": artifact.alias_names,
        "size": filesizeformat(artifact.size),
        "file_count": artifact.file_count,
        "created": artifact.created_at,
        "run": artifact.created_by_run,
        "description": artifact.description,
        "metadata": [(key, display(value)) for key, value in items[:METADATA_KEYS]],
        "more_metadata": max(0, len(items) - METADATA_KEYS),
    }


def _with_links(card: dict, project_of_artifact, artifact) -> dict:
    entity, name = project_of_artifact.entity.name, project_of_artifact.name
    card["url"] = reverse(
        "artifacts:version",
        args=[entity, name, artifact.collection.type, artifact.collection.name, artifact.version],
    )
    run = artifact.created_by_run
    card["run_url"] = reverse("runs:detail", args=[entity, name, run.run_id]) if run else ""
    return card


def artifact(project, block: RenderedBlock) -> None:
    name, version = VERSIONED_NAME.match(block.config["artifact"]).groups()
    found = find_version(project, name, version)
    if found is None:
        block.error = f"This project has no artifact {name} with a version or alias “{version}”."
        return
    block.card = _with_links(_artifact_card(found), project, found)


def registered_model(project, block: RenderedBlock) -> None:
    name, version = VERSIONED_NAME.match(block.config["model"]).groups()
    link = find_registered_version(project.entity, name, version)
    if link is None:
        block.error = (
            f"The registry of {project.entity.name} has no model {name}"
            f" with a version or alias “{version}”."
        )
        return
    found = link.artifact
    if found.collection.project.is_restricted:
        # A report is read beyond a restricted project's named members: nothing of it shows.
        block.error = (
            f"Version {link.version} of {name} was logged in a restricted project; reports do "
            "not show it."
        )
        return
    card = _artifact_card(found)
    # The linked version lives in a project of the same entity (a registry links no others).
    source = found.collection.project
    source.entity = project.entity
    card = _with_links(card, source, found)
    card["registry"] = {
        "name": link.portfolio.name,
        "version": link.version,
        "aliases": link.alias_names,
        "url": reverse("registry:model", args=[project.entity.name, link.portfolio.name]),
    }
    block.card = card
