from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from . import selectors, services
from .access import Need, get_entity_for_user
from .forms import (
    DefaultEntityForm,
    InviteForm,
    KeyLabelForm,
    PrivacyForm,
    RoleForm,
    ServiceAccountForm,
    TeamCreateForm,
    team_url_preview,
)
from .models import Entity, Invitation, Membership, Role
from .services import TeamError

AUDIT_PAGE_SIZE = 50

# User settings: teams, default entity


@login_required
def user_teams(request):
    entities = selectors.entities_writable_by(request.user)
    default = selectors.default_entity_of(request.user)
    return render(
        request,
        "teams/user_teams.html",
        {
            "memberships": selectors.team_memberships_of(request.user),
            "default_form": DefaultEntityForm(
                entities=entities, initial={"entity": default.name if default else None}
            ),
            "default_entity": default,
        },
    )


@login_required
@require_POST
def set_default_entity(request):
    form = DefaultEntityForm(request.POST, entities=selectors.entities_writable_by(request.user))
    if form.is_valid():
        services.default_entity_set(user=request.user, entity=form.cleaned_data["entity"])
        messages.success(request, f"New projects now go to {form.cleaned_data['entity'].name}.")
    else:
        messages.error(request, "Choose an entity you can write to.")
    return redirect("teams:user_teams")


@login_required
@require_POST
def set_alert_emails(request, name):
    membership = get_object_or_404(
        Membership, user=request.user, entity__name=name, entity__kind=Entity.Kind.TEAM
    )
    enabled = request.POST.get("enabled") == "1"
    services.alert_emails_set(membership=membership, enabled=enabled)
    messages.success(
        request,
        f"You will {'now' if enabled else 'no longer'} get emails for alerts of all "
        f"{membership.entity.name} runs.",
    )
    return redirect("teams:user_teams")


@login_required
def create_team(request):
    form = TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(name=form.cleaned_data["name"], creator=request.user)
        except TeamError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Team {team.name} created. Invite your colleagues.")
            return redirect(team.get_members_url())
    return render(
        request,
        "teams/create_team.html",
        {"form": form, "url_preview": team_url_preview()},
        status=400 if form.errors else 200,
    )


@login_required
def leave_team(request, name):
    team = get_entity_for_user(request, name)
    membership = get_object_or_404(Membership, entity=team, user=request.user)
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership, actor=request.user)
        except TeamError as error:
            messages.error(request, str(error))
            return redirect("teams:user_teams")
        messages.success(request, f"You left {team.name}.")
        return redirect("teams:user_teams")
    return render(request, "teams/leave_team.html", {"team": team})


# Team settings


@login_required
def team_settings(request, name):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    return render(
        request,
        "teams/settings.html",
        {"team": team, "privacy_form": PrivacyForm(initial={"is_private": team.is_private})},
    )


def _members_context(request, team, invite_form=None):
    return {
        "team": team,
        "people": selectors.people_of(team),
        "invitations": selectors.pending_invitations_of(team) if team.viewer_is_admin else [],
        "invite_form": invite_form or InviteForm(),
        "roles": Role.human_choices(),
    }


# The link of an invitation just sent or resent, kept in the session until the members page it
# redirects to has shown it once.
SENT_INVITATION = "teams.sent_invitation"


def _show_link_once(request, invitation, link):
    request.session[SENT_INVITATION] = {
        "team": invitation.entity.name,
        "invitation": str(invitation.pk),
        "link": link,
    }
    return redirect(invitation.entity.get_members_url())


def _sent_invitation(request, team):
    sent = request.session.get(SENT_INVITATION)
    if not sent or sent["team"] != team.name:
        return None
    del request.session[SENT_INVITATION]
    invitation = Invitation.objects.pending().filter(entity=team, pk=sent["invitation"]).first()
    if invitation is None:  # revoked in the meantime: its link no longer works
        return None
    return {"invitation": invitation, "link": sent["link"]}


@login_required
def members(request, name):
    team = get_entity_for_user(request, name)
    context = _members_context(request, team)
    if team.viewer_is_admin:
        context["sent"] = _sent_invitation(request, team)
    response = render(request, "teams/members.html", context)
    if context.get("sent"):
        patch_cache_control(response, no_store=True)  # the link is not kept for Back
    return response


@login_required
@require_POST
def invite(request, name):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation, link = services.invitation_create(
                entity=team, inviter=request.user, **form.cleaned_data
            )
        except TeamError as error:
            form.add_error(error.field, str(error))
        else:
            return _show_link_once(request, invitation, link)
    return render(request, "teams/members.html", _members_context(request, team, form), status=400)


def _team_invitation(team, invitation_id):
    return get_object_or_404(Invitation.objects.pending(), entity=team, pk=invitation_id)


@login_required
@require_POST
def resend_invitation(request, name, invitation_id):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    invitation = _team_invitation(team, invitation_id)
    try:
        link = services.invitation_resend(invitation=invitation, actor=request.user)
    except TeamError as error:
        messages.error(request, str(error))
        return redirect(team.get_members_url())
    return _show_link_once(request, invitation, link)


