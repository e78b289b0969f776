"""An artifact version in a real browser under the strict CSP (no console errors): its files,
a folder opened, a JSON file previewed, the description edited and a tag added and removed
with htmx, the diff with the previous version, and the lineage graph drawn with Plotly, whose
nodes open their pages."""

import os

import pytest
from playwright.sync_api import expect

from artifacts.tests.logged import log_version, use
from projects.services import project_create
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def versions(team, alice):
    project = project_create(entity=team, name="resnet", creator=alice)
    prep, train, evaluate = (
        RunFactory(project=project, run_id=run_id, name=run_id, author=alice)
        for run_id in ("prep", "train", "evaluate")
    )
    data = log_version(project, prep, "corpus", {"a.csv": b"x,y\n1,2\n"}, type_name="dataset")
    use(data, train)
    files = {
        "config.json": b'{"lr": 0.1, "layers": [64, 64]}',
        "src/model.py": b"LAYERS = 3\n",
        "metrics.csv": b"epoch,loss\n1,0.9\n2,0.5\n",
    }
    log_version(project, train, "mymodel", files, metadata={"acc": 0.91})
    files["src/model.py"] = b"LAYERS = 4\n"
    files["notes.txt"] = b"wider\n"
    second = log_version(project, train, "mymodel", files, aliases=["best"])
    use(second, evaluate)
    return project, second


def test_a_version_page_previews_diffs_and_draws_its_lineage(
    page, live_server, login, alice, versions, browser_errors, tmp_path
):
    project, _ = versions
    login(page.context, alice)
    shots = os.environ.get("SCREENSHOTS") or tmp_path  # a folder to keep them in

    page.goto(project.get_absolute_url())
    page.get_by_role("link", name="All artifacts by type").click()
    expect(page.locator("main")).to_contain_text("dataset")
    page.screenshot(path=f"{shots}/artifact-types.png", full_page=True)
    page.get_by_role("link", name="mymodel").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.screenshot(path=f"{shots}/artifact-collection.png", full_page=True)
    page.goto(project.get_absolute_url())
    page.locator("#artifacts").get_by_role("link", name="v1").click()
    expect(page.locator("h1")).to_contain_text("mymodel:v1")
    expect(page.locator("#files")).to_contain_text("src/")
    page.screenshot(path=f"{shots}/artifact-version.png", full_page=True)

    page.locator("#description summary").click()
    page.locator("#description textarea").fill("Wider layers.")
    page.locator("#description button").click()
    expect(page.locator("#description .description-text")).to_have_text("Wider layers.")

    page.get_by_role("link", name="src/").click()
    expect(page.locator("#files")).to_contain_text("model.py")
    page.go_back()
    page.get_by_role("link", name="config.json").click()
    expect(page.locator(".file-preview")).to_contain_text('"layers": [')
    page.screenshot(path=f"{shots}/artifact-preview-json.png", full_page=True)
    page.go_back()
    page.get_by_role("link", name="metrics.csv").click()
    expect(page.locator(".csv-preview th").first).to_have_text("epoch")
    page.screenshot(path=f"{shots}/artifact-preview-csv.png", full_page=True)

    page.get_by_role("link", name="Diff").click()
    expect(page.locator(".diff-summary")).to_contain_text("1 added · 0 removed · 1 changed")
    expect(page.locator(".unified-diff .diff-add")).to_contain_text("+LAYERS = 4")
    page.screenshot(path=f"{shots}/artifact-diff.png", full_page=True)

    page.get_by_role("link", name="Lineage").click()
    graph = page.locator("#lineage-graph")
    expect(graph).to_have_attribute("data-drawn", "graph")
    expect(graph.locator(".scatterlayer .point")).to_have_count(
        4
    )  # corpus:v0 -> train -> mymodel:v1 -> evaluate
    expect(page.locator("#lineage-layers")).to_contain_text("corpus:v0")
    page.screenshot(path=f"{shots}/artifact-lineage.png", full_page=True)
    page.locator("#lineage-layers").get_by_role("link", name="evaluate").click()
    expect(page).to_have_url(f"{live_server.url}/example-team/resnet/runs/evaluate/")


def test_a_version_is_tagged_and_untagged_with_htmx(
    page, live_server, login, alice, versions, browser_errors, tmp_path
):
    _, second = versions
    login(page.context, alice)
    shots = os.environ.get("SCREENSHOTS") or tmp_path
    tags = page.locator("#tags")

    page.goto(f"{live_server.url}/example-team/resnet/artifacts/model/mymodel/v1/")
    expect(tags).to_contain_text("No tags.")
    tags.get_by_role("textbox", name="New tag").fill("wider layers")
    tags.get_by_role("button", name="Add", exact=True).click()
    expect(tags.locator("li.tag")).to_have_count(1)
    expect(tags.locator("li.tag")).to_contain_text("wider layers")
    tags.get_by_role("textbox", name="New tag").fill("a/b")
    tags.get_by_role("button", name="Add", exact=True).click()
    expect(tags.locator(".errorlist")).to_contain_text("Invalid tag(s): 'a/b'")
    expect(tags.locator("li.tag")).to_have_count(1)
    page.screenshot(path=f"{shots}/artifact-tags.png", full_page=True)
    assert list(second.tags.values_list("name", flat=True)) == ["wider layers"]

    tags.get_by_role("button", name="Remove the tag wider layers").click()
    expect(tags).to_contain_text("No tags.")
    expect(tags.locator(".errorlist")).to_have_count(0)
    assert not second.tags.exists()
    page.goto(f"{live_server.url}/example-team/resnet/artifacts/model/mymodel/")
    expect(page.locator("tbody")).not_to_contain_text("wider layers")


def test_a_collection_is_tagged_renamed_and_retyped_from_its_page(
    page, live_server, login, bob, versions, browser_errors, tmp_path
):
    _, second = versions
    login(page.context, bob)
    shots = os.environ.get("SCREENSHOTS") or tmp_path
    tags = page.locator("#tags")

    page.goto(f"{live_server.url}/example-team/resnet/artifacts/model/mymodel/")
    tags.get_by_role("textbox", name="New tag").fill("vision")
    tags.get_by_role("button", name="Add", exact=True).click()
    expect(tags.locator("li.tag")).to_contain_text("vision")
    page.get_by_text("Edit the collection").click()
    page.get_by_label("Name").fill("corpus")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".message.error")).to_contain_text("already has a collection named corpus")
    page.screenshot(path=f"{shots}/collection-edit-refused.png", full_page=True)

    page.get_by_label("Name").fill("resnet-50")
    page.get_by_label("Type").fill("checkpoint")
    page.get_by_label("Description").fill("The wide one.")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(
        f"{live_server.url}/example-team/resnet/artifacts/checkpoint/resnet-50/"
    )
    expect(page.locator("h1")).to_contain_text("resnet-50")
    expect(page.locator("main")).to_contain_text("The wide one.")
    expect(page.locator("#tags li.tag")).to_contain_text("vision")
    page.screenshot(path=f"{shots}/collection-edited.png", full_page=True)
    second.collection.refresh_from_db()
    assert (second.collection.name, second.collection.type) == ("resnet-50", "checkpoint")
