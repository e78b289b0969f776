"""What the wandb client logged, on the site's pages: alerts on the run and project pages, run
files to download, and the setting for team alert emails (artifact files:
artifacts/tests/test_artifact_pages.py).

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in open-team.
"""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from runs.models import RunFile
from runs.tracking import alert_create, run_file_store
from tests.factories import ProjectFactory, RunFactory


class Upload:
    def __init__(self, data):
        self.data, self.position = data, 0

    def read(self, size=-1):
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def run(resnet, alice):
    return RunFactory(project=resnet, run_id="a6opolcx", name="bold-sun-7", author=alice)


def test_alerts_are_listed_on_the_run_and_project_pages(client, alice, run):
    alert_create(actor=alice, run=run, title="Loss diverged", text="loss is nan", level="ERROR")
    alert_create(actor=alice, run=run, title="Slow epoch", text="", level="WARN", wait=timedelta(0))
    client.force_login(alice)

    run_page = client.get(run.get_absolute_url())
    project_page = client.get(run.project.get_absolute_url())

    for page in (run_page, project_page):
        assert page.status_code == 200
        text = page.content.decode()
        assert "Loss diverged" in text and "loss is nan" in text and "Slow epoch" in text
    assert run.get_absolute_url() in project_page.content.decode()


def test_a_member_turns_team_alert_emails_on_and_off_in_settings(client, bob, team, membership_of):
    client.force_login(bob)
    url = reverse("teams:set_alert_emails", args=[team.name])

    page = client.get(reverse("teams:user_teams"))
    assert "Email me all" in page.content.decode()
    client.post(url, {"enabled": "1"})
    assert membership_of(team, bob).alert_emails
    assert "Turn off" in client.get(reverse("teams:user_teams")).content.decode()
    client.post(url, {"enabled": "0"})
    assert not membership_of(team, bob).alert_emails


def test_alert_email_settings_exist_only_for_ones_own_team_memberships(client, charlie, team):
    client.force_login(charlie)

    response = client.post(reverse("teams:set_alert_emails", args=[team.name]), {"enabled": "1"})

    assert response.status_code == 404


def test_run_files_are_listed_and_downloaded_by_those_who_see_the_run(
    client, alice, bob, charlie, run
):
    run_file = RunFile.objects.create(run=run, name="requirements.txt")
    run_file_store(run_file, Upload(b"torch==2.13.0\n"))
    RunFile.objects.create(run=run, name="announced-not-uploaded.txt")
    args = [run.project.entity.name, run.project.name, run.run_id, run_file.name]
    view_url = reverse("runs:file", args=args)
    url = reverse("runs:file_download", args=args)

    client.force_login(bob)
    page = client.get(run.get_absolute_url()).content.decode()
    file_page = client.get(view_url).content.decode()
    download = client.get(url)
    client.force_login(charlie)
    refused = client.get(url)

    assert view_url in page and "announced-not-uploaded" not in page
    assert url in file_page
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"torch==2.13.0\n"
    assert refused.status_code == 404


def test_a_stored_file_the_storage_lost_is_a_404_not_an_error(client, alice, run):
    run_file = RunFile.objects.create(run=run, name="output.log")
    run_file_store(run_file, Upload(b"line\n"))
    run_file.refresh_from_db()
    default_storage.delete(run_file.storage_name)
    client.force_login(alice)

    response = client.get(
        reverse(
            "runs:file_download",
            args=[run.project.entity.name, "resnet", run.run_id, "output.log"],
        )
    )

    assert response.status_code == 404