@login_required
@require_POST
def revoke_invitation(request, name, invitation_id):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    invitation = _team_invitation(team, invitation_id)
    services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, f"The invitation to {invitation.email} was revoked.")
    return redirect(team.get_members_url())


def _person(team, username):
    return get_object_or_404(
        Membership.objects.select_related("user").exclude(role=Role.SERVICE),
        entity=team,
        user__username=username,
    )


@login_required
@require_POST
def set_role(request, name, username):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    membership = _person(team, username)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose admin or member.")
    else:
        try:
            membership = services.membership_set_role(
                membership=membership, role=form.cleaned_data["role"], actor=request.user
            )
        except TeamError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"{membership.user.username} is now {membership.get_role_display().lower()}.",
            )
    if request.htmx:
        return render(
            request,
            "teams/members.html#member_row",
            {"team": team, "membership": _person(team, username), "roles": Role.human_choices()},
        )
    return redirect(team.get_members_url())


@login_required
def remove_member(request, name, username):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    membership = _person(team, username)
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership, actor=request.user)
        except TeamError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{username} was removed from {team.name}. Their runs stay.")
        return redirect(team.get_members_url())
    return render(request, "teams/remove_member.html", {"team": team, "membership": membership})


@login_required
def audit_trail(request, name):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    paginator = Paginator(selectors.audit_events_of(team), AUDIT_PAGE_SIZE)
    return render(
        request,
        "teams/audit.html",
        {"team": team, "page_obj": paginator.get_page(request.GET.get("page"))},
    )


# Service accounts


@login_required
def service_accounts(request, name, form=None, status=200):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    return render(
        request,
        "teams/service_accounts.html",
        {
            "team": team,
            "accounts": selectors.service_accounts_of(team),
            "form": form or ServiceAccountForm(),
        },
        status=status,
    )


@login_required
@require_POST
def create_service_account(request, name):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    form = ServiceAccountForm(request.POST)
    if form.is_valid():
        try:
            membership, raw_key = services.service_account_create(
                entity=team, name=form.cleaned_data["name"], actor=request.user
            )
        except TeamError as error:
            form.add_error("name", str(error))
        else:
            return _show_key(request, team, membership, raw_key)
    return service_accounts(request, name, form=form, status=400)


def _service_account(team, account_name):
    return get_object_or_404(
        Membership.objects.select_related("user"),
        entity=team,
        role=Role.SERVICE,
        user__username=services.service_account_username(team, account_name),
    )


def _show_key(request, team, membership, raw_key):
    return render(
        request,
        "teams/service_account_key.html",
        {"team": team, "account": membership.user, "raw_key": raw_key},
    )


@login_required
@require_POST
def create_service_account_key(request, name, account_name):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    membership = _service_account(team, account_name)
    form = KeyLabelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the key a label of at most 100 characters.")
        return redirect("teams:service_accounts", team.name)
    raw_key = services.service_account_key_create(
        membership=membership, label=form.cleaned_data["label"]
    )
    return _show_key(request, team, membership, raw_key)


@login_required
@require_POST
def revoke_service_account_key(request, name, account_name, key_id):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    membership = _service_account(team, account_name)
    key = get_object_or_404(membership.user.api_keys, pk=key_id)
    key.delete()
    messages.success(request, f"Key {key.prefix}… of {account_name} was revoked.")
    return redirect("teams:service_accounts", team.name)


@login_required
@require_POST
def delete_service_account(request, name, account_name):
    team = get_entity_for_user(request, name, need=Need.ADMIN)
    membership = _service_account(team, account_name)
    services.service_account_delete(membership=membership, actor=request.user)
    messages.success(request, f"Service account {account_name} and its keys were deleted.")
    return redirect("teams:service_accounts", team.name)


# Invitation links (no login needed to look)


def invitation(request, token):
    invitation = services.invitation_for_token(token)
    if invitation is None:
        return render(request, "teams/invitation_invalid.html", status=404)
    user = request.user
    if not user.is_authenticated:
        if invitation.is_pending:
            # Whoever holds the link controls the invited address: signing up with it needs no
            # second verification email.
            get_adapter(request).stash_verified_email(request, invitation.email)
        return render(
            request,
            "teams/invitation.html",
            {
                "invitation": invitation,
                "refusal": _anonymous_refusal(invitation),
                "next": request.path,
            },
        )
    refusal = services.invitation_refusal(invitation, user)
    if request.method == "POST" and refusal is None:
        try:
            membership = services.invitation_accept(invitation=invitation, user=user)
        except TeamError as error:
            refusal = str(error)
        else:
            team = invitation.entity.name
            messages.success(
                request,
                f"Welcome to {team}. It is now your default entity."
                if membership.is_default
                else f"Welcome to {team}. As a viewer you see its work; your runs still go "
                "to your default entity.",
            )
            return redirect(invitation.entity.get_members_url())
    return render(
        request,
        "teams/invitation.html",
        {"invitation": invitation, "refusal": refusal},
        status=400 if refusal and request.method == "POST" else 200,
    )


def _anonymous_refusal(invitation):
    if invitation.is_pending:
        return None
    return services.invitation_refusal(invitation, None)
