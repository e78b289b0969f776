"""The run page's cold first load in headless Chromium: navigation timing and the bytes its
scripts cost on the wire, served the way `make run` serves, the way it served before static files
were compressed, and the way production does. A standalone script, not a test: it prints its
figures and exits non-zero when `make run`'s median load misses its target. See bench/README.md.

    .venv/bin/python bench/cold_load.py                  # the three servers, 9 cold loads each
    .venv/bin/python bench/cold_load.py --loads 5 --servers make-run
"""

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import SETTINGS_ENV

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 (after the path)

PY = sys.executable
LOAD_TARGET_MS = 1000
SERVERS = ("before", "make-run", "production")
DESCRIPTIONS = {
    "before": "DEBUG runserver, Django's static view (the former `make run`)",
    "make-run": "the commands `make -n run` prints",
    "production": "DEBUG off, collectstatic, gunicorn (2 workers)",
}
# The demo run with charts and system metrics, and a session of its owner.
SESSION_SCRIPT = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import User
from runs.models import Run
alice = User.objects.get(username="alice")
run = Run.objects.filter(project__name="resnet").order_by("-created_at").first()
session = SessionStore()
session[SESSION_KEY] = str(alice.pk)
session[BACKEND_SESSION_KEY] = "accounts.backends.HumanAuthenticationBackend"
session[HASH_SESSION_KEY] = alice.get_session_auth_hash()
session.save()
print(session.session_key, run.get_absolute_url())
"""
NAVIGATION = "() => performance.getEntriesByType('navigation')[0].toJSON()"
# Main-thread tasks over 50 ms (parsing and running scripts), recorded from the page's start.
LONG_TASKS = """
window.benchLongTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    window.benchLongTasks.push([entry.startTime, entry.duration]);
  }
}).observe({type: "longtask", buffered: true});
"""
RESOURCES = "() => performance.getEntriesByType('resource').map((entry) => entry.toJSON())"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=9, help="cold loads per server")
    parser.add_argument("--servers", default=",".join(SERVERS), help="which, comma-separated")
    args = parser.parse_args()
    servers = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = set(servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    print(f"load average {os.getloadavg()[0]:.2f}, {args.loads} cold loads per server")
    with tempfile.TemporaryDirectory(prefix="teamsite-bench-cold-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "MEDIA_ROOT": f"{tmp}/media",
            "STATIC_ROOT": f"{tmp}/static",
            "LOG_LEVEL": "WARNING",
            # One key for every server, so the session made below signs each of them in.
            "SECRET_KEY": SETTINGS_ENV["SECRET_KEY"],
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        setup(env)
        printed = manage(env, {"DEBUG": "1"}, "shell", "-c", SESSION_SCRIPT)
        session_key, path = printed.splitlines()[-1].split()
        with contextlib.ExitStack() as stack:
            bases = {}
            for name in servers:
                port = free_port()
                stack.enter_context(serve(name, port, env))
                bases[name] = f"http://127.0.0.1:{port}"
            results = measure(bases, path, session_key, args.loads)
        for name in servers:
            report(name, results[name])
    return summary(results)


def setup(env):
    started = time.perf_counter()
    manage(env, {"DEBUG": "1"}, "migrate", "--noinput")
    manage(env, {"DEBUG": "1"}, "load_demo_data")
    print(f"database: migrated, demo data loaded in {time.perf_counter() - started:.1f} s")


def manage(env, extra, *args):
    result = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env={**env, **extra},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args[:1])} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def make_run_commands(port):
    """`make run`'s commands as make prints them (`make -n`: nothing executed)."""
    environ = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT", "MAKEFLAGS"}}
    printed = subprocess.run(
        ["make", "-n", "run", f"PORT={port}"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in printed.splitlines() if "manage.py" in line]


class serve:
    """Starts one server on `port` in a session of its own; stops its process group on exit."""

    def __init__(self, name, port, env):
        self.name, self.port, self.env = name, port, env

    def __enter__(self):
        env, port = self.env, self.port
        if self.name == "make-run":
            *steps, command = make_run_commands(port)
            started = time.perf_counter()
            for step in steps:
                subprocess.run(["sh", "-c", step], cwd=ROOT, env=env, check=True, **QUIET)
            print(f"\n[make-run] set-up steps took {time.perf_counter() - started:.1f} s:")
            for step in steps:
                print("   ", step.split("manage.py ", 1)[1])
            print("   ", command.split("manage.py ", 1)[1])
            argv, server_env = ["sh", "-c", command], env
        elif self.name == "before":
            argv = [PY, "manage.py", "runserver", f"127.0.0.1:{port}"]
            server_env = {**env, "DEBUG": "1", "SITE_URL": f"http://127.0.0.1:{port}"}
            print("\n[before] runserver, no collectstatic")
        else:
            server_env = {**env, **SETTINGS_ENV, "ALLOWED_HOSTS": "127.0.0.1"}
            server_env["STATIC_ROOT"] = env["STATIC_ROOT"] + "-production"
            started = time.perf_counter()
            manage(server_env, {}, "collectstatic", "--noinput")
            print(f"\n[production] collectstatic took {time.perf_counter() - started:.1f} s")
            argv = [PY, "-m", "gunicorn", "teamsite.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"]
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=server_env, start_new_session=True, **QUIET
        )
        wait_for_port(port, self.process)
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


