from django.urls import path

from . import views

app_name = "teams"

urlpatterns = [
    path("settings/teams/", views.user_teams, name="user_teams"),
    path("settings/teams/new/", views.create_team, name="create"),
    path("settings/teams/default/", views.set_default_entity, name="set_default_entity"),
    path(
        "settings/teams/<str:name>/alert-emails/",
        views.set_alert_emails,
        name="set_alert_emails",
    ),
    path("settings/teams/<str:name>/leave/", views.leave_team, name="leave"),
    path("teams/<str:name>/settings/", views.team_settings, name="settings"),
    # The privacy switch posts to projects:set_team_privacy: it changes the team's projects.
    path("teams/<str:name>/members/", views.members, name="members"),
    path("teams/<str:name>/audit/", views.audit_trail, name="audit"),
    path("teams/<str:name>/members/invite/", views.invite, name="invite"),
    path("teams/<str:name>/members/<str:username>/role/", views.set_role, name="set_role"),
    path(
        "teams/<str:name>/members/<str:username>/remove/", views.remove_member, name="remove_member"
    ),
    path(
        "teams/<str:name>/invitations/<uuid:invitation_id>/resend/",
        views.resend_invitation,
        name="resend_invitation",
    ),
    path(
        "teams/<str:name>/invitations/<uuid:invitation_id>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("teams/<str:name>/service-accounts/", views.service_accounts, name="service_accounts"),
    path(
        "teams/<str:name>/service-accounts/new/",
        views.create_service_account,
        name="create_service_account",
    ),
    path(
        "teams/<str:name>/service-accounts/<str:account_name>/keys/new/",
        views.create_service_account_key,
        name="create_service_account_key",
    ),
    path(
        "teams/<str:name>/service-accounts/<str:account_name>/keys/<uuid:key_id>/revoke/",
        views.revoke_service_account_key,
        name="revoke_service_account_key",
    ),
    path(
        "teams/<str:name>/service-accounts/<str:account_name>/delete/",
        views.delete_service_account,
        name="delete_service_account",
    ),
]
