"""Saved views: who sees and edits them, and the writes (each audited in the team's trail)."""

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, QueryDict

from teams.access import Need
from teams.services import audit

from . import query
from .models import SavedView
from .selectors import RunFilter

# The GET parameters each page reads; anything else (a cursor, htmx's own) is not state.
PAGE_PARAMS = {
    SavedView.Kind.TABLE: ("q", "state", "tag", "author", "sort", "col", "panel", "group"),
    SavedView.Kind.LEADERBOARD: ("q", "metric", "goal", "group", "limit"),
}
MAX_PARAMS = 40
MAX_VALUE = 1001


class SavedViewError(Exception):
    """A save that cannot be done; `field` names the form field it is about."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


def can_save_views(project) -> bool:
    """Members of the project's entity save views; visitors of a public project only read."""
    return Need.VIEW in project.viewer_entity_permissions


def can_share_views(project) -> bool:
    """A shared view is the team's: those who may write to it share. A viewer keeps views
    private to themselves."""
    return Need.WRITE in project.viewer_entity_permissions


def can_edit(view: SavedView, user, project) -> bool:
    if not user.is_authenticated or not can_save_views(project):
        return False
    if view.owner_id == user.pk:
        return not view.shared or can_share_views(project)
    return view.shared and Need.ADMIN in project.viewer_entity_permissions


def views_visible(project, user):
    """The views of a project a viewer of it may see: the shared ones and their own."""
    visible = Q(shared=True)
    if user.is_authenticated:
        visible |= Q(owner=user)
    return (
        SavedView.objects.filter(visible, project=project)
        .select_related("owner")
        .order_by("kind", "name", "pk")
    )


def views_menu(project, user) -> list[SavedView]:
    """The Views menu: each view with `can_edit` set, in one query."""
    views = list(views_visible(project, user))
    for view in views:
        view.can_edit = can_edit(view, user, project)
    return views


def get_view_for_user(request, project, key: str, *, edit: bool = False) -> SavedView:
    """A view the visitor may see (404 otherwise, as for things one may not know exist);
    with `edit`, 403 unless they may change it."""
    view = views_visible(project, request.user).filter(key=key).first()
    if view is None:
        raise Http404("No such view.")
    if edit and not can_edit(view, request.user, project):
        raise PermissionDenied("Only the view's owner (or a team admin, if shared) changes it.")
    return view


def page_params(state: str, kind: str) -> list[list[str]]:
    """The parameters of a page's query string (`state`) worth saving, in order, with the query
    checked by the query language: a view never stores a query the table would refuse."""
    params = QueryDict(state or "")
    kept = [
        [name, value[:MAX_VALUE]]
        for name in PAGE_PARAMS[kind]
        for value in params.getlist(name)
        if value.strip()
    ][:MAX_PARAMS]
    text = params.get("q", "")
    try:
        query.to_q(RunFilter(q=text).query() if text.strip() else query.And(()))
    except query.QueryError as error:
        raise SavedViewError(f"The query has a mistake: {error}", field="state") from None
    return kept


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise SavedViewError("Give the view a name.", field="name")
    if len(name) > SavedView._meta.get_field("name").max_length:
        raise SavedViewError("The name is too long.", field="name")
    return name


def _taken(project, owner, name) -> SavedViewError:
    return SavedViewError(f"You already have a view named “{name}” here.", field="name")


def saved_view_create(
    *, project, owner, name: str, shared: bool, kind: str, state: str
) -> SavedView:
    name = _clean_name(name)
    params = page_params(state, kind)
    if SavedView.objects.filter(project=project, owner=owner, name=name).exists():
        raise _taken(project, owner, name)
    try:
        with transaction.atomic():
            view = SavedView.objects.create(
                project=project, owner=owner, name=name, shared=shared, kind=kind, params=params
            )
            audit(
                project.entity, owner, "saved_view.create", project.path, name=name, shared=shared
            )
    except IntegrityError:  # saved at the same moment by another request
        raise _taken(project, owner, name) from None
    return view


def saved_view_rename(*, view: SavedView, actor, name: str) -> SavedView:
    name = _clean_name(name)
    if (
        SavedView.objects.filter(project=view.project, owner=view.owner, name=name)
        .exclude(pk=view.pk)
        .exists()
    ):
        raise _taken(view.project, view.owner, name)
    with transaction.atomic():
        old, view.name = view.name, name
        view.save(update_fields=["name", "updated_at"])
        audit(view.project.entity, actor, "saved_view.rename", view.project.path, old=old, new=name)
    return view


def saved_view_update(*, view: SavedView, actor, state: str) -> SavedView:
    """Store the page's current state in the view."""
    with transaction.atomic():
        view.params = page_params(state, view.kind)
        view.save(update_fields=["params", "updated_at"])
        audit(view.project.entity, actor, "saved_view.update", view.project.path, name=view.name)
    return view


def saved_view_delete(*, view: SavedView, actor) -> None:
    with transaction.atomic():
        audit(view.project.entity, actor, "saved_view.delete", view.project.path, name=view.name)
        view.delete()
