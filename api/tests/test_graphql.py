"""The wandb-compatible GraphQL endpoint, driven with the operation texts the wandb 0.31.0
client sends (recorded against a recording server): authentication, the viewer, run creation
and attribution, the public API's reads and updates, history read-back, alerts and the number
of queries a page of runs costs.

The run-file and storage-link tests are in test_transfer.py, the artifact tests in
test_artifacts_api.py; both reuse OPS and the helpers below."""

import json
from base64 import b64encode
from datetime import UTC, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiKey
from alerts.models import AlertDelivery, AlertEvent
from api.graphql.viewer import FEATURES
from projects.models import Project
from projects.services import project_create
from runs.ingest import apply_file_stream, parse_file_stream
from runs.models import Alert, Run
from runs.tracking import not_writable_message
from teams import services as team_services
from teams.models import Membership
from tests.factories import UserFactory, add_member, api_key_for

pytestmark = pytest.mark.django_db

# The first query text of each operation as the wandb 0.31.0 client sent it (wandb-core for
# the run process, "W&B Public Client 0.31.0" for wandb.Api()), byte for byte. The three
# UpsertBucket shapes are the run process's, run.update()'s and the summary save that follows
# it. RunSampledHistory (run.history(keys=...)), the events form of RunFullHistory
# (run.history(stream="system")) and UseArtifact were not sent in the recording; their texts
# are the 0.31.0 wheel's (wandb/apis/public/runs.py and the wandb-core binary).
OPS = {
    "Viewer": (
        "\n"
        "query Viewer {\n"
        "\tviewer {\n"
        "\t\tid\n"
        "\t\tentity\n"
        "\t\tusername\n"
        "\t\temail\n"
        "\t\tflags\n"
        "\t\tteams {\n"
        "\t\t\tedges {\n"
        "\t\t\t\tnode {\n"
        "\t\t\t\t\tname\n"
        "\t\t\t\t}\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "GetDefaultEntity": ("\nquery GetDefaultEntity {\n  viewer {\n    id\n    entity\n  }\n}\n"),
    "ServerFeaturesQuery": (
        "\n"
        "query ServerFeaturesQuery {\n"
        "\tserverInfo {\n"
        "\t\tfeatures {\n"
        "\t\t\tname\n"
        "\t\t\tisEnabled\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "OrganizationCoreWeaveOrganizationID": (
        "\n"
        "query OrganizationCoreWeaveOrganizationID ($entityName: String!) {\n"
        "\tentity(name: $entityName) {\n"
        "\t\torganization {\n"
        "\t\t\tcoreWeaveOrganizationId\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "UpsertBucket": (
        "\n"
        "mutation UpsertBucket ($id: String, $name: String, $project: String, $entity:"
        " String, $groupName: String, $description: String, $displayName: String,"
        " $notes: String, $commit: String, $config: JSONString, $host: String, $debug:"
        " Boolean, $program: String, $repo: String, $jobType: String, $state: String,"
        " $sweep: String, $tags: [String!], $summaryMetrics: JSONString) {\n"
        "\tupsertBucket(input:"
        " {id:$id,name:$name,groupName:$groupName,modelName:$project,entityName:$entity,d"
        "escription:$description,displayName:$displayName,notes:$notes,config:$config,com"
        "mit:$commit,host:$host,debug:$debug,jobProgram:$program,jobRepo:$repo,jobType:$j"
        "obType,state:$state,sweep:$sweep,tags:$tags,summaryMetrics:$summaryMetrics}) {\n"
        "\t\tbucket {\n"
        "\t\t\tid\n"
        "\t\t\tname\n"
        "\t\t\tdisplayName\n"
        "\t\t\tdescription\n"
        "\t\t\tconfig\n"
        "\t\t\tsweepName\n"
        "\t\t\tproject {\n"
        "\t\t\t\tid\n"
        "\t\t\t\tname\n"
        "\t\t\t\tentity {\n"
        "\t\t\t\t\tid\n"
        "\t\t\t\t\tname\n"
        "\t\t\t\t}\n"
        "\t\t\t}\n"
        "\t\t\thistoryLineCount\n"
        "\t\t}\n"
        "\t\tinserted\n"
        "\t}\n"
        "}\n"
    ),
    "UpsertBucketUpdate": (
        "\n"
        "        mutation UpsertBucket($id: String!, $description: String,"
        " $display_name: String, $notes: String, $tags: [String!], $config: JSONString!,"
        " $groupName: String, $jobType: String) {\n"
        "            upsertBucket(input: {id: $id, description: $description,"
        " displayName: $display_name, notes: $notes, tags: $tags, config: $config,"
        " groupName: $groupName, jobType: $jobType}) {\n"
        "                bucket {\n"
        "                    ...RunFragment\n"
        "                }\n"
        "            }\n"
        "        }\n"
        "        fragment RunFragment on Run {\n"
        "    id\n"
        "    tags\n"
        "    name\n"
        "    displayName\n"
        "    sweepName\n"
        "    state\n"
        "    config\n"
        "    group\n"
        "    jobType\n"
        "    commit\n"
        "    readOnly\n"
        "    createdAt\n"
        "    heartbeatAt\n"
        "    description\n"
        "    notes\n"
        "    systemMetrics\n"
        "    summaryMetrics\n"
        "    historyLineCount\n"
        "    user {\n"
        "        name\n"
        "        username\n"
        "    }\n"
        "    historyKeys\n"
        "}\n"
        "        "
    ),
    "UpsertBucketSummary": (
        "\n"
        "        mutation UpsertBucket( $id: String, $summaryMetrics: JSONString) {\n"
        "            upsertBucket(input: { id: $id, summaryMetrics: $summaryMetrics}) {\n"
        "                bucket { id }\n"
        "            }\n"
        "        }\n"
        "        "
    ),
    "Runs": (
        "#graphql\n"
        "        query Runs($project: String!, $entity: String!, $cursor: String,"
        " $perPage: Int = 50, $order: String, $filters: JSONString) {\n"
        "            project(name: $project, entityName: $entity) {\n"
        "                internalId\n"
        "                runCount(filters: $filters)\n"
        "                readOnly\n"
        "                runs(filters: $filters, after: $cursor, first: $perPage, order:"
        " $order) {\n"
        "                    edges {\n"
        "                        node {\n"
        "                            projectId\n"
        "                            ...LightweightRunFragment\n"
        "                        }\n"
        "                        cursor\n"
        "                    }\n"
        "                    pageInfo {\n"
        "                        endCursor\n"
        "                        hasNextPage\n"
        "                    }\n"
        "                }\n"
        "            }\n"
        "        }\n"
        "        fragment LightweightRunFragment on Run {\n"
        "    id\n"
        "    tags\n"
        "    name\n"
        "    displayName\n"
        "    sweepName\n"
        "    state\n"
        "    group\n"
        "    jobType\n"
        "    commit\n"
        "    readOnly\n"
        "    createdAt\n"
        "    heartbeatAt\n"
        "    description\n"
        "    notes\n"
        "    historyLineCount\n"
        "    user {\n"
        "        name\n"
        "        username\n"
        "    }\n"
        "}\n"
        "        "
    ),
    "Run": (
        "#graphql\n"
        "        query Run($project: String!, $entity: String!, $name: String!) {\n"
        "            project(name: $project, entityName: $entity) {\n"
        "                run(name: $name) {\n"
        "                    projectId\n"
        "                    ...RunFragment\n"
        "                }\n"
        "            }\n"
        "        }\n"
        "        fragment RunFragment on Run {\n"
        "    id\n"
        "    tags\n"
        "    name\n"
        "    displayName\n"
        "    sweepName\n"
        "    state\n"
        "    config\n"
        "    group\n"
        "    jobType\n"
        "    commit\n"
        "    readOnly\n"
        "    createdAt\n"
        "    heartbeatAt\n"
        "    description\n"
        "    notes\n"
        "    systemMetrics\n"
        "    summaryMetrics\n"
        "    historyLineCount\n"
        "    user {\n"
        "        name\n"
        "        username\n"
        "    }\n"
        "    historyKeys\n"
        "}\n"
        "        "
    ),
    "RunFullHistory": (
        "\n"
        "        query RunFullHistory($project: String!, $entity: String!, $name:"
        " String!, $samples: Int) {\n"
        "            project(name: $project, entityName: $entity) {\n"
        "                run(name: $name) { history(samples: $samples) }\n"
        "            }\n"
        "        }\n"
        "        "
    ),
    "RunFullEvents": (
        "\n"
        "        query RunFullHistory($project: String!, $entity: String!, $name:"
        " String!, $samples: Int) {\n"
        "            project(name: $project, entityName: $entity) {\n"
        "                run(name: $name) { events(samples: $samples) }\n"
        "            }\n"
        "        }\n"
        "        "
    ),
    "RunSampledHistory": (
        "\n"
        "        query RunSampledHistory($project: String!, $entity: String!, $name:"
        " String!, $specs: [JSONString!]!) {\n"
        "            project(name: $project, entityName: $entity) {\n"
        "                run(name: $name) { sampledHistory(specs: $specs) }\n"
        "            }\n"
        "        }\n"
        "        "
    ),
    "RunHistoryKeys": (
        "\n"
        "        query RunHistoryKeys($project: String!, $entity: String!, $name:"
        " String!) {\n"
        "            project(name: $project, entityName: $entity) {\n"
        "                run(name: $name) { historyKeys }\n"
        "            }\n"
        "        }\n"
        "        "
    ),
    "RunParquetHistory": (
        "\n"
        "query RunParquetHistory ($entity: String!, $project: String!, $runName:"
        " String!, $liveKeys: [String!]!) {\n"
        "\tproject(name: $project, entityName: $entity) {\n"
        "\t\trun(name: $runName) {\n"
        "\t\t\tparquetHistory(liveKeys: $liveKeys) {\n"
        "\t\t\t\tparquetUrls\n"
        "\t\t\t\tliveData\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "HistoryPage": (
        "\n"
        "query HistoryPage ($entity: String!, $project: String!, $run: String!,"
        " $minStep: Int64!, $maxStep: Int64!, $pageSize: Int!) {\n"
        "\tproject(name: $project, entityName: $entity) {\n"
        "\t\trun(name: $run) {\n"
        "\t\t\thistory(minStep: $minStep, maxStep: $maxStep, samples: $pageSize)\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "CreateRunFiles": (
        "\n"
        "mutation CreateRunFiles ($entity: String!, $project: String!, $run: String!,"
        " $files: [String!]!) {\n"
        "\tcreateRunFiles(input:"
        " {entityName:$entity,projectName:$project,runName:$run,files:$files}) {\n"
        "\t\trunID\n"
        "\t\tuploadHeaders\n"
        "\t\tfiles {\n"
        "\t\t\tname\n"
        "\t\t\tuploadUrl\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "RunFiles": (
        "#graphql\n"
        "            query RunFiles($project: String!, $entity: String!, $name: String!,"
        " $fileCursor: String,\n"
        "                $fileLimit: Int = 50, $fileNames: [String] = [], $upload:"
        " Boolean = false, $pattern: String) {\n"
        "                project(name: $project, entityName: $entity) {\n"
        "                    internalId\n"
        "                    run(name: $name) {\n"
        "                        fileCount\n"
        "                        ...RunFilesFragment\n"
        "                    }\n"
        "                }\n"
        "            }\n"
        "            fragment RunFilesFragment on Run {\n"
        "    files(names: $fileNames, after: $fileCursor, first: $fileLimit, pattern:"
        " $pattern) {\n"
        "        edges {\n"
        "            node {\n"
        "                id\n"
        "                name\n"
        "                url(upload: $upload)\n"
        "                directUrl\n"
        "                sizeBytes\n"
        "                mimetype\n"
        "                updatedAt\n"
        "                md5\n"
        "            }\n"
        "            cursor\n"
        "        }\n"
        "        pageInfo {\n"
        "            endCursor\n"
        "            hasNextPage\n"
        "        }\n"
        "    }\n"
        "}\n"
        "            "
    ),
    "NotifyScriptableRunAlert": (
        "\n"
        "mutation NotifyScriptableRunAlert ($entityName: String!, $projectName: String!,"
        " $runName: String!, $title: String!, $text: String!, $severity: AlertSeverity ="
        " INFO, $waitDuration: Duration) {\n"
        "\tnotifyScriptableRunAlert(input:"
        " {entityName:$entityName,projectName:$projectName,runName:$runName,title:$title,"
        "text:$text,severity:$severity,waitDuration:$waitDuration}) {\n"
        "\t\tsuccess\n"
        "\t}\n"
        "}\n"
    ),
    "ArtifactType": (
        "\n"
        "query ArtifactType($entity: String, $project: String, $name: String!) {\n"
        "  project(name: $project, entityName: $entity) {\n"
        "    artifact(name: $name) {\n"
        "      artifactType {\n"
        "        name\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
    ),
    "CreateArtifact": (
        "\n"
        "mutation CreateArtifact ($input: CreateArtifactInput!) {\n"
        "\tcreateArtifact(input: $input) {\n"
        "\t\t... CreatedArtifact\n"
        "\t}\n"
        "}\n"
        "fragment CreatedArtifact on CreateArtifactPayload {\n"
        "\tartifact {\n"
        "\t\tid\n"
        "\t\tstate\n"
        "\t\tartifactSequence {\n"
        "\t\t\tlatestArtifact {\n"
        "\t\t\t\tid\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "CreateArtifactManifest": (
        "\n"
        "mutation CreateArtifactManifest ($artifactID: ID!, $baseArtifactID: ID, $name:"
        " String!, $digest: String!, $entityName: String!, $projectName: String!,"
        " $runName: String!, $manifestType: ArtifactManifestType!, $includeUpload:"
        " Boolean!) {\n"
        "\tcreateArtifactManifest(input:"
        " {artifactID:$artifactID,baseArtifactID:$baseArtifactID,name:$name,digest:$diges"
        "t,entityName:$entityName,projectName:$projectName,runName:$runName,type:$manifes"
        "tType}) {\n"
        "\t\tartifactManifest {\n"
        "\t\t\tid\n"
        "\t\t\tfile {\n"
        "\t\t\t\tid\n"
        "\t\t\t\tuploadUrl @include(if: $includeUpload)\n"
        "\t\t\t\tuploadHeaders @include(if: $includeUpload)\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "CreateArtifactFiles": (
        "\n"
        "mutation CreateArtifactFiles ($input: CreateArtifactFilesInput!) {\n"
        "\tcreateArtifactFiles(input: $input) {\n"
        "\t\tfiles {\n"
        "\t\t\tedges {\n"
        "\t\t\t\tnode {\n"
        "\t\t\t\t\tstoragePath\n"
        "\t\t\t\t\tuploadUrl\n"
        "\t\t\t\t\tuploadHeaders\n"
        "\t\t\t\t\tuploadMultipartUrls {\n"
        "\t\t\t\t\t\tuploadID\n"
        "\t\t\t\t\t\tuploadUrlParts {\n"
        "\t\t\t\t\t\t\tpartNumber\n"
        "\t\t\t\t\t\t\tuploadUrl\n"
        "\t\t\t\t\t\t}\n"
        "\t\t\t\t\t}\n"
        "\t\t\t\t\tartifact {\n"
        "\t\t\t\t\t\tid\n"
        "\t\t\t\t\t}\n"
        "\t\t\t\t}\n"
        "\t\t\t}\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "CommitArtifact": (
        "\n"
        "mutation CommitArtifact ($artifactID: ID!) {\n"
        "\tcommitArtifact(input: {artifactID:$artifactID}) {\n"
        "\t\tartifact {\n"
        "\t\t\tid\n"
        "\t\t\tdigest\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "UseArtifact": (
        "mutation UseArtifact ($input: UseArtifactInput!) {\n"
        "\tuseArtifact(input: $input) {\n"
        "\t\tartifact {\n"
        "\t\t\tid\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
    ),
    "ArtifactMembershipByName": (
        "query ArtifactMembershipByName ($entity: String!, $project: String!, $name:"
        " String!, $includeAliases: Boolean = false) {\n"
        "\tproject(name: $project, entityName: $entity) {\n"
        "\t\tartifactCollectionMembership(name: $name) {\n"
        "\t\t\t... ArtifactMembershipFragment\n"
        "\t\t}\n"
        "\t}\n"
        "}\n"
        "fragment ArtifactAliasFragment on ArtifactAlias {\n"
        "\t__typename\n"
        "\tid\n"
        "\talias\n"
        "}\n"
        "fragment ArtifactFragment on Artifact {\n"
        "\t__typename\n"
        "\tid\n"
        "\tartifactSequence {\n"
        "\t\t... SourceCollectionInfoFragment\n"
        "\t}\n"
        "\tversionIndex\n"
        "\tartifactType {\n"
        "\t\tname\n"
        "\t}\n"
        "\tdescription\n"
        "\tmetadata\n"
        "\tttlDurationSeconds\n"
        "\tttlIsInherited\n"
        "\ttags {\n"
        "\t\t... TagFragment\n"
        "\t}\n"
        "\thistoryStep\n"
        "\tstate\n"
        "\tsize\n"
        "\tdigest\n"
        "\tcommitHash\n"
        "\tfileCount\n"
        "\tcreatedAt\n"
        "\tupdatedAt\n"
        "\taliases @include(if: $includeAliases) {\n"
        "\t\tartifactCollection {\n"
        "\t\t\t... CollectionInfoFragment\n"
        "\t\t}\n"
        "\t\t... ArtifactAliasFragment\n"
        "\t}\n"
        "}\n"
        "fragment ArtifactMembershipFragment on ArtifactCollectionMembership {\n"
        "\t__typename\n"
        "\tid\n"
        "\tversionIndex\n"
        "\tcreatedAt\n"
        "\taliases {\n"
        "\t\t... ArtifactAliasFragment\n"
        "\t}\n"
        "\tartifactCollection {\n"
        "\t\t... CollectionInfoFragment\n"
        "\t}\n"
        "\tartifact {\n"
        "\t\t... ArtifactFragment\n"
        "\t}\n"
        "}\n"
        "fragment CollectionInfoFragment on ArtifactCollection {\n"
        "\t__typename\n"
        "\tname\n"
        "\tproject {\n"
        "\t\t... ProjectInfoFragment\n"
        "\t}\n"
        "}\n"
        "fragment ProjectInfoFragment on Project {\n"
        "\tid\n"
        "\tinternalId\n"
        "\tname\n"
        "\tentity {\n"
        "\t\tname\n"
        "\t}\n"
        "}\n"
        "fragment SourceCollectionInfoFragment on ArtifactSequence {\n"
        "\t__typename\n"
        "\tname\n"
        "\tproject {\n"
        "\t\t... ProjectInfoFragment\n"
        "\t}\n"
        "}\n"
        "fragment TagFragment on Tag {\n"
        "\t__typename\n"
        "\tid\n"
        "\tname\n"
        "}\n"
    ),
    "FetchArtifactManifest": (
        "\n"
        "query FetchArtifactManifest($id: ID!) {\n"
        "  artifact(id: $id) {\n"
        "    currentManifest {\n"
        "      ...DeferredManifestFragment\n"
        "    }\n"
        "  }\n"
        "}\n"
        "\n"
        "fragment DeferredManifestFragment on ArtifactManifest {\n"
        "  file {\n"
        "    directUrl\n"
        "  }\n"
        "}\n"
    ),
    "GetArtifactMembershipFileUrls": (
        "\n"
        "query GetArtifactMembershipFileUrls($entity: String!, $project: String!,"
        " $collection: String!, $alias: String!, $cursor: String, $perPage: Int) {\n"
        "  project(name: $project, entityName: $entity) {\n"
        "    artifactCollection(name: $collection) {\n"
        "      __typename\n"
        "      artifactMembership(aliasName: $alias) {\n"
        "        files(after: $cursor, first: $perPage) {\n"
        "          pageInfo {\n"
        "            ...PageInfoFragment\n"
        "          }\n"
        "          edges {\n"
        "            node {\n"
        "              ...FileWithUrlFragment\n"
        "            }\n"
        "          }\n"
        "        }\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
        "\n"
        "fragment FileWithUrlFragment on File {\n"
        "  __typename\n"
        "  name\n"
        "  directUrl\n"
        "}\n"
        "\n"
        "fragment PageInfoFragment on PageInfo {\n"
        "  __typename\n"
        "  endCursor\n"
        "  hasNextPage\n"
        "}\n"
    ),
}

RUN_CONFIG = {
    "epochs": {"value": 5},
    "arch": {"value": {"layers": 3}},
    "_wandb": {
        "value": {
            "t": {"4": "3.12.1", "3": [13, 15, 16], "5": "0.31.0", "12": "0.31.0"},
            "m": [],
            "cli_version": "0.31.0",
            "python_version": "3.12.1",
        }
    },
    "lr": {"value": 0.01},
}

# What wandb.init() sent (recorded), apart from the entity, project and run id.
CORE_UPSERT_VARIABLES = {
    "id": None,
    "name": "iehvayav",
    "project": "demo",
    "entity": "example-team",
    "groupName": "g1",
    "description": None,
    "displayName": "run-a",
    "notes": "some notes",
    "commit": None,
    "config": json.dumps(RUN_CONFIG, separators=(",", ":")),
    "host": "vm",
    "debug": None,
    "program": "/work/shared/tools/wandb-recorder/client_run.py",
    "repo": None,
    "jobType": "train",
    "state": None,
    "sweep": None,
    "tags": ["t1", "t2"],
    "summaryMetrics": None,
}


# Helpers (imported by the other API test modules)


def basic(key, username="api"):
    return "Basic " + b64encode(f"{username}:{key}".encode()).decode()


def gql(client, key, op, variables=None, *, username="", query=None, **body):
    """POST one operation as the client does: Basic "api:<key>", X-Wandb-Username."""
    payload = {"query": OPS[op] if query is None else query, "variables": variables, **body}
    headers = {"X-Wandb-Username": username, "X-Wandb-User-Email": ""}
    if key:
        headers["Authorization"] = basic(key)
    return client.post(
        "/graphql", json.dumps(payload), content_type="application/json", headers=headers
    )


def ok(response):
    """The `data` of a successful answer."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def refused(response, status):
    """The first error message of a refusal with this status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert isinstance(errors, list) and errors
    assert all(isinstance(error["message"], str) and error["message"] for error in errors)
    return errors[0]["message"]


def core_upsert(client, key, *, username="", **variables):
    """wandb.init()'s UpsertBucket; keyword arguments replace the recorded variables."""
    return gql(
        client, key, "UpsertBucket", {**CORE_UPSERT_VARIABLES, **variables}, username=username
    )


def node_id(type_name, pk):
    return b64encode(f"{type_name}:{pk}".encode()).decode()


def run_vars(run, name_key="name"):
    return {"entity": run.project.entity.name, "project": run.project.name, name_key: run.run_id}


def ingest(run, *, history=(), events=(), summary=None, offset=0, complete=False, exitcode=None):
    """What file_stream does with one request body (both streams starting at `offset`)."""
    files = {}
    if history:
        lines = [json.dumps(row) for row in history]
        files["wandb-history.jsonl"] = {"offset": offset, "content": lines}
    if events:
        lines = [json.dumps(row) for row in events]
        files["wandb-events.jsonl"] = {"offset": offset, "content": lines}
    if summary is not None:
        files["wandb-summary.json"] = {"offset": 0, "content": [json.dumps(summary)]}
    payload = {"files": files, "complete": complete, "exitcode": exitcode}
    apply_file_stream(run, parse_file_stream(payload))
    run.refresh_from_db()
    return run


# Fixtures


@pytest.fixture
def sam_key(sam_and_key):
    return sam_and_key[1]


@pytest.fixture
def demo(team, alice):
    return project_create(entity=team, name="demo", creator=alice)


@pytest.fixture
def make_run(demo):
    """A run row in example-team/demo (or `project`), as the client would have left it."""
    counter = iter(range(1000))

    def make(author, run_id=None, project=None, **fields):
        n = next(counter)
        fields.setdefault("created_at", timezone.now() - timedelta(hours=1) + timedelta(seconds=n))
        return Run.objects.create(
            project=project or demo,
            author=author,
            run_id=run_id or f"run{n:03d}",
            **fields,
        )

    return make


# Transport and authentication


def test_without_a_key_the_answer_is_401_json(client, alice):
    response = gql(client, None, "Viewer")

    assert "API key" in refused(response, 401)


@pytest.mark.parametrize(
    "authorization",
    [
        lambda key: basic("ts-" + "0" * 48),
        lambda key: basic(key, username="alice"),  # the Basic user must be "api"
        lambda key: basic(key + "x"),
        lambda key: "Bearer ts-" + "0" * 48,
        lambda key: "Basic !!!not-base64",
        lambda key: "Token " + key,
    ],
    ids=[
        "unknown-key",
        "basic-user-not-api",
        "altered-key",
        "unknown-bearer",
        "not-base64",
        "other-scheme",
    ],
)
def test_with_a_bad_key_the_answer_is_401_json(client, alice_key, authorization):
    response = client.post(
        "/graphql",
        json.dumps({"query": OPS["Viewer"]}),
        content_type="application/json",
        headers={"Authorization": authorization(alice_key)},
    )

    assert "API key" in refused(response, 401)
    assert "data" not in response.json()


def test_a_key_of_a_deactivated_user_is_401(client, alice, alice_key):
    alice.is_active = False
    alice.save()

    refused(gql(client, alice_key, "Viewer"), 401)


def test_a_bearer_key_is_accepted_too(client, alice_key):
    response = client.post(
        "/graphql",
        json.dumps({"query": OPS["GetDefaultEntity"], "variables": {}}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {alice_key}"},
    )

    assert ok(response)["viewer"]["entity"] == "alice"


def test_get_is_405_json(client, alice_key):
    response = client.get("/graphql", headers={"Authorization": basic(alice_key)})

    assert "POST" in refused(response, 405)
    assert response["Allow"] == "POST"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"query": "query Viewer { viewer { id "}, "Syntax Error"),
        ({"query": "query Viewer { viewer { id nickname } }"}, "nickname"),
        ({"query": "query { nothing }"}, "nothing"),
        ({"query": OPS["HistoryPage"], "variables": {"entity": "x"}}, "$project"),
        (
            {"query": OPS["NotifyScriptableRunAlert"], "variables": {"severity": "FATAL"}},
            "FATAL",
        ),
        ({"query": "{ __schema { types { name } } }"}, "introspection"),
    ],
)
def test_an_operation_that_does_not_fit_the_schema_is_400_with_errors(
    client, alice_key, body, fragment
):
    response = client.post(
        "/graphql",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": basic(alice_key)},
    )

    refused(response, 400)
    messages = " ".join(error["message"] for error in response.json()["errors"])
    assert fragment.lower() in messages.lower()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"query"'])
