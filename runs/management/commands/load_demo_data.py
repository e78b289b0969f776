import json
import math
import random
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from projects.models import Project
from projects.services import project_create
from runs.ingest import apply_file_stream, parse_file_stream
from runs.models import Run
from runs.names import run_name, run_numbers_reserve
from teams import services
from teams.models import Entity, Role

DEMO_PASSWORD = "teamsite-demo"
TEAM = "example-team"


class Command(BaseCommand):
    help = "Load demo data: a team, two people, an invitation, projects with runs. Safe to rerun."

    @transaction.atomic
    def handle(self, **options):
        if Entity.objects.filter(name=TEAM).exists():
            self.stdout.write(
                f"Demo data already loaded: sign in as alice or bob, password {DEMO_PASSWORD}"
            )
            return
        alice = services.user_create(
            username="alice", email="alice@example.com", password=DEMO_PASSWORD
        )
        alice.first_name, alice.last_name = "Alice", "Admin"
        alice.is_staff = alice.is_superuser = True
        alice.save()
        bob = services.user_create(username="bob", email="bob@example.com", password=DEMO_PASSWORD)
        bob.first_name, bob.last_name = "Bob", "Member"
        bob.save()
        team = services.team_create(name=TEAM, creator=alice)
        services.membership_add(entity=team, user=bob, role=Role.MEMBER, actor=alice)
        _, link = services.invitation_create(
            entity=team, inviter=alice, email="carol@example.com", role=Role.MEMBER
        )
        rng = random.Random(7)
        resnet = project_create(
            entity=team, name="resnet", creator=alice, description="Image classification sweeps."
        )
        bert = project_create(
            entity=team,
            name="bert-finetune",
            creator=bob,
            description="Fine-tuning BERT on GLUE tasks.",
            visibility=Project.Visibility.PUBLIC,
        )
        scratch = project_create(
            entity=alice.personal_entity, name="scratch", creator=alice, description="Try-outs."
        )
        _add_runs(resnet, [alice, bob], 300, rng)
        _add_runs(bert, [bob, alice], 80, rng)
        _add_runs(scratch, [alice], 40, rng)
        for run in resnet.runs.order_by("-created_at")[:12]:
            _add_curves(run, rng)
        for run in bert.runs.order_by("-created_at")[:6]:
            _add_curves(run, rng)
        self.stdout.write(f"Team {team.name}: alice (admin, also site admin) and bob (member).")
        self.stdout.write("Projects: example-team/resnet (300 runs), example-team/bert-finetune")
        self.stdout.write("(80 runs, public) and alice/scratch (40 runs); the latest runs of")
        self.stdout.write("resnet and bert-finetune have charts, GPU metrics and console output.")
        self.stdout.write(f"Pending invitation for carol@example.com: {link}")
        self.stdout.write(
            f"Sign in at /accounts/login/ as alice or bob with the password {DEMO_PASSWORD}"
        )


# No demo run is "running": nothing logs to it, so it would be marked crashed once its
# heartbeat is RUN_HEARTBEAT_TIMEOUT old. Runs that crashed stopped beating without finishing.
STATES = [Run.State.FINISHED] * 7 + [Run.State.FAILED, Run.State.CRASHED]
SPACING = timedelta(minutes=90)
TAGS = ["baseline", "sweep", "augment", "lr-search", "ablation", "v2"]


def _add_runs(project, authors, count, rng):
    # One run every 90 minutes, the last one started at least two and a half hours ago: even
    # the longest (50 epochs of 2 minutes) is over before now.
    start = timezone.now() - SPACING * count - timedelta(hours=2)
    runs = []
    for index, number in enumerate(run_numbers_reserve(project, count)):
        lr = rng.choice([1e-4, 3e-4, 1e-3, 3e-3])
        batch = rng.choice([32, 64, 128])
        epochs = rng.randint(5, 50)
        state = rng.choice(STATES)
        loss = round(rng.uniform(0.05, 2.0) * (1 + lr * 100), 4)
        created = start + SPACING * index + timedelta(minutes=rng.randint(0, 60))
        runtime = epochs * rng.uniform(30, 120)
        ended = created + timedelta(seconds=runtime)
        runs.append(
            Run(
                project=project,
                run_id=f"{rng.getrandbits(40):010x}"[:8],
                name=run_name(number, rng),
                author=authors[index % len(authors)],
                state=state,
                config={"lr": lr, "batch_size": batch, "epochs": epochs, "optimizer": "adamw"},
                summary={
                    "loss": loss,
                    "val/accuracy": round(max(0.0, 1 - loss / 3 + rng.uniform(-0.05, 0.05)), 4),
                    "epoch": epochs,
                },
                tags=rng.sample(TAGS, rng.randint(0, 2)),
                group=f"sweep-{index // 25 + 1}",
                job_type="train",
                host=f"gpu-node-{rng.randint(1, 8)}",
                program="train.py",
                git_commit=f"{rng.getrandbits(160):040x}",
                git_remote="https://github.com/example/models.git",
                created_at=created,
                heartbeat_at=ended,
                finished_at=None if state == Run.State.CRASHED else ended,
                runtime=runtime,
                exit_code={Run.State.FINISHED: 0, Run.State.FAILED: 1}.get(state),
            )
        )
    Run.objects.bulk_create(runs)


