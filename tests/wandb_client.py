"""Running the real wandb client (pinned in requirements-test.txt) against a live test server,
in a subprocess, as a user's training job runs it: inside a git checkout with a GitHub remote."""

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "api" / "tests" / "wandb_scripts"
TIMEOUT = 180
REMOTE = "https://github.com/example/resnet.git"


class WandbClient:
    def __init__(self, server_url: str, folder: Path):
        self.server_url = server_url
        self.folder = folder
        self.work = folder / "work"
        self.work.mkdir()
        git = ["git", "-C", str(self.work)]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "remote", "add", "origin", REMOTE], check=True)
        (self.work / "train.py").write_text("print('train')\n")
        subprocess.run([*git, "add", "train.py"], check=True)
        subprocess.run(
            [*git, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
            check=True,
        )
        self.commit = subprocess.run(
            [*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        self.calls = 0

    def env(self, key, username=None, cache="cache") -> dict:
        """The environment of a client process: this server, this key, files under `folder`."""
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.folder / "home"),
            "WANDB_BASE_URL": self.server_url,
            "WANDB_API_KEY": key,
            "WANDB_DIR": str(self.work),
            "WANDB_CONFIG_DIR": str(self.folder / "config"),
            "WANDB_CACHE_DIR": str(self.folder / cache),
            "WANDB_DATA_DIR": str(self.folder / "data"),
            "WANDB_CONSOLE": "wrap",
            "WANDB_INIT_TIMEOUT": "60",
        }
        if username:
            env["WANDB_USERNAME"] = username
        return env

    def cli(self, *args, key) -> subprocess.Popen:
        """Start the `wandb` command line (`wandb sweep ...`, `wandb agent ...`) in the
        checkout; the caller waits for it."""
        wandb = Path(sys.executable).parent / "wandb"
        return subprocess.Popen(
            [str(wandb), *args],
            cwd=self.work,
            env=self.env(key),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def run(self, script, *args, key, username=None, cache="cache"):
        """Run SCRIPTS/script RESULT.json *args; returns (its JSON result, the process)."""
        env = self.env(key, username, cache)
        self.calls += 1
        result_file = self.folder / f"{script}.{self.calls}.json"
        completed = subprocess.run(
            [sys.executable, str(SCRIPTS / script), str(result_file), *args],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert result_file.exists(), completed.stdout[-3000:] + completed.stderr[-3000:]
        return json.loads(result_file.read_text()), completed
