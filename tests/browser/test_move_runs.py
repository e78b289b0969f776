"""The runs table in a real browser: select a page, then every run matching the filter, and move
them through the dialog (to an existing project or a new one made inline); sort and page via htmx
without a full reload."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from projects.models import Project
from projects.services import project_create
from runs.models import Run

TOTAL = 130


def add_runs(project, author, count, *, state=lambda index: Run.State.FINISHED):
    """`count` runs named run-000, run-001, ...; run-000 is the oldest."""
    start = timezone.now() - timedelta(days=1)
    Run.objects.bulk_create(
        Run(
            project=project,
            run_id=f"id{index:04d}",
            name=f"run-{index:03d}",
            author=author,
            state=state(index),
            summary={"loss": round(1 / (index + 1), 4)},
            tags=["odd"] if index % 2 else ["even"],
            created_at=start + timedelta(minutes=index),
            runtime=float(index),
        )
        for index in range(count)
    )


@pytest.fixture
def resnet(team, alice):
    return project_create(entity=team, name="resnet", creator=alice)


@pytest.fixture
def scratch(alice):
    """One of alice's personal projects: a move target."""
    return project_create(entity=alice.personal_entity, name="scratch", creator=alice)


@pytest.fixture
def signed_in(page, login, alice):
    login(page.context, alice)
    return page


def runs_in(project):
    return set(Run.objects.filter(project=project).values_list("name", flat=True))


def first_run_name(page):
    return page.locator("#runs-table tbody tr").first.locator("td").nth(1)


def not_reloaded(page):
    """True while the document is the one `mark_document` marked (htmx swapped, no reload)."""
    return page.evaluate("window.notReloaded") is True


def mark_document(page):
    page.evaluate("window.notReloaded = true")


def select_page_then_all(page, total):
    page.get_by_label("Select all runs on this page").check()
    banner = page.locator("[data-select-all-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("All 50 runs on this page are selected.")
    page.get_by_role("button", name=f"Select all {total} runs matching this filter").click()
    expect(banner).to_contain_text(f"All {total} runs matching this filter are selected.")
    expect(banner.get_by_text("All 50 runs on this page are selected.")).to_be_hidden()
    expect(page.get_by_role("button", name=f"Select all {total} runs")).to_be_hidden()
    expect(page.locator("[data-selection-count]")).to_have_text(f"{total} selected")


def open_move_dialog(page, count):
    page.get_by_role("button", name="Move…").click()
    dialog = page.get_by_role("dialog", name="Move runs")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"{count} run{'s' if count != 1 else ''} selected.")
    return dialog


def test_move_every_run_of_the_project(signed_in, resnet, scratch, alice, tmp_path):
    page = signed_in
    add_runs(resnet, alice, TOTAL)
    page.goto(resnet.get_absolute_url())
    expect(page.locator("#run-count")).to_have_text(str(TOTAL))
    expect(page.locator("#runs-table tbody tr")).to_have_count(50)
    expect(page.get_by_role("button", name="Move…")).to_be_disabled()

    select_page_then_all(page, TOTAL)
    page.screenshot(path=tmp_path / "all-selected.png")
    dialog = open_move_dialog(page, TOTAL)
    # The new-project fields show only once "New project…" is picked.
    expect(dialog.get_by_label("named")).to_be_hidden()
    dialog.get_by_label("To project").select_option("alice/scratch")

    screenshot = tmp_path / "move-dialog.png"  # the viewport: the modal's backdrop covers it
    page.screenshot(path=screenshot)
    assert screenshot.stat().st_size > 0

    dialog.get_by_role("button", name="Move", exact=True).click()
    expect(page).to_have_url(re.compile(r"/alice/scratch/$"))
    expect(page.get_by_role("status")).to_contain_text(f"Moved {TOTAL} runs to alice/scratch.")
    expect(page.locator("#run-count")).to_have_text(str(TOTAL))
    expect(page.locator("#runs-table tbody tr")).to_have_count(50)
    assert Run.objects.filter(project=scratch).count() == TOTAL
    assert not Run.objects.filter(project=resnet).exists()


