"""The run page's sections and the data endpoints behind them, through the test client: chart
data (runs:metric), several runs' data for a workspace panel (runs:project_metric), console
search (runs:console), the code section, and a person's workspace (runs:workspace).

The cast comes from tests/personas.py: alice (admin) and bob (member) of the private
example-team, charlie (outsider); alice alone in the public open-team.
"""

import io
import json
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from runs.ingest import (
    CONSOLE_FILE,
    EVENTS_FILE,
    HISTORY_FILE,
    apply_file_stream,
    parse_file_stream,
)
from runs.models import RUN_COLORS, Run, Workspace
from runs.selectors import CONSOLE_LINES_SHOWN, TEXT_FILE_SHOWN_BYTES
from runs.tracking import run_file_store, run_files_create
from runs.views import DEFAULT_PANELS, MAX_WORKSPACE_RUNS
from tests.factories import ProjectFactory, RunFactory

T0 = 1_700_000_000.0
COMMIT = "0123456789abcdef0123456789abcdef01234567"
HISTORY_KEYS = ["loss", "lr", "train/acc", "train/loss", "val/acc", "val/loss"]
SYSTEM_KEYS = {
    "GPU": ["system.gpu.0.gpu", "system.gpu.0.memory", "system.gpu.1.temp"],
    "CPU": ["system.cpu", "system.cpu.0.cpu_percent", "system.proc.cpu.threads"],
    "Memory": ["system.memory", "system.proc.memory.rssMB"],
    "Disk": ["system.disk./.usagePercent", "system.disk.in"],
    "Network": ["system.network.recv", "system.network.sent"],
    "Other": ["system.tpu"],
}


def send(run, file, rows, offset=0):
    content = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    payload = {"files": {file: {"offset": offset, "content": content}}}
    apply_file_stream(run, parse_file_stream(payload))


def history_rows(count, start=0):
    return [
        {
            "_step": step,
            "_runtime": step * 0.5,
            "_timestamp": T0 + step,
            "loss": 1 / (step + 1),
            "lr": 0.1,
            "train/loss": 2 / (step + 1),
            "train/acc": step / (step + 1),
            "val/loss": 3 / (step + 1),
            "val/acc": 0.5,
            "sample": "a text value: not a chart",
        }
        for step in range(start, start + count)
    ]


def log_history(run, count, chunk=1_000):
    for start in range(0, count, chunk):
        send(run, HISTORY_FILE, history_rows(min(chunk, count - start), start), start)


def log_system(run, lines=3):
    keys = [key for names in SYSTEM_KEYS.values() for key in names]
    rows = [
        {**{key: float(line + i) for i, key in enumerate(keys)}, "_runtime": 2.0 * line}
        for line in range(lines)
    ]
    send(run, EVENTS_FILE, rows)


def log_console(run, count):
    send(run, CONSOLE_FILE, [f"epoch {i:04d} done" for i in range(count)])


def upload(run, actor, name, data: bytes):
    [file] = run_files_create(actor=actor, run=run, names=[name])
    return run_file_store(file, io.BytesIO(data))


@pytest.fixture
def resnet(team, alice):
    return ProjectFactory(entity=team, creator=alice, name="resnet")


@pytest.fixture
def make_run(resnet, alice):
    def make(project=None, **fields):
        fields.setdefault("author", alice)
        return RunFactory(project=project or resnet, **fields)

    return make


@pytest.fixture
def run(make_run):
    """A finished run with history, system metrics and console output."""
    run = make_run(run_id="a6opolcx", name="bold-sun-7")
    log_history(run, 30)
    log_system(run)
    log_console(run, 5)
    run.refresh_from_db()
    return run


@pytest.fixture
def public_run(public_team, alice):
    project = ProjectFactory(entity=public_team, creator=alice, name="demo", visibility="public")
    run = RunFactory(project=project, run_id="pub1", author=alice)
    log_history(run, 10)
    log_console(run, 3)
    return run


def url(name, target, /, **params):
    """The URL of a run's section, or of a project's (runs:project_metric, runs:workspace)."""
    project = target.project if isinstance(target, Run) else target
    args = [project.entity.name, project.name]
    if isinstance(target, Run):
        args.append(target.run_id)
    path = reverse(name, args=args)
    if params:
        path += "?" + urlencode(params, doseq=True)
    return path


