"""Sweep writes: creating and changing sweeps, agents, heartbeats (handing out points) and
linking runs. Every write is one transaction; refusals raise SweepError."""

from projects.services import ProjectError

from .models import Sweep, SweepAgent


class SweepError(ProjectError):
    """A sweep request that is refused; nothing was changed. `status` is the HTTP status the
    API answers with (400 bad input, 403 not allowed, 404 unknown)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def sweep_create(
    *,
    actor,
    project,
    config_yaml: str,
    description: str = "",
    display_name: str = "",
    state: str | None = None,
    controller: dict | None = None,
    scheduler: dict | None = None,
    launch_scheduler: dict | None = None,
    template_variable_values=None,
    prior_run_ids: list[str] | None = None,
) -> Sweep:
    """Create a sweep in `project` (the caller checked WRITE) from the YAML text. The config is
    validated by the engine (SweepError 400 "Invalid sweep config: 1) ... 2) ..."). `state`
    may be PENDING (default) or RUNNING... `prior_run_ids`: run ids of the project whose runs
    join the sweep as PRIOR slots (runs already in a sweep are skipped)."""
    raise NotImplementedError


def sweep_update(
    *,
    actor,
    sweep: Sweep,
    rights: set,
    config_yaml: str | None = None,
    description: str | None = None,
    display_name: str | None = None,
    state: str | None = None,
    controller: dict | None = None,
    scheduler: dict | None = None,
    launch_scheduler: dict | None = None,
    template_variable_values=None,
    prior_run_ids: list[str] | None = None,
) -> Sweep:
    """Change a sweep; None leaves a field as it is. `rights`: the actor's permissions on the
    sweep's entity. A state change follows the table of the design (§3) and needs the
    author or an entity admin (403); a refused move is 400 ("Cannot pause a finished
    sweep."). Other fields need WRITE (403)."""
    raise NotImplementedError


def agent_create(*, actor, sweep: Sweep, host: str, persistent: bool = False) -> SweepAgent:
    """Register an agent for `sweep` (the caller checked WRITE). 400 when the sweep is over
    (FINISHED/CANCELED/FAILED)? No: the agent is created and its first heartbeat says exit."""
    raise NotImplementedError


def heartbeat(*, actor, agent: SweepAgent, run_states: dict[str, bool]) -> list[dict]:
    """The agent's heartbeat: `run_states` maps the run ids it still runs to True. Returns the
    client's commands: {"type": "run", "run_id", "program", "args"}, {"type": "stop",
    "run_id"}, {"type": "exit"}. Hands out the next point when the agent runs nothing and
    the sweep is PENDING/RUNNING."""
    raise NotImplementedError


def link_run(*, run, sweep_name: str) -> None:
    """Attach `run` (just upserted with `sweep: sweep_name`) to the sweep of that name in the
    run's project: the reserved slot with its run id, else a new MANUAL slot. An unknown
    sweep is ignored (logged)."""
    raise NotImplementedError


def release_lost_agents(sweep: Sweep, now=None) -> int:
    """Agents of `sweep` silent for SWEEP_AGENT_TIMEOUT seconds become CRASHED; their live
    slots LOST (runs crashed, stop requested) and their points queued again. Returns the
    number of agents released."""
    raise NotImplementedError


def release_lost_sweep_agents() -> int:
    """The periodic job: release_lost_agents for every live sweep that has a quiet agent."""
    raise NotImplementedError
