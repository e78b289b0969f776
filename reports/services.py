"""Changes to reports: the draft's title and blocks, and publishing. Each change of the draft
moves `Report.updated_at`, which tells whether the draft holds unpublished changes."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from .blocks import clean_config
from .models import Report, ReportBlock, ReportVersion

MAX_BLOCKS = 50


class ReportError(Exception):
    pass


def _touch(report: Report) -> None:
    report.updated_at = timezone.now()
    report.save(update_fields=["updated_at"])


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Give the report a title."})
    if len(title) > 200:
        raise ValidationError({"title": "At most 200 characters."})
    return title


@transaction.atomic
def report_create(*, project, title: str, actor) -> Report:
    return Report.objects.create(project=project, title=_clean_title(title), created_by=actor)


@transaction.atomic
def report_rename(*, report: Report, title: str) -> Report:
    report.title = _clean_title(title)
    report.updated_at = timezone.now()
    report.save(update_fields=["title", "updated_at"])
    return report


def _locked(report: Report) -> Report:
    # Positions and version numbers are counted from the other rows: one writer at a time.
    return Report.objects.select_for_update().get(pk=report.pk)


@transaction.atomic
def block_add(*, report: Report, kind: str, config: dict) -> ReportBlock:
    cleaned = clean_config(kind, config)
    _locked(report)
    if report.blocks.count() >= MAX_BLOCKS:
        raise ValidationError(f"A report holds at most {MAX_BLOCKS} blocks.")
    last = report.blocks.aggregate(last=Max("position"))["last"]
    block = ReportBlock.objects.create(
        report=report, kind=kind, config=cleaned, position=0 if last is None else last + 1
    )
    _touch(report)
    return block


@transaction.atomic
def block_update(*, block: ReportBlock, config: dict) -> ReportBlock:
    block.config = clean_config(block.kind, config)
    block.save(update_fields=["config"])
    _touch(block.report)
    return block


@transaction.atomic
def block_move(*, block: ReportBlock, direction: str) -> None:
    """Swap the block with its neighbour above ("up") or below ("down"); at an end, nothing."""
    if direction not in ("up", "down"):
        raise ValidationError("Move a block up or down.")
    _locked(block.report)
    siblings = block.report.blocks.order_by("position", "pk")
    if direction == "up":
        neighbour = siblings.filter(position__lt=block.position).order_by("-position").first()
    else:
        neighbour = siblings.filter(position__gt=block.position).first()
    if neighbour is None:
        return
    block.position, neighbour.position = neighbour.position, block.position
    ReportBlock.objects.bulk_update([block, neighbour], ["position"])
    _touch(block.report)


@transaction.atomic
def block_delete(*, block: ReportBlock) -> None:
    report = block.report
    block.delete()
    _touch(report)


@transaction.atomic
def report_publish(*, report: Report, actor, note: str = "") -> ReportVersion:
    """Copy the draft into the next version, which readers see from now on."""
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": "A note of at most 500 characters."})
    _locked(report)
    last = report.versions.aggregate(last=Max("number"))["last"] or 0
    return ReportVersion.objects.create(
        report=report,
        number=last + 1,
        title=report.title,
        blocks=[block.snapshot() for block in report.blocks.order_by("position", "pk")],
        note=note,
        published_by=actor,
    )


@transaction.atomic
def report_delete(*, report: Report) -> None:
    report.delete()


def blocks_diff(previous: list[dict], current: list[dict]) -> dict[str, int]:
    """How many blocks a version added, removed and edited compared with the one before (a
    block is known by its key; a move alone is no edit)."""
    before = {block["key"]: block for block in previous}
    after = {block["key"]: block for block in current}
    edited = sum(
        1
        for key, block in after.items()
        if key in before
        and (block["kind"], block["config"]) != (before[key]["kind"], before[key]["config"])
    )
    return {
        "added": len(after.keys() - before.keys()),
        "removed": len(before.keys() - after.keys()),
        "edited": edited,
    }
