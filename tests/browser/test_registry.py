"""The model registry in a real browser: an admin promotes a version to production through the
form and sees it in the promotion history; a member sees the same page without the form, and
the registry's recent changes, a deleted model's included."""

import pytest
from playwright.sync_api import expect

from artifacts import registry
from artifacts.models import AliasMove, Artifact, ArtifactCollection
from projects.services import project_create
from tests.factories import RunFactory


@pytest.fixture
def classifier(team, alice):
    training = project_create(entity=team, name="training", creator=alice)
    registry_project = project_create(entity=team, name=registry.REGISTRY_PROJECT, creator=alice)
    collection = ArtifactCollection.objects.create(project=training, name="resnet", type="model")
    for index in range(2):
        run = RunFactory(
            project=training, author=alice, run_id=f"r{index}", summary={"acc": 0.9 + index / 100}
        )
        artifact = Artifact.objects.create(
            collection=collection,
            version_index=index,
            digest=f"d{index}",
            state=Artifact.State.COMMITTED,
            created_by_run=run,
        )
        registry.artifact_link(
            artifact=artifact, project=registry_project, portfolio_name="classifier", actor=alice
        )
    return ArtifactCollection.objects.get(project=registry_project, name="classifier")


def test_admin_promotes_a_version_and_a_member_sees_it_read_only(
    page, new_context, login, alice, bob, classifier, tmp_path
):
    login(page.context, alice)
    page.goto("/example-team/registry/")
    page.locator("#registered-models").get_by_role("link", name="classifier").click()
    expect(page.locator("#versions tbody tr")).to_have_count(2)

    form = page.locator("#move-alias")
    form.get_by_label("Alias").select_option("production")
    form.get_by_label("to version").select_option("0")
    form.get_by_role("button", name="Move").click()

    expect(page.get_by_text("production now points at v0.")).to_be_visible()
    expect(page.locator("#alias-moves tbody tr").first).to_contain_text("production")
    page.screenshot(path=tmp_path / "registry-model.png", full_page=True)
    assert AliasMove.objects.filter(portfolio=classifier, alias="production").count() == 1

    member = new_context().new_page()
    login(member.context, bob)
    member.goto("/example-team/registry/classifier/")
    expect(member.locator("#versions tbody tr").last).to_contain_text("production")
    expect(member.locator("#move-alias")).to_have_count(0)


def test_the_registry_lists_recent_changes_of_a_deleted_model(
    page, login, alice, bob, classifier, tmp_path
):
    registry.artifact_link(
        artifact=Artifact.objects.get(collection__name="resnet", version_index=0),
        project=classifier.project,
        portfolio_name="detector",
        actor=alice,
    )
    registry.portfolio_delete(portfolio=classifier, actor=alice)
    login(page.context, bob)

    page.goto("/example-team/registry/")

    rows = page.locator("#recent-moves tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("classifier deleted")
    expect(rows.first).to_contain_text("removed")
    expect(rows.first.get_by_role("link")).to_have_count(0)
    expect(rows.nth(1).get_by_role("link", name="detector")).to_be_visible()
    page.screenshot(path=tmp_path / "registry-recent-changes.png", full_page=True)
