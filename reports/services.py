"""Changes to reports: the draft's title and blocks, and publishing. Each change of the draft
moves `Report.updated_at`, which tells whether the draft holds unpublished changes."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from runs.query import QueryError

from .blocks import RUN_SET_KINDS, clean_config
from .models import Report, ReportBlock, ReportVersion
from .panels import frozen_ids

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


def _query_panels(report: Report) -> list[ReportBlock]:
    """The draft's panels that name their runs by a query (frozen or not), locked."""
    blocks = report.blocks.select_for_update().filter(kind__in=RUN_SET_KINDS)
    return [block for block in blocks if "ids" not in block.config.get("runs", {})]


@transaction.atomic
def report_freeze(*, report: Report, actor) -> int:
    """Fix each query panel of the draft to the runs its query matches now (as many as the
    panel shows), so runs logged later do not change it; publishing carries the freeze to
    readers. Returns the number of panels frozen; one whose query cannot be answered stays
    as it is. `actor` is an author or admin (the view checks)."""
    _locked(report)
    now = timezone.now().isoformat()
    frozen = []
    for block in _query_panels(report):
        query = block.config["runs"].get("query", "")
        try:
            ids = frozen_ids(report.project, block.kind, block.config)
        except QueryError:  # the panel says so where it is shown; nothing to freeze
            continue
        block.config = clean_config(
            block.kind,
            {**block.config, "runs": {"query": query, "frozen": ids, "frozen_at": now}},
        )
        frozen.append(block)
    ReportBlock.objects.bulk_update(frozen, ["config"])
    _touch(report)
    return len(frozen)


@transaction.atomic
def report_unfreeze(*, report: Report, actor) -> int:
    """Let every frozen panel of the draft follow its query again; the number unfrozen."""
    _locked(report)
    thawed = []
    for block in _query_panels(report):
        if "frozen" in block.config["runs"]:
            block.config = {**block.config, "runs": {"query": block.config["runs"]["query"]}}
            thawed.append(block)
    ReportBlock.objects.bulk_update(thawed, ["config"])
    _touch(report)
    return len(thawed)


def is_frozen(configs) -> bool:
    """Whether any of these block settings holds a frozen run set."""
    return any("frozen" in (config.get("runs") or {}) for config in configs)


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