def login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# runs:metric


METRIC_FIELDS = {
    "key",
    "step",
    "value",
    "runtime",
    "timestamp",
    "first_step",
    "last_step",
    "sampled",
    "run_id",
    "state",
}


def test_metric_endpoint_answers_one_metric_as_json(client, bob, run):
    login(client, bob)

    response = client.get(url("runs:metric", run, key="train/loss"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == METRIC_FIELDS
    assert data["key"] == "train/loss"
    assert data["step"] == list(range(30))
    assert data["value"] == [2 / (step + 1) for step in range(30)]
    assert data["runtime"] == [step * 0.5 for step in range(30)]
    assert data["timestamp"] == [T0 + step for step in range(30)]
    assert (data["first_step"], data["last_step"], data["sampled"]) == (0, 29, False)
    assert (data["run_id"], data["state"]) == ("a6opolcx", "finished")


def test_metric_endpoint_zooms_buckets_and_reads_system_metrics(client, bob, run):
    login(client, bob)

    zoomed = client.get(url("runs:metric", run, key="loss", min="10", max="12.0")).json()
    sampled = client.get(url("runs:metric", run, key="loss", buckets=2)).json()
    system = client.get(url("runs:metric", run, key="system.cpu", stream="system")).json()

    assert zoomed["step"] == [10, 11, 12] and zoomed["sampled"] is False
    assert sampled["sampled"] is True and len(sampled["step"]) <= 4
    assert sampled["value"][0] == 1.0  # step 0 holds the highest loss
    assert system["step"] == [0, 1, 2]
    assert system["runtime"] == [0.0, 2.0, 4.0]


def test_metric_endpoint_shows_nan_as_null(client, bob, run):
    send(run, HISTORY_FILE, ['{"_step": 30, "loss": NaN}'], 30)
    login(client, bob)

    data = json.loads(client.get(url("runs:metric", run, key="loss", min=29)).content)

    assert data["step"] == [29, 30]
    assert data["value"] == [1 / 30, None]


def test_unknown_key_is_an_empty_series(client, bob, run):
    login(client, bob)

    response = client.get(url("runs:metric", run, key="nope"))

    assert response.status_code == 200
    assert response.json() == {
        "key": "nope",
        "step": [],
        "value": [],
        "runtime": [],
        "timestamp": [],
        "first_step": None,
        "last_step": None,
        "sampled": False,
        "run_id": "a6opolcx",
        "state": "finished",
    }


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({}, "Name a metric with ?key=."),
        ({"key": ""}, "Name a metric with ?key=."),
        ({"key": "loss", "stream": "gpu"}, "stream must be history or system."),
        ({"key": "loss", "min": "abc"}, "min must be a number."),
        ({"key": "loss", "max": "1,5"}, "max must be a number."),
        ({"key": "loss", "min": "nan"}, "min must be a number."),
        ({"key": "loss", "min": "-1"}, "min must be between 0 and "),
        ({"key": "loss", "buckets": "0"}, "buckets must be between 1 and 5000."),
        ({"key": "loss", "buckets": "5001"}, "buckets must be between 1 and 5000."),
        ({"key": "loss", "buckets": "many"}, "buckets must be a number."),
        # No integer at all: refused, not a 500.
        ({"key": "loss", "min": "inf"}, "min must be a number."),
        ({"key": "loss", "max": "-inf"}, "max must be a number."),
    ],
)
def test_bad_chart_requests_get_400_json(client, bob, run, params, error):
    login(client, bob)
    for name in ("runs:metric", "runs:metric_export"):
        response = client.get(url(name, run, **params))

        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"].startswith(error)
    response = client.get(url("runs:project_metric", run.project, run=run.run_id, **params))
    assert response.status_code == 400
    assert response.json()["error"].startswith(error)


@pytest.mark.parametrize(
    ("params", "steps"),
    [
        ({"min": 0, "max": 2**63 - 1}, list(range(30))),
        ({"max": "1e30"}, list(range(30))),  # past any step a point can have
        ({"min": "1e30"}, []),
        ({"min": "27.9"}, [27, 28, 29]),  # a fraction is cut to an integer
    ],
)
def test_step_ranges_up_to_and_past_the_largest_step(client, bob, run, params, steps):
    login(client, bob)

    response = client.get(url("runs:metric", run, key="loss", **params))

    assert response.status_code == 200
    assert response.json()["step"] == steps


