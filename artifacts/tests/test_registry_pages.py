"""The team model registry pages: members see registered models, their versions with aliases,
the runs that logged them and who moved which alias; only admins move a protected alias;
outsiders get 404.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts import registry
from artifacts.models import AliasMove, Artifact, ArtifactAlias, ArtifactCollection
from projects.services import ProjectError, project_create
from tests.factories import ProjectFactory, RunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def training(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="training")


@pytest.fixture
def registry_project(team, alice):
    return ProjectFactory(entity=team, creator=alice, name=registry.REGISTRY_PROJECT)


def logged_version(project, author, index, *, name="resnet"):
    run = RunFactory(
        project=project, author=author, run_id=f"{name}-{index}", summary={"acc": 0.5 + index / 100}
    )
    collection, _ = ArtifactCollection.objects.get_or_create(
        project=project, name=name, defaults={"type": "model"}
    )
    return Artifact.objects.create(
        collection=collection,
        version_index=index,
        digest=f"d{index}",
        state=Artifact.State.COMMITTED,
        created_by_run=run,
    )


def link_versions(project, registry_project, actor, count, *, model="classifier", start=0):
    for index in range(start, start + count):
        registry.artifact_link(
            artifact=logged_version(project, actor, index, name=f"{model}-src"),
            project=registry_project,
            portfolio_name=model,
            actor=actor,
        )
    return ArtifactCollection.objects.get(project=registry_project, name=model)


def test_member_sees_the_registered_models(client, training, registry_project, alice, bob):
    link_versions(training, registry_project, alice, 2)
    client.force_login(bob)

    page = client.get(reverse("registry:list", args=["example-team"]))

    assert page.status_code == 200
    assert [model.name for model in page.context["models"]] == ["classifier"]
    assert page.context["models"][0].link_count == 2
    assert reverse("registry:model", args=["example-team", "classifier"]) in page.content.decode()


def test_a_team_without_links_has_an_empty_registry(client, team, bob):
    client.force_login(bob)

    page = client.get(reverse("registry:list", args=["example-team"]))

    assert page.status_code == 200
    assert "No registered models yet" in page.content.decode()


def test_member_sees_versions_runs_metrics_and_history_read_only(
    client, training, registry_project, alice, bob
):
    model = link_versions(training, registry_project, alice, 2)
    client.force_login(bob)

    page = client.get(reverse("registry:model", args=["example-team", "classifier"]))

    assert page.status_code == 200
    links = page.context["links"]
    assert [link.version for link in links] == ["v1", "v0"]
    assert links[0].alias_names == ["latest"]
    assert links[0].metrics == [("acc", 0.51)]
    html = page.content.decode()
    assert links[0].artifact.created_by_run.get_absolute_url() in html
    assert page.context["form"] is None
    assert 'id="move-alias"' not in html
    assert [move.to_version_index for move in page.context["moves"]] == [1, 0]
    assert model.alias_moves.count() == 2


def test_admin_moves_production_and_the_move_is_recorded(client, training, registry_project, alice):
    model = link_versions(training, registry_project, alice, 2)
    client.force_login(alice)
    assert (
        'id="move-alias"'
        in client.get(
            reverse("registry:model", args=["example-team", "classifier"])
        ).content.decode()
    )

    response = client.post(
        reverse("registry:move_alias", args=["example-team", "classifier"]),
        {"alias": "production", "version": 0},
        follow=True,
    )

    assert "production now points at v0" in response.content.decode()
    production = ArtifactAlias.objects.get(collection=model, alias="production")
    assert production.artifact.version_index == 0
    move = AliasMove.objects.get(portfolio=model, alias="production")
    assert (move.moved_by, move.from_version_index, move.to_version_index) == (alice, None, 0)


def test_member_cannot_move_production(client, training, registry_project, alice, bob):
    model = link_versions(training, registry_project, alice, 1)
    client.force_login(bob)

    response = client.post(
        reverse("registry:move_alias", args=["example-team", "classifier"]),
        {"alias": "production", "version": 0},
        follow=True,
    )

    assert "Only admins of example-team can move" in response.content.decode()
    assert not ArtifactAlias.objects.filter(collection=model, alias="production").exists()
    assert not AliasMove.objects.filter(alias="production").exists()


def test_an_alias_that_is_not_protected_cannot_be_moved_from_the_page(
    client, training, registry_project, alice
):
    model = link_versions(training, registry_project, alice, 2)
    client.force_login(alice)

    client.post(
        reverse("registry:move_alias", args=["example-team", "classifier"]),
        {"alias": "latest", "version": 0},
    )

    assert ArtifactAlias.objects.get(collection=model, alias="latest").artifact.version_index == 1


def test_outsider_gets_404(client, training, registry_project, alice, charlie):
    link_versions(training, registry_project, alice, 1)
    client.force_login(charlie)

    assert client.get(reverse("registry:list", args=["example-team"])).status_code == 404
    assert (
        client.get(reverse("registry:model", args=["example-team", "classifier"])).status_code
        == 404
    )
    response = client.post(
        reverse("registry:move_alias", args=["example-team", "classifier"]),
        {"alias": "production", "version": 0},
    )
    assert response.status_code == 404
    assert not AliasMove.objects.filter(alias="production").exists()


def test_anonymous_visitor_is_sent_to_log_in(client, team):
    response = client.get(reverse("registry:list", args=["example-team"]))

    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_project_cannot_be_called_registry(team, alice):
    with pytest.raises(ProjectError):
        project_create(entity=team, name="registry", creator=alice)


@pytest.mark.parametrize("page", ["registry:list", "registry:model"])
def test_pages_cost_the_same_at_any_size(client, training, registry_project, alice, page):
    client.force_login(alice)
    args = ["example-team"] if page == "registry:list" else ["example-team", "classifier"]
    counts = []
    for start, count in ((0, 2), (2, 10)):
        link_versions(training, registry_project, alice, count, start=start)
        link_versions(training, registry_project, alice, 1, model=f"other{start}", start=start)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(page, args=args)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_registered_models_description_and_tags_show_with_a_link_to_edit_them(
    client, training, registry_project, alice, bob
):
    model = link_versions(training, registry_project, alice, 1)
    model.description = "Production classifier."
    model.save()
    model.tags.create(name="vision")
    client.force_login(bob)

    html = client.get(reverse("registry:model", args=["example-team", "classifier"])).content
    html = html.decode()

    assert "Production classifier." in html and '<span class="tag">vision</span>' in html
    edit = reverse(
        "artifacts:collection", args=["example-team", "model-registry", "model", "classifier"]
    )
    assert edit in html
    assert client.get(edit).status_code == 200


def test_a_versions_pages_show_its_own_aliases_and_where_it_is_registered(
    client, training, registry_project, alice, bob
):
    link_versions(training, registry_project, alice, 1)
    artifact = Artifact.objects.get(collection__name="classifier-src")
    ArtifactAlias.objects.create(collection=artifact.collection, artifact=artifact, alias="best")
    registry.portfolio_aliases_set(link=artifact.links.get(), add=["production"], actor=alice)
    client.force_login(bob)
    args = ["example-team", "training", "model", "classifier-src"]

    collection_page = client.get(reverse("artifacts:collection", args=args))
    version_page = client.get(reverse("artifacts:version", args=[*args, "v0"]))

    [listed] = collection_page.context["versions"]
    assert [alias.alias for alias in listed.aliases.all()] == ["best"]
    assert [alias.alias for alias in version_page.context["aliases"]] == ["best"]
    [registered] = version_page.context["registrations"]
    assert (registered.portfolio.name, registered.version) == ("classifier", "v0")
    assert registered.alias_names == ["latest", "production"]
    html = version_page.content.decode()
    assert reverse("registry:model", args=["example-team", "classifier"]) in html