def test_a_body_that_is_not_a_json_object_is_400(client, alice_key, body):
    response = client.post(
        "/graphql",
        body,
        content_type="application/json",
        headers={"Authorization": basic(alice_key)},
    )

    assert "JSON" in refused(response, 400)


def test_an_empty_operation_name_means_the_only_operation(client, alice_key):
    # The public client sends operationName "" with its one-operation documents.
    response = gql(client, alice_key, "GetDefaultEntity", {}, operationName="")

    assert ok(response)["viewer"]["entity"] == "alice"


def test_an_operation_name_picks_one_of_several(client, alice_key):
    document = OPS["GetDefaultEntity"] + OPS["ServerFeaturesQuery"]

    data = ok(gql(client, alice_key, None, query=document, operationName="ServerFeaturesQuery"))

    assert [feature["name"] for feature in data["serverInfo"]["features"]] == list(FEATURES)
    refused(gql(client, alice_key, None, query=document), 400)  # which one?


def test_server_features_change_no_upload_path_so_the_client_takes_its_plainest(client, alice_key):
    features = ok(gql(client, alice_key, "ServerFeaturesQuery"))["serverInfo"]["features"]

    assert features == [
        {"name": "TOTAL_COUNT_IN_FILE_CONNECTION", "isEnabled": True},
        {"name": "UPDATE_RUN_STATE", "isEnabled": True},
        {"name": "SWEEPS_QUERY_FILTERING", "isEnabled": True},
    ]
    assert not {"FILESTREAM_GZIP", "MARK_RUN_FILES_UPLOADED"} & set(FEATURES)


