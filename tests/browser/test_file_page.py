"""A run file's page in a real browser: highlighted text under the strict CSP (no console errors),
an image drawn from its download, and the code a run saved opened from its Code section."""

import base64
import io

import pytest
from playwright.sync_api import expect

from artifacts.tests.test_run_code import log_code
from projects.services import project_create
from runs.models import RunFile
from runs.tracking import run_file_store
from tests.factories import RunFactory

pytestmark = pytest.mark.django_db(transaction=True)

PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@pytest.fixture
def run(team, alice):
    project = project_create(entity=team, name="resnet", creator=alice)
    run = RunFactory(project=project, run_id="a6opolcx", author=alice)
    code = b"import os\n\n\ndef main():\n    # say where we are\n    print(os.getcwd())\n"
    for name, data in (("src/train.py", code), ("media/plot.png", PIXEL)):
        run_file_store(RunFile.objects.create(run=run, name=name), io.BytesIO(data))
    return run


def test_a_file_opens_from_the_run_page_highlighted(page, login, alice, run, tmp_path):
    login(page.context, alice)

    page.goto(run.get_absolute_url())
    # Until the file page's load event its stylesheet may still be on its way.
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("link", name="src/train.py").click()

    keyword = page.locator(".highlight .kn").first
    expect(keyword).to_have_text("import")
    assert keyword.evaluate("e => getComputedStyle(e).fontWeight") == "700"  # highlight.css
    expect(page.locator(".highlight td.linenos")).to_contain_text("6")
    page.screenshot(path=tmp_path / "file-page.png", full_page=True)

    page.goto(run.get_absolute_url())
    page.get_by_role("link", name="media/plot.png").click()
    image = page.locator(".file-preview img")
    expect(image).to_be_visible()
    assert image.evaluate("e => e.naturalWidth") == 1


def test_saved_code_opens_from_the_run_pages_code_section(page, login, alice, run, tmp_path):
    log_code(
        run, {"train.py": b"import os\n\n\ndef main():\n    return 1\n", "lib/utils.py": b"X = 1\n"}
    )
    login(page.context, alice)

    page.goto(run.get_absolute_url())
    code = page.locator("#code")
    expect(code).to_contain_text("Saved code")
    code.screenshot(path=tmp_path / "code-section.png")
    code.get_by_role("link", name="train.py").click()

    expect(page.locator("h1")).to_have_text("train.py")
    expect(page.locator(".highlight .kn").first).to_have_text("import")
    expect(page.get_by_role("link", name="Download")).to_be_visible()
    page.screenshot(path=tmp_path / "code-file.png", full_page=True)
