"""Every URL the site serves, requested by every kind of visitor, on a private and a public team.

The URL resolver is walked; every pattern needs a row in ROWS that says how to request it and what
each role gets. A pattern without a row fails ("add a row for ..."), so no URL is served before
someone has decided who may use it. On every request:

- never a 5xx;
- the answer is the row's outcome for the role: `ok` (2xx, or a redirect that is not to a login
  page), `login` (a redirect to a login page, or 401), `404`, `403`, `405`, `400`; `refused` (a
  2xx/3xx that changed nothing: a form answering with a message) and `empty` (a 2xx without the
  data, e.g. GraphQL's null for a project one may not see);
- a write changes what it names exactly when the outcome is `ok`, and nothing otherwise;
- the name of a project a role may not see never appears in what it gets.

Roles: anonymous; outsider (charlie, in no team); member (bob); viewer (vera, a viewer in both
teams: she sees what members see and writes nothing of the team's); admin (alice); staff (a
superuser in no team: the site's operator, who uses the Django admin); service (the team's service
account: its API key on every request, and a session it cannot have, since it cannot sign in to
the web); member_key, viewer_key and outsider_key (personal API keys of bob, vera and charlie, with
no session). The site's pages take no API keys: there, every key role is an anonymous visitor.

Outcomes are written `web("anonymous outsider member admin staff")` for pages and
`machine("anonymous outsider member admin staff service member_key outsider_key")` for machine
endpoints. The viewer's are keywords: `web(..., viewer=)` and `machine(..., viewer_key=)` (and
`viewer=` where a session counts there). A read may leave them out and the viewer then gets what
the member gets (viewer_key: what member_key gets); every write (a probe with an `effect`) states
them, which test_every_url_pattern_has_a_row checks. A viewer is no outsider: the hidden project
names may reach her.

Teams: `private` (example-team, private, with a project) and `public` (open-team, not private,
with a public project the URLs point at and an internal one outsiders must not see). Both have
alice as admin, bob and erin as members and a service account sam. Pages that belong to no team
are requested once (`any`). The cast is built once per module inside a transaction that is
rolled back at the end; each case runs in a savepoint of its own, so writes never leak between
cases.
"""

import base64
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max
from guardian.shortcuts import assign_perm
from PIL import Image

from accounts.models import ApiKey, User
from alerts.models import AlertDelivery, AlertEvent, AlertRule, Webhook
from alerts.webhooks import webhook_create
from api import transfer
from artifacts import registry
from artifacts.models import (
    AliasMove,
    Artifact,
    ArtifactAlias,
    ArtifactCollection,
    ArtifactCollectionTag,
    ArtifactFile,
    ArtifactTag,
    ProtectedAlias,
)
from jobs.models import PeriodicJob
from projects.models import Project
from projects.services import project_delete
from reports import comments as report_comments
from reports import services as report_services
from reports import share as report_share
from reports.models import Report, ReportBlock, ReportComment, ReportShareLink
from runs.ingest import apply_file_stream, parse_file_stream
from runs.media.thumbnails import signed_thumbnail_url
from runs.models import (
    Alert,
    Point,
    Run,
    RunFile,
    SavedView,
    Workspace,
)
from sweeps import services as sweep_services
from sweeps.models import Sweep
from teams import services
from teams.models import (
    AuditEvent,
    Entity,
    EntityGroupObjectPermission,
    EntityUserObjectPermission,
    Invitation,
    Membership,
    Role,
)
from tests.factories import ProjectFactory, RunFactory, TeamFactory, UserFactory, add_member

ROLES = (
    "anonymous",
    "outsider",
    "member",
    "viewer",
    "admin",
    "staff",
    "service",
    "member_key",
    "viewer_key",
    "outsider_key",
)
# The roles a machine() spec lists, in order; the viewer's come from keywords.
MACHINE_ROLES = tuple(role for role in ROLES if role not in ("viewer", "viewer_key"))
# The viewer's outcomes, which every write states (web(..., viewer=), machine(..., viewer_key=)).
VIEWER_ROLES = ("viewer", "viewer_key")
# Roles that may not see the teams' hidden projects: their names must never reach them (staff
# sees them in the Django admin only).
OUTSIDERS = ("anonymous", "outsider", "outsider_key", "staff")
# Links that are credentials themselves (an invitation, a signed download): whoever holds one may
# use it, team or not.
CREDENTIAL_LINKS = {
    "invitation",
    "wandb_transfer",
    "shared_report",
    "shared_report_export",
    "runs:signed_thumbnail",
}
OUTCOMES = {"ok", "login", "400", "403", "404", "405", "refused", "empty"}

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FILE_CONTENT = b"matrix file content 7f3a"
IMAGE_NAME = "media/images/samples_0_7f3a.png"
TABLE_NAME = "media/table/scores_0_7f3a.table.json"
TABLE_CONTENT = b'{"columns": ["id", "label"], "data": [[1, "table cell 7f3a"]]}'
HTML_NAME = "media/html/page_0_7f3a.html"
HIDDEN_PRIVATE = "secret-resnet-q7"
HIDDEN_PUBLIC = "internal-bert-q7"


def web(spec: str, *, viewer: str | None = None) -> dict[str, str]:
    """Outcomes of a site page for anonymous, outsider, member, admin and staff; the roles with
    API keys and the service account are anonymous visitors there. `viewer`: the viewer's
    outcome; without it (reads only, see `with_viewer`) the viewer gets what a member gets."""
    anonymous, outsider, member, admin, staff = spec.split()
    keyed = {
        "service": anonymous,
        "member_key": anonymous,
        "viewer_key": anonymous,
        "outsider_key": anonymous,
    }
    stated = {} if viewer is None else {"viewer": viewer}
    return {
        "anonymous": anonymous,
        "outsider": outsider,
        "member": member,
        "admin": admin,
        "staff": staff,
        **stated,
        **keyed,
    }


def machine(
    spec: str, *, viewer: str | None = None, viewer_key: str | None = None
) -> dict[str, str]:
    """Outcomes of a machine endpoint for the roles of MACHINE_ROLES, in that order. `viewer`
    (a session) and `viewer_key`: without them (reads only, see `with_viewer`) the viewer gets
    what the member gets with a session and with a key; where sessions are no credential (the
    member's session gets `login`), neither is the viewer's, so `viewer_key` states both."""
    outcomes = dict(zip(MACHINE_ROLES, spec.split(), strict=True))
    if viewer is None and viewer_key is not None and outcomes["member"] == "login":
        viewer = "login"
    stated = {"viewer": viewer, "viewer_key": viewer_key}
    return {**outcomes, **{role: out for role, out in stated.items() if out is not None}}


def with_viewer(expect: dict[str, str]) -> dict[str, str]:
    """A row's outcomes with the viewer's filled in from the member's, where the row does not
    state them. Only reads may leave them out (test_every_url_pattern_has_a_row)."""
    return {"viewer": expect["member"], "viewer_key": expect["member_key"], **expect}


EVERYONE_OK = machine("ok ok ok ok ok ok ok ok")
EVERYONE_404 = machine("404 404 404 404 404 404 404 404")
EVERYONE_405 = machine("405 405 405 405 405 405 405 405")
SIGNED_IN_OK = web("login ok ok ok ok", viewer="ok")
POST_ONLY = web("login 405 405 405 405")
TEAM_MEMBERS = web("login 404 ok ok 404")
TEAM_ADMINS = web("login 404 403 ok 404", viewer="403")
# Pages of a team's project, open to anonymous visitors when the project is public.
PROJECT_READ = web("404 404 ok ok 404")
# The machine API: sessions are not credentials there.
API_READ_PRIVATE = machine("login login login login login ok ok 404")
API_READ_PUBLIC = machine("login login login login login ok ok ok")


@dataclass(frozen=True)
class Probe:
    """One request of a row. `expect` holds for both teams unless `public` differs."""

    method: str
    url: Callable[[Any], str]
    expect: dict[str, str]
    public: dict[str, str] | None = None
    data: Callable[[Any], Any] | None = None
    json: bool = False
    # For writes: did the request do what it asks, seen from the database (side, acting user)?
    effect: Callable[[Any, Any], bool] | None = None
    # For reads: a text of the thing itself, present when it is shown.
    shows: Callable[[Any], str] | None = None
    label: str = ""
    # Pages that belong to no team: requested once.
    any_team: bool = False

    def stated(self, team: str) -> dict[str, str]:
        return self.public if team == "public" and self.public is not None else self.expect

    def expected(self, team: str) -> dict[str, str]:
        return with_viewer(self.stated(team))


def get(url, expect, **kwargs):
    return Probe("GET", url, expect, **kwargs)


def post(url, expect, **kwargs):
    return Probe("POST", url, expect, **kwargs)


def agnostic(*probes: Probe) -> tuple[Probe, ...]:
    return tuple(Probe(**{**p.__dict__, "any_team": True}) for p in probes)


# URL builders on a side (one team's data)


def team_url(name, *args):
    return lambda s: reverse(name, args=[s.team.name, *(arg(s) for arg in args)])


def project_url(name, *args):
    return lambda s: reverse(name, args=[s.team.name, s.project.name, *(a(s) for a in args)])


def run_url(name, run="bob_run"):
    return lambda s: reverse(name, args=[s.team.name, s.project.name, getattr(s, run).run_id])


def artifact_url(name, version="v0", *extra):
    """A page of the side's dataset artifact (type "dataset", collection "dataset")."""
    return project_url(
        name,
        lambda s: "dataset",
        lambda s: "dataset",
        lambda s: version,
        *(lambda s, e=e: e for e in extra),
    )


# A rule's change actions: its creator (erin, not among the roles) and team admins.
RULE_CHANGE = web("login 404 403 ok 404", viewer="403")
RULE_CHANGE_PUBLIC = web("login 403 403 ok 403", viewer="403")


def rule_url(name, rule="alert_rule"):
    return lambda s: reverse(name, args=[s.team.name, s.project.name, getattr(s, rule).key])


def report_url(name, *extra):
    return lambda s: reverse(
        name, args=[s.team.name, s.project.name, s.report.key, *(arg(s) for arg in extra)]
    )


def report_block_url(name, block="report_block"):
    return report_url(name, lambda s: getattr(s, block).key)


def report_blocks(s) -> list[str]:
    return list(ReportBlock.objects.filter(report=s.report).values_list("key", flat=True))


def notification_url(attr):
    return lambda s: reverse("notifications:open", args=[getattr(s, attr).pk])


def webhook_url(name):
    return lambda s: reverse(name, args=[s.team.name, s.webhook.key])


def fixed(url):
    return lambda s: url


def with_query(build, **params):
    return lambda s: f"{build(s)}?{urlencode(params)}"


# Effects, read back from the database


def member_of(s, user):
    return user is not None and Membership.objects.filter(entity=s.team, user=user).exists()


def run_in(attr, where):
    def effect(s, user):
        return Run.objects.filter(pk=getattr(s, attr).pk, project=getattr(s, where)).exists()

    return effect


