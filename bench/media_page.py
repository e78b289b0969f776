"""Server time of media-heavy pages: a run page with 50 image keys x 100 steps, its step slider,
and the project workspace's media rows of 8 such runs. A standalone script, not a test: it prints
its figures and exits non-zero when the run page misses its target. See bench/README.md.

    .venv/bin/python bench/media_page.py                       # 50 keys x 100 steps, 8 runs
    .venv/bin/python bench/media_page.py --keys 10 --steps 20  # a quick look
    .venv/bin/python bench/media_page.py --profile             # and where the time goes

The database (SQLite, a temporary file) and the stored files (a temporary MEDIA_ROOT) are set up
in a child process, because the settings read DATABASE_URL and MEDIA_ROOT once, at import.
"""

import argparse
import io
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
RUN_PAGE_TARGET_MS = 300
WARMUP = 2
USER, TEAM, PROJECT = "alice", "bench-team", "gallery"
# Distinct small images, reused round-robin: real PNG files, a few hundred bytes each.
PALETTE = 12
# The profile's tables: the project's own code, the queries, and the template engine.
PROFILE_FOCUS = r"runs/|compiler.py.*execute_sql|django/template/(base|loader_tags|defaulttags)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=50, help="image keys per run")
    parser.add_argument("--steps", type=int, default=100, help="steps per key")
    parser.add_argument("--workspace-runs", type=int, default=8, help="runs in the workspace")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per case")
    parser.add_argument("--profile", action="store_true", help="profile each case once")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-media-") as tmp:
        env = {
            **os.environ,
            **SETTINGS_ENV,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "MEDIA_ROOT": f"{tmp}/media",
        }
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        return subprocess.run(command, env=env, cwd=ROOT, check=False).returncode


# --- the child: set up, then measure ---------------------------------------------------------


def child(args):
    django_child()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    print(
        f"media pages: {args.keys} image keys x {args.steps} steps per run, "
        f"{args.workspace_runs} runs in the workspace; {database_label(connection)}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    world = create_world(args)
    files = args.keys * args.steps * args.workspace_runs
    print(f"  setup: {files:,} images logged in {time.perf_counter() - started:.1f} s")

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=storages):
        ok = measure(world, args)
    return 0 if ok else 1


