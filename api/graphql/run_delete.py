"""`run.delete()`: the deleteRun mutation, through the same service as the runs table's delete
(its author or an admin of its entity; audited): the run goes to its project's trash."""

from runs.models import Run
from runs.services import RunsError, runs_delete

from .common import ApiError, actor_of, mutation, pk_from_node_id, refusal, visible_project


@mutation.field("deleteRun")
def resolve_delete_run(_, info, input):
    answer = {"clientMutationId": input.get("clientMutationId")}
    run = (
        Run.objects.select_related("project__entity")
        .filter(pk=pk_from_node_id(input["id"], "Run"))
        .first()
    )
    if run is None:
        # Deleting is idempotent: a run that is gone (in the trash, or never there) is done.
        return answer
    project = visible_project(info, run.project.entity.name, run.project.name)
    if project is None:
        raise ApiError("Run not found.", status=404)
    if input.get("deleteArtifacts") and run.logged_artifacts.exists():
        raise ApiError(
            "Deleting a run's artifacts with it is not supported: delete the run alone "
            "(its artifact versions stay, no longer linked to it).",
        )
    try:
        runs_delete(actor=actor_of(info), project=project, runs=Run.objects.filter(pk=run.pk))
    except RunsError as error:
        raise refusal(error) from error
    return answer