HISTORY_STEPS = 500
SYSTEM_SAMPLES = 60
GPUS = 2


def _add_curves(run, rng):
    """Metrics, system metrics (two GPUs) and console output, through the same ingestion as
    the wandb client's file_stream."""
    start = run.created_at.timestamp()
    runtime = run.runtime or 600.0
    speed, noise = rng.uniform(60, 160), rng.uniform(0.01, 0.05)
    history = []
    for step in range(HISTORY_STEPS):
        seconds = runtime * step / HISTORY_STEPS
        decay = math.exp(-step / speed)
        history.append(
            {
                "_step": step,
                "_runtime": seconds,
                "_timestamp": start + seconds,
                "train/loss": round(2.0 * decay + rng.uniform(0, noise) + 0.05, 5),
                "train/accuracy": round(min(1.0, 0.98 - 0.9 * decay + rng.uniform(-noise, 0)), 5),
                "train/lr": run.config.get("lr", 1e-3) * (0.5 ** (step // 200)),
                "val/loss": round(2.1 * math.exp(-step / (speed * 1.2)) + 0.1, 5),
                "val/accuracy": round(min(1.0, 0.95 - 0.9 * decay), 5),
            }
        )
    events = []
    for sample in range(SYSTEM_SAMPLES):
        seconds = runtime * sample / SYSTEM_SAMPLES
        row = {
            "_runtime": seconds,
            "_timestamp": start + seconds,
            "system.cpu": round(rng.uniform(35, 95), 1),
            "system.memory_percent": round(rng.uniform(40, 70), 1),
            "system.proc.memory.rssMB": round(rng.uniform(3000, 6000), 1),
            "system.disk./.usagePercent": round(60 + sample * 0.05, 2),
            "system.network.sent": sample * rng.uniform(1e6, 3e6),
            "system.network.recv": sample * rng.uniform(5e6, 9e6),
        }
        for gpu in range(GPUS):
            busy = 0 if sample < 2 else rng.uniform(85, 99)
            row |= {
                f"system.gpu.{gpu}.gpu": round(busy, 1),
                f"system.gpu.{gpu}.memoryAllocated": round(busy * 0.8, 1),
                f"system.gpu.{gpu}.temp": round(40 + busy * 0.35, 1),
                f"system.gpu.{gpu}.powerWatts": round(60 + busy * 2.8, 1),
            }
        events.append(row)
    console = [
        f"Epoch {epoch + 1}: loss {history[min(epoch * 50, 499)]['train/loss']}"
        for epoch in range(10)
    ]
    update = parse_file_stream(
        {
            "files": {
                "wandb-history.jsonl": {"offset": 0, "content": [json.dumps(r) for r in history]},
                "wandb-events.jsonl": {"offset": 0, "content": [json.dumps(r) for r in events]},
                "output.log": {"offset": 0, "content": console},
            }
        }
    )
    apply_file_stream(run, update)
    # Ingestion marks the run as just heard from; the demo keeps its own timeline.
    Run.objects.filter(pk=run.pk).update(
        state=run.state,
        heartbeat_at=run.heartbeat_at,
        runtime=run.runtime,
        metadata={
            "program": "train.py",
            "args": ["--lr", str(run.config.get("lr")), "--epochs", str(run.config.get("epochs"))],
            "python": "CPython 3.12.7",
            "host": run.host,
            "os": "Linux-6.8.0-x86_64-with-glibc2.39",
            "gpu": "NVIDIA A100-SXM4-80GB",
            "gpu_count": GPUS,
            "cuda_version": "12.4",
            "cpu_count": 32,
        },
    )