def png(index: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    hue = index * 255 // PALETTE
    Image.new("RGB", (32, 24), (hue, 255 - hue, 128)).save(out, "PNG")
    return out.getvalue()


def image_value(key: str, step: int, size: int) -> dict:
    """What wandb 0.31.0 logs for `wandb.Image` (see runs/tests/test_media.py)."""
    return {
        "_type": "image-file",
        "path": f"media/images/{key.replace('/', '_')}_{step}_0123456789abcdef0123.png",
        "sha256": "0" * 64,
        "size": size,
        "width": 32,
        "height": 24,
        "format": "png",
        "caption": f"{key} at {step}",
    }


def log_run(run, keys: list[str], steps: int, images: list[bytes]) -> None:
    """Each image uploaded as the client's file upload stores it, then the history lines that
    name them, through the file_stream ingestion."""
    from django.db import transaction

    from runs.ingest import HISTORY_FILE, apply_file_stream, parse_file_stream
    from runs.models import RunFile
    from runs.tracking import run_file_store

    with transaction.atomic():
        lines = []
        for step in range(steps):
            row = {"_step": step, "_runtime": step * 2.0, "loss": 1 / (step + 1)}
            for number, key in enumerate(keys):
                data = images[(step + number) % PALETTE]
                value = image_value(key, step, len(data))
                file = RunFile.objects.create(run=run, name=value["path"])
                run_file_store(file, io.BytesIO(data))
                row[key] = value
            lines.append(json.dumps(row))
    for start in range(0, len(lines), 20):
        payload = {"files": {HISTORY_FILE: {"offset": start, "content": lines[start : start + 20]}}}
        apply_file_stream(run, parse_file_stream(payload))


def create_world(args):
    from projects.services import project_create
    from runs.models import Run
    from teams import services

    alice = services.user_create(username=USER, email="alice@example.com")
    team = services.team_create(name=TEAM, creator=alice)
    project = project_create(entity=team, name=PROJECT, creator=alice)
    keys = [f"samples/k{number:02d}" for number in range(args.keys)]
    images = [png(index) for index in range(PALETTE)]
    runs = []
    for number in range(args.workspace_runs):
        run = Run.objects.create(
            project=project, run_id=f"gallery{number}", name=f"gallery-{number}", author=alice
        )
        log_run(run, keys, args.steps, images)
        runs.append(run)
    return {"user": alice, "project": project, "runs": runs, "keys": keys}


# --- the measurements -------------------------------------------------------------------------


def measure(world, args):
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(world["user"])
    run, runs, keys = world["runs"][0], world["runs"], world["keys"]
    rows, profiles = [], []

    def timed(case, urls, *, expect, target=None):
        """GET each of `urls` in turn (warm), `args.repeat` times in all."""

        def get(url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return response

        for url in urls[:WARMUP]:
            get(url)
        with count_queries(connection) as queries:
            response = get(urls[0])
        found = expect(response.content.decode())
        samples, cpu = [], []
        for number in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            get(urls[number % len(urls)])
            samples.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        median, p95, cpu = (
            statistics.median(samples),
            percentile(samples, 95),
            statistics.median(cpu),
        )
        ok = target is None or median <= target
        rows.append(
            (case, median, p95, cpu, queries.count, len(response.content), found, target, ok)
        )
        print(f"  {case}: median {median:.1f} ms, p95 {p95:.1f} ms, CPU {cpu:.1f} ms")
        if args.profile:
            profiles.append((case, profile_text(lambda: get(urls[0]), PROFILE_FOCUS, 16)))
        return ok

    project = world["project"]
    ok = timed(
        "run page (GET runs:detail)",
        [run.get_absolute_url()],
        expect=lambda html: f"{html.count('data-media-panel')} panels",
        target=RUN_PAGE_TARGET_MS,
    )
    media_url = reverse("runs:media", args=[TEAM, PROJECT, run.run_id])
    timed(
        "run page slider (GET runs:media)",
        [f"{media_url}?key={key}&step={(7 * n) % args.steps}" for n, key in enumerate(keys)],
        expect=lambda html: f"{html.count('<img')} image",
    )
    rows_url = reverse("runs:workspace_media", args=[TEAM, PROJECT])
    run_query = "".join(f"&run={one.run_id}" for one in runs)
    timed(
        f"workspace media rows, {len(runs)} runs (GET runs:workspace_media)",
        [f"{rows_url}?{run_query[1:]}"],
        expect=lambda html: (
            f"{html.count('data-workspace-media-row')} rows x "
            f"{html.count('class="workspace-media-cell"') // max(1, len(keys))} runs"
        ),
    )
    timed(
        f"workspace row slider, {len(runs)} runs (?key=&step=)",
        [
            f"{rows_url}?key={key}&step={(7 * n) % args.steps}{run_query}"
            for n, key in enumerate(keys)
        ],
        expect=lambda html: f"{html.count('<img')} images",
    )
    timed(
        "project page (GET, the workspace's frame)",
        [project.get_absolute_url()],
        expect=lambda html: f"{html.count('data-run-id')} runs",
    )

    print()
    head = (
        f"  {'case':<58} {'median ms':>10} {'p95 ms':>8} {'CPU ms':>7} {'queries':>8} {'KB':>7}  "
        f"{'shows':<18} {'target':>8}  ok"
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    for case, median, p95, cpu, queries, size, found, target, row_ok in rows:
        print(
            f"  {case:<58} {median:>10.1f} {p95:>8.1f} {cpu:>7.1f} {queries:>8} "
            f"{size / 1024:>7.0f}  "
            f"{found:<18} {'<= ' + str(target) if target else '':>8}  {'yes' if row_ok else 'NO'}"
        )
    print(f"  target: the run page's median server time <= {RUN_PAGE_TARGET_MS} ms")
    # SQLite runs in this process, so its CPU time is the request's work without the waits for
    # a core that a busy machine adds to the wall-clock figures.
    print(f"  CPU ms: this process's CPU time per request (median); load {os.getloadavg()[0]:.2f}")
    for case, text in profiles:
        print(f"\nprofile: {case}\n{text}")
    return ok


if __name__ == "__main__":
    sys.exit(main())
