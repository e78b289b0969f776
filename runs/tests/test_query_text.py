"""The text query language: what each query means in the run-query tree (every operator,
precedence, quoting, dates), the mistakes it reports with their column, and that no text at all
makes it fail with anything but a QueryError."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runs.query import (
    And,
    Compare,
    Contains,
    Exists,
    HasTag,
    In,
    Not,
    Or,
    QueryError,
    Regex,
    parse_text,
    quote_key,
    to_q,
)
from runs.query.nodes import MAX_DEPTH, MAX_NODES, MAX_TEXT


def search(text):
    return Or((Contains("name", text), Contains("run_id", text)))


A = Compare("config.a", "=", 1)
B = Compare("config.b", "=", 2)
C = Compare("config.c", "=", 3)
NOV_1 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Plain text: the search box as it always was.
        ("", And(())),
        ("   ", And(())),
        ("resnet", search("resnet")),
        ("resnet-50_v2", search("resnet-50_v2")),
        ("my  run 3", search("my  run 3")),
        ('"a (quoted) run"', search("a (quoted) run")),
        ("3k2j9x1z", search("3k2j9x1z")),
        ("resnet and cifar", And((search("resnet"), search("cifar")))),
        # Comparisons on keys: numbers, booleans, null, words, quoted text.
        ("config.lr <= 0.01", Compare("config.lr", "<=", 0.01)),
        ("config.lr<0.01", Compare("config.lr", "<", 0.01)),
        ("summary.val/acc >= 0.9", Compare("summary.val/acc", ">=", 0.9)),
        ("summary.acc > -1e-3", Compare("summary.acc", ">", -0.001)),
        ("config.layers = 3", Compare("config.layers", "=", 3)),
        ("config.layers == 3", Compare("config.layers", "=", 3)),
        ("config.layers != 3", Compare("config.layers", "!=", 3)),
        ("summary.big > 12345678901234567890", Compare("summary.big", ">", 12345678901234567890)),
        ("config.opt = adam", Compare("config.opt", "=", "adam")),
        # The sweep a run belongs to (its id, as the sweep page links to the runs table).
        ('sweep = "k3x9q2ab"', Compare("sweep", "=", "k3x9q2ab")),
        ("sweep = 123", Compare("sweep", "=", "123")),
        ("sweep exists", Exists("sweep", present=True)),
        ('config.opt = "adam"', Compare("config.opt", "=", "adam")),
        ('config.lr = "0.01"', Compare("config.lr", "=", "0.01")),
        ("config.flag = true", Compare("config.flag", "=", True)),
        ("config.flag = FALSE", Compare("config.flag", "=", False)),
        ("summary.loss = null", Compare("summary.loss", "=", None)),
        ('summary.loss = "null"', Compare("summary.loss", "=", "null")),
        ("summary.loss = NaN", Compare("summary.loss", "=", "NaN")),
        ("summary.when = 2026-11-01", Compare("summary.when", "=", "2026-11-01")),
        ("summary.final.loss < 0.1", Compare("summary.final.loss", "<", 0.1)),
        # Quoted keys: backticks or double quotes, dots between the parts.
        ("summary.`val acc` > 0.5", Compare("summary.val acc", ">", 0.5)),
        ('summary."val acc" > 0.5', Compare("summary.val acc", ">", 0.5)),
        ("summary.`a b`.c = 1", Compare("summary.a b.c", "=", 1)),
        ("config.`odd=key` = 1", Compare("config.odd=key", "=", 1)),
        ("config.`back\\`tick` = 1", Compare("config.back`tick", "=", 1)),
        ('config.x = "say \\"hi\\""', Compare("config.x", "=", 'say "hi"')),
        ("config.x = 'single'", Compare("config.x", "=", "single")),
        # Run fields and their names.
        ("state = failed", Compare("state", "=", "failed")),
        ("State = failed", Compare("state", "=", "failed")),
        ("state != running", Compare("state", "!=", "running")),
        ("name = resnet", Compare("name", "=", "resnet")),
        ("name = 123", Compare("name", "=", "123")),
        ("run_id = abc", Compare("run_id", "=", "abc")),
        ("id = abc", Compare("run_id", "=", "abc")),
        ("author = alice", Compare("author", "=", "alice")),
        ("author = null", Compare("author", "=", None)),
        ("group = g1", Compare("group", "=", "g1")),
        ("job_type = train", Compare("job_type", "=", "train")),
        ('"job type" = train', Compare("job_type", "=", "train")),
        ("`job type` = train", Compare("job_type", "=", "train")),
        ("runtime > 60", Compare("runtime", ">", 60)),
        ("runtime >= 1.5", Compare("runtime", ">=", 1.5)),
        ("tags = best", Compare("tags", "=", "best")),
        ("tag = best", Compare("tags", "=", "best")),
        # Dates, compared as times: midnight UTC unless the text says otherwise.
        ("created > 2026-11-01", Compare("created_at", ">", NOV_1)),
        ("created_at > 2026-11-01", Compare("created_at", ">", NOV_1)),
        ('created > "2026-11-01"', Compare("created_at", ">", NOV_1)),
        ("created >= 2026-11-01T09:30", Compare("created_at", ">=", NOV_1 + timedelta(hours=9.5))),
        (
            "created < 2026-11-01T09:30:00+02:00",
            Compare(
                "created_at",
                "<",
                datetime(2026, 11, 1, 9, 30, tzinfo=timezone(timedelta(hours=2))),
            ),
        ),
        ("heartbeat < 2026-11-01T00:00:00Z", Compare("heartbeat_at", "<", NOV_1)),
        ("heartbeat = null", Compare("heartbeat_at", "=", None)),
        # Every other operator.
        ("config.opt in (adam, sgd)", In("config.opt", ("adam", "sgd"))),
        ("config.lr in (0.1, 1, true, null)", In("config.lr", (0.1, 1, True, None))),
        ("config.opt not in (adam,)", In("config.opt", ("adam",), negate=True)),
        ("config.opt in ()", In("config.opt", ())),
        ("state in (failed, crashed)", In("state", ("failed", "crashed"))),
        ("tags in (a, b)", In("tags", ("a", "b"))),
        (
            "summary.acc between 0.5 and 0.9",
            And((Compare("summary.acc", ">=", 0.5), Compare("summary.acc", "<=", 0.9))),
        ),
        (
            "created between 2026-11-01 and 2026-11-02",
            And(
                (
                    Compare("created_at", ">=", NOV_1),
                    Compare("created_at", "<=", NOV_1 + timedelta(days=1)),
                )
            ),
        ),
        (
            "runtime not between 1 and 2",
            Not(And((Compare("runtime", ">=", 1), Compare("runtime", "<=", 2)))),
        ),
        ('name ~ "^resnet"', Regex("name", "^resnet")),
        ('name ~ "\\d+$"', Regex("name", "\\d+$")),
        ("config.opt ~ ^adam", Regex("config.opt", "^adam")),
        ('name !~ "^resnet"', Not(Regex("name", "^resnet"))),
        ('tags has "baseline"', HasTag("baseline")),
        ("tags HAS baseline", HasTag("baseline")),
        ("summary.loss exists", Exists("summary.loss")),
        ("summary.loss not exists", Exists("summary.loss", present=False)),
        ("author not exists", Exists("author", present=False)),
        ("tags exists", Exists("tags")),
    ],
)
def test_query_means(text, expected):
    assert parse_text(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # NOT binds tightest, then AND, then OR; parentheses override.
        ("config.a = 1 or config.b = 2 and config.c = 3", Or((A, And((B, C))))),
        ("config.a = 1 and config.b = 2 or config.c = 3", Or((And((A, B)), C))),
        ("(config.a = 1 or config.b = 2) and config.c = 3", And((Or((A, B)), C))),
        ("not config.a = 1 and config.b = 2", And((Not(A), B))),
        ("not (config.a = 1 and config.b = 2)", Not(And((A, B)))),
        ("not not config.a = 1", Not(Not(A))),
        ("config.a = 1 and config.b = 2 and config.c = 3", And((A, B, C))),
        ("config.a = 1 OR config.b = 2 Or config.c = 3", Or((A, B, C))),
        ("NOT config.a = 1", Not(A)),
        ("((config.a = 1))", A),
        (
            "config.a between 1 and 2 and config.b = 2",
            And((And((Compare("config.a", ">=", 1), Compare("config.a", "<=", 2))), B)),
        ),
    ],
)
def test_precedence(text, expected):
    assert parse_text(text) == expected


def test_the_example_of_the_issue():
    text = (
        'summary.val/acc >= 0.9 and config.lr <= 0.01 and (tags has "baseline" or state = failed)'
        ' and name ~ "^resnet" and created > 2026-11-01'
    )
    assert parse_text(text) == And(
        (
            Compare("summary.val/acc", ">=", 0.9),
            Compare("config.lr", "<=", 0.01),
            Or((HasTag("baseline"), Compare("state", "=", "failed"))),
            Regex("name", "^resnet"),
            Compare("created_at", ">", NOV_1),
        )
    )


@pytest.mark.parametrize(
    ("text", "message", "column"),
    [
        ("summary.val/acc>=", "Expected a value after “>=”", 18),
        ("summary.acc >= and state = failed", "Expected a value after “>=”, not “and”", 16),
        ("state =", "Expected a value after “=”", 8),
        ("state = failed and", "Expected a condition after “and”", 19),
        ("state = failed or not", "Expected a condition after “not”", 22),
        (")", "Expected a condition, not “)”", 1),
        ("(state = failed", "Expected “)” to close a “(”", 16),
        ("state = failed)", "Expected “and”, “or” or the end of the query", 15),
        ("config.x = 1 y", "Expected “and”, “or” or the end of the query after “1”", 14),
        ("config.x in 1", "Expected a list such as (1, 2) after “in”", 13),
        ("config.x in (1 2)", "Expected “,” or “)” after “1”", 16),
        ("config.x between 1 2", "Expected “and” after “1” (between A and B)", 20),
        ("config.x not", "Expected “in”, “exists” or “between” after “not”", 13),
        ("resnet, vgg", "Expected an operator", 7),
        ("config.x = =", "Expected a value after “=”", 12),
        ('name = "abc', 'The text quoted with " is not closed', 8),
        ("name ~ `x", "The text quoted with ` is not closed", 8),
        ("a ! b", "Unexpected “!”", 3),
        ("stat = failed", "Unknown field “stat”: did you mean “state”?", 1),
        ("sumary.acc > 1", "did you mean “summary.acc”?", 1),
        ("acc > 0.9", "keys are written config.acc or summary.acc", 1),
        ("config = 1", "config needs a key, e.g. config.lr", 1),
        ("summary..x = 1", "has an empty key", 1),
        ('summary."a"b > 1', "Put a dot after a quoted part of a key", 12),
        ('summary"a" > 1', "Put a dot before a quoted part of a key", 8),
        ("swep = abc", "Unknown field “swep”: did you mean “sweep”?", 1),
        ("state = faild", "Runs have no state “faild”: did you mean “failed”?", 9),
        ("created > yesterday", "“yesterday” is not a date such as 2026-11-01", 11),
        ("created > 5", "is not a date", 11),
        ("runtime > abc", "runtime is a number of seconds, not “abc”", 11),
        ('runtime > "60"', "is a number of seconds", 11),
        ("config.lr > 1e999", "“1e999” is too large a number", 13),
        ('name ~ "("', "Invalid regular expression", 8),
        ("tags ~ x", "Tags are matched whole", 6),
        ("name has x", "Only tags take “has”, not “name”", 6),
        ("summary.acc < true", "cannot be ordered against true/false", 15),
        ("summary.acc > null", "cannot be ordered against null", 15),
        ("tags = null", "A tag must be text", 8),
        ("tags > a", "Tags take a tag", 8),
        ("config.x = 1 and name = \x00", "cannot be searched for", 25),
    ],
)
def test_mistakes_name_their_column(text, message, column):
    with pytest.raises(QueryError) as raised:
        parse_text(text)
    assert message in str(raised.value)
    assert str(raised.value).endswith(f" at column {column}")
    assert raised.value.column == column


def test_limits_of_the_query_model_hold():
    with pytest.raises(QueryError, match=f"longer than {MAX_TEXT} characters") as raised:
        parse_text("x" * (MAX_TEXT + 1))
    assert raised.value.column == MAX_TEXT + 1
    parse_text("x" * MAX_TEXT)

    deep = "not " * (MAX_DEPTH + 1) + "config.a = 1"
    with pytest.raises(QueryError, match=f"deeper than {MAX_DEPTH}") as raised:
        parse_text(deep)
    assert raised.value.column == 1  # the outermost "not" is the one too many
    assert to_q(parse_text("not " * MAX_DEPTH + "config.a = 1"))

    # Each plain word is three nodes (an Or of two Contains): 200 of them are too many.
    many = " or ".join(["a"] * 200)
    assert len(many) <= MAX_TEXT
    with pytest.raises(QueryError, match=f"more than {MAX_NODES} conditions") as raised:
        parse_text(many)
    assert raised.value.column == 3
    listed = "tags in (" + ",".join(["t"] * 450) + ")" + " or a" * 17
    assert len(listed) <= MAX_TEXT
    with pytest.raises(QueryError, match=f"more than {MAX_NODES} conditions"):
        parse_text(listed)


def test_keywords_are_reserved_and_quoted_to_mean_the_word():
    with pytest.raises(QueryError, match="Expected a condition, not “and”"):
        parse_text("and")
    with pytest.raises(QueryError, match="Expected a value after “=”, not “Or”"):
        parse_text("config.x = Or")
    assert parse_text('"and"') == search("and")
    assert parse_text('config.x = "or"') == Compare("config.x", "=", "or")
    assert parse_text("config.android = 1") == Compare("config.android", "=", 1)


@pytest.mark.parametrize(
    ("column", "key", "written"),
    [
        ("summary", "val/acc", "summary.val/acc"),
        ("summary", "final.loss", "summary.final.loss"),
        ("summary", "val acc", "summary.`val acc`"),
        ("config", "odd=key", "config.`odd=key`"),
        ("config", "back`tick\\", "config.`back\\`tick\\\\`"),
        ("config", 'say "x"', 'config.`say "x"`'),
    ],
)
def test_quoted_keys_read_back_as_the_key(column, key, written):
    assert quote_key(column, key) == written
    assert parse_text(f"{written} = 1") == Compare(f"{column}.{key}", "=", 1)


# Fuzzing: any text is a tree that compiles, or a QueryError that points into the text.

WORDS = [
    "config.lr",
    "summary.acc",
    "summary.`val acc`",
    "state",
    "name",
    "tags",
    "created",
    "runtime",
    "author",
    "and",
    "or",
    "not",
    "in",
    "between",
    "has",
    "exists",
    "=",
    "!=",
    "<=",
    ">",
    "~",
    "!~",
    "(",
    ")",
    ",",
    "1",
    "-0.5",
    "1e400",
    "2026-11-01",
    "failed",
    '"x y"',
    "'z'",
    "`k`",
    "true",
    "null",
    "resnet",
    '"(unclosed',
    "sweep",
]


def _check(text):
    try:
        node = parse_text(text)
    except QueryError as error:
        assert error.column is None or 1 <= error.column <= len(text) + 1
        return
    to_q(node)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_query_or_a_query_error(text):
    _check(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=25), st.sampled_from([" ", ""]))
def test_any_sequence_of_query_words_is_a_query_or_a_query_error(words, separator):
    _check(separator.join(words))
