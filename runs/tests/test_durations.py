"""Runtimes read as people say them ("39m 49s", "2h 3m", "4d 2h") on every page that shows
one: the runs table, the run page and the Django admin."""

import pytest
from django.urls import reverse

from teamsite.lib.durations import human_duration
from tests.factories import ProjectFactory, RunFactory

RUNTIME = 2389.4  # 39m 49s


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, ""),
        (0, "0s"),
        (0.4, "0s"),
        (-3, "0s"),
        (59, "59s"),
        (59.9, "59s"),
        (60, "1m"),
        (61, "1m 1s"),
        (RUNTIME, "39m 49s"),
        (3600, "1h"),
        (3601, "1h"),
        (2 * 3600 + 3 * 60 + 59, "2h 3m"),
        (86_400, "1d"),
        (4 * 86_400 + 2 * 3600 + 59 * 60, "4d 2h"),
        (400 * 86_400, "400d"),
    ],
)
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


@pytest.fixture
def run(team, alice):
    project = ProjectFactory(entity=team, creator=alice, name="resnet")
    return RunFactory(project=project, author=alice, run_id="r1", runtime=RUNTIME)


def test_runs_table_shows_human_runtimes(client, bob, run):
    client.force_login(bob)

    html = client.get(f"/{run.project.path}/").content.decode()

    assert "<td>39m 49s</td>" in html
    assert "2389" not in html


def test_run_page_shows_a_human_runtime(client, bob, run):
    client.force_login(bob)

    html = client.get(run.get_absolute_url()).content.decode()

    assert "<dt>Runtime</dt><dd>39m 49s</dd>" in html
    assert "2389" not in html


def test_admin_lists_and_shows_human_runtimes(client, alice, run):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client.force_login(alice)

    listing = client.get(reverse("admin:runs_run_changelist")).content.decode()
    change = client.get(reverse("admin:runs_run_change", args=[run.pk])).content.decode()

    assert '<td class="field-human_runtime">39m 49s</td>' in listing
    assert "39m 49s" in change
    assert "2389" not in listing + change
