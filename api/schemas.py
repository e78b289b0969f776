"""Request and response bodies of the JSON API (they also make its OpenAPI schema)."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, StringConstraints, model_validator

from runs.ingest import LONE_SURROGATE, NUL
from runs.models import Run
from runs.selectors import DEFAULT_SORT
from runs.services import CHUNK


def _storable(text: str) -> str:
    # Names are looked up as sent: a NUL or a lone surrogate can neither be stored nor compared.
    if NUL in text or LONE_SURROGATE.search(text):
        raise ValueError("holds a NUL character or a lone surrogate")
    return text


Text = Annotated[str, AfterValidator(_storable)]
RunId = Annotated[Text, StringConstraints(min_length=1, max_length=128)]


class Error(Schema):
    detail: str


class QueryErrorOut(Schema):
    detail: str = Field(description="What is wrong, ending with “at column N”.")
    column: int | None = Field(
        None, description="The 1-based position of the mistake in `q`, when there is one."
    )


QUERY_HELP = """A query in Teamsite's runs query language; plain text finds runs whose name \
or run id contains it. A mistake is a 400 with its `column`.

- Conditions: `field op value` with `= != < <= > >=`; `in (a, b)`, `not in (...)`; \
`between A and B`; `~` and `!~` (regular expression); `tags has x`; `exists`, `not exists`.
- Joined by `not`, `and`, `or` (that precedence, any case) and parentheses.
- Fields: `config.KEY`, `summary.KEY` (dots reach nested keys; quote odd ones: \
`summary."val acc"`), `state`, `name`, `run_id`, `author`, `group`, `job_type`, `tags`, \
`created`, `heartbeat`, `runtime` (seconds).
- Values: numbers, "quoted text", bare words, ISO dates on created/heartbeat \
(2026-11-01, 2026-11-01T09:30Z), `true`, `false`, `null`.

Example: `summary.val/acc >= 0.9 and config.lr <= 0.01 and (tags has baseline or \
state = failed) and created > 2026-11-01`."""


class _FilterFields(Schema):
    state: Run.State | None = Field(None, description="Only runs in this state.")
    tag: Text = Field("", max_length=255, description="Only runs with this tag.")
    author: Text = Field("", max_length=150, description="Only runs logged by this username.")
    q: Text = Field("", description=QUERY_HELP)


class RunsQuery(_FilterFields):
    sort: Text = Field(
        DEFAULT_SORT,
        max_length=300,
        description="name, state, author, created, runtime, summary.KEY or config.KEY; "
        "a leading - sorts descending.",
    )
    cursor: Text | None = Field(
        None, max_length=2000, description="next_cursor or prev_cursor of a previous page."
    )


class RunFilterIn(_FilterFields):
    """Runs matching every given field; an empty object selects every run of the project."""

    # A misspelt field must not widen the selection to every run.
    model_config = ConfigDict(extra="forbid")


SELECTION = "Exactly one of run_ids or filter: the runs named, or every run matching the filter."


class RunSelection(Schema):
    # The docstring is the schema's description in the OpenAPI document.
    """The runs to act on. Exactly one of run_ids or filter: the runs named, or every run
    matching the filter."""

    model_config = ConfigDict(extra="forbid")

    run_ids: list[RunId] | None = Field(
        None,
        min_length=1,
        max_length=CHUNK,
        description=f"Runs named by their run ids. {SELECTION}",
    )
    filter: RunFilterIn | None = Field(
        None, description=f"Every run matching this filter. {SELECTION}"
    )

    @model_validator(mode="after")
    def _exactly_one_selection(self):
        if (self.run_ids is None) == (self.filter is None):
            raise ValueError("Give exactly one of run_ids or filter.")
        return self


class MoveIn(RunSelection):
    """The runs to move and where. Exactly one of run_ids or filter: the runs named, or every
    run matching the filter."""

    target: Text = Field(
        ...,
        pattern=r"^[^/]+/[^/]+$",
        max_length=200,
        description="The target project as entity/project; one you can write to.",
    )


class MoveOut(Schema):
    moved: int
    target: str


class DeleteOut(Schema):
    deleted: int = Field(description="Runs moved to the project's trash (same as trashed).")
    trashed: int = Field(description="Runs moved to the project's trash.")
    restorable_days: int = Field(
        description="Days the runs stay in the trash, restorable, before they are purged."
    )


class RestoreIn(Schema):
    """The runs to bring back from the project's trash, by their run ids."""

    model_config = ConfigDict(extra="forbid")

    run_ids: list[RunId] = Field(..., min_length=1, max_length=CHUNK)


class RestoreOut(Schema):
    restored: int


class TrashedRunOut(Schema):
    run_id: str
    name: str
    author: str | None
    created_at: datetime
    trashed_at: datetime
    trashed_by: str | None
    purged_after: datetime


class TrashQuery(Schema):
    offset: int = Field(0, ge=0, le=10**9, description="next_offset of a previous page.")


class TrashPageOut(Schema):
    total: int
    runs: list[TrashedRunOut]
    next_offset: int | None


class RunOut(Schema):
    run_id: str
    name: str
    state: str
    author: str | None
    created_at: datetime
    runtime: float | None
    tags: list[Any]
    config: dict[str, Any]
    summary: dict[str, Any]
    url: str


class RunsPageOut(Schema):
    total: int
    runs: list[RunOut]
    next_cursor: str | None
    prev_cursor: str | None
