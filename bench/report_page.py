"""Server time of a report page with 10 live panels of every kind (3 line charts of two metrics
of every run, a runs table, a leaderboard, a scatter, a parallel coordinates panel, a run's
images, an artifact card and a registered model card) over runs with many points. A standalone
script, not a test: it prints its figures and exits non-zero when the page misses its target.
See bench/README.md.

    .venv/bin/python bench/report_page.py                        # 10 runs x 10,000 steps
    .venv/bin/python bench/report_page.py --runs 3 --steps 1000  # a quick look
    .venv/bin/python bench/report_page.py --profile              # and where the time goes

The database (SQLite, a temporary file, unless DATABASE_URL names one) is set up in a child
process, because the settings read DATABASE_URL once, at import.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    SETTINGS_ENV,
    count_queries,
    database_label,
    django_child,
    percentile,
    profile_text,
)

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 300
WARMUP = 2
CHARTS = 3
IMAGES = 8  # images the media panel's run logged at each of its steps
MEDIA_STEPS = 20
USER, TEAM, PROJECT = "alice", "bench-team", "reports"
PROFILE_FOCUS = r"reports/|runs/charts|compiler.py.*execute_sql|django/template/base"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="runs every panel shows")
    parser.add_argument("--steps", type=int, default=10_000, help="steps each run logged")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests")
    parser.add_argument("--profile", action="store_true", help="profile one request")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-report-") as tmp:
        env = {**os.environ, **SETTINGS_ENV, "MEDIA_ROOT": f"{tmp}/media"}
        env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


def child(args):
    django_child()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    print(
        f"report page: {CHARTS} line charts x 2 metrics, a runs table, a leaderboard, a scatter,"
        f" parallel coordinates, {IMAGES} images, an artifact and a registered model card over "
        f"{args.runs} runs x {args.steps:,} steps; {database_label(connection)}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    user, report = create_world(args)
    points = args.runs * args.steps * 2
    print(f"  setup: {points:,} points in {time.perf_counter() - started:.1f} s")
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        return 0 if measure(user, report, args) else 1


def create_world(args):
    from projects.services import project_create
    from reports import services as reports
    from runs.ingest import HISTORY_FILE, apply_file_stream, parse_file_stream
    from runs.models import Run
    from teams import services

    alice = services.user_create(username=USER, email="alice@example.com")
    team = services.team_create(name=TEAM, creator=alice)
    project = project_create(entity=team, name=PROJECT, creator=alice)
    for number in range(args.runs):
        run = Run.objects.create(
            project=project,
            run_id=f"run{number}",
            name=f"run-{number}",
            author=alice,
            summary={"loss": 1 / (number + 1)},
            config={"lr": 10 ** -(number % 4)},
        )
        lines = [
            json.dumps({"_step": s, "loss": 1 / (s + number + 1), "acc": s / args.steps})
            for s in range(args.steps)
        ]
        for start in range(0, len(lines), 5_000):
            chunk = lines[start : start + 5_000]
            payload = {"files": {HISTORY_FILE: {"offset": start, "content": chunk}}}
            apply_file_stream(run, parse_file_stream(payload))
    log_images(project.runs.get(run_id="run0"))
    registered_artifact(project, alice)
    report = reports.report_create(project=project, title="Bench report", actor=alice)
    every_run = {"query": ""}
    reports.block_add(report=report, kind="text", config={"markdown": "# Findings\n\nText."})
    for number in range(CHARTS):
        reports.block_add(
            report=report,
            kind="line_chart",
            config={"metrics": ["loss", "acc"], "runs": every_run, "title": f"Chart {number}"},
        )
    panels = {
        "runs_table": {
            "runs": every_run,
            "columns": ["summary.loss", "config.lr"],
            "limit": 100,
        },
        "leaderboard": {
            "runs": every_run,
            "metric": "summary.loss",
            "best": "min",
            "limit": 50,
            "columns": ["config.lr"],
        },
        "scatter": {"runs": every_run, "x": "config.lr", "y": "summary.loss"},
        "parallel_coordinates": {"runs": every_run, "columns": ["config.lr", "summary.loss"]},
        "media": {"run": "run0", "key": "samples"},
        "artifact": {"artifact": "weights:latest"},
        "registered_model": {"model": "classifier:latest"},
    }
    for kind, config in panels.items():
        reports.block_add(report=report, kind=kind, config=config)
    reports.report_publish(report=report, actor=alice)
    return alice, report


def log_images(run):
    """IMAGES images under "samples" at each of MEDIA_STEPS steps, their files stored."""
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.utils import timezone
    from PIL import Image

    from runs.ingest import HISTORY_FILE, apply_file_stream, parse_file_stream
    from runs.models import RunFile

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (40, 90, 160)).save(out, "PNG")
    stored = default_storage.save("bench/image.png", ContentFile(out.getvalue()))
    lines, files = [], []
    for step in range(MEDIA_STEPS):
        names = [f"media/images/samples_{step}_{i}.png" for i in range(IMAGES)]
        value = {"_type": "images/separated", "filenames": names, "count": IMAGES}
        value["captions"] = [f"sample {i}" for i in range(IMAGES)]
        lines.append(json.dumps({"_step": run.history_line_count + step, "samples": value}))
        files += [
            RunFile(run=run, name=name, storage_name=stored, size=len(out.getvalue()),
                    uploaded_at=timezone.now())
            for name in names
        ]  # fmt: skip
    RunFile.objects.bulk_create(files)
    offset = run.history_line_count
    payload = {"files": {HISTORY_FILE: {"offset": offset, "content": lines}}}
    apply_file_stream(run, parse_file_stream(payload))


def registered_artifact(project, alice):
    """A committed "weights" model with 20 metadata keys, linked into the team's registry."""
    from artifacts import registry
    from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection
    from projects.services import project_create

    collection = ArtifactCollection.objects.create(project=project, name="weights", type="model")
    artifact = Artifact.objects.create(
        collection=collection,
        version_index=0,
        digest="0" * 32,
        state=Artifact.State.COMMITTED,
        created_by_run=project.runs.first(),
        metadata={f"key{i}": i for i in range(20)},
    )
    ArtifactAlias.objects.create(collection=collection, artifact=artifact, alias="latest")
    registry_project = project_create(
        entity=project.entity, name=registry.REGISTRY_PROJECT, creator=alice
    )
    registry.artifact_link(
        artifact=artifact, project=registry_project, portfolio_name="classifier", actor=alice
    )


def measure(user, report, args):
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)
    url = report.get_absolute_url()

    def get():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response

    for _ in range(WARMUP):
        get()
    with count_queries(connection) as queries:
        response = get()
    html = response.content.decode()
    samples, cpu = [], []
    for _ in range(args.repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        get()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    median = statistics.median(samples)
    ok = median <= TARGET_MS
    print(
        f"  GET reports:detail: median {median:.1f} ms, p95 {percentile(samples, 95):.1f} ms, "
        f"CPU {statistics.median(cpu):.1f} ms, {queries.count} queries, "
        f"{len(response.content) / 1024:.0f} KB, {html.count('data-query-panel')} charts, "
        f"{html.count('report-runs') + html.count('report-leaderboard')} tables, "
        f"{html.count('<img')} images, {html.count('report-card')} cards, "
        f"{html.count('query-error')} errors"
    )
    print(f"  target: median <= {TARGET_MS} ms: {'yes' if ok else 'NO'}")
    if args.profile:
        print(profile_text(get, PROFILE_FOCUS, 16))
    return ok


if __name__ == "__main__":
    sys.exit(main())