def run_gone(attr):
    return lambda s, user: not Run.objects.filter(pk=getattr(s, attr).pk).exists()


def run_restored(attr):
    return lambda s, user: Run.objects.filter(pk=getattr(s, attr).pk).exists()


def run_purged(attr):
    return lambda s, user: not Run.with_trashed.filter(pk=getattr(s, attr).pk).exists()


def run_notes(attr):
    return lambda s, user: Run.objects.get(pk=getattr(s, attr).pk).notes == "edited here"


def run_renamed(attr):
    return lambda s, user: Run.objects.get(pk=getattr(s, attr).pk).name == "renamed here"


def moves(run):
    return lambda s: {"run": getattr(s, run).run_id, "target": s.target.path}


def api_moves(run):
    return lambda s: {"run_ids": [getattr(s, run).run_id], "target": s.target.path}


def view_args(s):
    return [s.team.name, s.project.name]


def view_edit_probes(name, data, effect):
    """A saved view's edit action on erin's shared view and on bob's private one."""

    def changed(attr):
        def check(s, user):
            view = SavedView.objects.filter(pk=getattr(s, attr).pk).first()
            return view is None if effect is None else effect(view)

        return check

    def url(attr):
        return lambda s: reverse(name, args=[*view_args(s), getattr(s, attr).key])

    return (
        get(url("shared_view"), POST_ONLY),
        post(
            url("shared_view"),
            web("login 404 403 ok 404", viewer="403"),
            public=web("login 403 403 ok 403", viewer="403"),
            data=lambda s: data,
            effect=changed("shared_view"),
            label="shared",
        ),
        post(
            url("bob_view"),
            web("login 404 ok 404 404", viewer="404"),
            data=lambda s: data,
            effect=changed("bob_view"),
            label="private",
        ),
    )


GRAPHQL_READ = (
    "query Probe($entity: String!, $project: String!) { project(name: $project, "
    "entityName: $entity) { name runs { edges { node { name displayName } } } } }"
)
GRAPHQL_UPSERT = (
    "mutation UpsertBucket($name: String, $project: String, $entity: String) { upsertBucket("
    "input: {name: $name, modelName: $project, entityName: $entity}) { bucket { id name } "
    "inserted } }"
)


def graphql(query, **variables):
    def body(s):
        values = {"entity": s.team.name, "project": s.project.name}
        return {"query": query, "variables": {**values, **variables}}

    return body


def file_stream_body(s):
    line = json.dumps({"_step": 0, "matrix_loss": 0.5})
    return {"files": {"wandb-history.jsonl": {"offset": 0, "content": [line]}}}


def streamed_points(s, user):
    return Point.objects.filter(run=s.bob_run, key__name="matrix_loss").exists()


# The table: every URL pattern (its name, or its route when it has none) and how to request it.

