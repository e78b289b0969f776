"""Search across what a visitor may see: projects, runs, reports, artifacts and registered
models.

Every group is filtered in the query by the projects the visitor may see now (public projects,
and those of their teams: `all_projects_visible_to`, a subquery), never afterwards in Python.
Each group shows its first rows and a count that stops counting past COUNT_LIMIT ("100+"): a
project may hold millions of runs, and counting every match would cost a scan of them all.
One query a group, whatever the number of rows."""

from dataclasses import dataclass

from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet, Value

from artifacts.models import ArtifactCollection
from artifacts.registry import REGISTRY_PROJECT
from projects.models import Project
from projects.selectors import all_projects_visible_to
from reports.selectors import reports_readable_by
from runs.models import Run
from teams.models import Membership

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 200
GROUP_ROWS = 20
COUNT_LIMIT = 100


@dataclass
class ResultGroup:
    key: str
    title: str
    rows: list
    # Up to COUNT_LIMIT + 1: one more than the limit means "more than COUNT_LIMIT".
    count: int

    @property
    def count_label(self) -> str:
        return f"{COUNT_LIMIT}+" if self.count > COUNT_LIMIT else str(self.count)

    @property
    def has_more(self) -> bool:
        return self.count > len(self.rows)


def _group(key: str, title: str, matches: QuerySet) -> ResultGroup:
    # One query: the first COUNT_LIMIT + 1 matches (narrow rows) give both the rows shown and
    # the count, with no COUNT over every match.
    found = list(matches[: COUNT_LIMIT + 1])
    return ResultGroup(key=key, title=title, rows=found[:GROUP_ROWS], count=len(found))


def _collections(visible, kind: str, text: str) -> QuerySet[ArtifactCollection]:
    return (
        ArtifactCollection.objects.filter(project__in=visible, kind=kind, name__icontains=text)
        .select_related("project__entity")
        .order_by("name", "id")
    )


def search(user, text: str) -> list[ResultGroup]:
    """The matches of `text` (a substring, any case) the user may see, grouped by kind."""
    visible = all_projects_visible_to(user).values("pk")
    projects = (
        Project.objects.filter(pk__in=visible)
        .filter(Q(name__icontains=text) | Q(description__icontains=text))
        .select_related("entity")
        .order_by("name", "entity__name")
    )
    runs = (
        Run.objects.filter(project__in=visible)
        .filter(Q(name__icontains=text) | Q(run_id__icontains=text))
        .select_related("project__entity")
        # The runs table's wide columns (config, summary, metadata) are not shown here.
        .only(
            "run_id",
            "name",
            "state",
            "created_at",
            "project__name",
            "project__entity__name",
        )
        .order_by("-created_at", "-id")
    )
    artifacts = _collections(visible, ArtifactCollection.Kind.SEQUENCE, text)
    models = _collections(visible, ArtifactCollection.Kind.PORTFOLIO, text).annotate(
        # The registry pages are the team's own; others see a public model on its project.
        team_member=Exists(
            Membership.objects.filter(user=user.pk, entity=OuterRef("project__entity"))
        )
        if user.is_authenticated
        else Value(False, output_field=BooleanField())
    )
    reports = (
        reports_readable_by(user)
        .filter(Q(title__icontains=text) | Q(shown_title__icontains=text))
        .order_by("shown_title", "pk")
    )
    groups = [
        _group("projects", "Projects", projects),
        _group("runs", "Runs", runs),
        _group("reports", "Reports", reports),
        _group("artifacts", "Artifacts", artifacts),
        _group("models", "Registered models", models),
    ]
    for model in groups[-1].rows:
        model.in_registry = model.team_member and model.project.name == REGISTRY_PROJECT
    return groups