SERVER_INFO = """
query Viewer {
  viewer { id entity }
  serverInfo {
    cliVersionInfo
    latestLocalVersionInfo { outOfDate latestVersionString versionOnThisInstanceString }
  }
}
"""


def test_server_info_names_the_client_versions_so_the_client_caches_it(client, alice_key):
    info = ok(gql(client, alice_key, None, query=SERVER_INFO))["serverInfo"]

    versions = info["cliVersionInfo"]
    assert versions == {"min_cli_version": "0.28.0", "max_cli_version": "0.31.0"}
    assert info["latestLocalVersionInfo"] is None


def test_organization_query_answers_no_organization(client, team, alice_key, charlie_key):
    variables = {"entityName": "example-team"}

    assert ok(gql(client, alice_key, "OrganizationCoreWeaveOrganizationID", variables)) == {
        "entity": {"organization": None}
    }
    # An outsider does not learn that the private team exists.
    assert ok(gql(client, charlie_key, "OrganizationCoreWeaveOrganizationID", variables)) == {
        "entity": None
    }


def test_a_key_records_when_it_was_last_used(client, alice):
    api_key, raw = ApiKey.create_for(user=alice, label="tests")

    ok(gql(client, raw, "Viewer"))

    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_the_telemetry_probe_is_404(client):
    response = client.post("/sdk/otel/v1/metrics", b"", content_type="application/x-protobuf")

    assert response.status_code == 404
    assert response.json()["errors"]


