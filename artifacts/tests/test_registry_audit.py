"""The registry's alias history outlives what it describes: deleting a registered model or a
logged sequence audits the alias removals it causes, attributed to the actor, and keeps every
row; the team's registry page lists them, deleted models by their stored name. The Django
admin unlinks through the registry, so its rules and its audit apply there too.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team; `operator` is a superuser who belongs to no team.
"""

import importlib

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts import registry
from artifacts.models import AliasMove, ArtifactAlias, ArtifactCollection, ArtifactLink
from artifacts.tests.test_registry_pages import link_versions, logged_version
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:artifacts_artifactlink_changelist")


@pytest.fixture
def training(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="training")


@pytest.fixture
def registry_project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name=registry.REGISTRY_PROJECT)


@pytest.fixture
def operator(db):
    user = UserFactory(username="operator")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


def history(**filters):
    return [
        (move.portfolio_name, move.alias, move.from_version_index, move.to_version_index)
        for move in AliasMove.objects.filter(**filters).order_by("pk")
    ]


def production_on(model, version_index, actor):
    link = ArtifactLink.objects.get(portfolio=model, version_index=version_index)
    registry.portfolio_aliases_set(link=link, add=["production"], actor=actor)
    return link


# Deleting a registered model


def test_deleting_a_model_keeps_its_history_and_records_each_removal(
    training, registry_project, team, alice, bob
):
    model = link_versions(training, registry_project, alice, 2)
    production_on(model, 0, alice)
    before = AliasMove.objects.count()

    registry.portfolio_delete(portfolio=model, actor=alice)

    assert not ArtifactCollection.objects.filter(pk=model.pk).exists()
    assert AliasMove.objects.count() == before + 2
    assert not AliasMove.objects.exclude(portfolio=None).exists()
    assert set(AliasMove.objects.values_list("entity", flat=True)) == {team.pk}
    assert history()[-2:] == [
        ("classifier", "latest", 1, None),
        ("classifier", "production", 0, None),
    ]
    assert {move.moved_by for move in AliasMove.objects.filter(to_version_index=None)} == {alice}


def test_a_refused_delete_records_nothing(training, registry_project, alice, bob):
    model = link_versions(training, registry_project, alice, 1)
    production_on(model, 0, alice)
    before = history()

    with pytest.raises(registry.AliasProtected):
        registry.portfolio_delete(portfolio=model, actor=bob)

    assert history() == before
    assert ArtifactCollection.objects.filter(pk=model.pk).exists()


def test_the_migration_fills_in_the_team_and_name_of_existing_moves(
    training, registry_project, team, alice
):
    model = link_versions(training, registry_project, alice, 1)
    AliasMove.objects.update(entity=alice.personal_entity, portfolio_name="", moved_by_name="")
    migration = importlib.import_module("artifacts.migrations.0007_alias_move_fill_entity")

    migration.fill(apps, None)

    move = AliasMove.objects.get(portfolio=model)
    assert (move.entity, move.portfolio_name, move.moved_by_name) == (team, "classifier", "alice")


# Deleting a logged sequence


def test_deleting_a_sequence_records_the_removals_and_moves_latest(
    training, registry_project, alice
):
    kept = logged_version(training, alice, 0, name="kept")
    gone = logged_version(training, alice, 0, name="gone")
    registry.artifact_link(
        artifact=kept, project=registry_project, portfolio_name="classifier", actor=alice
    )
    registry.artifact_link(
        artifact=gone,
        project=registry_project,
        portfolio_name="classifier",
        aliases=["production"],
        actor=alice,
    )
    model = ArtifactCollection.objects.get(name="classifier")
    before = len(history())

    registry.sequence_delete(sequence=gone.collection, actor=alice)

    assert history(portfolio=model)[before:] == [
        ("classifier", "latest", 1, None),
        ("classifier", "production", 1, None),
        ("classifier", "latest", None, 0),
    ]
    assert ArtifactAlias.objects.get(collection=model, alias="latest").artifact == kept
    assert set(AliasMove.objects.values_list("moved_by", flat=True)) == {alice.pk}


# The registry page


def test_the_registry_page_lists_recent_changes_of_deleted_models_by_name(
    client, training, registry_project, alice, bob
):
    gone = link_versions(training, registry_project, alice, 1, model="old-classifier")
    link_versions(training, registry_project, alice, 1, model="classifier", start=1)
    registry.portfolio_delete(portfolio=gone, actor=alice)
    client.force_login(bob)

    page = client.get(reverse("registry:list", args=["example-team"]))

    moves = page.context["moves"]
    assert [(move.portfolio_name, move.to_version_index) for move in moves] == [
        ("old-classifier", None),
        ("classifier", 0),
        ("old-classifier", 0),
    ]
    assert moves[0].portfolio is None and moves[0].moved_by == alice
    html = page.content.decode()
    assert 'id="recent-moves"' in html
    assert "old-classifier <span" in html
    assert reverse("registry:model", args=["example-team", "old-classifier"]) not in html
    assert reverse("registry:model", args=["example-team", "classifier"]) in html


def test_the_history_still_names_a_mover_whose_account_is_gone(
    client, training, registry_project, alice, bob
):
    model = link_versions(training, registry_project, bob, 1)
    bob.delete()
    client.force_login(alice)

    page = client.get(reverse("registry:model", args=["example-team", "classifier"]))

    [move] = page.context["moves"]
    assert (move.portfolio, move.moved_by, move.moved_by_name) == (model, None, "bob")
    assert "<td>bob</td>" in page.content.decode()


def test_an_outsider_sees_no_history(client, training, registry_project, alice, charlie):
    registry.portfolio_delete(
        portfolio=link_versions(training, registry_project, alice, 1), actor=alice
    )
    client.force_login(charlie)

    assert client.get(reverse("registry:list", args=["example-team"])).status_code == 404