# Who sees what


PRIVATE_ENDPOINTS = [
    ("runs:detail", {}),
    ("runs:metric", {"key": "loss"}),
    ("runs:metric_export", {"key": "loss"}),
    ("runs:console", {}),
    ("runs:console", {"q": "epoch"}),
]
PROJECT_ENDPOINTS = [
    ("runs:project_metric", {"key": "loss"}),
    ("runs:workspace", {}),
]


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsiders_get_404_on_every_section_of_a_private_teams_run(client, charlie, run, who):
    login(client, charlie if who == "charlie" else None)

    for name, params in PRIVATE_ENDPOINTS:
        assert client.get(url(name, run, **params)).status_code == 404, name
    for name, params in PROJECT_ENDPOINTS:
        params = {**params, "run": run.run_id}
        assert client.get(url(name, run.project, **params)).status_code == 404, name
    response = client.post(url("runs:workspace", run.project), {"action": "add", "key": "loss"})
    assert response.status_code == 404
    assert not Workspace.objects.exists()


def test_members_see_every_section(client, bob, run):
    login(client, bob)
    for name, params in PRIVATE_ENDPOINTS:
        assert client.get(url(name, run, **params)).status_code == 200, name
    for name, params in PROJECT_ENDPOINTS:
        assert client.get(url(name, run.project, **params)).status_code == 200, name


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_a_public_projects_run_and_its_data_are_readable_by_anyone(
    client, charlie, public_run, who
):
    login(client, charlie if who == "charlie" else None)

    page = client.get(url("runs:detail", public_run))
    metric = client.get(url("runs:metric", public_run, key="loss"))
    export = client.get(url("runs:metric_export", public_run, key="loss"))
    console = client.get(url("runs:console", public_run, q="epoch 0002"))
    several = client.get(url("runs:project_metric", public_run.project, key="loss", run="pub1"))
    workspace = client.get(url("runs:workspace", public_run.project))

    assert page.status_code == 200
    assert metric.json()["step"] == list(range(10))
    assert body(export).splitlines()[:2] == ["step,value", "0,1.0"]
    assert [line.text for line in console.context["lines"]] == ["epoch 0002 done"]
    assert [series["run_id"] for series in several.json()["series"]] == ["pub1"]
    assert workspace.context["panels"] == HISTORY_KEYS
    assert workspace.context["can_edit_workspace"] is (who == "charlie")
    assert ("Add panel" in body(workspace)) is False  # every key already has a panel
    assert ('name="action" value="remove"' in body(workspace)) is (who == "charlie")


def test_anonymous_cannot_arrange_a_public_projects_workspace(client, public_run):
    response = client.post(
        url("runs:workspace", public_run.project), {"action": "remove", "key": "loss"}
    )

    assert response.status_code == 403
    assert not Workspace.objects.exists()


# runs:project_metric


@pytest.fixture
def many_runs(resnet, alice):
    runs = [
        RunFactory(project=resnet, author=alice, run_id=f"r{i:02d}", name=f"run {i}")
        for i in range(MAX_WORKSPACE_RUNS + 3)
    ]
    for i, one in enumerate(runs):
        rows = [{"_step": s, "loss": i + s / 10, "_runtime": s * 2.0} for s in range(5)]
        send(one, HISTORY_FILE, rows)
    return runs


def test_project_metric_answers_the_requested_runs_in_request_order(client, bob, many_runs):
    login(client, bob)
    wanted = ["r07", "r02", "r11", "r02"]  # a repeat is answered once

    response = client.get(url("runs:project_metric", many_runs[0].project, key="loss", run=wanted))

    assert response.status_code == 200
    data = response.json()
    assert data["key"] == "loss"
    assert [series["run_id"] for series in data["series"]] == ["r07", "r02", "r11"]
    by_id = {one.run_id: one for one in many_runs}
    for series in data["series"]:
        one = by_id[series["run_id"]]
        assert series["name"] == one.display_name
        assert series["color"] == one.color and series["color"] in RUN_COLORS
        assert series["step"] == [0, 1, 2, 3, 4]
        assert series["runtime"] == [0.0, 2.0, 4.0, 6.0, 8.0]
        assert series["value"] == [int(one.run_id[1:]) + s / 10 for s in range(5)]
        assert set(series) == METRIC_FIELDS - {"state"} | {"name", "color"}