# Viewer


def test_viewer_is_the_key_owner_with_the_team_they_joined_as_default_entity(
    client, team, alice, alice_key
):
    data = ok(gql(client, alice_key, "Viewer"))

    assert data == {
        "viewer": {
            "id": node_id("User", alice.pk),
            # Creating (joining) the team made it alice's default entity.
            "entity": "example-team",
            "username": "alice",
            "email": "alice@example.com",
            "flags": "{}",
            # As W&B counts them: the personal entity first, then the teams.
            "teams": {"edges": [{"node": {"name": "alice"}}, {"node": {"name": "example-team"}}]},
        }
    }


def test_viewer_entity_follows_the_chosen_default_entity(client, team, alice, alice_key):
    team_services.default_entity_set(user=alice, entity=alice.personal_entity)

    assert ok(gql(client, alice_key, "Viewer"))["viewer"]["entity"] == "alice"
    assert ok(gql(client, alice_key, "GetDefaultEntity", {}))["viewer"]["entity"] == "alice"

    team_services.default_entity_set(user=alice, entity=team)

    assert ok(gql(client, alice_key, "GetDefaultEntity", {}))["viewer"]["entity"] == "example-team"


def test_joining_a_team_makes_it_the_viewer_entity(client, team, charlie, charlie_key):
    before = ok(gql(client, charlie_key, "Viewer"))["viewer"]
    assert (before["entity"], before["teams"]["edges"]) == (
        "charlie",
        [{"node": {"name": "charlie"}}],
    )

    add_member(team, charlie)

    after = ok(gql(client, charlie_key, "Viewer"))["viewer"]
    assert after["entity"] == "example-team"
    assert after["teams"]["edges"] == [
        {"node": {"name": "charlie"}},
        {"node": {"name": "example-team"}},
    ]


def test_viewer_of_a_service_account_is_its_team(client, sam, sam_key):
    viewer = ok(gql(client, sam_key, "Viewer"))["viewer"]

    assert viewer["entity"] == "example-team"
    assert viewer["username"] == "sam@example-team"
    assert viewer["teams"]["edges"] == [{"node": {"name": "example-team"}}]
    assert not viewer["email"]


# UpsertBucket from the run process (wandb.init)


def test_upsert_creates_the_run_in_an_existing_project(client, demo, alice, alice_key):
    data = ok(core_upsert(client, alice_key))

    run = Run.objects.get()
    assert data["upsertBucket"] == {
        "bucket": {
            "id": node_id("Run", run.pk),
            "name": "iehvayav",
            "displayName": "run-a",
            "description": "some notes",
            "config": data["upsertBucket"]["bucket"]["config"],
            "sweepName": None,
            "project": {
                "id": node_id("Project", demo.pk),
                "name": "demo",
                "entity": {"id": node_id("Entity", demo.entity_id), "name": "example-team"},
            },
            "historyLineCount": 0,
        },
        "inserted": True,
    }
    assert (run.project, run.run_id, run.author) == (demo, "iehvayav", alice)
    assert run.state == Run.State.RUNNING
    assert run.heartbeat_at is not None
    assert Project.objects.count() == 1


def test_upsert_stores_what_the_client_sends(client, demo, alice_key):
    ok(
        core_upsert(
            client,
            alice_key,
            commit="0123456789abcdef0123456789abcdef01234567",
            repo="git@github.com:example/repo.git",
        )
    )

    run = Run.objects.get()
    # The client's {"key": {"value": v}} wrapping is removed...
    assert run.config == {
        "epochs": 5,
        "arch": {"layers": 3},
        "_wandb": RUN_CONFIG["_wandb"]["value"],
        "lr": 0.01,
    }
    assert run.name == "run-a"
    assert run.tags == ["t1", "t2"]
    assert run.notes == "some notes"
    assert run.group == "g1"
    assert run.job_type == "train"
    assert run.host == "vm"
    assert run.program == "/work/shared/tools/wandb-recorder/client_run.py"
    assert run.git_commit == "0123456789abcdef0123456789abcdef01234567"
    assert run.git_remote == "git@github.com:example/repo.git"


def test_config_is_read_back_wrapped(client, demo, alice_key):
    data = ok(core_upsert(client, alice_key, config=json.dumps({"lr": {"value": 0.1}})))

    assert json.loads(data["upsertBucket"]["bucket"]["config"]) == {
        "lr": {"value": 0.1, "desc": None}
    }
    assert Run.objects.get().config == {"lr": 0.1}
    run = ok(gql(client, alice_key, "Run", run_vars(Run.objects.get())))["project"]["run"]
    assert json.loads(run["config"]) == {"lr": {"value": 0.1, "desc": None}}


def test_a_second_upsert_updates_the_same_run(client, demo, alice_key):
    first = ok(core_upsert(client, alice_key))["upsertBucket"]
    # Later the client sends only the run id, project, entity and the grown config.
    config = {**RUN_CONFIG, "extra": {"value": [1, 2]}}
    second = ok(
        gql(
            client,
            alice_key,
            "UpsertBucket",
            {
                "name": "iehvayav",
                "project": "demo",
                "entity": "example-team",
                "config": json.dumps(config),
            },
        )
    )["upsertBucket"]

    assert first["inserted"] is True
    assert second["inserted"] is False
    assert second["bucket"]["id"] == first["bucket"]["id"]
    run = Run.objects.get()
    assert run.config["extra"] == [1, 2]
    # What the second call left out stays.
    assert (run.name, run.tags, run.notes, run.group) == ("run-a", ["t1", "t2"], "some notes", "g1")


def test_upsert_creates_a_missing_project_for_a_member(client, team, bob, bob_key):
    data = ok(core_upsert(client, bob_key, project="fresh"))

    project = Project.objects.get(entity=team, name="fresh")
    assert project.created_by == bob
    assert data["upsertBucket"]["bucket"]["project"]["name"] == "fresh"
    assert Run.objects.get().project == project


def test_upsert_without_an_entity_logs_to_the_default_entity(client, team, charlie, charlie_key):
    data = ok(core_upsert(client, charlie_key, entity=None))

    assert data["upsertBucket"]["bucket"]["project"]["entity"]["name"] == "charlie"
    assert Run.objects.get().project.entity == charlie.personal_entity


