"""Generated run names: a run the client logs without a name gets "adjective-noun-N", N
counting the runs created in its project; a name the client sends always wins."""

import re

import pytest

from projects.models import Project
from projects.services import project_create
from runs.models import Run
from runs.names import ADJECTIVES, NOUNS, run_name, run_numbers_reserve

from .test_graphql import core_upsert, gql, node_id, ok, refused

GENERATED = re.compile(r"\A([a-z]+)-([a-z]+)-(\d+)\Z")


@pytest.fixture
def demo(team, alice):
    return project_create(entity=team, name="demo", creator=alice)


def unnamed_upsert(client, key, run_id, **variables):
    """wandb.init() without name=: the client sends no displayName."""
    data = ok(core_upsert(client, key, name=run_id, displayName=None, **variables))
    return data["upsertBucket"]


def test_a_generated_name_is_an_adjective_a_noun_and_the_number():
    name = run_name(300)
    adjective, noun, number = GENERATED.match(name).groups()
    assert adjective in ADJECTIVES and noun in NOUNS and number == "300"


def test_the_word_lists_are_plain_lowercase_words():
    for words in (ADJECTIVES, NOUNS):
        assert len(words) >= 100 and len(set(words)) == len(words)
        assert all(re.fullmatch(r"[a-z]+", word) for word in words)


def test_an_unnamed_run_gets_a_generated_name_that_the_client_is_told(client, demo, alice_key):
    answer = unnamed_upsert(client, alice_key, "aaaa0001")

    run = Run.objects.get()
    assert answer["inserted"] is True
    assert answer["bucket"]["displayName"] == run.name
    assert GENERATED.match(run.name).group(3) == "1"


def test_an_empty_display_name_counts_as_none(client, demo, alice_key):
    ok(core_upsert(client, alice_key, displayName=""))
    assert GENERATED.match(Run.objects.get().name)


def test_runs_count_up_per_project_and_projects_count_separately(
    client, team, demo, alice, alice_key, bob_key
):
    project_create(entity=team, name="other", creator=alice)
    unnamed_upsert(client, alice_key, "a1")
    unnamed_upsert(client, bob_key, "a2")
    unnamed_upsert(client, alice_key, "b1", project="other")
    # A named run takes a number too: N counts the runs created in the project.
    ok(core_upsert(client, alice_key, name="a3", displayName="named"))
    unnamed_upsert(client, bob_key, "a4")
    unnamed_upsert(client, alice_key, "b2", project="other")

    numbers = {
        run.run_id: int(GENERATED.match(run.name).group(3))
        for run in Run.objects.exclude(name="named")
    }
    assert numbers == {"a1": 1, "a2": 2, "a4": 3, "b1": 1, "b2": 2}
    assert dict(Project.objects.values_list("name", "run_counter")) == {"demo": 3, "other": 2}


def test_a_project_made_by_logging_starts_at_one(client, team, bob_key):
    unnamed_upsert(client, bob_key, "first", project="fresh")
    assert GENERATED.match(Run.objects.get().name).group(3) == "1"


def test_a_resumed_run_keeps_its_name(client, demo, alice_key):
    first = unnamed_upsert(client, alice_key, "resumed")
    # The resumed process's upserts: the same run id, again without a name.
    again = unnamed_upsert(client, alice_key, "resumed", notes="resumed")
    later = ok(
        gql(
            client,
            alice_key,
            "UpsertBucket",
            {"name": "resumed", "project": "demo", "entity": "example-team"},
        )
    )["upsertBucket"]

    assert again["inserted"] is False and later["inserted"] is False
    name = first["bucket"]["displayName"]
    assert again["bucket"]["displayName"] == later["bucket"]["displayName"] == name
    assert Run.objects.get().name == name
    assert Project.objects.get().run_counter == 1


def test_a_name_the_client_sends_wins(client, demo, alice_key):
    answer = ok(core_upsert(client, alice_key, displayName="my-baseline"))["upsertBucket"]
    assert answer["bucket"]["displayName"] == "my-baseline"
    assert Run.objects.get().name == "my-baseline"

    # Also over a generated one, when a later upsert names the run.
    unnamed_upsert(client, alice_key, "later-named")
    ok(core_upsert(client, alice_key, name="later-named", displayName="chosen"))
    assert Run.objects.get(run_id="later-named").name == "chosen"


def test_run_update_renames_the_run(client, demo, alice_key):
    unnamed_upsert(client, alice_key, "to-rename")
    run = Run.objects.get()
    data = ok(
        gql(
            client,
            alice_key,
            "UpsertBucketUpdate",
            {"id": node_id("Run", run.pk), "display_name": "renamed", "config": "{}"},
        )
    )
    assert data["upsertBucket"]["bucket"]["displayName"] == "renamed"
    run.refresh_from_db()
    assert run.name == "renamed"


def test_a_refused_upsert_uses_up_no_number(client, demo, alice_key):
    refused(core_upsert(client, alice_key, displayName=None, config="[1]"), 400)
    demo.refresh_from_db()
    assert demo.run_counter == 0 and not Run.objects.exists()


def test_numbers_are_reserved_in_blocks(demo):
    assert list(run_numbers_reserve(demo)) == [1]
    assert list(run_numbers_reserve(demo, 3)) == [2, 3, 4]
    demo.refresh_from_db()
    assert demo.run_counter == 4