def test_project_metric_answers_at_most_20_runs(client, bob, many_runs):
    login(client, bob)
    wanted = [one.run_id for one in reversed(many_runs)]

    data = client.get(url("runs:project_metric", many_runs[0].project, key="loss", run=wanted))

    assert [s["run_id"] for s in data.json()["series"]] == wanted[:MAX_WORKSPACE_RUNS]


def test_project_metric_ignores_other_projects_runs_and_unknown_keys(
    client, alice, bob, team, many_runs
):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    stranger = RunFactory(project=other, author=alice, run_id="elsewhere")
    send(stranger, HISTORY_FILE, [{"_step": 0, "loss": 9.0}])
    login(client, bob)
    project = many_runs[0].project

    mixed = client.get(url("runs:project_metric", project, key="loss", run=["elsewhere", "r01"]))
    unknown = client.get(url("runs:project_metric", project, key="nope", run=["r01"]))
    none = client.get(url("runs:project_metric", project, key="loss"))

    assert [s["run_id"] for s in mixed.json()["series"]] == ["r01"]
    assert unknown.json() == {"key": "nope", "series": []}
    assert none.json() == {"key": "loss", "series": []}


# Session and user, project, permissions, the runs, the key; then per run: first and last
# step, the points, the time keys and the times.
PROJECT_METRIC_QUERIES = 6
PER_RUN_QUERIES = 5


@pytest.mark.parametrize("count", [1, 2, 10, MAX_WORKSPACE_RUNS])
def test_project_metric_costs_a_few_queries_per_run(
    client, bob, many_runs, count, django_assert_max_num_queries
):
    login(client, bob)
    wanted = [one.run_id for one in many_runs[:count]]
    address = url("runs:project_metric", many_runs[0].project, key="loss", run=wanted)
    client.get(address)

    with django_assert_max_num_queries(PROJECT_METRIC_QUERIES + PER_RUN_QUERIES * count):
        response = client.get(address)

    assert len(response.json()["series"]) == count


# The run page


def test_history_charts_are_grouped_by_prefix(client, bob, run):
    login(client, bob)

    response = client.get(url("runs:detail", run))

    assert response.context["chart_groups"] == [
        ("", ["loss", "lr"]),
        ("train", ["train/acc", "train/loss"]),
        ("val", ["val/acc", "val/loss"]),
    ]
    html = body(response)
    assert "<h3>train</h3>" in html and "<h3>val</h3>" in html
    for key in HISTORY_KEYS:
        assert f'data-key="{key}" data-stream="history"' in html
    # Text values and the client's own keys are not charts.
    assert 'data-key="sample"' not in html
    assert 'data-key="_runtime"' not in html


def test_system_metrics_are_grouped_by_kind(client, bob, run):
    login(client, bob)

    response = client.get(url("runs:detail", run))

    groups = [
        (group, [m.key for m in metrics]) for group, metrics in response.context["system_groups"]
    ]
    assert groups == list(SYSTEM_KEYS.items())
    html = body(response)
    assert 'data-key="system.gpu.0.gpu" data-stream="system"' in html
    assert "<figcaption>GPU 0 utilisation (%)</figcaption>" in html
    assert 'data-key="_runtime" data-stream="system"' not in html


def test_a_run_without_metrics_says_so(client, bob, make_run):
    empty = make_run(run_id="empty")
    login(client, bob)

    response = client.get(url("runs:detail", empty))

    assert response.context["chart_groups"] == []
    assert response.context["system_groups"] == []
    html = body(response)
    assert "No metrics logged yet." in html
    assert "No system metrics" in html
    assert "No console output." in html


def test_console_shows_the_last_lines(client, bob, make_run):
    chatty = make_run(run_id="chatty")
    log_console(chatty, CONSOLE_LINES_SHOWN + 5)
    login(client, bob)

    response = client.get(url("runs:detail", chatty))

    lines = response.context["lines"]
    assert [line.line for line in lines] == list(range(5, CONSOLE_LINES_SHOWN + 5))
    html = body(response)
    assert "epoch 0004 done" not in html
    assert "epoch 0005 done" in html and "epoch 1004 done" in html
    assert '<span class="console-number">1005</span>epoch 1004 done' in html