QUIET = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited ({process.returncode}) before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"nothing listens on {port} after {timeout} s")


def measure(bases, path, session_key, loads):
    """One uncounted load per server (its first: imports, templates), then `loads` cold ones,
    each in a browser context of its own (an empty cache, as a first visit). The servers take
    turns, so a busy moment on the machine falls on all of them alike."""
    from playwright.sync_api import sync_playwright

    results = {name: {"samples": [], "errors": []} for name in bases}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for index in range(loads + 1):
                for name, base in bases.items():
                    result = results[name]
                    sample = cold_load(browser, base + path, session_key, result["errors"])
                    if index:
                        result["samples"].append(sample)
        finally:
            browser.close()
    return results


def cold_load(browser, url, session_key, errors):
    context = browser.new_context()
    try:
        context.add_cookies([{"name": "sessionid", "value": session_key, "url": url}])
        context.on("console", lambda m: m.type == "error" and errors.append(m.text))
        context.on("weberror", lambda error: errors.append(str(error.error)))
        context.add_init_script(LONG_TASKS)
        page = context.new_page()
        response = page.goto(url, wait_until="load")
        if response.status != 200:
            sys.exit(f"{url} answered {response.status}")
        # The charts fetch their points after the load event; the first one drawn ends the wait.
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=30_000)
        chart_ms = page.evaluate("() => performance.now()")
        navigation = page.evaluate(NAVIGATION)
        resources = page.evaluate(RESOURCES)
        long_tasks = page.evaluate("() => window.benchLongTasks")
    finally:
        context.close()
    scripts = [r for r in resources if r["initiatorType"] == "script"]
    largest = max(scripts, key=lambda r: r["decodedBodySize"])
    return {
        "response_end": navigation["responseEnd"],
        "dom_content_loaded": navigation["domContentLoadedEventEnd"],
        "load": navigation["loadEventEnd"],
        "first_chart": chart_ms,
        "busy_before_load": sum(
            duration for start, duration in long_tasks if start < navigation["loadEventEnd"]
        ),
        "script_transfer": sum(r["transferSize"] for r in scripts),
        "script_encoded": sum(r["encodedBodySize"] for r in scripts),
        "script_decoded": sum(r["decodedBodySize"] for r in scripts),
        "all_transfer": navigation["transferSize"] + sum(r["transferSize"] for r in resources),
        "largest": largest,
        "largest_ms": largest["responseEnd"] - largest["startTime"],
    }


def median(samples, key):
    return statistics.median(sample[key] for sample in samples)


def report(name, result):
    samples = result["samples"]
    print(f"[{name}] {DESCRIPTIONS[name]}: median of {len(samples)} cold loads")
    print(
        "    responseEnd {:6.0f} ms   domContentLoaded {:6.0f} ms   loadEventEnd {:6.0f} ms"
        "   first chart drawn {:6.0f} ms".format(
            median(samples, "response_end"),
            median(samples, "dom_content_loaded"),
            median(samples, "load"),
            median(samples, "first_chart"),
        )
    )
    print(
        "    main thread busy in long tasks (over 50 ms) before the load event:"
        f" {median(samples, 'busy_before_load'):.0f} ms"
    )
    print(
        "    loadEventEnd of each load: " + " ".join(f"{sample['load']:.0f}" for sample in samples)
    )
    print(
        "    scripts: {:,.0f} B transferred, {:,.0f} B encoded, {:,.0f} B decoded;"
        " whole page: {:,.0f} B transferred".format(
            median(samples, "script_transfer"),
            median(samples, "script_encoded"),
            median(samples, "script_decoded"),
            median(samples, "all_transfer"),
        )
    )
    largest = samples[-1]["largest"]
    print(
        f"    largest script {largest['name'].split('/static/', 1)[-1]}:"
        f" {largest['transferSize']:,} B transferred of {largest['decodedBodySize']:,} B,"
        f" {median(samples, 'largest_ms'):.0f} ms from request to last byte"
    )
    if result["errors"]:
        print("    browser errors:", json.dumps(sorted(set(result["errors"]))))


def summary(results):
    failed = any(result["errors"] for result in results.values())
    if "make-run" in results:
        load = median(results["make-run"]["samples"], "load")
        verdict = "meets" if load <= LOAD_TARGET_MS else "MISSES"
        print(f"\n`make run`: loadEventEnd {load:.0f} ms, {verdict} the {LOAD_TARGET_MS} ms target")
        failed |= load > LOAD_TARGET_MS
        if "before" in results:
            ratio = load / median(results["before"]["samples"], "load")
            print(f"`make run` / before: {ratio:.2f} of the former load time")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