def test_an_outsider_cannot_log_and_learns_nothing_about_the_entity(client, demo, charlie_key):
    private = refused(core_upsert(client, charlie_key, project="new-one"), 403)
    missing = refused(core_upsert(client, charlie_key, entity="no-such-team"), 403)

    assert private == not_writable_message("example-team")
    # The same words whether the entity exists or not.
    assert private.replace("example-team", "X") == missing.replace("no-such-team", "X")
    assert not Run.objects.exists()
    assert not Project.objects.filter(name="new-one").exists()


def test_a_service_account_logs_for_the_member_it_names(client, demo, bob, sam_key):
    data = ok(core_upsert(client, sam_key, username="bob"))

    assert data["upsertBucket"]["inserted"] is True
    assert Run.objects.get().author == bob
    # The service account keeps writing to the run it logged for bob.
    again = ok(core_upsert(client, sam_key, username="bob", notes="later"))
    assert again["upsertBucket"]["inserted"] is False
    assert Run.objects.get().notes == "later"


def test_a_service_account_cannot_change_a_run_a_member_logged_himself(
    client, demo, bob, bob_key, sam, sam_key
):
    ok(core_upsert(client, bob_key, notes="bob's own"))
    run = Run.objects.get()
    assert run.logged_by == bob
    config = run.config

    for response in (
        core_upsert(client, sam_key, notes="forged", config='{"lr": {"value": 9}}'),
        gql(client, sam_key, "CreateRunFiles", {**run_vars(run, "run"), "files": ["x.txt"]}),
    ):
        refused(response, 403)
    run.refresh_from_db()
    assert (run.notes, run.config, run.files.count()) == ("bob's own", config, 0)
    # Named through WANDB_USERNAME, the service account acts for bob on bob's runs.
    ok(core_upsert(client, sam_key, username="bob", notes="for bob"))
    run.refresh_from_db()
    assert run.notes == "for bob"


def test_a_service_account_no_longer_acts_for_a_member_who_left(client, demo, team, bob, sam_key):
    ok(core_upsert(client, sam_key, username="bob"))
    team_services.membership_remove(membership=team.memberships.get(user=bob))

    refused(core_upsert(client, sam_key, notes="after"), 403)

    assert Run.objects.get().notes != "after"


def test_a_service_account_reads_its_runs_as_writable_and_others_as_read_only(
    client, demo, bob, bob_key, sam_key
):
    ok(core_upsert(client, bob_key, name="bobs"))
    ok(core_upsert(client, sam_key, username="bob", name="for-bob"))

    runs = ok(gql(client, sam_key, "Runs", {"entity": "example-team", "project": "demo"}))

    read_only = {
        edge["node"]["name"]: edge["node"]["readOnly"] for edge in runs["project"]["runs"]["edges"]
    }
    assert read_only == {"bobs": True, "for-bob": False}


def test_a_service_account_without_a_username_logs_as_itself(client, demo, sam, sam_key):
    ok(core_upsert(client, sam_key))

    assert Run.objects.get().author == sam


def test_a_service_account_cannot_name_a_non_member(client, team, charlie, sam_key):
    message = refused(core_upsert(client, sam_key, username="charlie", project="new-one"), 403)

    assert "charlie" in message
    assert "not a member" in message
    assert "WANDB_USERNAME" in message
    assert not Run.objects.exists()
    assert not Project.objects.filter(name="new-one").exists()


def test_a_service_account_cannot_name_a_nonexistent_user(client, team, sam_key):
    message = refused(core_upsert(client, sam_key, username="nobody"), 403)

    assert "nobody" in message
    assert not Run.objects.exists()


def test_a_person_cannot_log_in_someone_elses_name(client, demo, alice, bob, alice_key):
    message = refused(core_upsert(client, alice_key, username="bob"), 403)

    assert "WANDB_USERNAME" in message and "bob" in message
    assert not Run.objects.exists()
    # Their own name is fine.
    ok(core_upsert(client, alice_key, username="alice"))
    assert Run.objects.get().author == alice


def test_a_member_cannot_take_over_someone_elses_run(client, demo, alice, alice_key, bob_key):
    ok(core_upsert(client, alice_key))

    refused(core_upsert(client, bob_key, notes="bob was here"), 403)

    run = Run.objects.get()
    assert (run.author, run.notes) == (alice, "some notes")


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"config": "{not json"}, "config"),
        ({"config": "[1, 2]"}, "config"),
        ({"name": ""}, "run id"),
        ({"name": "x" * 129}, "run id"),
        ({"displayName": "x" * 300}, "displayName"),
        ({"project": "no spaces allowed"}, "letters, digits"),
    ],
)
def test_upsert_refuses_bad_input_with_400(client, demo, alice_key, variables, fragment):
    message = refused(core_upsert(client, alice_key, **variables), 400)

    assert fragment.lower() in message.lower()
    assert not Run.objects.exists()


# The public API: Runs, Run and run.update()


def runs_page(client, key, order="+created_at", filters="{}", per_page=50, cursor=None, **more):
    variables = {
        "cursor": cursor,
        "entity": "example-team",
        "filters": filters,
        "order": order,
        "perPage": per_page,
        "project": "demo",
        **more,
    }
    return ok(gql(client, key, "Runs", variables))["project"]


def names(page):
    return [edge["node"]["name"] for edge in page["runs"]["edges"]]


@pytest.fixture
def five_runs(make_run, alice, bob):
    """run000 .. run004, oldest first: alice's finished, bob's running."""
    return [
        make_run(alice, state="finished", tags=["a", "shared"], group="g1", name="first"),
        make_run(bob, state="running", tags=["b"], group="g2", job_type="eval"),
        make_run(alice, state="finished", tags=["shared"], group="g1"),
        make_run(bob, state="failed", tags=[], group="g2"),
        make_run(alice, state="running", tags=["a"], name="last"),
    ]


def test_runs_lists_a_project_in_either_order(client, five_runs, alice, alice_key):
    ascending = runs_page(client, alice_key, order="+created_at")
    descending = runs_page(client, alice_key, order="-created_at")
    default = runs_page(client, alice_key, order=None)

    ids = [run.run_id for run in five_runs]
    assert names(ascending) == ids
    assert names(descending) == ids[::-1]
    assert names(default) == ids[::-1]
    assert ascending["runCount"] == 5
    assert ascending["readOnly"] is False
    assert ascending["internalId"] == str(five_runs[0].project_id)
    first = ascending["runs"]["edges"][0]["node"]
    assert first == {
        "projectId": five_runs[0].project_id,
        "id": node_id("Run", five_runs[0].pk),
        "tags": ["a", "shared"],
        "name": "run000",
        "displayName": "first",
        "sweepName": None,
        "state": "finished",
        "group": "g1",
        "jobType": None,
        "commit": None,
        "readOnly": False,
        "createdAt": five_runs[0].created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "heartbeatAt": None,
        "description": "",
        "notes": "",
        "historyLineCount": 0,
        "user": {"name": "alice", "username": "alice"},
    }


def test_runs_pages_with_per_page_and_the_cursor(client, five_runs, alice_key):
    seen, cursor, pages = [], None, 0
    while True:
        page = runs_page(client, alice_key, per_page=2, cursor=cursor)
        pages += 1
        seen += names(page)
        assert len(names(page)) <= 2
        if not page["runs"]["pageInfo"]["hasNextPage"]:
            break
        cursor = page["runs"]["pageInfo"]["endCursor"]
        assert cursor == page["runs"]["edges"][-1]["cursor"]

    assert pages == 3
    assert seen == [run.run_id for run in five_runs]
    exact = runs_page(client, alice_key, per_page=5)
    assert exact["runs"]["pageInfo"]["hasNextPage"] is False
    assert refused(
        gql(
            client,
            alice_key,
            "Runs",
            {"entity": "example-team", "project": "demo", "cursor": "nope"},
        ),
        400,
    )


def test_runs_list_shows_quiet_runs_crashed(client, make_run, alice, alice_key, settings):
    settings.RUN_HEARTBEAT_TIMEOUT = 600
    now = timezone.now()
    make_run(alice, "quiet", state="running", heartbeat_at=now - timedelta(seconds=660))
    make_run(alice, "live", state="running", heartbeat_at=now - timedelta(seconds=30))

    page = runs_page(client, alice_key, filters=json.dumps({"state": "running"}))

    assert page["runCount"] == 1
    assert [edge["node"]["name"] for edge in page["runs"]["edges"]] == ["live"]
    assert Run.objects.get(run_id="quiet").state == Run.State.CRASHED


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [0, 1, 2, 3, 4]),
        ({"state": "finished"}, [0, 2]),
        ({"state": {"$in": ["running", "failed"]}}, [1, 3, 4]),
        ({"tags": {"$in": ["shared"]}}, [0, 2]),
        ({"tags": "b"}, [1]),
        ({"tags": {"$in": ["a", "b"]}}, [0, 1, 4]),
        ({"group": "g2"}, [1, 3]),
        ({"jobType": "eval"}, [1]),
        ({"username": "bob"}, [1, 3]),
        ({"display_name": "last"}, [4]),
        ({"name": "run002"}, [2]),
        ({"$or": [{"display_name": "first"}, {"state": "failed"}]}, [0, 3]),
        ({"$and": [{"username": "alice"}, {"state": "running"}]}, [4]),
    ],
)
def test_runs_filters(client, five_runs, alice_key, filters, expected):
    page = runs_page(client, alice_key, filters=json.dumps(filters))

    assert names(page) == [five_runs[i].run_id for i in expected]
    assert page["runCount"] == len(expected)