def test_console_search_filters_lines_and_says_when_none_match(client, bob, run):
    send(run, CONSOLE_FILE, ["Loss: 0.5 <ok>", "accuracy 0.9"], 5)
    login(client, bob)

    found = client.get(url("runs:console", run, q="  LOSS "))
    missing = client.get(url("runs:console", run, q="<nowhere>"))

    assert [line.text for line in found.context["lines"]] == ["Loss: 0.5 <ok>"]
    html = body(found)
    assert "1 line containing “LOSS”." in html
    assert "Loss: 0.5 &lt;ok&gt;" in html
    assert "<html" not in html  # the partial
    assert found.context["query"] == "LOSS"
    assert missing.context["lines"] == []
    assert "No line contains “&lt;nowhere&gt;”." in body(missing)


def test_a_running_runs_page_polls_and_a_finished_one_does_not(client, bob, make_run):
    running = make_run(run_id="live", state=Run.State.RUNNING)
    finished = make_run(run_id="done", state=Run.State.FINISHED)
    for one in (running, finished):
        log_history(one, 3)
        log_console(one, 2)
    login(client, bob)

    live = body(client.get(url("runs:detail", running)))
    done = body(client.get(url("runs:detail", finished)))

    assert 'hx-trigger="every 5s"' in live
    assert 'data-live="1"' in live
    assert "every 5s" not in done
    assert 'data-live=""' in done
    # The console partial keeps polling while the run runs, but not search results.
    assert 'hx-trigger="every 5s"' in body(client.get(url("runs:console", running)))
    assert "every 5s" not in body(client.get(url("runs:console", running, q="epoch")))
    assert "every 5s" not in body(client.get(url("runs:console", finished)))


@pytest.mark.parametrize(
    ("remote", "link"),
    [
        ("https://github.com/acme/resnet.git", f"https://github.com/acme/resnet/commit/{COMMIT}"),
        ("git@github.com:acme/resnet.git", f"https://github.com/acme/resnet/commit/{COMMIT}"),
        ("https://GitHub.com/acme/resnet/", f"https://github.com/acme/resnet/commit/{COMMIT}"),
        (
            "https://oauth2:secret@gitlab.com/acme/vision/resnet.git",
            f"https://gitlab.com/acme/vision/resnet/-/commit/{COMMIT}",
        ),
        ("https://git.example.org/acme/resnet.git", None),
        ("not a remote", None),
    ],
)
def test_code_section_links_the_commit_on_known_forges(client, bob, make_run, remote, link):
    coded = make_run(run_id="coded", git_remote=remote, git_commit=COMMIT)
    login(client, bob)

    html = body(client.get(url("runs:detail", coded)))

    assert coded.commit_url == link
    if link:
        assert f'<a href="{link}" rel="noopener noreferrer"><code>0123456789ab…</code></a>' in html
        assert "secret" not in link
    else:
        assert f"<dd><code>{COMMIT}</code></dd>" in html
        assert "/commit/" not in html


def test_no_commit_no_link(make_run):
    assert make_run(git_remote="https://github.com/acme/resnet").commit_url is None


def test_code_section_shows_the_diff_and_requirements(client, alice, bob, run):
    upload(run, alice, "diff.patch", b"--- a/train.py\n+++ b/train.py\n+if lr < 0.1:\n")
    upload(run, alice, "requirements.txt", b"torch==2.5.0\nnumpy>=2\n")
    login(client, bob)

    response = client.get(url("runs:detail", run))

    assert response.context["diff"] == "--- a/train.py\n+++ b/train.py\n+if lr < 0.1:\n"
    html = body(response)
    assert "Uncommitted changes (diff.patch)" in html
    assert "+if lr &lt; 0.1:" in html
    assert "<summary>Requirements</summary>" in html
    assert "numpy&gt;=2" in html


def test_a_diff_announced_but_not_uploaded_is_not_shown(client, alice, bob, run):
    run_files_create(actor=alice, run=run, names=["diff.patch"])
    login(client, bob)

    response = client.get(url("runs:detail", run))

    assert response.context["diff"] is None
    assert "Uncommitted changes" not in body(response)


