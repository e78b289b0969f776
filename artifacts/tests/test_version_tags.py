"""A version's tags on its page and its collection's page, added and removed by those who may
edit the version (its run's author while a member, the team's admins), with htmx or without.

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in the public open-team.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from artifacts.models import ArtifactTag
from teams.models import Membership, Role
from teams.services import membership_remove
from tests.factories import ProjectFactory, RunFactory, UserFactory, add_member

from .logged import log_version

HTMX = {"HX-Request": "true"}


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def bobs_run(resnet, bob):
    return RunFactory(project=resnet, run_id="bobrun01", name="bold-sun-7", author=bob)


@pytest.fixture
def v0(resnet, bobs_run):
    return log_version(resnet, bobs_run, "mymodel", {"model.py": b"LAYERS = 3\n"}, tags=["first"])


def url(name, artifact):
    collection = artifact.collection
    project = collection.project
    args = [project.entity.name, project.name, collection.type, collection.name, artifact.version]
    return reverse(f"artifacts:{name}", args=args)


def collection_url(artifact):
    project = artifact.collection.project
    args = [project.entity.name, project.name, "model", artifact.collection.name]
    return reverse("artifacts:collection", args=args)


def tags(artifact) -> list[str]:
    return list(ArtifactTag.objects.filter(artifact=artifact).values_list("name", flat=True))


def test_the_version_and_collection_pages_show_the_tags(client, bob, v0):
    client.force_login(bob)

    page = client.get(url("version", v0))
    collection = client.get(collection_url(v0)).content.decode()

    assert [tag.name for tag in page.context["tags"]] == ["first"]
    assert '<li class="tag">first' in page.content.decode()
    assert '<span class="tag">first</span>' in collection


def test_the_runs_author_adds_and_removes_a_tag(client, bob, v0):
    client.force_login(bob)

    added = client.post(url("tag_add", v0), {"name": " baseline run "}, follow=True)
    assert tags(v0) == ["baseline run", "first"]
    removed = client.post(url("tag_remove", v0), {"name": "first"}, follow=True)

    assert tags(v0) == ["baseline run"]
    assert added.redirect_chain == [(url("version", v0), 302)]
    assert "Tag “baseline run” added." in added.content.decode()
    assert "Tag “first” removed." in removed.content.decode()


def test_an_admin_adds_and_removes_tags_with_htmx(client, alice, v0):
    client.force_login(alice)

    added = client.post(url("tag_add", v0), {"name": "checked"}, headers=HTMX)
    removed = client.post(url("tag_remove", v0), {"name": "first"}, headers=HTMX)

    assert added.status_code == removed.status_code == 200
    for response in (added, removed):
        assert response.content.decode().lstrip().startswith('<section class="panel" id="tags">')
        assert "<html" not in response.content.decode()
    assert [tag.name for tag in added.context["tags"]] == ["checked", "first"]
    assert [tag.name for tag in removed.context["tags"]] == ["checked"]
    assert 'aria-label="Remove the tag checked"' in removed.content.decode()
    assert tags(v0) == ["checked"]


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("a/b", "Invalid tag(s): &#x27;a/b&#x27;."),
        ("semi;colon", "Invalid tag(s): &#x27;semi;colon&#x27;."),
        ("x" * 129, "at most 128 characters"),
        ("   ", "A tag needs a name."),
    ],
)
def test_a_bad_tag_name_is_refused_and_changes_nothing(client, bob, v0, name, error):
    client.force_login(bob)
    before = type(v0).objects.get(pk=v0.pk).updated_at

    htmx = client.post(url("tag_add", v0), {"name": name}, headers=HTMX)
    plain = client.post(url("tag_add", v0), {"name": name}, follow=True)

    assert htmx.status_code == 200 and error in htmx.content.decode()
    assert 'class="errorlist"' in htmx.content.decode()
    assert error in plain.content.decode() and 'class="message error"' in plain.content.decode()
    assert tags(v0) == ["first"]
    assert type(v0).objects.get(pk=v0.pk).updated_at == before


def test_removing_a_tag_the_version_lacks_is_an_error(client, bob, v0):
    client.force_login(bob)

    htmx = client.post(url("tag_remove", v0), {"name": "never"}, headers=HTMX)
    plain = client.post(url("tag_remove", v0), {"name": "never"}, follow=True)

    for response in (htmx, plain):
        assert "“never” is not a tag of this version." in response.content.decode()
    assert 'class="message error"' in plain.content.decode()
    assert tags(v0) == ["first"]


def test_another_member_cannot_tag_and_sees_no_form(client, team, v0):
    carol = UserFactory(username="carol")
    add_member(team, carol, Role.MEMBER)
    client.force_login(carol)

    add = client.post(url("tag_add", v0), {"name": "mine"})
    remove = client.post(url("tag_remove", v0), {"name": "first"}, headers=HTMX)
    page = client.get(url("version", v0)).content.decode()

    assert add.status_code == remove.status_code == 403
    assert "first" in page
    assert url("tag_add", v0) not in page and url("tag_remove", v0) not in page
    assert tags(v0) == ["first"]


def test_the_author_who_left_the_team_cannot_tag(client, team, alice, bob, v0):
    membership_remove(membership=Membership.objects.get(entity=team, user=bob), actor=alice)
    client.force_login(bob)

    assert client.post(url("tag_add", v0), {"name": "mine"}).status_code == 404
    assert tags(v0) == ["first"]


def test_an_outsider_gets_404_and_an_anonymous_visitor_is_sent_to_sign_in(client, charlie, v0):
    anonymous = client.post(url("tag_add", v0), {"name": "x"})
    client.force_login(charlie)
    outsider_add = client.post(url("tag_add", v0), {"name": "x"})
    outsider_remove = client.post(url("tag_remove", v0), {"name": "first"})

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert outsider_add.status_code == outsider_remove.status_code == 404
    assert tags(v0) == ["first"]


def test_an_outsider_of_a_public_project_sees_the_tags_but_cannot_change_them(
    client, public_team, alice, charlie
):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    run = RunFactory(project=project, run_id="openrun1", author=alice)
    version = log_version(project, run, "mymodel", {"a.txt": b"a"}, tags=["public"])
    client.force_login(charlie)

    page = client.get(url("version", version)).content.decode()
    refused = client.post(url("tag_remove", version), {"name": "public"})

    assert '<li class="tag">public' in page and url("tag_remove", version) not in page
    assert refused.status_code == 403
    assert tags(version) == ["public"]


def test_a_get_is_refused(client, bob, v0):
    client.force_login(bob)

    assert client.get(url("tag_add", v0)).status_code == 405
    assert client.get(url("tag_remove", v0)).status_code == 405


@pytest.mark.parametrize("page", ["version", "collection"])
def test_a_page_costs_the_same_queries_with_1_or_20_tags(
    client, bob, resnet, bobs_run, django_assert_num_queries, page
):
    # "few": one version with one tag; "many": three versions (rows of the collection page)
    # with twenty tags each.
    few = log_version(resnet, bobs_run, "few", {"a.txt": b"a"}, tags=["t0"])
    for i in range(3):
        names = [f"v{i}t{j}" for j in range(20)]
        many = log_version(resnet, bobs_run, "many", {"a.txt": b"%d" % i}, tags=names)
    client.force_login(bob)
    target = url if page == "version" else lambda _, version: collection_url(version)

    with CaptureQueriesContext(connection) as with_one:
        assert client.get(target(page, few)).status_code == 200
    with django_assert_num_queries(len(with_one)):
        response = client.get(target(page, many))

    text = response.content.decode()
    shown = '<li class="tag">{}\n' if page == "version" else '<span class="tag">{}</span>'
    versions = range(3) if page == "collection" else [2]
    assert all(shown.format(f"v{i}t{j}") in text for i in versions for j in range(20))