@pytest.fixture
def scored_runs(make_run, alice, bob):
    """run000 .. run004, oldest first, with config and summary values of mixed types."""
    return [
        make_run(alice, config={"lr": 0.01}, summary={"acc": 0.95, "final": {"loss": 0.1}}),
        make_run(bob, config={"lr": 0.1}, summary={"acc": 0.97, "final": {"loss": 0.3}}),
        make_run(alice, config={"lr": "0.001"}, summary={"acc": "high"}),
        make_run(alice, config={"lr": 0.001}, summary={"acc": 0.91, "final": {"loss": 0.2}}),
        make_run(bob, config={}, summary={}),
    ]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"config.lr": {"$lte": 0.01}}, [0, 3]),
        ({"config.lr.value": {"$lte": 0.01}}, [0, 3]),
        ({"config.lr": "0.001"}, [2]),
        ({"summary_metrics.acc": {"$gt": 0.9}}, [0, 1, 3]),
        ({"summary_metrics.final.loss": {"$gte": 0.2}}, [1, 3]),
        ({"summary_metrics.acc": {"$exists": False}}, [4]),
        ({"summary_metrics.acc": {"$not": {"$gt": 0.92}}}, [2, 3, 4]),
        ({"$nor": [{"username": "bob"}, {"config.lr": 0.001}]}, [0, 2]),
        ({"$and": [{"config.lr": {"$lte": 0.01}}, {"summary_metrics.acc": {"$gt": 0.9}}]}, [0, 3]),
        ({"createdAt": {"$gt": "2000-01-01T00:00:00"}}, [0, 1, 2, 3, 4]),
        ({"createdAt": {"$lt": "2000-01-01T00:00:00Z"}}, []),
        ({"name": {"$regex": "00[13]$"}}, [1, 3]),
    ],
)
def test_runs_filter_on_config_and_summary(client, scored_runs, alice_key, filters, expected):
    page = runs_page(client, alice_key, filters=json.dumps(filters))

    assert names(page) == [scored_runs[i].run_id for i in expected]
    assert page["runCount"] == len(expected)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("-summary_metrics.final.loss", [1, 3, 0, 4, 2]),
        ("+summary_metrics.final.loss", [0, 3, 1, 2, 4]),
        ("config.lr.value", [3, 0, 1, 2, 4]),
        ("-heartbeatAt", [4, 3, 2, 1, 0]),
        ("createdAt", [0, 1, 2, 3, 4]),
        ("-display_name", [4, 3, 2, 1, 0]),
    ],
)
def test_runs_order_by_fields_and_keys(client, scored_runs, alice_key, order, expected):
    numbers = {"summary_metrics.acc": {"$exists": True}} if "acc" in order else {}

    page = runs_page(client, alice_key, order=order, filters=json.dumps(numbers))

    assert names(page) == [scored_runs[i].run_id for i in expected]


def test_runs_page_through_a_summary_order_once_each(client, scored_runs, alice_key):
    seen, cursor = [], None
    while True:
        page = runs_page(client, alice_key, order="-summary_metrics.acc", per_page=2, cursor=cursor)
        seen += names(page)
        if not page["runs"]["pageInfo"]["hasNextPage"]:
            break
        cursor = page["runs"]["pageInfo"]["endCursor"]

    assert seen[:3] == [scored_runs[i].run_id for i in (1, 0, 3)]
    assert sorted(seen) == sorted(run.run_id for run in scored_runs)


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"filters": json.dumps({"notes": "x"})}, "notes"),
        ({"filters": json.dumps({"sweep": {"$gt": 3}})}, "sweep"),
        ({"filters": json.dumps({"state": {"$where": "1"}})}, "$where"),
        ({"filters": json.dumps({"summary_metrics.loss": {"$lt": [1]}})}, "summary_metrics.loss"),
        ({"filters": json.dumps({"config.lr": {"$regex": "("}})}, "regular expression"),
        ({"filters": json.dumps({"createdAt": {"$gt": "yesterday"}})}, "yesterday"),
        ({"filters": "{nope"}, "JSON"),
        ({"filters": "[]"}, "object"),
        ({"order": "+tags"}, "tags"),
        ({"order": "-notes"}, "notes"),
    ],
)
def test_runs_refuses_what_it_cannot_answer(client, five_runs, alice_key, variables, fragment):
    response = gql(
        client, alice_key, "Runs", {"entity": "example-team", "project": "demo", **variables}
    )

    assert fragment in refused(response, 400)


def test_an_outsider_reading_a_private_project_gets_null(client, five_runs, charlie_key):
    response = gql(client, charlie_key, "Runs", {"entity": "example-team", "project": "demo"})

    assert ok(response) == {"project": None}
    assert ok(gql(client, charlie_key, "Run", run_vars(five_runs[0]))) == {"project": None}


def test_an_outsider_reads_a_public_project_read_only(client, public_team, alice, charlie_key):
    project = project_create(entity=public_team, name="open", creator=alice, visibility="public")
    Run.objects.create(project=project, author=alice, run_id="pub1")

    page = ok(gql(client, charlie_key, "Runs", {"entity": "open-team", "project": "open"}))[
        "project"
    ]

    assert page["readOnly"] is True
    assert [edge["node"]["readOnly"] for edge in page["runs"]["edges"]] == [True]


def test_run_reads_one_run_with_its_summary_and_history_keys(
    client, make_run, alice, alice_key, bob_key
):
    run = make_run(
        alice,
        run_id="iehvayav",
        name="run-a",
        config={"lr": 0.5},
        summary={"loss": 0.02, "best": 0.99},
        git_commit="abc123",
        job_type="train",
    )
    ingest(run, history=[{"_step": 0, "loss": 0.5}, {"_step": 1, "loss": 0.25}])

    data = ok(gql(client, alice_key, "Run", run_vars(run)))["project"]["run"]

    assert data["name"] == "iehvayav"
    assert data["displayName"] == "run-a"
    assert json.loads(data["config"]) == {"lr": {"value": 0.5, "desc": None}}
    assert json.loads(data["summaryMetrics"]) == {"loss": 0.02, "best": 0.99}
    assert json.loads(data["systemMetrics"]) == {}
    assert data["commit"] == "abc123"
    assert data["jobType"] == "train"
    assert data["historyLineCount"] == 2
    assert data["historyKeys"]["lastStep"] == 1
    assert data["user"] == {"name": "alice", "username": "alice"}
    assert data["readOnly"] is False
    # Bob sees alice's run but may not change it.
    assert ok(gql(client, bob_key, "Run", run_vars(run)))["project"]["run"]["readOnly"] is True


def test_run_that_does_not_exist_is_null(client, demo, alice_key):
    data = ok(
        gql(client, alice_key, "Run", {"entity": "example-team", "project": "demo", "name": "nope"})
    )

    assert data == {"project": {"run": None}}


def update_variables(run, **changes):
    """run.update()'s recorded variables, for this run."""
    config = {
        "_wandb": {"value": {"cli_version": "0.31.0"}, "desc": None},
        "lr": {"value": 0.5, "desc": None},
        "epochs": {"value": 5, "desc": None},
    }
    return {
        "config": json.dumps(config),
        "description": None,
        "display_name": "run-a",
        "entity": "example-team",
        "groupName": "g1",
        "id": node_id("Run", run.pk),
        "jobType": "train",
        "name": run.run_id,
        "notes": "some notes",
        "project": "demo",
        "tags": ["t1", "t2", "updated"],
        **changes,
    }


def test_run_update_by_node_id(client, make_run, alice, alice_key):
    run = make_run(alice, run_id="iehvayav", config={"lr": 0.1}, tags=["t1"])

    data = ok(gql(client, alice_key, "UpsertBucketUpdate", update_variables(run)))

    bucket = data["upsertBucket"]["bucket"]
    assert bucket["id"] == node_id("Run", run.pk)
    assert bucket["tags"] == ["t1", "t2", "updated"]
    run.refresh_from_db()
    assert run.tags == ["t1", "t2", "updated"]
    assert run.config == {"_wandb": {"cli_version": "0.31.0"}, "lr": 0.5, "epochs": 5}
    assert (run.name, run.notes, run.group, run.job_type) == ("run-a", "some notes", "g1", "train")
    assert json.loads(bucket["config"])["lr"] == {"value": 0.5, "desc": None}