def test_move_only_the_runs_matching_the_filter(signed_in, resnet, alice, team):
    page = signed_in
    vision = project_create(entity=team, name="vision", creator=alice)
    failed = set(range(0, TOTAL, 2))  # 65 failed runs (more than a page), 65 finished
    add_runs(
        resnet,
        alice,
        TOTAL,
        state=lambda index: Run.State.FAILED if index in failed else Run.State.FINISHED,
    )
    page.goto(resnet.get_absolute_url())
    mark_document(page)

    with page.expect_response(lambda response: "state=failed" in response.url) as response:
        page.get_by_label("State", exact=True).select_option("failed")
    assert response.value.request.headers.get("hx-request") == "true"
    expect(page).to_have_url(re.compile(r"[?&]state=failed(&|$)"))
    expect(page.locator("#run-count")).to_have_text(str(len(failed)))
    expect(page.locator("#runs-table tbody .state-finished")).to_have_count(0)
    assert not_reloaded(page)

    select_page_then_all(page, len(failed))
    dialog = open_move_dialog(page, len(failed))
    dialog.get_by_label("To project").select_option("example-team/vision")
    dialog.get_by_role("button", name="Move", exact=True).click()
    expect(page).to_have_url(re.compile(r"/example-team/vision/$"))
    expect(page.locator("#run-count")).to_have_text(str(len(failed)))

    assert Run.objects.filter(project=vision).count() == len(failed)
    assert set(Run.objects.filter(project=vision).values_list("state", flat=True)) == {"failed"}
    assert set(Run.objects.filter(project=resnet).values_list("state", flat=True)) == {"finished"}
    assert Run.objects.filter(project=resnet).count() == TOTAL - len(failed)


def test_move_to_a_new_project_made_in_the_dialog(signed_in, resnet, alice, team):
    page = signed_in
    add_runs(resnet, alice, TOTAL)
    page.goto(resnet.get_absolute_url())
    for name in ("run-129", "run-128", "run-100"):
        page.get_by_label(f"Select {name}", exact=True).check()
    expect(page.locator("[data-selection-count]")).to_have_text("3 selected")
    expect(page.locator("[data-select-all-banner]")).to_be_hidden()

    dialog = open_move_dialog(page, 3)
    dialog.get_by_label("To project").select_option("__new__")
    expect(dialog.get_by_label("named")).to_be_visible()
    dialog.get_by_label("New project in").select_option("example-team")
    dialog.get_by_label("named").fill("picked")
    dialog.get_by_role("button", name="Move", exact=True).click()

    expect(page).to_have_url(re.compile(r"/example-team/picked/$"))
    expect(page.get_by_role("status")).to_contain_text("Moved 3 runs to example-team/picked.")
    expect(page.locator("#run-count")).to_have_text("3")
    picked = Project.objects.get(entity=team, name="picked")
    assert runs_in(picked) == {"run-129", "run-128", "run-100"}
    assert Run.objects.filter(project=resnet).count() == TOTAL - 3


def test_sort_and_page_without_reloading(signed_in, resnet, alice):
    page = signed_in
    add_runs(resnet, alice, TOTAL)
    page.goto(resnet.get_absolute_url())
    mark_document(page)
    expect(first_run_name(page)).to_have_text("run-129")  # newest first

    # Sort by name: the header link swaps the table in place (an htmx request) and the URL follows.
    name_header = page.locator("#runs-table thead").get_by_role("link", name="Name")
    with page.expect_response(lambda response: "sort=name" in response.url) as response:
        name_header.click()
    assert response.value.request.headers.get("hx-request") == "true"
    expect(page).to_have_url(re.compile(r"\?sort=name$"))
    expect(first_run_name(page)).to_have_text("run-000")
    expect(name_header).to_have_class(re.compile(r"\bactive\b"))
    assert not_reloaded(page)

    # Next page, then the last one, then back.
    with page.expect_response(lambda response: "cursor=" in response.url) as response:
        page.get_by_role("link", name="Next →").click()
    assert response.value.request.headers.get("hx-request") == "true"
    expect(page).to_have_url(re.compile(r"[?&]cursor="))
    expect(page).to_have_url(re.compile(r"[?&]sort=name(&|$)"))
    expect(first_run_name(page)).to_have_text("run-050")
    expect(page.locator("#runs-table tbody tr")).to_have_count(50)
    page.get_by_role("link", name="Next →").click()
    expect(first_run_name(page)).to_have_text("run-100")
    expect(page.locator("#runs-table tbody tr")).to_have_count(30)
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)
    assert not_reloaded(page)
    page.get_by_role("link", name="← Previous").click()
    expect(first_run_name(page)).to_have_text("run-050")
    expect(page.locator("#runs-table tbody tr")).to_have_count(50)
    page.get_by_role("link", name="← Previous").click()
    expect(first_run_name(page)).to_have_text("run-000")
    expect(page.get_by_role("link", name="← Previous")).to_have_count(0)
    expect(page.get_by_role("link", name="Next →")).to_have_count(1)
    assert not_reloaded(page)

    # The header again: descending by name.
    name_header.click()
    expect(page).to_have_url(re.compile(r"\?sort=-name$"))
    expect(first_run_name(page)).to_have_text("run-129")
    assert not_reloaded(page)
