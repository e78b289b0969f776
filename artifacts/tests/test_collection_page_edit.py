"""Editing a collection from its page: members rename, retype and describe it; a refusal shows
on the form and changes nothing; others cannot."""

import pytest
from django.urls import reverse

from artifacts.models import ArtifactCollection
from artifacts.registry import artifact_link
from tests.factories import ProjectFactory, RunFactory

from .logged import log_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def model(resnet, alice):
    run = RunFactory(project=resnet, run_id="a6opolcx", author=alice)
    return log_version(resnet, run, "mymodel", {"weights.bin": b"weights"})


def edit_url(collection):
    project = collection.project
    return reverse(
        "artifacts:collection_edit",
        args=[project.entity.name, project.name, collection.type, collection.name],
    )


def page_url(collection):
    project = collection.project
    return reverse(
        "artifacts:collection",
        args=[project.entity.name, project.name, collection.type, collection.name],
    )


def test_member_sees_the_form_and_renames_retypes_and_describes(client, bob, model):
    collection = model.collection
    client.force_login(bob)
    assert b"Edit the collection" in client.get(page_url(collection)).content

    response = client.post(
        edit_url(collection),
        {"name": "resnet-50", "type": "checkpoint", "description": "  Backbone.  "},
    )

    collection.refresh_from_db()
    assert (collection.name, collection.type, collection.description) == (
        "resnet-50",
        "checkpoint",
        "Backbone.",
    )
    assert response.status_code == 302
    assert response["Location"] == page_url(collection)
    page = client.get(page_url(collection))
    assert b"Backbone." in page.content and b"v0" in page.content


def test_an_empty_description_is_none(client, bob, model):
    collection = model.collection
    collection.description = "Old."
    collection.save()
    client.force_login(bob)

    client.post(edit_url(collection), {"name": collection.name, "type": "model", "description": ""})

    collection.refresh_from_db()
    assert collection.description is None


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "my/model", "type": "model"}, "not a valid collection name"),
        ({"name": "mymodel", "type": "wandb-history"}, "reserved for internal use"),
        ({"name": "", "type": "model"}, "This field is required"),
    ],
)
def test_a_refusal_shows_on_the_form_and_changes_nothing(client, bob, model, data, error):
    collection = model.collection
    client.force_login(bob)

    response = client.post(edit_url(collection), {"description": "New.", **data})

    assert response.status_code == 200
    assert error in response.content.decode()
    collection.refresh_from_db()
    assert (collection.name, collection.type, collection.description) == (
        "mymodel",
        "model",
        None,
    )


def test_a_rename_refused_after_the_type_changed_changes_neither(client, bob, model, resnet):
    # The type is checked before the name here: a clash must undo both.
    ArtifactCollection.objects.create(project=resnet, name="taken", type="model")
    client.force_login(bob)

    response = client.post(edit_url(model.collection), {"name": "taken", "type": "checkpoint"})

    assert response.status_code == 200
    model.collection.refresh_from_db()
    assert (model.collection.name, model.collection.type) == ("mymodel", "model")


def test_outsider_gets_not_found_and_anonymous_is_sent_to_log_in(client, charlie, model):
    client.force_login(charlie)
    assert client.post(edit_url(model.collection), {"name": "mine"}).status_code == 404
    client.logout()
    response = client.post(edit_url(model.collection), {"name": "mine"})
    assert response.status_code == 302 and "login" in response["Location"]
    model.collection.refresh_from_db()
    assert model.collection.name == "mymodel"


def test_public_project_visitor_sees_no_form_and_cannot_post(client, bob, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")
    collection = ArtifactCollection.objects.create(project=project, name="data", type="dataset")
    client.force_login(bob)

    assert b"Edit the collection" not in client.get(page_url(collection)).content
    assert client.post(edit_url(collection), {"name": "mine"}).status_code == 403


def test_a_registered_model_has_no_type_field_and_keeps_production_to_admins(
    client, alice, bob, model, resnet
):
    link = artifact_link(
        artifact=model,
        project=resnet,
        portfolio_name="classifier",
        aliases=["production"],
        actor=alice,
    )
    portfolio = link.portfolio
    client.force_login(bob)
    page = client.get(page_url(portfolio)).content.decode()
    assert "Edit the registered model" in page and 'name="type"' not in page

    response = client.post(edit_url(portfolio), {"name": "clf"})

    assert response.status_code == 200
    assert "Only admins" in response.content.decode()
    client.force_login(alice)
    assert client.post(edit_url(portfolio), {"name": "clf"}).status_code == 302
    assert ArtifactCollection.objects.filter(name="clf", kind="portfolio").exists()


def tag_url(collection, action):
    project = collection.project
    return reverse(
        f"artifacts:collection_tag_{action}",
        args=[project.entity.name, project.name, collection.type, collection.name],
    )


def test_member_tags_a_collection_and_removes_the_tag(client, bob, model):
    collection = model.collection
    client.force_login(bob)

    response = client.post(tag_url(collection, "add"), {"name": "vision"}, follow=True)

    assert list(collection.tags.values_list("name", flat=True)) == ["vision"]
    assert "Tag “vision” added." in response.content.decode()
    assert b'aria-label="Remove the tag vision"' in response.content

    client.post(tag_url(collection, "remove"), {"name": "vision"})
    assert not collection.tags.exists()


def test_htmx_gets_the_tags_panel_with_the_refusal(client, bob, model):
    client.force_login(bob)

    response = client.post(
        tag_url(model.collection, "add"), {"name": "not/fine"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="panel" id="tags">')
    assert "not/fine" in html and "Invalid tag" in html
    assert not model.collection.tags.exists()


def test_removing_a_tag_the_collection_lacks_is_an_error(client, bob, model):
    client.force_login(bob)

    response = client.post(tag_url(model.collection, "remove"), {"name": "absent"}, follow=True)

    assert "“absent” is not a tag of this collection." in response.content.decode()


def test_outsider_cannot_tag_and_a_visitor_is_refused(
    client, alice, bob, charlie, model, public_team
):
    client.force_login(charlie)
    assert client.post(tag_url(model.collection, "add"), {"name": "x"}).status_code == 404
    project = ProjectFactory(entity=public_team, creator=alice, name="o", visibility="public")
    collection = ArtifactCollection.objects.create(project=project, name="d", type="dataset")
    client.force_login(bob)
    page = client.get(page_url(collection)).content.decode()
    assert "No tags." in page and "tag_add" not in page and 'name="name"' not in page
    assert client.post(tag_url(collection, "add"), {"name": "x"}).status_code == 403
    assert not collection.tags.exists() and not model.collection.tags.exists()
