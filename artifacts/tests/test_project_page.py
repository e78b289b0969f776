"""The project page's artifacts: each collection with its newest committed versions, their
aliases, files and the run that logged each, in a fixed number of queries."""

import pytest

from artifacts.models import Artifact, ArtifactAlias, ArtifactCollection, ArtifactFile
from runs.selectors import VERSIONS_SHOWN
from runs.tests.test_runs_table import (
    PAGE_EXTRA_QUERIES,
    QUERIES,
    build_public_project,
    url_of,
)

# The versions (with the run that logged each), their aliases and their files.
ARTIFACT_QUERIES = 3


def add_artifacts(project, versions):
    runs = list(project.runs.order_by("pk")[:versions])
    for name in ("model", "dataset"):
        collection = ArtifactCollection.objects.create(project=project, name=name, type=name)
        for index in range(versions):
            artifact = Artifact.objects.create(
                collection=collection,
                version_index=index,
                digest=f"{name}{index}",
                state=Artifact.State.COMMITTED,
                created_by_run=runs[index % len(runs)],
            )
            ArtifactFile.objects.create(
                artifact=artifact, name="weights.bin", md5="x", size=10, storage_name="x"
            )
            ArtifactAlias.objects.update_or_create(
                collection=collection, alias="latest", defaults={"artifact": artifact}
            )
        Artifact.objects.create(collection=collection, version_index=versions, digest="pending")


@pytest.mark.parametrize("versions", [3, VERSIONS_SHOWN + 3])
@pytest.mark.parametrize("who", ["bob", "anonymous"])
def test_the_project_pages_artifacts_cost_fixed_queries(
    client, db, django_assert_num_queries, versions, who
):
    cast = build_public_project(10)
    add_artifacts(cast["project"], versions)
    if cast[who] is not None:
        client.force_login(cast[who])
    url = url_of(cast["project"])
    # The parameters runs/tests/test_runs_table.py counts QUERIES with.
    params = {"sort": "-summary.loss", "col": ["summary.loss", "config.lr"], "state": "finished"}
    client.get(url, params)  # warm process-wide caches (content types), as in a server

    with django_assert_num_queries(QUERIES[who] + PAGE_EXTRA_QUERIES[who] + ARTIFACT_QUERIES):
        response = client.get(url, params)

    assert response.status_code == 200
    collections = response.context["artifact_collections"]
    assert [c.name for c in collections] == ["dataset", "model"]
    shown = min(versions, VERSIONS_SHOWN)
    assert [len(c.recent_versions) for c in collections] == [shown, shown]
    # Newest first, committed only (each collection's pending version is not listed).
    assert [v.version_index for v in collections[0].recent_versions] == list(
        range(versions - 1, versions - 1 - shown, -1)
    )
