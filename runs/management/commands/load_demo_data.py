import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
                f"Demo data already loaded: sign in as alice, bob or vera, password {DEMO_PASSWORD}"
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
        vera = services.user_create(
            username="vera", email="vera@example.com", password=DEMO_PASSWORD
        )
        vera.first_name, vera.last_name = "Vera", "Viewer"
        vera.save()
        team = services.team_create(name=TEAM, creator=alice)
        services.membership_add(entity=team, user=bob, role=Role.MEMBER, actor=alice)
        services.membership_add(entity=team, user=vera, role=Role.VIEWER, actor=alice)
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
        _add_runs(resnet, [alice, bob], 300, rng, with_curves=12)
        _add_runs(bert, [bob, alice], 80, rng, with_curves=6)
        _add_runs(scratch, [alice], 40, rng, with_curves=0)
        self.stdout.write(
            f"Team {team.name}: alice (admin, also site admin), bob (member) and vera (viewer)."
        )
        self.stdout.write("Projects: example-team/resnet (300 runs), example-team/bert-finetune")
        self.stdout.write("(80 runs, public) and alice/scratch (40 runs); the latest runs of")
        self.stdout.write("resnet and bert-finetune have charts, GPU metrics and console output.")
        self.stdout.write(f"Pending invitation for carol@example.com: {link}")
        self.stdout.write(
            f"Sign in at /accounts/login/ as alice, bob or vera with the password {DEMO_PASSWORD}"
        )


# No demo run is "running": nothing logs to it, so it would be marked crashed once its
# heartbeat is RUN_HEARTBEAT_TIMEOUT old. Runs that crashed stopped beating without finishing;
# their console ends mid-training, and a failed run's ends with the error on stderr.
STATES = [Run.State.FINISHED] * 7 + [Run.State.FAILED, Run.State.CRASHED]
SPACING = timedelta(minutes=90)
TAGS = ["baseline", "sweep", "augment", "lr-search", "ablation", "v2"]
STEPS_PER_EPOCH = 20
SYSTEM_SAMPLES = 60
GPUS = 2


@dataclass
class Training:
    """What a demo run logged: one history row per step, its console lines (prefixed as the
    wandb client sends them) and how long it ran."""

    history: list
    console: list
    runtime: float


def _add_runs(project, authors, count, rng, *, with_curves):
    """`count` runs; the latest `with_curves` of them get their history, system metrics and
    console through ingestion. Every run's summary is the last row of its history."""
    # One run every 90 minutes, the last one started at least two and a half hours ago: even
    # the longest (50 epochs of 2 minutes) is over before now.
    start = timezone.now() - SPACING * count - timedelta(hours=2)
    runs, trainings = [], []
    for index, number in enumerate(run_numbers_reserve(project, count)):
        lr = rng.choice([1e-4, 3e-4, 1e-3, 3e-3])
        batch = rng.choice([32, 64, 128])
        epochs = rng.randint(5, 50)
        state = rng.choice(STATES)
        created = start + SPACING * index + timedelta(minutes=rng.randint(0, 60))
        config = {"lr": lr, "batch_size": batch, "epochs": epochs, "optimizer": "adamw"}
        training = _train(created, config, state, rng)
        ended = created + timedelta(seconds=training.runtime)
        runs.append(
            Run(
                project=project,
                run_id=f"{rng.getrandbits(40):010x}"[:8],
                name=run_name(number, rng),
                author=authors[index % len(authors)],
                state=state,
                config=config,
                summary=training.history[-1],
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
                runtime=training.runtime,
                exit_code={Run.State.FINISHED: 0, Run.State.FAILED: 1}.get(state),
            )
        )
        trainings.append(training)
    Run.objects.bulk_create(runs)
    for run, training in list(zip(runs, trainings, strict=True))[count - with_curves :]:
        _add_curves(run, training, rng)