ROWS: dict[str, tuple[Probe, ...]] = {
    "home": agnostic(get(fixed("/"), EVERYONE_OK)),
    # Search finds bob's run (named "bob-run-name" on both teams) where the visitor may see it:
    # the private team's for its members only, the public project's for everyone.
    "search": (
        get(
            fixed("/search/?q=bob-run"),
            web("empty empty ok ok empty"),
            public=EVERYONE_OK,
            shows=lambda s: reverse("runs:detail", args=[s.team.name, s.project.name, "bobrun1"]),
        ),
        post(fixed("/search/?q=bob-run"), EVERYONE_405),
    ),
    # The load balancer's probes: no sign-in, GET and HEAD only.
    "healthz": agnostic(get(fixed("/healthz"), EVERYONE_OK), post(fixed("/healthz"), EVERYONE_405)),
    "readyz": agnostic(get(fixed("/readyz"), EVERYONE_OK), post(fixed("/readyz"), EVERYONE_405)),
    # Personal settings
    "accounts:profile": agnostic(get(fixed("/settings/"), SIGNED_IN_OK)),
    "accounts:api_keys": agnostic(
        get(fixed("/settings/api-keys/"), SIGNED_IN_OK),
        post(
            fixed("/settings/api-keys/"),
            SIGNED_IN_OK,
            data=lambda s: {"label": "made-here"},
            effect=lambda s, user: ApiKey.objects.filter(user=user, label="made-here").exists(),
        ),
    ),
    "accounts:revoke_api_key": agnostic(
        get(lambda s: reverse("accounts:revoke_api_key", args=[s.w.bob_spare_key]), POST_ONLY),
        post(
            lambda s: reverse("accounts:revoke_api_key", args=[s.w.bob_spare_key]),
            web("login 404 ok 404 404", viewer="404"),
            effect=lambda s, user: not ApiKey.objects.filter(pk=s.w.bob_spare_key).exists(),
        ),
    ),
    "teams:user_teams": agnostic(get(fixed("/settings/teams/"), SIGNED_IN_OK)),
    "teams:create": agnostic(
        get(fixed("/settings/teams/new/"), SIGNED_IN_OK),
        post(
            fixed("/settings/teams/new/"),
            SIGNED_IN_OK,
            data=lambda s: {"name": "made-here"},
            effect=lambda s, user: Entity.objects.filter(name="made-here").exists(),
        ),
    ),
    "teams:set_default_entity": (
        get(fixed("/settings/teams/default/"), POST_ONLY, any_team=True),
        post(
            fixed("/settings/teams/default/"),
            # A team one only views is no place for one's runs.
            web("login refused ok ok refused", viewer="refused"),
            data=lambda s: {"entity": s.team.name},
            # (The service account's only team is its default from the start.)
            effect=lambda s, user: (
                user not in (None, s.sam)
                and Membership.objects.filter(entity=s.team, user=user, is_default=True).exists()
            ),
        ),
    ),
    "teams:set_alert_emails": (
        get(team_url("teams:set_alert_emails"), POST_ONLY),
        post(
            team_url("teams:set_alert_emails"),
            # One's own email setting: a viewer's too.
            web("login 404 ok ok 404", viewer="ok"),
            data=lambda s: {"enabled": "1"},
            effect=lambda s, user: Membership.objects.filter(
                entity=s.team, user=user, alert_emails=True
            ).exists(),
        ),
    ),
    "teams:leave": (
        get(team_url("teams:leave"), TEAM_MEMBERS),
        # alice is the team's only admin: she cannot leave it.
        post(
            team_url("teams:leave"),
            web("login 404 ok refused 404", viewer="ok"),
            effect=lambda s, user: (
                user is not None
                and user.pk in (s.w.alice.pk, s.w.bob.pk, s.w.vera.pk)
                and not member_of(s, user)
            ),
        ),
    ),
    # Invitation links: the token is the credential; the invitation is for charlie.
    "invitation": (
        get(lambda s: reverse("invitation", args=[s.invitation_token]), EVERYONE_OK),
        post(
            lambda s: reverse("invitation", args=[s.invitation_token]),
            web("refused ok 400 400 400", viewer="400"),
            effect=lambda s, user: member_of(s, s.w.charlie),
        ),
    ),
    "project_create": (
        get(fixed("/projects/new/"), SIGNED_IN_OK, any_team=True),
        post(
            fixed("/projects/new/"),
            # A viewer is not offered the team: the form says so.
            web("login 400 ok ok 400", viewer="400"),
            data=lambda s: {"entity": s.team.name, "name": "made-here", "visibility": "team"},
            effect=lambda s, user: Project.objects.filter(entity=s.team, name="made-here").exists(),
        ),
    ),
    # Team settings
    "teams:settings": (get(team_url("teams:settings"), TEAM_ADMINS),),
    "projects:set_team_privacy": (
        get(team_url("projects:set_team_privacy"), POST_ONLY),
        post(
            team_url("projects:set_team_privacy"),
            TEAM_ADMINS,
            # Each team is switched to the other setting.
            data=lambda s: {} if s.team.is_private else {"is_private": "on"},
            effect=lambda s, user: Entity.objects.get(pk=s.team.pk).is_private != s.team.is_private,
        ),
    ),
    "teams:members": (get(team_url("teams:members"), TEAM_MEMBERS),),
    "teams:audit": (get(team_url("teams:audit"), TEAM_ADMINS),),
    "teams:invite": (
        get(team_url("teams:invite"), POST_ONLY),
        post(
            team_url("teams:invite"),
            TEAM_ADMINS,
            data=lambda s: {"email": "fresh@example.com", "role": Role.MEMBER},
            effect=lambda s, user: Invitation.objects.filter(
                entity=s.team, email="fresh@example.com"
            ).exists(),
        ),
    ),
    "teams:set_role": (
        get(team_url("teams:set_role", lambda s: "erin"), POST_ONLY),
        post(
            team_url("teams:set_role", lambda s: "erin"),
            TEAM_ADMINS,
            data=lambda s: {"role": Role.ADMIN},
            effect=lambda s, user: Membership.objects.filter(
                entity=s.team, user=s.w.erin, role=Role.ADMIN
            ).exists(),
        ),
    ),
    "teams:remove_member": (
        get(team_url("teams:remove_member", lambda s: "erin"), TEAM_ADMINS),
        post(
            team_url("teams:remove_member", lambda s: "erin"),
            TEAM_ADMINS,
            effect=lambda s, user: not member_of(s, s.w.erin),
        ),
    ),
    "teams:resend_invitation": (
        get(team_url("teams:resend_invitation", lambda s: s.invitation.pk), POST_ONLY),
        post(
            team_url("teams:resend_invitation", lambda s: s.invitation.pk),
            TEAM_ADMINS,
            effect=lambda s, user: (
                Invitation.objects.get(pk=s.invitation.pk).sent_at > s.invitation.sent_at
            ),
        ),
    ),
    "teams:revoke_invitation": (
        get(team_url("teams:revoke_invitation", lambda s: s.invitation.pk), POST_ONLY),
        post(
            team_url("teams:revoke_invitation", lambda s: s.invitation.pk),
            TEAM_ADMINS,
            effect=lambda s, user: (
                Invitation.objects.get(pk=s.invitation.pk).revoked_at is not None
            ),
        ),
    ),
    "teams:service_accounts": (get(team_url("teams:service_accounts"), TEAM_ADMINS),),
    "teams:create_service_account": (
        get(team_url("teams:create_service_account"), POST_ONLY),
        post(
            team_url("teams:create_service_account"),
            TEAM_ADMINS,
            data=lambda s: {"name": "made-here"},
            effect=lambda s, user: Membership.objects.filter(
                entity=s.team, user__first_name="made-here", role=Role.SERVICE
            ).exists(),
        ),
    ),
    "teams:create_service_account_key": (
        get(team_url("teams:create_service_account_key", lambda s: "sam"), POST_ONLY),
        post(
            team_url("teams:create_service_account_key", lambda s: "sam"),
            TEAM_ADMINS,
            data=lambda s: {"label": "made-here"},
            effect=lambda s, user: s.sam.api_keys.filter(label="made-here").exists(),
        ),
    ),
    "teams:revoke_service_account_key": (
        get(
            team_url("teams:revoke_service_account_key", lambda s: "sam", lambda s: s.spare_key),
            POST_ONLY,
        ),
        post(
            team_url("teams:revoke_service_account_key", lambda s: "sam", lambda s: s.spare_key),
            TEAM_ADMINS,
            effect=lambda s, user: not ApiKey.objects.filter(pk=s.spare_key).exists(),
        ),
    ),
    "teams:delete_service_account": (
        get(team_url("teams:delete_service_account", lambda s: "bot"), POST_ONLY),
        post(
            team_url("teams:delete_service_account", lambda s: "bot"),
            TEAM_ADMINS,
            effect=lambda s, user: not User.objects.filter(pk=s.bot.pk).exists(),
        ),
    ),
    # Entities and projects
    "entity": (
        get(
            lambda s: reverse("entity", args=[s.team.name]),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.project.name,
        ),
    ),
    "project": (
        get(
            project_url("project"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.bob_run.name,
        ),
        get(
            with_query(project_url("project"), panel="scatter:summary.loss:summary.acc:group"),
            PROJECT_READ,
            public=EVERYONE_OK,
            label="with a panel",
        ),
    ),
    "projects:settings": (
        get(
            project_url("projects:settings"),
            TEAM_ADMINS,
            public=web("login 403 403 ok 403"),
        ),
        post(
            project_url("projects:settings"),
            TEAM_ADMINS,
            public=web("login 403 403 ok 403", viewer="403"),
            data=lambda s: {"description": "changed here", "visibility": s.project.visibility},
            effect=lambda s, user: (
                Project.objects.get(pk=s.project.pk).description == "changed here"
            ),
        ),
    ),
    "projects:delete": (
        get(project_url("projects:delete"), POST_ONLY),
        post(
            project_url("projects:delete"),
            TEAM_ADMINS,
            public=web("login 403 403 ok 403", viewer="403"),
            data=lambda s: {"confirm_name": s.project.name},
            effect=lambda s, user: not Project.objects.filter(pk=s.project.pk).exists(),
        ),
    ),
    # The project trash: whoever sees the entity sees it (a viewer too); the project's creator
    # and the admins restore, the admins delete for good.
    "projects:trash": (
        get(team_url("projects:trash"), TEAM_MEMBERS, shows=lambda s: s.trashed.name),
    ),
    "projects:restore": (
        get(team_url("projects:restore", lambda s: s.trashed.name), POST_ONLY),
        post(
            team_url("projects:restore", lambda s: s.trashed.name),
            TEAM_ADMINS,
            effect=lambda s, user: Project.objects.filter(pk=s.trashed.pk).exists(),
        ),
    ),
    "projects:delete_forever": (
        get(team_url("projects:delete_forever", lambda s: s.trashed.name), POST_ONLY),
        post(
            team_url("projects:delete_forever", lambda s: s.trashed.name),
            TEAM_ADMINS,
            data=lambda s: {"confirm_name": s.trashed.name},
            effect=lambda s, user: not Project.with_trashed.filter(pk=s.trashed.pk).exists(),
        ),
    ),
    # Runs: members move, delete and edit their own runs, admins any run.
    "runs:move": (
        get(project_url("runs:move"), POST_ONLY),
        post(
            project_url("runs:move"),
            web("login 404 ok ok 404", viewer="refused"),
            public=web("login refused ok ok refused", viewer="refused"),
            data=moves("bob_run"),
            effect=run_in("bob_run", "target"),
            label="own run",
        ),
        post(
            project_url("runs:move"),
            web("login 404 refused ok 404", viewer="refused"),
            public=web("login refused refused ok refused", viewer="refused"),
            data=moves("alice_run"),
            effect=run_in("alice_run", "target"),
            label="another's run",
        ),
    ),
    "runs:delete": (
        get(project_url("runs:delete"), POST_ONLY),
        post(
            project_url("runs:delete"),
            web("login 404 ok ok 404", viewer="refused"),
            public=web("login refused ok ok refused", viewer="refused"),
            data=lambda s: {"run": s.bob_run.run_id, "confirm": "1"},
            effect=run_gone("bob_run"),
            label="own run",
        ),
        post(
            project_url("runs:delete"),
            web("login 404 refused ok 404", viewer="refused"),
            public=web("login refused refused ok refused", viewer="refused"),
            data=lambda s: {"run": s.alice_run.run_id, "confirm": "1"},
            effect=run_gone("alice_run"),
            label="another's run",
        ),
    ),
    # The trash: whoever sees the project sees it; its authors (who may write) restore their
    # runs, admins any run and delete runs for good.
    "runs:trash": (
        get(
            project_url("runs:trash"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.bob_trashed.run_id,
        ),
    ),
    "runs:trash_restore": (
        get(project_url("runs:trash_restore"), POST_ONLY),
        post(
            project_url("runs:trash_restore"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"run": s.bob_trashed.run_id},
            effect=run_restored("bob_trashed"),
            label="own run",
        ),
        post(
            project_url("runs:trash_restore"),
            web("login 404 refused ok 404", viewer="403"),
            public=web("login 403 refused ok 403", viewer="403"),
            data=lambda s: {"run": s.alice_trashed.run_id},
            effect=run_restored("alice_trashed"),
            label="another's run",
        ),
    ),
    "runs:trash_delete_forever": (
        get(project_url("runs:trash_delete_forever"), POST_ONLY),
        post(
            project_url("runs:trash_delete_forever"),
            web("login 404 403 ok 404", viewer="403"),
            public=web("login 403 403 ok 403", viewer="403"),
            data=lambda s: {"run": s.bob_trashed.run_id, "confirm": "1"},
            effect=run_purged("bob_trashed"),
        ),
    ),
    "runs:detail": (
        get(run_url("runs:detail"), PROJECT_READ, public=EVERYONE_OK, shows=lambda s: "loss"),
    ),
    "runs:edit": (
        get(run_url("runs:edit"), POST_ONLY),
        post(
            run_url("runs:edit"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"tags": "", "notes": "edited here"},
            effect=run_notes("bob_run"),
            label="own run",
        ),
        post(
            run_url("runs:edit", run="alice_run"),
            web("login 404 403 ok 404", viewer="403"),
            public=web("login 403 403 ok 403", viewer="403"),
            data=lambda s: {"tags": "", "notes": "edited here"},
            effect=run_notes("alice_run"),
            label="another's run",
        ),
    ),
    "runs:rename": (
        get(run_url("runs:rename"), POST_ONLY),
        post(
            run_url("runs:rename"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "renamed here"},
            effect=run_renamed("bob_run"),
            label="own run",
        ),
        post(
            run_url("runs:rename", run="alice_run"),
            web("login 404 403 ok 404", viewer="403"),
            public=web("login 403 403 ok 403", viewer="403"),
            data=lambda s: {"name": "renamed here"},
            effect=run_renamed("alice_run"),
            label="another's run",
        ),
    ),
    "runs:metric": (
        get(
            with_query(run_url("runs:metric"), key="loss"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.bob_run.run_id,
        ),
    ),
    "runs:metric_export": (
        get(
            with_query(run_url("runs:metric_export"), key="loss"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "0.25",
        ),
    ),
    "runs:console": (
        get(
            run_url("runs:console"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "console line 7f3a",
        ),
    ),
    "runs:project_metric": (
        get(
            lambda s: f"{project_url('runs:project_metric')(s)}?key=loss&run={s.bob_run.run_id}",
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.bob_run.run_id,
        ),
    ),
    "runs:project_metric_groups": (
        get(
            with_query(project_url("runs:project_metric_groups"), key="loss", group="job_type"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: '"groups"',
        ),
    ),
    "runs:query_suggestions": (
        get(
            with_query(project_url("runs:query_suggestions"), q="sta"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: 'data-insert="state"',
        ),
    ),
    "runs:workspace": (
        get(project_url("runs:workspace"), PROJECT_READ, public=EVERYONE_OK),
        # Signed-in people arrange their own panels on any project they can see: a viewer too.
        post(
            project_url("runs:workspace"),
            web("404 404 ok ok 404", viewer="ok"),
            public=web("403 ok ok ok ok", viewer="ok"),
            data=lambda s: {"action": "add", "key": "accuracy"},
            effect=lambda s, user: any(
                "accuracy" in panels
                for panels in Workspace.objects.filter(project=s.project).values_list(
                    "panels", flat=True
                )
            ),
        ),
    ),
    # The Add panel form: answered with a redirect to the project page with one more panel.
    "runs:panel_add": (
        get(
            with_query(
                project_url("runs:panel_add"), kind="correlation", metric="summary.loss", page=""
            ),
            PROJECT_READ,
            public=EVERYONE_OK,
        ),
    ),
    "runs:compare": (
        get(
            lambda s: (
                f"{project_url('runs:compare')(s)}"
                f"?run={s.bob_run.run_id}&run={s.alice_run.run_id}&diff=1"
            ),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.bob_run.name,
        ),
        # One run is too few: a 400 page for those who may see the project, 404 for the rest.
        get(
            with_query(project_url("runs:compare"), run="bobrun1"),
            web("404 404 400 400 404"),
            public=machine("400 400 400 400 400 400 400 400"),
            label="one run",
        ),
        # The runs table's bulk form: answered with a redirect to the linkable page.
        post(
            project_url("runs:compare"),
            PROJECT_READ,
            public=EVERYONE_OK,
            data=lambda s: {"run": [s.bob_run.run_id, s.alice_run.run_id]},
        ),
    ),
    # Saved views: members save; a shared view is changed by its owner (erin) and team admins,
    # a private one (bob's) is seen and changed by its owner only. A viewer saves views for
    # themselves; sharing one with the team is a write (the form says so).
    "runs:view_create": (
        get(project_url("runs:view_create"), POST_ONLY),
        post(
            project_url("runs:view_create"),
            web("login 404 ok ok 404", viewer="ok"),
            public=web("login 403 ok ok 403", viewer="ok"),
            data=lambda s: {"name": "made-here", "kind": "table", "state": "state=failed"},
            effect=lambda s, user: SavedView.objects.filter(
                project=s.project, owner=user, name="made-here"
            ).exists(),
        ),
        post(
            project_url("runs:view_create"),
            web("login 404 ok ok 404", viewer="400"),
            public=web("login 403 ok ok 403", viewer="400"),
            data=lambda s: {
                "name": "made-here",
                "kind": "table",
                "state": "state=failed",
                "shared": "on",
            },
            effect=lambda s, user: SavedView.objects.filter(
                project=s.project, owner=user, name="made-here", shared=True
            ).exists(),
            label="shared",
        ),
    ),
    "runs:view_open": (
        get(
            lambda s: reverse("runs:view_open", args=[*view_args(s), s.shared_view.key]),
            PROJECT_READ,
            public=EVERYONE_OK,
            label="shared",
        ),
        get(
            lambda s: reverse("runs:view_open", args=[*view_args(s), s.bob_view.key]),
            web("404 404 ok 404 404", viewer="404"),
            label="private",
        ),
    ),
    **{
        f"runs:view_{action}": view_edit_probes(f"runs:view_{action}", data, effect)
        for action, data, effect in (
            ("rename", {"name": "renamed here"}, lambda view: view.name == "renamed here"),
            (
                "update",
                {"state": "state=failed"},
                lambda view: view.params == [["state", "failed"]],
            ),
            ("delete", {}, None),
        )
    },
    "runs:leaderboard": (
        get(
            with_query(project_url("runs:leaderboard"), metric="summary.loss", group="state"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "Best run",
        ),
        get(
            with_query(project_url("runs:leaderboard"), metric="loss"),
            web("404 404 400 400 404"),
            public=machine("400 400 400 400 400 400 400 400"),
            label="bad metric",
        ),
    ),
    "runs:leaderboard_csv": (
        get(
            with_query(project_url("runs:leaderboard_csv"), metric="summary.loss"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "run_id",
        ),
    ),
    "runs:file": (
        get(
            project_url("runs:file", lambda s: s.bob_run.run_id, lambda s: "output.log"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: FILE_CONTENT.decode(),
        ),
    ),
    "runs:code": (
        get(
            project_url("runs:code", lambda s: s.bob_run.run_id, lambda s: "README.txt"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: FILE_CONTENT.decode(),
        ),
    ),
    "runs:file_download": (
        get(
            project_url("runs:file_download", lambda s: s.bob_run.run_id, lambda s: "output.log"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: FILE_CONTENT.decode(),
        ),
    ),
    "runs:thumbnail": (
        get(
            project_url("runs:thumbnail", lambda s: s.bob_run.run_id, lambda s: IMAGE_NAME),
            PROJECT_READ,
            public=EVERYONE_OK,
        ),
    ),
    # A signed thumbnail link (a report's images for readers without a session): a credential.
    "runs:signed_thumbnail": (
        get(lambda s: s.thumbnail_link, EVERYONE_OK),
        post(lambda s: s.thumbnail_link, EVERYONE_405),
    ),
    "runs:media": (
        get(
            with_query(run_url("runs:media"), key="samples", step=1),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "sample 7f3a",
        ),
    ),
    "runs:custom_chart": (
        get(
            with_query(run_url("runs:custom_chart"), key="accuracy"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "Accuracy 7f3a",
        ),
    ),
    "runs:table": (
        get(
            with_query(run_url("runs:table"), key="scores", step=1),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "table cell 7f3a",
        ),
    ),
    "runs:table_csv": (
        get(
            with_query(run_url("runs:table_csv"), key="scores", step=1),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "table cell 7f3a",
        ),
    ),
    "artifacts:thumbnail": (
        get(
            project_url(
                "artifacts:thumbnail", lambda s: "dataset", lambda s: 0, lambda s: IMAGE_NAME
            ),
            PROJECT_READ,
            public=EVERYONE_OK,
        ),
    ),
    "runs:media_html": (
        get(
            project_url("runs:media_html", lambda s: s.bob_run.run_id, lambda s: HTML_NAME),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "logged html 7f3a",
        ),
    ),
    "runs:workspace_media": (
        get(
            lambda s: f"{project_url('runs:workspace_media')(s)}?run={s.bob_run.run_id}",
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "sample 7f3a",
        ),
        get(
            lambda s: (
                f"{project_url('runs:workspace_media')(s)}?key=samples&step=0&run={s.bob_run.run_id}"
            ),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "sample 7f3a",
        ),
    ),
    "artifacts:file": (
        get(
            project_url("artifacts:file", lambda s: "dataset", lambda s: 0, lambda s: "data.csv"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: FILE_CONTENT.decode(),
        ),
    ),
    # The team's model registry: members read it; only admins move production.
    "registry:list": (get(team_url("registry:list"), TEAM_MEMBERS, shows=lambda s: "classifier"),),
    "registry:model": (
        get(team_url("registry:model", lambda s: "classifier"), TEAM_MEMBERS, shows=lambda s: "v0"),
    ),
    "registry:move_alias": (
        get(team_url("registry:move_alias", lambda s: "classifier"), POST_ONLY),
        post(
            team_url("registry:move_alias", lambda s: "classifier"),
            web("login 404 refused ok 404", viewer="403"),
            data=lambda s: {"alias": "production", "version": 0},
            effect=lambda s, user: ArtifactAlias.objects.filter(
                collection=s.link.portfolio, alias="production"
            ).exists(),
        ),
    ),
    # The artifact pages: /<entity>/<project>/artifacts/<type>/<collection>/<version>/...
    "artifacts:types": (
        get(
            project_url("artifacts:types"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "dataset",
        ),
    ),
    "artifacts:collection": (
        get(
            project_url("artifacts:collection", lambda s: "dataset", lambda s: "dataset"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "v0",
        ),
    ),
    "artifacts:collection_edit": (
        get(
            project_url("artifacts:collection_edit", lambda s: "dataset", lambda s: "dataset"),
            POST_ONLY,
        ),
        # Whoever may log to the project renames, retypes and describes a collection.
        post(
            project_url("artifacts:collection_edit", lambda s: "dataset", lambda s: "dataset"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "renamed-7f3a", "type": "dataset", "description": ""},
            effect=lambda s, user: ArtifactCollection.objects.filter(
                pk=s.artifact.collection_id, name="renamed-7f3a"
            ).exists(),
        ),
    ),
    "artifacts:version": (
        get(
            artifact_url("artifacts:version"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "data.csv",
        ),
        get(
            artifact_url("artifacts:version", "no-such-alias"), EVERYONE_404, label="no such alias"
        ),
    ),
    "artifacts:description": (
        get(artifact_url("artifacts:description"), POST_ONLY),
        # The dataset was logged by bob's run: bob (its author) and the admins edit it.
        post(
            artifact_url("artifacts:description"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"description": "described here"},
            effect=lambda s, user: (
                Artifact.objects.get(pk=s.artifact.pk).description == "described here"
            ),
        ),
    ),
    "artifacts:tag_add": (
        get(artifact_url("artifacts:tag_add"), POST_ONLY),
        post(
            artifact_url("artifacts:tag_add"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "tagged here"},
            effect=lambda s, user: s.artifact.tags.filter(name="tagged here").exists(),
        ),
    ),
    "artifacts:tag_remove": (
        get(artifact_url("artifacts:tag_remove"), POST_ONLY),
        post(
            artifact_url("artifacts:tag_remove"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "baseline"},
            effect=lambda s, user: not s.artifact.tags.filter(name="baseline").exists(),
        ),
    ),
    "artifacts:collection_tag_add": (
        get(
            project_url("artifacts:collection_tag_add", lambda s: "dataset", lambda s: "dataset"),
            POST_ONLY,
        ),
        post(
            project_url("artifacts:collection_tag_add", lambda s: "dataset", lambda s: "dataset"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "tagged here"},
            effect=lambda s, user: s.artifact.collection.tags.filter(name="tagged here").exists(),
        ),
    ),
    "artifacts:collection_tag_remove": (
        get(
            project_url(
                "artifacts:collection_tag_remove", lambda s: "dataset", lambda s: "dataset"
            ),
            POST_ONLY,
        ),
        post(
            project_url(
                "artifacts:collection_tag_remove", lambda s: "dataset", lambda s: "dataset"
            ),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "curated"},
            effect=lambda s, user: not s.artifact.collection.tags.filter(name="curated").exists(),
        ),
    ),
    "artifacts:preview": (
        get(
            artifact_url("artifacts:preview", "v0", "data.csv"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: FILE_CONTENT.decode(),
        ),
    ),
    "artifacts:zip": (get(artifact_url("artifacts:zip"), PROJECT_READ, public=EVERYONE_OK),),
    "artifacts:diff": (
        get(artifact_url("artifacts:diff"), PROJECT_READ, public=EVERYONE_OK, shows=lambda s: "v0"),
    ),
    "artifacts:lineage": (
        get(
            artifact_url("artifacts:lineage"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.bob_run.run_id,
        ),
    ),
    # Alerts: whoever sees the project sees what fired; team members see the rules and create
    # them; a rule (erin's) is changed by its creator or a team admin.
    "alerts:history": (
        get(
            project_url("alerts:history"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "loss is 2",
        ),
    ),
    "alerts:rules": (
        get(
            project_url("alerts:rules"),
            TEAM_MEMBERS,
            public=web("login 403 ok ok 403"),
            shows=lambda s: "loss too high",
        ),
    ),
    "alerts:rule_create": (
        get(
            project_url("alerts:rule_create"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
        ),
        post(
            project_url("alerts:rule_create"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "made-here", "kind": "failed", "cooldown": 60},
            effect=lambda s, user: AlertRule.objects.filter(
                project=s.project, name="made-here", created_by=user
            ).exists(),
        ),
        post(
            project_url("alerts:rule_create"),
            web("login 404 400 400 404", viewer="403"),
            public=web("login 403 400 400 403", viewer="403"),
            data=lambda s: {"name": "made-here", "kind": "threshold", "cooldown": 60},
            effect=lambda s, user: AlertRule.objects.filter(name="made-here").exists(),
            label=" incomplete",
        ),
    ),
    "alerts:rule_try": (
        get(project_url("alerts:rule_try"), POST_ONLY),
        post(
            project_url("alerts:rule_try"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"name": "tried", "kind": "threshold", "metric": "loss", "threshold": 0},
            shows=lambda s: "loss is 0.25, above 0",
        ),
    ),
    "alerts:rule_edit": (
        get(rule_url("alerts:rule_edit"), RULE_CHANGE, public=RULE_CHANGE_PUBLIC),
        post(
            rule_url("alerts:rule_edit"),
            RULE_CHANGE,
            public=RULE_CHANGE_PUBLIC,
            data=lambda s: {"name": "renamed here", "kind": "failed", "cooldown": 60},
            effect=lambda s, user: AlertRule.objects.get(pk=s.alert_rule.pk).name == "renamed here",
        ),
    ),
    **{
        f"alerts:rule_{action}": (
            get(rule_url(f"alerts:rule_{action}", rule), POST_ONLY),
            post(
                rule_url(f"alerts:rule_{action}", rule),
                RULE_CHANGE,
                public=RULE_CHANGE_PUBLIC,
                data=lambda s: {"hours": "1d"},
                effect=lambda s, user, rule=rule, changed=changed: changed(
                    AlertRule.objects.filter(pk=getattr(s, rule).pk).first()
                ),
            ),
        )
        for action, rule, changed in (
            ("mute", "alert_rule", lambda rule: rule.muted),
            ("unmute", "muted_rule", lambda rule: not rule.muted),
            ("snooze", "alert_rule", lambda rule: rule.snoozed_until is not None),
            ("delete", "alert_rule", lambda rule: rule is None),
        )
    },
    # Sweeps: read with the project; bob started the side's sweep, so he and the team admins
    # pause, resume, stop or cancel it.
    "sweeps:list": (
        get(
            project_url("sweeps:list"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: s.sweep.name,
        ),
    ),
    "sweeps:detail": (
        get(
            project_url("sweeps:detail", lambda s: s.sweep.name),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "matrix-host",
        ),
    ),
    "sweeps:state": (
        get(project_url("sweeps:state", lambda s: s.sweep.name), POST_ONLY),
        post(
            project_url("sweeps:state", lambda s: s.sweep.name),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"action": "pause"},
            effect=lambda s, user: Sweep.objects.get(pk=s.sweep.pk).state == Sweep.State.PAUSED,
        ),
    ),
    # Reports: the team reads all of them (erin's team report, published); others read the
    # published public ones (a public report on each side) while the team is not private, even
    # without seeing the project. Team members see the history and write reports; a report is
    # edited and shared by its author (erin) or a team admin.
    "reports:list": (
        get(
            project_url("reports:list"),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "Public report 7f3a",
        ),
        get(
            project_url("reports:list"),
            PROJECT_READ,
            public=web("empty empty ok ok empty"),
            shows=lambda s: "Matrix report 7f3a",
            label="team report",
        ),
    ),
    "reports:create": (
        get(project_url("reports:create"), POST_ONLY),
        post(
            project_url("reports:create"),
            web("login 404 ok ok 404", viewer="403"),
            public=web("login 403 ok ok 403", viewer="403"),
            data=lambda s: {"title": "made-here"},
            effect=lambda s, user: Report.objects.filter(
                project=s.project, title="made-here", created_by=user
            ).exists(),
        ),
    ),
    "reports:detail": (
        get(
            report_url("reports:detail"),
            PROJECT_READ,
            public=web("404 404 ok ok 404"),
            shows=lambda s: "report words 7f3a",
        ),
        get(
            lambda s: s.public_report.get_absolute_url(),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "public words 7f3a",
            label="public report",
        ),
    ),
    "reports:visibility": (
        get(report_url("reports:visibility"), POST_ONLY),
        post(
            report_url("reports:visibility"),
            # A private team's reports cannot be public: the form says why (400).
            web("login 404 403 400 404", viewer="403"),
            public=RULE_CHANGE,
            data=lambda s: {"visibility": "public"},
            effect=lambda s, user: Report.objects.get(pk=s.report.pk).visibility == "public",
        ),
    ),
    "reports:share": (
        get(
            report_url("reports:share"),
            RULE_CHANGE,
            shows=lambda s: "matrix link 7f3a",
        ),
    ),
    "reports:share_link_create": (
        get(report_url("reports:share_link_create"), POST_ONLY),
        post(
            report_url("reports:share_link_create"),
            RULE_CHANGE,
            data=lambda s: {"label": "made here", "days": "7"},
            effect=lambda s, user: s.report.share_links.filter(label="made here").exists(),
        ),
    ),
    "reports:share_link_revoke": (
        get(report_url("reports:share_link_revoke", lambda s: s.share_link_id), POST_ONLY),
        post(
            report_url("reports:share_link_revoke", lambda s: s.share_link_id),
            RULE_CHANGE,
            effect=lambda s, user: (
                ReportShareLink.objects.get(pk=s.share_link.pk).revoked_at is not None
            ),
        ),
    ),
    # A view-only link is the credential: whoever holds it reads the published report, on a
    # private team too; a revoked one is nothing.
    "shared_report": (
        get(
            lambda s: reverse("shared_report", args=[s.share_token]),
            EVERYONE_OK,
            shows=lambda s: "report words 7f3a",
        ),
        get(
            lambda s: reverse("shared_report", args=[s.revoked_token]),
            EVERYONE_404,
            label="revoked",
        ),
        post(lambda s: reverse("shared_report", args=[s.share_token]), EVERYONE_405),
    ),
    "reports:export": (
        get(
            report_url("reports:export"),
            PROJECT_READ,
            public=web("404 404 ok ok 404"),
            shows=lambda s: "report words 7f3a",
        ),
        get(
            lambda s: s.public_report.get_export_url(),
            PROJECT_READ,
            public=EVERYONE_OK,
            shows=lambda s: "public words 7f3a",
            label="public report",
        ),
    ),
    "shared_report_export": (
        get(
            lambda s: reverse("shared_report_export", args=[s.share_token]),
            EVERYONE_OK,
            shows=lambda s: "report words 7f3a",
        ),
        get(
            lambda s: reverse("shared_report_export", args=[s.revoked_token]),
            EVERYONE_404,
            label="revoked",
        ),
    ),
    "reports:history": (
        get(report_url("reports:history"), TEAM_MEMBERS, shows=lambda s: "matrix note 7f3a"),
    ),
    "reports:version": (
        get(
            report_url("reports:version", lambda s: 1),
            TEAM_MEMBERS,
            shows=lambda s: "report words 7f3a",
        ),
    ),
    "reports:edit": (
        get(report_url("reports:edit"), RULE_CHANGE),
        # Those who read a public report learn it exists: 403 for them.
        get(
            lambda s: s.public_report.get_edit_url(),
            RULE_CHANGE,
            public=RULE_CHANGE_PUBLIC,
            label="public report",
        ),
        post(
            report_url("reports:edit"),
            RULE_CHANGE,
            data=lambda s: {"title": "renamed here"},
            effect=lambda s, user: Report.objects.get(pk=s.report.pk).title == "renamed here",
        ),
    ),
    "reports:publish": (
        get(report_url("reports:publish"), POST_ONLY),
        post(
            report_url("reports:publish"),
            RULE_CHANGE,
            data=lambda s: {"note": "again"},
            effect=lambda s, user: s.report.versions.filter(number=2).exists(),
        ),
    ),
    "reports:delete": (
        get(report_url("reports:delete"), POST_ONLY),
        post(
            report_url("reports:delete"),
            RULE_CHANGE,
            effect=lambda s, user: not Report.objects.filter(pk=s.report.pk).exists(),
        ),
    ),
    "reports:freeze": (
        get(report_url("reports:freeze"), POST_ONLY),
        post(
            report_url("reports:freeze"),
            RULE_CHANGE,
            data=lambda s: {"action": "freeze"},
            effect=lambda s, user: report_services.is_frozen(
                block.config for block in s.report.blocks.all()
            ),
        ),
    ),
    "reports:block_new": (
        get(
            lambda s: report_url("reports:block_new")(s) + "?kind=text",
            RULE_CHANGE,
        ),
        post(
            report_url("reports:block_new"),
            RULE_CHANGE,
            data=lambda s: {"kind": "text", "markdown": "added here"},
            effect=lambda s, user: s.report.blocks.filter(config__markdown="added here").exists(),
        ),
    ),
    "reports:block_edit": (
        get(report_block_url("reports:block_edit"), RULE_CHANGE),
        post(
            report_block_url("reports:block_edit"),
            RULE_CHANGE,
            data=lambda s: {"markdown": "edited here"},
            effect=lambda s, user: (
                ReportBlock.objects.get(pk=s.report_block.pk).config == {"markdown": "edited here"}
            ),
        ),
    ),
    "reports:block_move": (
        get(report_block_url("reports:block_move", "second_report_block"), POST_ONLY),
        post(
            report_block_url("reports:block_move", "second_report_block"),
            RULE_CHANGE,
            data=lambda s: {"direction": "up"},
            effect=lambda s, user: report_blocks(s)[0] == s.second_report_block.key,
        ),
    ),
    "reports:block_delete": (
        get(report_block_url("reports:block_delete"), POST_ONLY),
        post(
            report_block_url("reports:block_delete"),
            RULE_CHANGE,
            effect=lambda s, user: s.report_block.key not in report_blocks(s),
        ),
    ),
    # Comments on a report: its team only (public readers too get 404); a comment (erin's) is
    # deleted by its author or a team admin.
    "reports:comments": (
        get(report_url("reports:comments"), TEAM_MEMBERS, shows=lambda s: "comment words 7f3a"),
        get(
            with_query(report_url("reports:comments"), block="nope"),
            web("login 404 404 404 404"),
            label="unknown block",
        ),
        # Comments are the team's notes: a viewer reads them, writes none.
        post(
            report_url("reports:comments"),
            web("login 404 ok ok 404", viewer="403"),
            data=lambda s: {"body": "commented here", "block": s.second_report_block.key},
            effect=lambda s, user: ReportComment.objects.filter(
                report=s.report, author=user, body="commented here"
            ).exists(),
        ),
        post(
            report_url("reports:comments"),
            web("login 404 400 400 404", viewer="403"),
            data=lambda s: {"body": "commented here", "block": "nope"},
            effect=lambda s, user: ReportComment.objects.filter(body="commented here").exists(),
            label="unknown block",
        ),
    ),
    "reports:comment_delete": (
        get(report_url("reports:comment_delete", lambda s: s.report_comment.pk), POST_ONLY),
        post(
            report_url("reports:comment_delete", lambda s: s.report_comment.pk),
            RULE_CHANGE,
            effect=lambda s, user: (
                not ReportComment.objects.filter(pk=s.report_comment.pk).exists()
            ),
        ),
    ),
    # A person's notifications (bob has one on each team's project): their own only, whoever
    # else signs in sees an empty list and nothing to open.
    "notifications:list": agnostic(
        get(
            fixed("/notifications/"),
            web("login empty ok empty empty", viewer="empty"),
            shows=lambda s: "loss is 2",
        ),
    ),
    "notifications:bell": agnostic(
        get(
            fixed("/notifications/bell/"),
            web("login empty ok empty empty", viewer="empty"),
            shows=lambda s: "2 unread notifications",
        ),
    ),
    "notifications:open": (
        get(notification_url("bob_notification"), POST_ONLY),
        post(
            notification_url("bob_notification"),
            web("login 404 ok 404 404", viewer="404"),
            effect=lambda s, user: (
                AlertDelivery.objects.get(pk=s.bob_notification.pk).read_at is not None
            ),
        ),
    ),
    "notifications:read_all": agnostic(
        get(fixed("/notifications/read/"), POST_ONLY),
        post(
            fixed("/notifications/read/"),
            # Only bob has any to mark: the others are told there are none.
            web("login refused ok refused refused", viewer="refused"),
            effect=lambda s, user: (
                user == s.w.bob
                and not AlertDelivery.objects.filter(user=user, read_at=None).exists()
            ),
        ),
    ),
    # A team's webhooks: its admins only. The side's webhook points into a blocked network, so
    # "Send a test" answers at once with its refusal.
    "webhooks:list": (get(team_url("webhooks:list"), TEAM_ADMINS, shows=lambda s: "matrix-hook"),),
    "webhooks:create": (
        get(team_url("webhooks:create"), POST_ONLY),
        post(
            team_url("webhooks:create"),
            TEAM_ADMINS,
            data=lambda s: {"name": "made-here", "url": "https://h.example/x", "format": "generic"},
            effect=lambda s, user: Webhook.objects.filter(entity=s.team, name="made-here").exists(),
        ),
    ),
    "webhooks:edit": (
        get(webhook_url("webhooks:edit"), TEAM_ADMINS, shows=lambda s: "matrix-hook"),
        post(
            webhook_url("webhooks:edit"),
            TEAM_ADMINS,
            data=lambda s: {"name": "renamed here", "url": "", "format": "slack"},
            effect=lambda s, user: Webhook.objects.filter(
                pk=s.webhook.pk, name="renamed here"
            ).exists(),
        ),
    ),
    "webhooks:rotate_secret": (
        get(webhook_url("webhooks:rotate_secret"), POST_ONLY),
        post(
            webhook_url("webhooks:rotate_secret"),
            TEAM_ADMINS,
            effect=lambda s, user: (
                Webhook.objects.get(pk=s.webhook.pk).encrypted_secret != s.webhook.encrypted_secret
            ),
        ),
    ),
    "webhooks:test": (
        get(webhook_url("webhooks:test"), POST_ONLY),
        post(webhook_url("webhooks:test"), TEAM_ADMINS),
    ),
    "webhooks:delete": (
        get(webhook_url("webhooks:delete"), POST_ONLY),
        post(
            webhook_url("webhooks:delete"),
            TEAM_ADMINS,
            effect=lambda s, user: not Webhook.objects.filter(pk=s.webhook.pk).exists(),
        ),
    ),
    # What the wandb client calls: API keys only.
    "wandb_graphql": (
        get(fixed("/graphql"), EVERYONE_405),
        post(
            fixed("/graphql"),
            API_READ_PRIVATE | {"outsider_key": "empty"},
            public=API_READ_PUBLIC,
            data=graphql(GRAPHQL_READ),
            json=True,
            shows=lambda s: s.bob_run.run_id,
            label="read",
        ),
        # The same refusal whether or not the entity exists.
        post(
            fixed("/graphql"),
            machine("login login login login login ok ok 403", viewer_key="403"),
            data=graphql(GRAPHQL_UPSERT, name="made-here"),
            json=True,
            effect=lambda s, user: Run.objects.filter(
                project=s.project, run_id="made-here"
            ).exists(),
            label="log a run",
        ),
    ),
    "wandb_file_stream": (
        get(run_url("wandb_file_stream"), EVERYONE_405),
        post(
            run_url("wandb_file_stream"),
            # bob logged the run himself: the team's service account may not write to it.
            machine("login login login login login 403 ok 404", viewer_key="403"),
            data=file_stream_body,
            json=True,
            effect=streamed_points,
        ),
    ),
    # Upload and download links carry their own credential: whoever holds one may use it.
    "wandb_transfer": (
        get(lambda s: s.download_link, EVERYONE_OK, shows=lambda s: FILE_CONTENT.decode()),
        post(lambda s: s.download_link, EVERYONE_405),
    ),
    # The path the client builds to a version's file: its API key, as for /graphql.
    "wandb_artifact_file_v2": (
        get(
            lambda s: reverse(
                "wandb_artifact_file_v2",
                kwargs={
                    "region": "default",
                    "entity": s.team.name,
                    "project": s.project.name,
                    "collection": "dataset",
                    "ids": "QXJ0aWZhY3Q6MQ==/QXJ0aWZhY3Q6MQ==",
                    "hexhash": hashlib.md5(FILE_CONTENT).hexdigest(),
                    "filename": "data.csv",
                },
            ),
            API_READ_PRIVATE,
            public=API_READ_PUBLIC,
            shows=lambda s: FILE_CONTENT.decode(),
        ),
        post(fixed("/artifactsV2/default/x/y/z/a/" + "0" * 32 + "/f"), EVERYONE_405),
    ),
    "^sdk/otel/": agnostic(get(fixed("/sdk/otel/v1/traces"), EVERYONE_404)),
    "api-v1:api-root": agnostic(get(fixed("/api/v1/"), EVERYONE_404)),
    "api-v1:openapi-json": agnostic(get(fixed("/api/v1/openapi.json"), EVERYONE_OK)),
    "api-v1:openapi-view": agnostic(get(fixed("/api/v1/docs"), EVERYONE_OK)),
    "^api/(?P<rest>.*)\\Z": agnostic(get(fixed("/api/v0/runs"), EVERYONE_404)),
    "api-v1:list_runs": (
        get(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs",
            API_READ_PRIVATE,
            public=API_READ_PUBLIC,
            shows=lambda s: s.bob_run.run_id,
        ),
    ),
    "api-v1:move_runs": (
        get(lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/move", EVERYONE_405),
        post(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/move",
            machine("login login login login login 403 ok 404", viewer_key="403"),
            public=machine("login login login login login 403 ok 403", viewer_key="403"),
            data=api_moves("bob_run"),
            json=True,
            effect=run_in("bob_run", "target"),
            label="own run",
        ),
        post(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/move",
            machine("login login login login login 403 403 404", viewer_key="403"),
            public=machine("login login login login login 403 403 403", viewer_key="403"),
            data=api_moves("alice_run"),
            json=True,
            effect=run_in("alice_run", "target"),
            label="another's run",
        ),
    ),
    "api-v1:delete_runs": (
        get(lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/delete", EVERYONE_405),
        post(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/delete",
            machine("login login login login login 403 ok 404", viewer_key="403"),
            public=machine("login login login login login 403 ok 403", viewer_key="403"),
            data=lambda s: {"run_ids": [s.bob_run.run_id]},
            json=True,
            effect=run_gone("bob_run"),
            label="own run",
        ),
        post(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/delete",
            machine("login login login login login 403 403 404", viewer_key="403"),
            public=machine("login login login login login 403 403 403", viewer_key="403"),
            data=lambda s: {"run_ids": [s.alice_run.run_id]},
            json=True,
            effect=run_gone("alice_run"),
            label="another's run",
        ),
    ),
    "api-v1:list_trash": (
        get(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/trash",
            API_READ_PRIVATE,
            public=API_READ_PUBLIC,
            shows=lambda s: s.bob_trashed.run_id,
        ),
    ),
    "api-v1:restore_runs": (
        get(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/restore", EVERYONE_405
        ),
        post(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/restore",
            machine("login login login login login 403 ok 404", viewer_key="403"),
            public=machine("login login login login login 403 ok 403", viewer_key="403"),
            data=lambda s: {"run_ids": [s.bob_trashed.run_id]},
            json=True,
            effect=run_restored("bob_trashed"),
            label="own run",
        ),
        post(
            lambda s: f"/api/v1/projects/{s.team.name}/{s.project.name}/runs/restore",
            machine("login login login login login 403 403 404", viewer_key="403"),
            public=machine("login login login login login 403 403 403", viewer_key="403"),
            data=lambda s: {"run_ids": [s.alice_trashed.run_id]},
            json=True,
            effect=run_restored("alice_trashed"),
            label="another's run",
        ),
    ),
}

# Sign-in, sign-up and password pages (allauth).
ALLAUTH = {
    "account_login": ("/accounts/login/", EVERYONE_OK),
    "account_logout": ("/accounts/logout/", EVERYONE_OK),
    "account_inactive": ("/accounts/inactive/", EVERYONE_OK),
    "account_signup": ("/accounts/signup/", EVERYONE_OK),
    "account_reauthenticate": ("/accounts/reauthenticate/", SIGNED_IN_OK),
    "account_email": ("/accounts/email/", SIGNED_IN_OK),
    "account_email_verification_sent": ("/accounts/confirm-email/", EVERYONE_OK),
    "account_change_password": ("/accounts/password/change/", SIGNED_IN_OK),
    "account_set_password": ("/accounts/password/set/", SIGNED_IN_OK),
    "account_reset_password": ("/accounts/password/reset/", EVERYONE_OK),
    "account_confirm_login_code": ("/accounts/login/code/confirm/", web("login ok ok ok ok")),
    "account_confirm_email": ("/accounts/confirm-email/not-a-key/", EVERYONE_OK),
    "account_reset_password_from_key_done": ("/accounts/password/reset/key/done/", EVERYONE_OK),
    "account_reset_password_from_key": ("/accounts/password/reset/key/1-not-a-key/", EVERYONE_OK),
    "account_reset_password_done": ("/accounts/password/reset/done/", EVERYONE_OK),
}
for _name, (_url, _expect) in ALLAUTH.items():
    ROWS[_name] = agnostic(get(fixed(_url), _expect))

# The Django admin: for staff only; everyone else is sent to its login page.
STAFF_ONLY = web("login login login login ok")
ADMIN_SITE = {
    "admin:index": ("/admin/", STAFF_ONLY),
    "admin:login": ("/admin/login/", EVERYONE_OK),
    # Signed-out visitors are sent to the admin's index (and from there to its login page).
    "admin:logout": ("/admin/logout/", web("ok ok ok ok 405")),
    "admin:password_change": ("/admin/password_change/", STAFF_ONLY),
    "admin:password_change_done": ("/admin/password_change/done/", STAFF_ONLY),
    "admin:autocomplete": ("/admin/autocomplete/", web("login login login login 403")),
    "admin:jsi18n": ("/admin/jsi18n/", STAFF_ONLY),
    "admin:app_list": ("/admin/teams/", STAFF_ONLY),
    "admin/(?P<url>.*)$": ("/admin/no-such-page/", web("login login login login 404")),
}
for _name, (_url, _expect) in ADMIN_SITE.items():
    ROWS[_name] = agnostic(get(fixed(_url), _expect))
ROWS["admin:view_on_site"] = agnostic(
    get(
        lambda s: f"/admin/r/{s.w.project_content_type}/{s.project.pk}/",
        STAFF_ONLY,
    )
)
# Each registered model: which object its pages show.
ADMIN_MODELS = {
    "auth.group": lambda s: s.w.group.pk,
    "account.emailaddress": lambda s: s.w.email_address.pk,
    "accounts.apikey": lambda s: s.w.bob_spare_key,
    "accounts.user": lambda s: s.w.erin.pk,
    "teams.entity": lambda s: s.team.pk,
    "teams.membership": lambda s: s.erin_membership.pk,
    "teams.invitation": lambda s: s.invitation.pk,
    "teams.entityuserobjectpermission": lambda s: s.w.user_permission.pk,
    "teams.entitygroupobjectpermission": lambda s: s.w.group_permission.pk,
    "teams.auditevent": lambda s: s.audit_event.pk,
    "projects.project": lambda s: s.project.pk,
    "runs.run": lambda s: s.bob_run.pk,
    "runs.alert": lambda s: s.alert.pk,
    "alerts.alertrule": lambda s: s.alert_rule.pk,
    "alerts.alertevent": lambda s: s.alert_event.pk,
    "alerts.webhook": lambda s: s.webhook.pk,
    "reports.report": lambda s: s.report.pk,
    "runs.runfile": lambda s: s.run_file.pk,
    "artifacts.artifact": lambda s: s.artifact.pk,
    "artifacts.artifactcollection": lambda s: s.collection.pk,
    "artifacts.artifactlink": lambda s: s.link.pk,
    "artifacts.aliasmove": lambda s: s.alias_move.pk,
    "artifacts.protectedalias": lambda s: s.protected_alias.pk,
    "runs.savedview": lambda s: s.shared_view.pk,
    "sweeps.sweep": lambda s: s.sweep.pk,
    "sweeps.sweepagent": lambda s: s.sweep_agent.pk,
    "sweeps.sweeprun": lambda s: s.sweep_slot.pk,
    "jobs.periodicjob": lambda s: s.w.periodic_job.pk,
    "django_tasks_database.dbtaskresult": lambda s: s.w.task_result.pk,
}
# What the admin refuses even to staff (destructive edits go through the services).
ADMIN_REFUSED = {
    key: "login login login login 403"
    for key in (
        "admin:accounts_apikey_add",
        "admin:teams_entity_delete",
        "admin:teams_invitation_add",
        "admin:teams_entityuserobjectpermission_add",
        "admin:teams_entityuserobjectpermission_delete",
        "admin:teams_entitygroupobjectpermission_add",
        "admin:teams_entitygroupobjectpermission_delete",
        "admin:teams_auditevent_add",
        "admin:teams_auditevent_delete",
        "admin:projects_project_add",
        "admin:runs_savedview_add",
        # A webhook's secret is shown to its team once: they are added on the team's page.
        "admin:alerts_webhook_add",
        "admin:artifacts_artifactlink_add",
        "admin:artifacts_aliasmove_add",
        "admin:artifacts_aliasmove_delete",
        # Sweeps, agents and slots are made by the client through the services.
        "admin:sweeps_sweep_add",
        "admin:sweeps_sweepagent_add",
        "admin:sweeps_sweeprun_add",
        # Periodic jobs are defined in code; task results are the worker's record.
        "admin:jobs_periodicjob_add",
        "admin:django_tasks_database_dbtaskresult_add",
        "admin:django_tasks_database_dbtaskresult_delete",
    )
}


def _admin_rows(label, object_pk):
    app, model = label.split(".")
    base = f"/admin/{app}/{model}/"

    def page(suffix):
        return lambda s: f"{base}{object_pk(s)}/{suffix}"

    rows = {
        f"admin:{app}_{model}_changelist": get(fixed(base), STAFF_ONLY),
        f"admin:{app}_{model}_add": get(fixed(f"{base}add/"), STAFF_ONLY),
        f"admin:{app}_{model}_history": get(page("history/"), STAFF_ONLY),
        f"admin:{app}_{model}_delete": get(page("delete/"), STAFF_ONLY),
        f"admin:{app}_{model}_change": get(page("change/"), STAFF_ONLY),
        f"admin/{app}/{model}/<path:object_id>/": get(page(""), STAFF_ONLY),
    }
    for key, probe in rows.items():
        if key in ADMIN_REFUSED:
            probe = Probe(**{**probe.__dict__, "expect": web(ADMIN_REFUSED[key])})
        ROWS[key] = agnostic(probe)


for _label, _object_pk in ADMIN_MODELS.items():
    _admin_rows(_label, _object_pk)
ROWS["admin:auth_user_password_change"] = agnostic(
    get(lambda s: f"/admin/accounts/user/{s.w.erin.pk}/password/", STAFF_ONLY)
)


# The resolver's patterns


def _join(prefix: str, route: str) -> str:
    # As Django's resolver joins routes: a regex's leading ^ is dropped after a prefix.
    return prefix + route.removeprefix("^") if prefix else route


def url_patterns(patterns=None, prefix="", namespace=""):
    """(key, route) of every pattern: the namespaced name, or the route for unnamed ones."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = _join(prefix, str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern.url_patterns, route, inner)
        else:
            assert isinstance(pattern, URLPattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route


def match_key(path: str) -> str:
    match = resolve(urlsplit(path).path)
    return match.view_name if match.url_name else match.route


PATTERNS = dict(url_patterns())
MISSING = [key for key in PATTERNS if key not in ROWS]


def _cases():
    for key in PATTERNS:
        if key not in ROWS:
            yield pytest.param(key, None, "", "", id=f"{key} (no row)")
            continue
        for index, probe in enumerate(ROWS[key]):
            label = f" {probe.label}" if probe.label else ""
            for team in ("any",) if probe.any_team else ("private", "public"):
                for role in ROLES:
                    yield pytest.param(
                        key, index, team, role, id=f"{key} {probe.method}{label} {team} {role}"
                    )


CASES = list(_cases())


# The cast, once per module


def _basic(raw_key: str) -> str:
    return "Basic " + base64.b64encode(f"api:{raw_key}".encode()).decode()


def _side(w, team, *, project_name, hidden, visibility):
    s = SimpleNamespace(w=w, team=team, hidden=hidden)
    alice, bob, erin = w.alice, w.bob, w.erin
    add_member(team, bob, Role.MEMBER)
    add_member(team, erin, Role.MEMBER)
    add_member(team, w.vera, Role.VIEWER)
    s.erin_membership = Membership.objects.get(entity=team, user=erin)
    s.project = ProjectFactory(entity=team, creator=alice, name=project_name, visibility=visibility)
    if team.is_private:
        s.hidden_project = s.project
    else:
        s.hidden_project = ProjectFactory(entity=team, creator=alice, name=hidden)
    s.target = ProjectFactory(entity=team, creator=alice, name="target")
    # A project in the trash with a run: what the trash's rows restore and delete for good.
    s.trashed = ProjectFactory(entity=team, creator=alice, name="trashed", visibility=visibility)
    RunFactory(project=s.trashed, author=alice, run_id="trashedrun1")
    project_delete(project=s.trashed, actor=alice, confirm_name="trashed")
    s.bob_run = RunFactory(project=s.project, author=bob, run_id="bobrun1", name="bob-run-name")
    s.alice_run = RunFactory(project=s.project, author=alice, run_id="alicerun1")
    # Runs in the project's trash, deleted by their authors.
    s.bob_trashed = RunFactory(
        project=s.project, author=bob, run_id="bobtrash1", trashed_at=timezone.now(), trashed_by=bob
    )
    s.alice_trashed = RunFactory(
        project=s.project,
        author=alice,
        run_id="alicetrash1",
        trashed_at=timezone.now(),
        trashed_by=alice,
    )
    RunFactory(project=s.hidden_project, author=alice, run_id="hiddenrun1")
    s.shared_view = SavedView.objects.create(
        project=s.project, owner=erin, name="team view", shared=True, params=[["state", "x"]]
    )
    s.bob_view = SavedView.objects.create(project=s.project, owner=bob, name="bob view")
    image = {"_type": "image-file", "path": IMAGE_NAME, "caption": "sample 7f3a"}
    table = {"_type": "table-file", "path": TABLE_NAME, "nrows": 1, "ncols": 2}
    history = [
        json.dumps({"_step": step, "loss": loss, "samples": image, "scores": table})
        for step, loss in enumerate([0.5, 0.25])
    ]
    apply_file_stream(
        s.bob_run,
        parse_file_stream(
            {
                "files": {
                    "wandb-history.jsonl": {"offset": 0, "content": history},
                    "output.log": {"offset": 0, "content": ["console line 7f3a"]},
                }
            }
        ),
    )
    # A chart logged with wandb.plot.bar, as the client leaves it in the run config.
    bar = {"panelDefId": "wandb/bar/v0", "stringSettings": {"title": "Accuracy 7f3a"}}
    s.bob_run.config = {"_wandb": {"visualize": {"accuracy": {"panel_config": bar}}}}
    s.bob_run.save(update_fields=["config"])
    s.alert = Alert.objects.create(run=s.bob_run, title="loss diverged")
    s.alert_rule = AlertRule.objects.create(
        project=s.project,
        name="loss too high",
        kind="threshold",
        metric="loss",
        threshold=1,
        created_by=erin,
    )
    # Unmuting is a change on a muted rule only.
    s.muted_rule = AlertRule.objects.create(
        project=s.project, name="muted rule", kind="failed", created_by=erin, muted=True
    )
    s.report = report_services.report_create(
        project=s.project, title="Matrix report 7f3a", actor=erin
    )
    s.report_block = report_services.block_add(
        report=s.report, kind="text", config={"markdown": "report words 7f3a"}
    )
    s.second_report_block = report_services.block_add(
        report=s.report, kind="line_chart", config={"metrics": ["loss"], "runs": {"query": ""}}
    )
    report_services.report_publish(report=s.report, actor=erin, note="matrix note 7f3a")
    s.report_comment = report_comments.comment_add(
        report=s.report, author=erin, body="comment words 7f3a"
    )
    s.share_link, s.share_token = report_share.share_link_create(
        report=s.report, actor=erin, label="matrix link 7f3a"
    )
    s.share_link_id = s.share_link.token_hash[:16]
    revoked, s.revoked_token = report_share.share_link_create(report=s.report, actor=erin)
    report_share.share_link_revoke(link=revoked, actor=erin)
    s.public_report = report_services.report_create(
        project=s.project, title="Public report 7f3a", actor=erin
    )
    report_services.block_add(
        report=s.public_report, kind="text", config={"markdown": "public words 7f3a"}
    )
    report_services.report_publish(report=s.public_report, actor=erin)
    # Made public while its team was open: on the private side, the team's privacy hides it.
    Report.objects.filter(pk=s.public_report.pk).update(visibility="public")
    s.public_report.refresh_from_db()
    s.alert_event = AlertEvent.objects.create(
        project=s.project, rule=s.alert_rule, run=s.bob_run, value=2.0, message="loss is 2"
    )
    s.bob_notification = AlertDelivery.objects.create(
        event=s.alert_event, channel=AlertDelivery.Channel.IN_APP, user=bob, status="sent"
    )
    s.webhook = webhook_create(
        entity=team,
        name="matrix-hook",
        url="http://169.254.0.1/hook",
        format="generic",
        client_alerts=False,
        actor=alice,
    )[0]
    storage_name = default_storage.save(f"matrix/{team.name}/output.log", ContentFile(FILE_CONTENT))
    s.run_file = RunFile.objects.create(
        run=s.bob_run,
        name="output.log",
        storage_name=storage_name,
        size=len(FILE_CONTENT),
        uploaded_at=timezone.now(),
    )
    image = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(image, "PNG")
    image = image.getvalue()
    image_storage_name = default_storage.save(f"matrix/{team.name}/image.png", ContentFile(image))
    image_file = RunFile.objects.create(
        run=s.bob_run,
        name=IMAGE_NAME,
        storage_name=image_storage_name,
        size=len(image),
        uploaded_at=timezone.now(),
    )
    s.thumbnail_link = signed_thumbnail_url(image_file)
    RunFile.objects.create(
        run=s.bob_run,
        name=TABLE_NAME,
        storage_name=default_storage.save(
            f"matrix/{team.name}/table.json", ContentFile(TABLE_CONTENT)
        ),
        size=len(TABLE_CONTENT),
        uploaded_at=timezone.now(),
    )
    RunFile.objects.create(
        run=s.bob_run,
        name=HTML_NAME,
        storage_name=default_storage.save(
            f"matrix/{team.name}/page.html", ContentFile(b"<p>logged html 7f3a</p>")
        ),
        size=23,
        uploaded_at=timezone.now(),
    )
    s.collection = ArtifactCollection.objects.create(
        project=s.project, name="dataset", type="dataset"
    )
    s.artifact = Artifact.objects.create(
        collection=s.collection,
        version_index=0,
        digest="0" * 32,
        state=Artifact.State.COMMITTED,
        created_by_run=s.bob_run,
    )
    ArtifactTag.objects.create(artifact=s.artifact, name="baseline")
    ArtifactCollectionTag.objects.create(collection=s.artifact.collection, name="curated")
    ArtifactFile.objects.create(
        artifact=s.artifact,
        name="data.csv",
        md5=base64.b64encode(hashlib.md5(FILE_CONTENT).digest()).decode(),
        size=len(FILE_CONTENT),
        storage_name=storage_name,
    )
    ArtifactFile.objects.create(
        artifact=s.artifact,
        name=IMAGE_NAME,
        md5="y" * 24,
        size=len(image),
        storage_name=image_storage_name,
    )
    # The code the run saved (run.log_code()).
    code = Artifact.objects.create(
        collection=ArtifactCollection.objects.create(
            project=s.project, name="source-matrix-train.py", type="code"
        ),
        version_index=0,
        digest="1" * 32,
        state=Artifact.State.COMMITTED,
        created_by_run=s.bob_run,
    )
    ArtifactFile.objects.create(
        artifact=code,
        name="README.txt",
        md5="y" * 24,
        size=len(FILE_CONTENT),
        storage_name=storage_name,
    )
    # The team's model registry: the dataset version linked into "classifier".
    registry_project = ProjectFactory(
        entity=team, creator=alice, name=registry.REGISTRY_PROJECT, visibility=visibility
    )
    s.link = registry.artifact_link(
        artifact=s.artifact, project=registry_project, portfolio_name="classifier", actor=bob
    )
    s.alias_move = AliasMove.objects.get(portfolio=s.link.portfolio, alias="latest")
    s.protected_alias = ProtectedAlias.objects.create(entity=team, alias="champion")
    s.sweep = sweep_services.sweep_create(
        actor=bob, project=s.project, config_yaml="method: grid\nparameters: {a: {values: [1]}}"
    )
    s.sweep_agent = sweep_services.agent_create(actor=bob, sweep=s.sweep, host="matrix-host")
    sweep_services.heartbeat(actor=bob, agent=s.sweep_agent, run_states={})
    s.sweep_slot = s.sweep.slots.get()
    token = transfer.signing.dumps([transfer.GET_RUN_FILE, s.run_file.pk], salt=transfer.SALT)
    s.download_link = reverse("wandb_transfer", args=[token, "output.log"])
    membership, s.sam_key = services.service_account_create(entity=team, name="sam")
    s.sam = membership.user
    s.spare_key = ApiKey.create_for(user=s.sam, label="spare")[0].pk
    s.bot = services.service_account_create(entity=team, name="bot")[0].user
    s.invitation, link = services.invitation_create(
        entity=team, inviter=alice, email=w.charlie.email, role=Role.MEMBER
    )
    s.invitation_token = link.rstrip("/").rsplit("/", 1)[-1]
    # Sent a while ago, so that it may be resent.
    Invitation.objects.filter(pk=s.invitation.pk).update(
        sent_at=timezone.now() - timedelta(hours=1)
    )
    s.invitation.refresh_from_db()
    s.audit_event = AuditEvent.objects.filter(entity=team).first()
    # Nobody starts out with the team as their default entity.
    Membership.objects.filter(entity=team).exclude(role=Role.SERVICE).update(is_default=False)
    return s


def _build(media_root):
    w = SimpleNamespace()
    w.alice = UserFactory(username="alice")
    w.bob = UserFactory(username="bob")
    w.charlie = UserFactory(username="charlie")
    w.erin = UserFactory(username="erin")
    w.vera = UserFactory(username="vera")
    w.staff = UserFactory(username="root")
    User.objects.filter(pk=w.staff.pk).update(is_staff=True, is_superuser=True)
    w.staff.refresh_from_db()
    w.bob_key = ApiKey.create_for(user=w.bob, label="tests")[1]
    w.charlie_key = ApiKey.create_for(user=w.charlie, label="tests")[1]
    w.vera_key = ApiKey.create_for(user=w.vera, label="tests")[1]
    w.bob_spare_key = ApiKey.create_for(user=w.bob, label="spare")[0].pk
    w.group = Group.objects.create(name="operators")
    w.periodic_job = PeriodicJob.objects.create(
        name="mark_crashed_runs", next_run_at=timezone.now()
    )
    w.task_result = DBTaskResult.objects.create(
        task_path="teamsite.lib.emails.send_email",
        args_kwargs={"args": [], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
    )
    w.email_address = EmailAddress.objects.get(user=w.erin)
    w.project_content_type = ContentType.objects.get_for_model(Project).pk
    private = TeamFactory(name="example-team", creator=w.alice, is_private=True)
    public = TeamFactory(name="open-team", creator=w.alice)
    w.sides = {
        "private": _side(
            w, private, project_name=HIDDEN_PRIVATE, hidden=HIDDEN_PRIVATE, visibility="team"
        ),
        "public": _side(w, public, project_name="demo", hidden=HIDDEN_PUBLIC, visibility="public"),
    }
    w.sides["any"] = w.sides["private"]
    w.user_permission = EntityUserObjectPermission.objects.filter(user=w.erin).first()
    assign_perm("teams.view_entity", w.group, private)
    w.group_permission = EntityGroupObjectPermission.objects.get(group=w.group)
    w.media_root = media_root
    # Signed in once; each case's changes to a session are rolled back with the rest.
    people = [w.alice, w.bob, w.charlie, w.vera, w.staff, *(side.sam for side in w.sides.values())]
    w.sessions = {user.pk: _session(user) for user in people}
    return w


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        with override_settings(MEDIA_ROOT=media_root, PASSWORD_HASHERS=FAST_HASHERS):
            w = _build(media_root)
    yield w
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def case_world(world, db, settings, _media_root):
    # Each case runs in a savepoint inside the module's transaction (the `db` fixture).
    settings.MEDIA_ROOT = world.media_root
    return world


def _persona(w, side, role):
    """(client, acting user) for a role."""
    client = Client(raise_request_exception=True)
    users = {
        "outsider": w.charlie,
        "member": w.bob,
        "viewer": w.vera,
        "admin": w.alice,
        "staff": w.staff,
    }
    keys = {
        "service": side.sam_key,
        "member_key": w.bob_key,
        "viewer_key": w.vera_key,
        "outsider_key": w.charlie_key,
    }
    if role in keys:
        client.defaults["HTTP_AUTHORIZATION"] = _basic(keys[role])
    if role == "service":
        # A service account has no web session; one forced on it must not count.
        users["service"] = side.sam
    if role in users:
        client.cookies[settings.SESSION_COOKIE_NAME] = w.sessions[users[role].pk]
        return client, users[role]
    return client, {"member_key": w.bob, "viewer_key": w.vera, "outsider_key": w.charlie}.get(role)


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _request(client, probe, url, data):
    if data is None:
        return client.generic(probe.method, url)
    if probe.json:
        return client.generic(probe.method, url, json.dumps(data), "application/json")
    form = urlencode(data, doseq=True)
    return client.generic(probe.method, url, form, "application/x-www-form-urlencoded")


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


LOGIN_PATHS = ("/accounts/login/", "/admin/login/")


def classify(response, body, probe, side, user) -> str:
    status = response.status_code
    if status == 401:
        return "login"
    if 300 <= status < 400:
        if urlsplit(response["Location"]).path in LOGIN_PATHS:
            return "login"
    elif not 200 <= status < 300:
        return str(status)
    if probe.effect is not None and not probe.effect(side, user):
        return "refused"
    if probe.shows is not None and probe.shows(side) not in body:
        return "empty"
    return "ok"


def test_every_url_pattern_has_a_row(capsys):
    stale = sorted(set(ROWS) - set(PATTERNS))
    covered = len(PATTERNS) - len(MISSING)
    with capsys.disabled():
        print(
            f"\nURL matrix: {covered}/{len(PATTERNS)} URL patterns have a row "
            f"({100 * covered // len(PATTERNS)}%); {len(CASES)} requests "
            f"({len(ROLES)} roles, teams private/public or one request for pages of no team)."
        )
    assert not MISSING, "add a row for " + ", ".join(MISSING)
    assert not stale, f"rows for patterns that no longer exist: {', '.join(stale)}"
    for key, probes in ROWS.items():
        for probe in probes:
            for team in ("private", "public"):
                assert set(probe.expected(team)) == set(ROLES), key
                assert set(probe.expected(team).values()) <= OUTCOMES, key
                if probe.effect is not None:
                    # A write says what the viewer gets; only reads take the member's outcome.
                    unstated = set(VIEWER_ROLES) - set(probe.stated(team))
                    assert not unstated, (
                        f"{key} {probe.method} {probe.label}: a write states the viewer's "
                        f"outcome ({', '.join(sorted(unstated))}), e.g. web(..., viewer=) or "
                        "machine(..., viewer_key=)"
                    )


@pytest.mark.parametrize(("key", "index", "team", "role"), CASES)
def test_url_matrix(case_world, key, index, team, role):
    assert index is not None, f"add a row for {key} to ROWS in tests/test_url_matrix.py"
    w = case_world
    probe = ROWS[key][index]
    side = w.sides[team]
    url = probe.url(side)
    assert match_key(url) == key, f"{url} is served by {match_key(url)}, not {key}"
    client, user = _persona(w, side, role)
    data = probe.data(side) if probe.data is not None else None
    try:
        response = _request(client, probe, url, data)
    except Exception as error:  # a 5xx, with its traceback
        pytest.fail(f"{probe.method} {url} as {role}: server error {error!r}")
    body = _body(response)
    assert response.status_code < 500, f"{probe.method} {url} as {role}: {response.status_code}"
    got = classify(response, body, probe, side, user)
    expected = probe.expected(team)[role]
    assert got == expected, (
        f"{probe.method} {url} as {role} ({team} team): expected {expected}, got {got} "
        f"(status {response.status_code}, {response.get('Location', '')}) {body[:300]!r}"
    )
    if team == "private" and role in OUTSIDERS and key not in CREDENTIAL_LINKS:
        assert got != "ok", f"{role} got {url} of the private team"
    if probe.effect is not None and got != "ok":
        assert not probe.effect(side, user), f"a refused {probe.method} {url} changed data"
    if role in OUTSIDERS and not key.startswith("admin"):
        sent = url + json.dumps(data)
        for hidden in (HIDDEN_PRIVATE, HIDDEN_PUBLIC):
            # An error may repeat what the request named ("Run a/b/c not found"), nothing more.
            if hidden in sent and 400 <= response.status_code < 500:
                continue
            assert hidden not in body, f"{url} shows {hidden} to {role}"