def test_run_summary_update_by_node_id(client, make_run, alice, alice_key):
    run = make_run(alice, summary={"loss": 1.0})
    summary = {"_step": 49, "best": 0.99, "_wandb": {"runtime": 0}, "loss": 0.02, "extra": 1}

    data = ok(
        gql(
            client,
            alice_key,
            "UpsertBucketSummary",
            {"id": node_id("Run", run.pk), "summaryMetrics": json.dumps(summary)},
        )
    )

    assert data == {"upsertBucket": {"bucket": {"id": node_id("Run", run.pk)}}}
    run.refresh_from_db()
    assert run.summary == summary


def test_only_the_author_or_an_admin_updates_a_run(
    client, make_run, alice, bob, alice_key, bob_key, charlie_key
):
    alices = make_run(alice, tags=["mine"])
    bobs = make_run(bob, tags=["bobs"])

    assert "author" in refused(
        gql(client, bob_key, "UpsertBucketUpdate", update_variables(alices)), 403
    )
    # Outsiders do not learn the run exists.
    refused(gql(client, charlie_key, "UpsertBucketUpdate", update_variables(alices)), 404)
    refused(
        gql(
            client,
            bob_key,
            "UpsertBucketSummary",
            {"id": node_id("Run", alices.pk), "summaryMetrics": "{}"},
        ),
        403,
    )
    alices.refresh_from_db()
    assert alices.tags == ["mine"]
    # alice administers the team.
    ok(gql(client, alice_key, "UpsertBucketUpdate", update_variables(bobs)))
    bobs.refresh_from_db()
    assert bobs.tags == ["t1", "t2", "updated"]


@pytest.mark.parametrize(
    "bad_id",
    [
        "UnVuOjk5OTk5OQ==",
        "not-base64!",
        node_id("Project", 1),
        node_id("Run", "x"),
        node_id("Run", 10**30),
    ],
)
def test_update_of_an_unknown_node_id_is_404(client, make_run, alice, alice_key, bad_id):
    make_run(alice)

    response = gql(client, alice_key, "UpsertBucketSummary", {"id": bad_id, "summaryMetrics": "{}"})

    refused(response, 404)


# History


HISTORY = [
    {
        "_step": step,
        "loss": 1 / (step + 1),
        "acc": step / 10,
        "_runtime": step * 0.5,
        "_timestamp": 1_795_617_347.5 + step,
    }
    | ({"val_loss": 2.0 / (step + 1)} if step % 2 == 0 else {})
    | ({"caption": {"_type": "html", "text": "hi"}} if step == 5 else {})
    for step in range(10)
]
EVENTS = [
    {
        "system.cpu": 10.0 + line,
        "system.memory_percent": 40.5,
        "_runtime": 15.0 * line,
        "_timestamp": 1_795_617_350.0 + line,
    }
    for line in range(3)
]


@pytest.fixture
def logged_run(make_run, alice):
    run = make_run(alice, run_id="iehvayav")
    ingest(run, history=HISTORY[:6], events=EVENTS[:1])
    # A replayed, overlapping chunk writes nothing new.
    ingest(run, history=HISTORY[4:], offset=4, summary={"loss": 0.1, "_step": 9})
    ingest(run, events=EVENTS, complete=True, exitcode=0)
    return run


def test_full_history_returns_every_row(client, logged_run, alice_key):
    variables = {**run_vars(logged_run), "samples": 500}

    rows = ok(gql(client, alice_key, "RunFullHistory", variables))["project"]["run"]["history"]

    assert [json.loads(row) for row in rows] == HISTORY


def test_full_history_samples_keep_the_first_and_last_rows(client, logged_run, alice_key):
    variables = {**run_vars(logged_run), "samples": 3}

    rows = ok(gql(client, alice_key, "RunFullHistory", variables))["project"]["run"]["history"]

    steps = [json.loads(row)["_step"] for row in rows]
    assert len(steps) == 3
    assert (steps[0], steps[-1]) == (0, 9)


def test_system_metrics_are_the_events_stream(client, logged_run, alice_key):
    variables = {**run_vars(logged_run), "samples": 500}

    rows = ok(gql(client, alice_key, "RunFullEvents", variables))["project"]["run"]["events"]

    assert [json.loads(row) for row in rows] == EVENTS
    run = ok(gql(client, alice_key, "Run", run_vars(logged_run)))["project"]["run"]
    assert json.loads(run["systemMetrics"]) == EVENTS[-1]
    assert json.loads(run["summaryMetrics"]) == {"loss": 0.1, "_step": 9}
    assert run["state"] == "finished"


def test_history_page_is_a_half_open_step_range(client, logged_run, alice_key):
    variables = {**run_vars(logged_run, "run"), "minStep": 2, "maxStep": 5, "pageSize": 50}

    rows = ok(gql(client, alice_key, "HistoryPage", variables))["project"]["run"]["history"]

    assert [json.loads(row) for row in rows] == HISTORY[2:5]
    variables.update(minStep=0, maxStep=50, pageSize=4)
    rows = ok(gql(client, alice_key, "HistoryPage", variables))["project"]["run"]["history"]
    assert [json.loads(row)["_step"] for row in rows] == [0, 1, 2, 3]


def test_sampled_history_returns_only_the_asked_keys(client, logged_run, alice_key):
    specs = [
        json.dumps({"keys": ["_step", "val_loss"], "samples": 500}),
        json.dumps({"keys": ["loss"], "samples": 2}),
    ]

    result = ok(
        gql(client, alice_key, "RunSampledHistory", {**run_vars(logged_run), "specs": specs})
    )["project"]["run"]["sampledHistory"]

    assert result[0] == [{"_step": s, "val_loss": 2.0 / (s + 1)} for s in range(0, 10, 2)]
    assert result[1] == [{"loss": 1.0}, {"loss": 0.1}]
    # A sweep agent's spec "{}" asks for nothing and gets nothing.
    empty = gql(client, alice_key, "RunSampledHistory", {**run_vars(logged_run), "specs": ["{}"]})
    assert ok(empty)["project"]["run"]["sampledHistory"] == [[]]


def test_sampled_history_spec_pages_by_min_and_max_step_both_inclusive(
    client, logged_run, alice_key
):
    """scan_history(keys=[...], page_size=2) asks for steps 0-1, then 2-3, ..."""

    def page(min_step, max_step):
        spec = {"keys": ["_step", "loss"], "samples": 2, "minStep": min_step, "maxStep": max_step}
        variables = {**run_vars(logged_run), "specs": [json.dumps(spec)]}
        result = ok(gql(client, alice_key, "RunSampledHistory", variables))
        return [row["_step"] for row in result["project"]["run"]["sampledHistory"][0]]

    assert [page(start, start + 1) for start in range(0, 10, 2)] == [
        [0, 1],
        [2, 3],
        [4, 5],
        [6, 7],
        [8, 9],
    ]
    assert page(9, 2**63) == [9]
    bad = {"keys": ["loss"], "minStep": "0"}
    variables = {**run_vars(logged_run), "specs": [json.dumps(bad)]}
    assert "minStep" in refused(gql(client, alice_key, "RunSampledHistory", variables), 400)


def test_history_keys_name_every_key_and_the_last_step(client, logged_run, alice_key):
    keys = ok(gql(client, alice_key, "RunHistoryKeys", run_vars(logged_run)))["project"]["run"][
        "historyKeys"
    ]

    assert keys["lastStep"] == 9
    assert set(keys["keys"]) == {
        "_step",
        "loss",
        "acc",
        "_runtime",
        "_timestamp",
        "val_loss",
        "caption",
    }
    assert keys["keys"]["loss"] == {"typeCounts": [{"type": "number", "count": 10}]}
    assert keys["keys"]["val_loss"] == {"typeCounts": [{"type": "number", "count": 5}]}
    assert keys["keys"]["caption"] == {"typeCounts": [{"type": "object", "count": 1}]}


def test_parquet_history_sends_the_client_to_history_pages(client, logged_run, alice_key):
    variables = {**run_vars(logged_run, "runName"), "liveKeys": ["_step"]}

    data = ok(gql(client, alice_key, "RunParquetHistory", variables))

    # The client reads only where the live rows start and whether there are any.
    assert data["project"]["run"]["parquetHistory"] == {
        "parquetUrls": [],
        "liveData": [{"_step": 0}],
    }


def test_parquet_history_of_a_run_that_starts_late_or_has_no_history(
    client, make_run, alice, alice_key
):
    late, empty = make_run(alice, run_id="late"), make_run(alice, run_id="empty")
    ingest(late, history=[{"_step": 40, "loss": 1.0}, {"_step": 41, "loss": 0.5}])
    ingest(empty, events=EVENTS[:1])

    def live(run):
        variables = {**run_vars(run, "runName"), "liveKeys": ["_step"]}
        return ok(gql(client, alice_key, "RunParquetHistory", variables))["project"]["run"][
            "parquetHistory"
        ]["liveData"]

    assert live(late) == [{"_step": 40}]
    assert live(empty) == []


def test_history_samples_out_of_range_are_400(client, logged_run, alice_key):
    variables = {**run_vars(logged_run), "samples": -1}

    assert "samples" in refused(gql(client, alice_key, "RunFullHistory", variables), 400)


