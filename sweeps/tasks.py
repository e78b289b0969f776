from django.tasks import task

from .early_stop import evaluate_early_stop


@task
def evaluate_early_stop_task(sweep_id: int) -> int:
    """Hyperband for one sweep, off the heartbeat's request."""
    return evaluate_early_stop(sweep_id)
