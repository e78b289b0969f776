"""The demo data tells one story per run: its summary is the last row of its history, its
epochs match its config and its console, and its console ends the way its state says."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from runs.history import history
from runs.management.commands.load_demo_data import STEPS_PER_EPOCH
from runs.models import ConsoleLine, Run
from teams.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """Loaded once for the module, in a transaction rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo_data", stdout=StringIO())
        runs = Run.objects.exclude(history_line_count=0).select_related("project")
        yield [
            (run, history(run), list(ConsoleLine.objects.filter(run=run).order_by("line")))
            for run in runs.order_by("created_at")
        ]
        transaction.set_rollback(True)


def test_demo_runs_with_history_are_the_latest_of_resnet_and_bert(demo):
    projects = [run.project.name for run, _, _ in demo]
    assert (projects.count("resnet"), projects.count("bert-finetune")) == (12, 6)


def test_every_demo_summary_is_the_last_row_of_its_history(demo):
    for run, rows, _ in demo:
        last = rows[-1]
        metrics = {key: value for key, value in last.items() if not key.startswith("_")}
        assert {key: run.summary[key] for key in metrics} == metrics, run.name
        assert run.summary["_step"] == last["_step"] == len(rows) - 1
        assert run.runtime == pytest.approx(last["_runtime"])


def test_demo_epochs_match_the_config_the_steps_and_the_console(demo):
    for run, rows, console in demo:
        epochs = run.config["epochs"]
        assert all(row["epoch"] == row["_step"] // STEPS_PER_EPOCH + 1 for row in rows)
        if run.state == Run.State.FINISHED:
            assert len(rows) == epochs * STEPS_PER_EPOCH
        else:
            assert len(rows) <= epochs * STEPS_PER_EPOCH
        epoch_lines = [line.text for line in console if line.text.startswith("Epoch ")]
        assert epoch_lines == [
            f"Epoch {row['epoch']:.0f}/{epochs}: train/loss {row['train/loss']:.4f} "
            f"val/loss {row['val/loss']:.4f} val/accuracy {row['val/accuracy']:.4f}"
            for row in rows
            if (row["_step"] + 1) % STEPS_PER_EPOCH == 0
        ]
        assert all(line.logged_at for line in console)


def test_each_demo_console_ends_as_its_run_did(demo):
    states = set()
    for run, _, console in demo:
        states.add(run.state)
        last = console[-1]
        if run.state == Run.State.FINISHED:
            assert last.text.startswith("Training done") and run.exit_code == 0
        elif run.state == Run.State.FAILED:
            assert last.stream == ConsoleLine.Stream.STDERR and run.exit_code == 1
            assert "Error" in last.text
        else:
            assert run.state == Run.State.CRASHED and run.finished_at is None
            assert last.stream == ConsoleLine.Stream.STDOUT
            assert not last.text.startswith("Training done")
    assert Run.State.RUNNING not in states


def test_the_demo_team_has_an_admin_a_member_and_a_viewer(demo):
    roles = Membership.objects.filter(entity__name="example-team").values_list(
        "user__username", "role"
    )
    assert sorted(roles) == [("alice", "admin"), ("bob", "member"), ("vera", "viewer")]