def test_an_outsider_cannot_read_history(client, logged_run, charlie_key):
    variables = {**run_vars(logged_run), "samples": 500}

    assert ok(gql(client, charlie_key, "RunFullHistory", variables)) == {"project": None}


# Alerts


def alert_variables(run, **changes):
    """run.alert()'s recorded variables, for this run."""
    return {
        "entityName": "example-team",
        "projectName": run.project.name,
        "runName": run.run_id,
        "title": "Loss low",
        "text": "loss went below 0.05",
        "severity": "WARN",
        "waitDuration": 60000,
        **changes,
    }


@pytest.fixture
def alert_team(team, alice, bob, sam, membership_of):
    """bob's run in example-team, logged through sam; alice asked for the team's alert emails,
    dave did not, and sam's membership says yes (it has no inbox)."""
    dave = UserFactory(username="dave")
    add_member(team, dave)
    Membership.objects.filter(entity=team, user__in=[alice, sam]).update(alert_emails=True)
    return dave


@pytest.fixture
def bobs_run(alert_team, make_run, bob, sam):
    return make_run(bob, run_id="iehvayav", name="run-a", logged_by=sam)


def send_alert(client, key, run, capture, **changes):
    with capture(execute=True):
        return gql(client, key, "NotifyScriptableRunAlert", alert_variables(run, **changes))


def test_an_alert_is_stored_and_emailed_to_the_author_and_subscribers(
    client, bobs_run, sam_key, mailoutbox, django_capture_on_commit_callbacks
):
    response = send_alert(client, sam_key, bobs_run, django_capture_on_commit_callbacks)

    assert ok(response) == {"notifyScriptableRunAlert": {"success": True}}
    alert = Alert.objects.get()
    assert (alert.run, alert.title, alert.text) == (bobs_run, "Loss low", "loss went below 0.05")
    assert alert.level == Alert.Level.WARN
    assert alert.notified is True
    # One message per recipient: the author and alice, never dave (alert emails off) nor the
    # service account, nor charlie (not a member).
    assert sorted(message.to[0] for message in mailoutbox) == [
        "alice@example.com",
        "bob@example.com",
    ]
    assert all(
        len(message.to) == 1 and not message.cc and not message.bcc for message in mailoutbox
    )
    message = mailoutbox[0]
    assert "Loss low" in message.subject
    assert "example-team/demo" in message.subject
    assert "loss went below 0.05" in message.body
    assert "/example-team/demo/" in message.body
    # The same delivery as a rule's alert: in the project's history, with its delivery log;
    # the author also finds it under the bell.
    event = AlertEvent.objects.get()
    assert (event.client_alert, event.level, event.source_name) == (alert, "WARN", "run.alert()")
    deliveries = event.deliveries.order_by("channel", "target")
    assert [(d.channel, d.user.username, d.status) for d in deliveries] == [
        ("email", "alice", AlertDelivery.Status.SENT),
        ("email", "bob", AlertDelivery.Status.SENT),
        ("in_app", "bob", AlertDelivery.Status.SENT),
    ]


@pytest.mark.parametrize("severity", ["INFO", "WARN", "ERROR"])
def test_the_severity_is_stored(
    client, bobs_run, bob_key, severity, mailoutbox, django_capture_on_commit_callbacks
):
    ok(send_alert(client, bob_key, bobs_run, django_capture_on_commit_callbacks, severity=severity))

    assert Alert.objects.get().level == severity


def test_the_default_severity_is_info(
    client, bobs_run, bob_key, mailoutbox, django_capture_on_commit_callbacks
):
    variables = alert_variables(bobs_run)
    del variables["severity"]

    with django_capture_on_commit_callbacks(execute=True):
        ok(gql(client, bob_key, "NotifyScriptableRunAlert", variables))

    assert Alert.objects.get().level == Alert.Level.INFO


def test_a_repeated_alert_within_the_wait_is_stored_but_not_emailed(
    client, bobs_run, sam_key, mailoutbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    ok(send_alert(client, sam_key, bobs_run, capture))
    mailoutbox.clear()

    ok(send_alert(client, sam_key, bobs_run, capture, text="still low"))

    assert Alert.objects.count() == 2
    assert Alert.objects.filter(text="still low").get().notified is False
    assert mailoutbox == []
    # Another title is another alert.
    ok(send_alert(client, sam_key, bobs_run, capture, title="Accuracy high"))
    assert len(mailoutbox) == 2


def test_after_the_wait_the_same_alert_is_emailed_again(
    client, bobs_run, sam_key, mailoutbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    ok(send_alert(client, sam_key, bobs_run, capture))
    ok(send_alert(client, sam_key, bobs_run, capture))
    assert len(mailoutbox) == 2
    # A minute (the waitDuration) and a second pass.
    Alert.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    mailoutbox.clear()

    ok(send_alert(client, sam_key, bobs_run, capture))

    assert len(mailoutbox) == 2
    assert Alert.objects.count() == 3
    assert Alert.objects.order_by("-created_at", "-id").first().notified is True


def test_without_a_wait_every_alert_is_emailed(
    client, bobs_run, sam_key, mailoutbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    ok(send_alert(client, sam_key, bobs_run, capture, waitDuration=None))
    ok(send_alert(client, sam_key, bobs_run, capture, waitDuration=0))

    assert len(mailoutbox) == 4


def test_an_alert_with_no_recipient_is_in_the_history_and_emails_no_one(
    client, alert_team, make_run, sam, sam_key, mailoutbox, django_capture_on_commit_callbacks
):
    Membership.objects.update(alert_emails=False)
    run = make_run(sam)  # logged by the service account for no one

    ok(send_alert(client, sam_key, run, django_capture_on_commit_callbacks))

    assert mailoutbox == []
    event = AlertEvent.objects.get()
    assert (event.client_alert, event.run, event.message) == (Alert.objects.get(), run, "Loss low")
    assert not event.deliveries.exists()


def test_alerts_follow_the_run_rights(
    client,
    bobs_run,
    alert_team,
    make_run,
    alice,
    bob_key,
    charlie_key,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    capture = django_capture_on_commit_callbacks
    alices = make_run(alice)
    dave_key = api_key_for(alert_team)

    refused(send_alert(client, charlie_key, bobs_run, capture), 404)
    assert "author" in refused(send_alert(client, dave_key, alices, capture), 403)
    refused(send_alert(client, bob_key, bobs_run, capture, runName="missing"), 404)
    assert "title" in refused(send_alert(client, bob_key, bobs_run, capture, title=" "), 400)
    assert not Alert.objects.exists()
    assert mailoutbox == []


# Queries per page of runs


def test_a_page_of_runs_costs_the_same_queries_for_5_or_25_runs(
    client, team, alice, bob, alice_key, django_assert_num_queries
):
    small = project_create(entity=team, name="small", creator=alice)
    large = project_create(entity=team, name="large", creator=alice)
    for project, count in ((small, 5), (large, 25)):
        # bob's runs read by alice: readOnly must be worked out for someone else's runs.
        Run.objects.bulk_create(
            Run(project=project, author=bob if n % 2 else alice, run_id=f"r{n}", tags=["x"])
            for n in range(count)
        )
    ok(gql(client, alice_key, "Viewer"))  # the key's last use is recorded once

    def page(project):
        return gql(client, alice_key, "Runs", {"entity": "example-team", "project": project.name})

    with CaptureQueriesContext(connection) as small_queries:
        assert len(ok(page(small))["project"]["runs"]["edges"]) == 5

    with django_assert_num_queries(len(small_queries)):
        assert len(ok(page(large))["project"]["runs"]["edges"]) == 25


def test_a_long_title_repeated_within_the_wait_is_not_emailed_again(
    client, bobs_run, sam_key, mailoutbox, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    title = "Loss low " * 40  # longer than the 255 characters an alert keeps

    ok(send_alert(client, sam_key, bobs_run, capture, title=title))
    ok(send_alert(client, sam_key, bobs_run, capture, title=title))

    assert Alert.objects.count() == 2
    assert {alert.title for alert in Alert.objects.all()} == {title[:255]}
    assert len(mailoutbox) == 2  # the first alert's two recipients only


@pytest.mark.parametrize("cursor", ["-1", "-100", "1.5", ""])
def test_runs_with_a_bad_cursor(client, five_runs, alice_key, cursor):
    variables = {"entity": "example-team", "project": "demo", "cursor": cursor}

    response = gql(client, alice_key, "Runs", variables)

    if cursor == "":
        assert len(names(ok(response)["project"])) == 5  # no cursor: the first page
    else:
        assert "cursor" in refused(response, 400)


def test_a_git_remote_is_stored_without_the_credentials_in_it(client, team, alice):
    response = core_upsert(
        client,
        api_key_for(alice),
        name="cred1",
        repo="https://alice:ghp_secret@github.com/example/resnet.git",
    )

    ok(response)
    run = Run.objects.get(run_id="cred1")
    assert run.git_remote == "https://github.com/example/resnet.git"
    assert "ghp_secret" not in response.content.decode()
