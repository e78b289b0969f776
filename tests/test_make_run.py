"""`make run` serves on PORT and builds every link from SITE_URL: both must name the same address
unless SITE_URL is set on purpose (a proxy, another host name)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make_run_commands(*args, **env):
    """The commands `make run` would run (`make -n`: printed, nothing executed)."""
    environ = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT", "MAKEFLAGS"}}
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if "manage.py" in line]


def test_make_run_on_another_port_builds_links_for_that_port():
    commands = make_run_commands("PORT=8101")

    assert [command.split("manage.py ")[1] for command in commands] == [
        "migrate --noinput",
        "load_demo_data",
        "load_demo_artifacts",
        "load_demo_alerts",
        "load_demo_reports",
        "collectstatic --noinput --verbosity 0",
        "runserver --nostatic 127.0.0.1:8101",
    ]
    for command in commands:
        assert "SITE_URL=http://127.0.0.1:8101 " in command
        assert "8000" not in command


def test_make_run_with_the_port_in_the_environment_builds_links_for_that_port():
    commands = make_run_commands(PORT="8102")

    assert all("SITE_URL=http://127.0.0.1:8102 " in command for command in commands)
    assert commands[-1].endswith("runserver --nostatic 127.0.0.1:8102")


def test_make_run_keeps_a_site_url_that_is_set():
    commands = make_run_commands("PORT=8101", SITE_URL="https://teamsite.example.org")

    assert all("SITE_URL=https://teamsite.example.org " in command for command in commands)
    assert commands[-1].endswith("runserver --nostatic 127.0.0.1:8101")