def test_a_long_diff_is_cut(client, alice, bob, run):
    upload(run, alice, "diff.patch", b"+x\n" * (TEXT_FILE_SHOWN_BYTES // 3 + 10))
    login(client, bob)

    diff = client.get(url("runs:detail", run)).context["diff"]

    assert diff.endswith("\n… (truncated; download the file for the rest)")
    assert len(diff.encode()) < TEXT_FILE_SHOWN_BYTES + 100


def test_run_colour_is_stable_and_from_the_palette(client, bob, make_run):
    runs = [make_run(run_id=f"c{i}") for i in range(len(RUN_COLORS))]
    login(client, bob)

    colours = [one.color for one in runs]

    assert set(colours) == set(RUN_COLORS)  # consecutive runs differ
    for one, colour in zip(runs, colours, strict=True):
        assert Run.objects.get(pk=one.pk).color == colour == RUN_COLORS[one.pk % len(RUN_COLORS)]
        html = body(client.get(url("runs:detail", one)))
        assert f'<span class="run-dot" data-color="{colour}">' in html
    one = runs[0]
    one.name = "renamed"
    one.save()
    assert Run.objects.get(pk=one.pk).color == colours[0]


# Query counts that do not grow with the run's history


def count_queries(client, address):
    client.get(address)  # warm process-wide caches (content types), as in a server
    with CaptureQueriesContext(connection) as queries:
        assert client.get(address).status_code == 200
    return len(queries)


def test_run_page_and_metric_cost_the_same_for_short_and_long_runs(
    client, alice, bob, make_run, django_assert_num_queries
):
    short, long = make_run(run_id="short"), make_run(run_id="long")
    log_history(short, 10)
    log_history(long, 2_000)
    for one in (short, long):
        log_system(one)
        log_console(one, 3)
        upload(one, alice, "diff.patch", b"+x\n")
    login(client, bob)

    page = count_queries(client, url("runs:detail", short))
    metric = count_queries(client, url("runs:metric", short, key="loss"))

    with django_assert_num_queries(page):
        response = client.get(url("runs:detail", long))
    assert response.context["chart_groups"][0] == ("", ["loss", "lr"])
    with django_assert_num_queries(metric):
        response = client.get(url("runs:metric", long, key="loss"))
    assert response.json()["step"] == list(range(2_000))
    with django_assert_num_queries(metric):
        response = client.get(url("runs:metric", long, key="loss", buckets=100))
    assert response.json()["sampled"] is True


# The workspace: a person's panels on a project page


def workspace_keys(count, prefix="m"):
    return [f"{prefix}{i:02d}" for i in range(count)]


@pytest.fixture
def charted(resnet, alice):
    """Eleven runs: the ten the project page shows (the newest) log m00..m07 between them; the
    oldest, not shown, logs "aaa"."""
    runs = [RunFactory(project=resnet, author=alice, run_id=f"w{i:02d}") for i in range(11)]
    send(runs[0], HISTORY_FILE, [{"_step": 0, "aaa": 1.0}])
    for i, one in enumerate(runs[1:]):
        send(one, HISTORY_FILE, [{"_step": 0, f"m{i % 8:02d}": 1.0, "shared": 2.0}])
    return resnet


def panels_of(user, project):
    workspace = Workspace.objects.filter(user=user, project=project).first()
    return None if workspace is None else workspace.panels


def post(client, project, action, key, htmx=False):
    headers = {"HX-Request": "true", "HX-Target": "workspace"} if htmx else {}
    return client.post(
        url("runs:workspace", project), {"action": action, "key": key}, headers=headers
    )


DEFAULT = ["m00", "m01", "m02", "m03", "m04", "m05"]


def test_default_panels_are_the_first_metric_keys_of_the_shown_runs(client, bob, charted):
    login(client, bob)

    page = client.get(charted.get_absolute_url())
    part = client.get(url("runs:workspace", charted))

    assert len(DEFAULT) == DEFAULT_PANELS
    assert page.context["panels"] == DEFAULT
    assert page.context["addable"] == ["m06", "m07", "shared"]
    assert part.context["panels"] == DEFAULT
    assert "<html" not in body(part)
    html = body(page)
    for key in DEFAULT:
        assert f'data-workspace-panel data-key="{key}"' in html
    assert '<option value="shared">shared</option>' in html
    assert not Workspace.objects.exists()  # looking saves nothing


def test_workspace_of_chosen_runs(client, bob, charted):
    login(client, bob)

    part = client.get(url("runs:workspace", charted, run=["w00"]))

    assert part.context["panels"] == ["aaa"]


def test_adding_removing_and_moving_panels_is_saved_per_person(client, alice, bob, charted):
    login(client, bob)

    assert post(client, charted, "add", "shared").status_code == 302
    assert panels_of(bob, charted) == [*DEFAULT, "shared"]
    post(client, charted, "remove", "m02")
    assert panels_of(bob, charted) == ["m00", "m01", "m03", "m04", "m05", "shared"]
    post(client, charted, "up", "shared")
    assert panels_of(bob, charted) == ["m00", "m01", "m03", "m04", "shared", "m05"]
    post(client, charted, "down", "m00")
    assert panels_of(bob, charted) == ["m01", "m00", "m03", "m04", "shared", "m05"]
    # Moving past either end changes nothing.
    post(client, charted, "up", "m01")
    post(client, charted, "down", "m05")
    assert panels_of(bob, charted) == ["m01", "m00", "m03", "m04", "shared", "m05"]
    assert client.get(url("runs:workspace", charted)).context["panels"] == panels_of(bob, charted)

    # alice still has the defaults, and her changes leave bob's alone.
    login(client, alice)
    assert client.get(url("runs:workspace", charted)).context["panels"] == DEFAULT
    post(client, charted, "remove", "m00")
    assert panels_of(alice, charted) == DEFAULT[1:]
    assert panels_of(bob, charted) == ["m01", "m00", "m03", "m04", "shared", "m05"]


def test_removing_every_panel_leaves_none(client, bob, charted):
    login(client, bob)
    for key in DEFAULT:
        post(client, charted, "remove", key)

    part = client.get(url("runs:workspace", charted))

    assert panels_of(bob, charted) == []
    assert part.context["panels"] == []
    assert "No panels." in body(part)


def test_a_layout_belongs_to_its_project(client, alice, bob, team, charted):
    other = ProjectFactory(entity=team, creator=alice, name="other")
    one = RunFactory(project=other, author=alice, run_id="o1")
    send(one, HISTORY_FILE, [{"_step": 0, "x": 1.0, "y": 2.0}])
    login(client, bob)

    post(client, charted, "remove", "m00")
    post(client, other, "remove", "x")

    assert panels_of(bob, charted) == DEFAULT[1:]
    assert panels_of(bob, other) == ["y"]
    assert client.get(url("runs:workspace", other)).context["panels"] == ["y"]
    assert client.get(url("runs:workspace", charted)).context["panels"] == DEFAULT[1:]


@pytest.mark.parametrize(
    ("action", "key", "message"),
    [
        ("add", "m00", "m00 already has a panel."),
        ("add", "", "Choose a metric to chart."),
        ("remove", "m07", "No panel shows m07."),
        ("up", "nope", "No panel shows nope."),
        ("rename", "m00", "Unknown workspace action."),
        ("", "m00", "Unknown workspace action."),
    ],
)
def test_refused_changes_are_400_and_save_nothing(client, bob, charted, action, key, message):
    login(client, bob)

    for htmx in (False, True):
        response = post(client, charted, action, key, htmx=htmx)

        assert response.status_code == 400
        assert response.content.decode() == message
    assert not Workspace.objects.exists()


def test_a_refused_change_leaves_a_saved_layout_alone(client, bob, charted):
    login(client, bob)
    post(client, charted, "remove", "m05")

    assert post(client, charted, "add", "m00").status_code == 400
    assert panels_of(bob, charted) == DEFAULT[:5]


def test_htmx_post_gets_the_partial_and_a_form_post_is_sent_back(client, bob, charted):
    login(client, bob)

    partial = post(client, charted, "add", "m07", htmx=True)
    redirect = post(client, charted, "remove", "m07")

    assert partial.status_code == 200
    html = body(partial)
    assert "<html" not in html
    assert 'data-workspace-panel data-key="m07"' in html
    assert partial.context["panels"] == [*DEFAULT, "m07"]
    assert redirect.status_code == 302
    assert redirect.url == charted.get_absolute_url()
    assert panels_of(bob, charted) == DEFAULT