def _train(created, config, state, rng) -> Training:
    """The history and console of a run with this config: `epochs` epochs of STEPS_PER_EPOCH
    steps, cut short if it failed or crashed."""
    epochs, lr = config["epochs"], config["lr"]
    epochs_run = epochs if state == Run.State.FINISHED else rng.randint(1, epochs)
    steps = epochs_run * STEPS_PER_EPOCH
    if state == Run.State.CRASHED:
        steps -= rng.randint(1, STEPS_PER_EPOCH - 1)  # killed mid-epoch
    step_seconds = rng.uniform(1.5, 6)
    speed = rng.uniform(0.5, 1.5) * epochs * STEPS_PER_EPOCH / 4
    floor = rng.uniform(0.02, 0.4) * (1 + lr * 100)
    noise = rng.uniform(0.01, 0.05)
    start = created.timestamp()
    history, console = [], [_console_line(start, "wandb: logging to Teamsite")]
    for step in range(steps):
        seconds = round((step + 1) * step_seconds, 3)
        decay = math.exp(-step / speed)
        val_loss = round(2.1 * math.exp(-step / (speed * 1.2)) + floor + 0.05, 5)
        row = {
            "_step": step,
            "_runtime": seconds,
            "_timestamp": start + seconds,
            "epoch": step // STEPS_PER_EPOCH + 1,
            "train/loss": round(2.0 * decay + floor + rng.uniform(0, noise), 5),
            "train/accuracy": round(min(1.0, 0.98 - 0.9 * decay - floor / 4 - noise), 5),
            "train/lr": lr * (0.5 ** (step // (STEPS_PER_EPOCH * 10))),
            "val/loss": val_loss,
            "val/accuracy": round(max(0.0, min(1.0, 0.97 - val_loss / 3)), 5),
        }
        history.append(row)
        if (step + 1) % STEPS_PER_EPOCH == 0:
            console.append(
                _console_line(
                    start + seconds,
                    f"Epoch {row['epoch']}/{epochs}: train/loss {row['train/loss']:.4f} "
                    f"val/loss {row['val/loss']:.4f} val/accuracy {row['val/accuracy']:.4f}",
                )
            )
    end = start + steps * step_seconds
    if state == Run.State.FINISHED:
        console.append(_console_line(end, f"Training done: {epochs} epochs, {steps} steps."))
    elif state == Run.State.FAILED:
        console += [
            _console_line(end, "Traceback (most recent call last):", stderr=True),
            _console_line(end, '  File "train.py", line 88, in <module>', stderr=True),
            _console_line(end, "torch.OutOfMemoryError: CUDA out of memory.", stderr=True),
        ]
    return Training(history, console, round(steps * step_seconds, 3))


def _console_line(timestamp: float, text: str, *, stderr: bool = False) -> str:
    """A console line as the wandb client streams it: the time printed, "ERROR " on stderr."""
    printed = datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None).isoformat()
    return f"{'ERROR ' if stderr else ''}{printed} {text}"


def _add_curves(run, training, rng):
    """Metrics, system metrics (two GPUs) and console output, through the same ingestion as
    the wandb client's file_stream."""
    start = run.created_at.timestamp()
    events = []
    for sample in range(SYSTEM_SAMPLES):
        seconds = training.runtime * sample / SYSTEM_SAMPLES
        row = {
            "_runtime": seconds,
            "_timestamp": start + seconds,
            "system.cpu": round(rng.uniform(35, 95), 1),
            "system.memory_percent": round(rng.uniform(40, 70), 1),
            "system.proc.memory.rssMB": round(rng.uniform(3000, 6000), 1),
            "system.proc.cpu.threads": 40 + rng.randint(0, 8),
            "system.disk./.usagePercent": round(60 + sample * 0.05, 2),
            "system.disk.nvme0n1.in": round(sample * 120.5, 1),
            "system.disk.nvme0n1.out": round(sample * 8.25, 1),
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
    update = parse_file_stream(
        {
            "files": {
                "wandb-history.jsonl": {
                    "offset": 0,
                    "content": [json.dumps(row) for row in training.history],
                },
                "wandb-events.jsonl": {"offset": 0, "content": [json.dumps(r) for r in events]},
                "wandb-summary.json": {"offset": 0, "content": [json.dumps(run.summary)]},
                "output.log": {"offset": 0, "content": training.console},
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
