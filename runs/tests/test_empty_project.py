"""A project without runs tells the people who may log to it how: the two environment
variables and the wandb.init line, ready to copy."""

import html as html_lib

import pytest
from django.urls import reverse

from tests.factories import ProjectFactory, RunFactory

INIT = 'wandb.init(entity="example-team", project="resnet")'


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


def page(client, project, **params):
    return html_lib.unescape(client.get(f"/{project.path}/", params).content.decode())


def test_empty_project_shows_how_to_log_to_it(client, bob, resnet, settings):
    settings.SITE_URL = "https://teamsite.example.org"
    settings.SITE_URL_SET = True
    client.force_login(bob)

    text = page(client, resnet)

    assert "export WANDB_BASE_URL=https://teamsite.example.org\n" in text
    assert "export WANDB_API_KEY=<your API key>" in text
    assert f'<a href="{reverse("accounts:api_keys")}">Settings → API keys</a>' in text
    assert INIT in text
    assert 'data-copy="#log-env"' in text and 'data-copy="#log-script"' in text


def test_without_site_url_the_base_url_is_the_address_in_use(client, bob, resnet, settings):
    settings.SITE_URL_SET = False
    client.force_login(bob)

    text = client.get(f"/{resnet.path}/", HTTP_HOST="localhost:8080").content.decode()

    assert "export WANDB_BASE_URL=http://localhost:8080\n" in text


def test_project_with_runs_or_a_filter_does_not_repeat_the_instructions(client, bob, alice, resnet):
    RunFactory(project=resnet, author=alice, run_id="r1")
    client.force_login(bob)

    assert INIT not in page(client, resnet)
    filtered = page(client, resnet, state="failed")
    assert INIT not in filtered
    assert "No runs match this filter" in filtered


def test_visitor_who_cannot_log_sees_no_instructions(client, public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="open", visibility="public")

    text = page(client, project)

    assert "wandb.init" not in text
    assert "No runs" in text