def test_the_registry_page_costs_the_same_with_more_history(
    client, training, registry_project, alice
):
    client.force_login(alice)
    counts = []
    for start, count in ((0, 1), (1, 6)):
        for index in range(start, start + count):
            model = link_versions(training, registry_project, alice, 2, model=f"m{index}")
            registry.portfolio_delete(portfolio=model, actor=alice)
            link_versions(training, registry_project, alice, 1, model=f"kept{index}")
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("registry:list", args=["example-team"]))
        assert page.status_code == 200
        counts.append(len(queries))
    assert len(page.context["moves"]) > 20
    assert counts[0] == counts[1]


# The Django admin


def test_deleting_a_link_in_the_admin_unlinks_it_through_the_registry(
    client, training, registry_project, alice, operator
):
    model = link_versions(training, registry_project, alice, 2)
    newest = ArtifactLink.objects.get(portfolio=model, version_index=1)
    client.force_login(operator)
    url = reverse("admin:artifacts_artifactlink_delete", args=[newest.pk])

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not ArtifactLink.objects.filter(pk=newest.pk).exists()
    latest = ArtifactAlias.objects.get(collection=model, alias="latest")
    assert latest.artifact.links.get().version_index == 0
    moves = list(AliasMove.objects.filter(portfolio=model).order_by("pk"))[-2:]
    assert [(m.from_version_index, m.to_version_index, m.moved_by) for m in moves] == [
        (1, None, operator),
        (None, 0, operator),
    ]


def test_the_admin_delete_action_unlinks_through_the_registry(
    client, training, registry_project, alice, operator
):
    model = link_versions(training, registry_project, alice, 3)
    selected = ArtifactLink.objects.filter(portfolio=model, version_index__gte=1)
    client.force_login(operator)

    response = client.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [link.pk for link in selected],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert list(model.links.values_list("version_index", flat=True)) == [0]
    assert ArtifactAlias.objects.get(collection=model, alias="latest").artifact.links.get() == (
        model.links.get()
    )
    assert history(portfolio=model, moved_by=operator) == [
        ("classifier", "latest", 2, None),
        ("classifier", "latest", None, 0),
    ]


def test_the_admin_refuses_to_remove_a_protected_alias_with_a_message(
    client, training, registry_project, alice, operator
):
    model = link_versions(training, registry_project, alice, 1)
    link = production_on(model, 0, alice)
    before = history()
    client.force_login(operator)
    url = reverse("admin:artifacts_artifactlink_delete", args=[link.pk])

    page = client.get(url)
    attempt = client.post(url, {"post": "yes"})
    action = client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [link.pk], "post": "yes"}
    )

    refusal = "Only admins of example-team can move the protected alias"
    for response in (page, attempt, action):
        assert response.status_code == 200
        assert any(refusal in line for line in response.context["protected"])
        assert refusal in response.content.decode()
    assert ArtifactLink.objects.filter(pk=link.pk).exists()
    assert history() == before


def test_the_alias_history_cannot_be_deleted_in_the_admin(
    client, training, registry_project, alice, operator
):
    link_versions(training, registry_project, alice, 1)
    move = AliasMove.objects.get()
    client.force_login(operator)

    response = client.post(
        reverse("admin:artifacts_aliasmove_delete", args=[move.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert AliasMove.objects.filter(pk=move.pk).exists()


def test_a_refusal_the_confirmation_missed_shows_as_a_message(
    client, training, registry_project, alice, operator, monkeypatch
):
    # An alias protected after the confirmation page was drawn: the registry still refuses.
    model = link_versions(training, registry_project, alice, 1)
    link = production_on(model, 0, alice)
    before = history()
    monkeypatch.setattr(registry, "check_may_unlink", lambda **kwargs: None)
    client.force_login(operator)

    for response in (
        client.post(reverse("admin:artifacts_artifactlink_delete", args=[link.pk]), {"post": "y"}),
        client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": [link.pk], "post": "yes"},
        ),
    ):
        assert response.status_code == 302
        messages = [str(message) for message in get_messages(response.wsgi_request)]
        assert any("Only admins of example-team" in message for message in messages)
        assert not any("Successfully" in message for message in messages)
    assert ArtifactLink.objects.filter(pk=link.pk).exists()
    assert history() == before


def test_deleting_a_registered_model_in_the_admin_goes_through_the_registry(
    client, training, registry_project, alice, operator
):
    model = link_versions(training, registry_project, alice, 2)
    client.force_login(operator)

    response = client.post(
        reverse("admin:artifacts_artifactcollection_delete", args=[model.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not ArtifactCollection.objects.filter(pk=model.pk).exists()
    assert history(moved_by=operator) == [("classifier", "latest", 1, None)]


def test_only_team_admins_delete_a_sequence_in_the_admin(
    client, training, registry_project, alice, operator
):
    model = link_versions(training, registry_project, alice, 1)
    sequence = ArtifactCollection.objects.get(name="classifier-src")
    url = reverse("admin:artifacts_artifactcollection_delete", args=[sequence.pk])
    client.force_login(operator)

    refused = client.post(url, {"post": "yes"})

    assert refused.status_code == 200
    assert refused.context["protected"] == [
        "classifier-src: Only admins of example-team can delete classifier-src."
    ]
    assert ArtifactCollection.objects.filter(pk=sequence.pk).exists()

    alice.is_staff = alice.is_superuser = True
    alice.save()
    client.force_login(alice)
    response = client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not ArtifactCollection.objects.filter(pk=sequence.pk).exists()
    assert history(portfolio=model)[-1] == ("classifier", "latest", 0, None)
