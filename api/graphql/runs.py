"""The Run type, the client's upsertBucket and its alerts."""

import json

from ariadne import ObjectType
from django.core.exceptions import ObjectDoesNotExist

from alerts.services import client_alert_raise
from alerts.tasks import evaluate_run_end
from runs import history as run_history
from runs.models import Run
from runs.services import RunsError, run_state_set
from runs.tracking import (
    may_change_run,
    run_update_by_client,
    run_upsert,
    wrap_config,
)
from sweeps import services as sweep_services

from .common import (
    ApiError,
    actor_of,
    default_entity,
    mutation,
    node_id,
    pk_from_node_id,
    refusal,
    username_of,
    visible_project,
    writable_run,
)

DEFAULT_PROJECT = "uncategorized"


run_type = ObjectType("Run")


@run_type.field("id")
def resolve_run_id(run, _):
    return node_id("Run", run.pk)


@run_type.field("name")
def resolve_run_name(run, _):
    return run.run_id


@run_type.field("displayName")
def resolve_run_display_name(run, _):
    return run.display_name


@run_type.field("description")
def resolve_run_description(run, _):
    return run.notes


def _sweep_link(run):
    """The run's slot in a sweep (sweeps.SweepRun, reverse one-to-one), None outside one.
    Listings select_related("sweep_link__sweep") so this costs no query per run."""
    try:
        return run.sweep_link
    except ObjectDoesNotExist:
        return None


@run_type.field("sweepName")
def resolve_run_sweep(run, _):
    link = _sweep_link(run)
    return link.sweep.name if link is not None else None


@run_type.field("config")
def resolve_run_config(run, _):
    return json.dumps(wrap_config(run.config))


@run_type.field("wandbConfig")
def resolve_run_wandb_config(run, _, keys=None):
    internal = run.config.get("_wandb", {})
    if isinstance(internal, dict) and keys:
        internal = {key: internal[key] for key in keys if key in internal}
    return json.dumps(internal)


@run_type.field("commit")
def resolve_run_commit(run, _):
    return run.git_commit or None


@run_type.field("jobType")
def resolve_run_job_type(run, _):
    return run.job_type or None


@run_type.field("group")
def resolve_run_group(run, _):
    return run.group or None


@run_type.field("readOnly")
def resolve_run_read_only(run, info):
    # The permissions visible_project read: one query per request, not one per run.
    permissions = getattr(run.project, "viewer_entity_permissions", None)
    return not may_change_run(actor_of(info), run, permissions, username=username_of(info))


@run_type.field("updatedAt")
def resolve_run_updated_at(run, _):
    return run.heartbeat_at or run.created_at


@run_type.field("stopped")
@run_type.field("shouldStop")
def resolve_run_stopped(run, _):
    # A sweep stops a run (hyperband, cancel, a lost agent) by flagging its slot; the run
    # polls `stopped` and the agent reads `shouldStop`.
    link = _sweep_link(run)
    return bool(link is not None and link.should_stop)


@run_type.field("exitcode")
def resolve_run_exitcode(run, _):
    return run.exit_code


@run_type.field("failed")
def resolve_run_failed(run, _):
    return run.state in (Run.State.FAILED, Run.State.CRASHED)


@run_type.field("running")
def resolve_run_running(run, _):
    return run.state == Run.State.RUNNING


@run_type.field("systemMetrics")
def resolve_run_system_metrics(run, _):
    return json.dumps(run_history.latest_system_metrics(run))


@run_type.field("summaryMetrics")
def resolve_run_summary(run, _):
    return json.dumps(run.summary)


@run_type.field("historyLineCount")
def resolve_run_history_line_count(run, _):
    return run.history_line_count


@run_type.field("eventsLineCount")
def resolve_run_events_line_count(run, _):
    return run.events_line_count


@run_type.field("logLineCount")
def resolve_run_log_line_count(run, _):
    return run.console_line_count


@run_type.field("historyTail")
@run_type.field("eventsTail")
def resolve_run_tail(*_):
    return "[]"


@run_type.field("user")
def resolve_run_user(run, _):
    return run.author


@run_type.field("projectId")
def resolve_run_project_id(run, _):
    return run.project_id


def run_by_node_id(info, value) -> Run:
    """The public API names a run by its node id; one the key may not see is not found."""
    run = (
        Run.objects.select_related("author", "project__entity")
        .filter(pk=pk_from_node_id(value, "Run"))
        .first()
    )
    project = (
        None if run is None else visible_project(info, run.project.entity.name, run.project.name)
    )
    if project is None:
        raise ApiError("Run not found.", status=404)
    run.project = project
    return run


@mutation.field("upsertBucket")
def resolve_upsert_bucket(_, info, input):
    actor = actor_of(info)
    try:
        if input.get("id") and not input.get("entityName"):
            # The public API's run.update(): the run by its node id.
            run = run_by_node_id(info, input["id"])
            return {
                "bucket": run_update_by_client(
                    actor=actor, run=run, fields=input, username=username_of(info)
                )
            }
        entity_name = input.get("entityName")
        if not entity_name:
            entity = default_entity(actor)
            entity_name = entity.name if entity else ""
        run, created = run_upsert(
            actor=actor,
            entity_name=entity_name,
            project_name=input.get("modelName") or DEFAULT_PROJECT,
            run_id=input.get("name") or "",
            username=username_of(info),
            fields=input,
        )
    except RunsError as error:
        raise refusal(error) from error
    if input.get("sweep"):
        # A run started by a sweep agent (or with settings.sweep_id) joins the sweep; an
        # unknown sweep is ignored there, as W&B does, so the run still logs.
        sweep_services.link_run(run=run, sweep_name=input["sweep"])
    return {"bucket": run, "inserted": created}


@mutation.field("notifyScriptableRunAlert")
def resolve_notify_alert(_, info, input):
    run = writable_run(info, input["entityName"], input["projectName"], input["runName"])
    try:
        client_alert_raise(
            actor=actor_of(info),
            run=run,
            title=input["title"],
            text=input["text"],
            level=input.get("severity") or "INFO",
            wait=input.get("waitDuration"),
            username=username_of(info),
        )
    except RunsError as error:
        raise refusal(error) from error
    return {"success": True}


@mutation.field("updateRunState")
def resolve_update_run_state(_, info, input):
    """`run.update_state("pending" | "failed")`: requeue a run, or mark a lost one failed."""
    run = run_by_node_id(info, input["id"])
    if not may_change_run(actor_of(info), run, username=username_of(info)):
        raise ApiError("Only the run's author and admins can change it.", status=403)
    try:
        run_state_set(run=run, state=input["state"])
    except RunsError as error:
        raise refusal(error) from error
    if run.state == Run.State.FAILED:
        evaluate_run_end(run)
    return {"success": True, "clientMutationId": input.get("clientMutationId")}
