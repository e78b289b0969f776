from django.urls import path

from . import views

app_name = "alerts"

PROJECT = "<str:entity>/<str:project>/alerts/"
RULE = PROJECT + "rules/<str:rule_key>/"

urlpatterns = [
    path(PROJECT, views.history, name="history"),
    path(PROJECT + "rules/", views.rules, name="rules"),
    path(PROJECT + "rules/new/", views.create_rule, name="rule_create"),
    path(PROJECT + "rules/try/", views.try_rule, name="rule_try"),
    path(RULE, views.edit_rule, name="rule_edit"),
    path(RULE + "mute/", views.mute_rule, name="rule_mute"),
    path(RULE + "unmute/", views.unmute_rule, name="rule_unmute"),
    path(RULE + "snooze/", views.snooze_rule, name="rule_snooze"),
    path(RULE + "delete/", views.delete_rule, name="rule_delete"),
]
