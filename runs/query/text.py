"""The runs query language: text such as

    summary.val/acc >= 0.9 and config.lr <= 0.01 and (tags has "baseline" or state = failed)

parsed by Lark (grammar in text.lark) into the run-query tree that the MongoDB-style filters
also become, so both mean the same. A mistake is a QueryError whose message ends with, and whose
`column` holds, the 1-based position of the mistake in the text.

Fields: run fields (state, name, run_id, author, group, job_type, tags, created, heartbeat,
runtime) and `config.<key>` / `summary.<key>`. Values: numbers, "quoted text", bare words,
ISO dates (on created and heartbeat), true, false, null. A condition with no operator (`resnet`,
"my run") finds runs whose name or run id contains the text, as the search box always did."""

import difflib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedToken, VisitError

from ..models import Run
from .compiler import to_q
from .nodes import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_TEXT,
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
)

# The names a query may use for run fields, lower case, and the field each one means.
RUN_FIELDS = {
    "state": "state",
    "name": "name",
    "run_id": "run_id",
    "id": "run_id",
    "author": "author",
    "group": "group",
    "job_type": "job_type",
    "job type": "job_type",
    "tags": "tags",
    "tag": "tags",
    "created": "created_at",
    "created_at": "created_at",
    "heartbeat": "heartbeat_at",
    "heartbeat_at": "heartbeat_at",
    "runtime": "runtime",
    "sweep": "sweep",
}
# What autocomplete and "did you mean" offer.
FIELD_NAMES = (
    "state",
    "name",
    "run_id",
    "author",
    "group",
    "job_type",
    "tags",
    "created",
    "heartbeat",
    "runtime",
    "sweep",
)
JSON_COLUMNS = ("config", "summary")
TIME_FIELDS = {"created_at", "heartbeat_at"}
NUMBER_FIELDS = {"runtime"}
NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
INTEGER = re.compile(r"[+-]?\d+")
# A word that needs no quotes as a key: what the grammar's WORD takes, without dots.
PLAIN_KEY = re.compile(r"[^\s()\"'`,=!<>~.]+")
# PostgreSQL refuses NUL in text and a lone surrogate cannot be encoded for either database.
UNSEARCHABLE = re.compile("[\x00\ud800-\udfff]")
SHOWN = 30  # characters of a token quoted in a message


def parse(text: str):
    """The run-query tree of a text query; an empty query matches every run."""
    if not isinstance(text, str):
        raise QueryError("A query must be text.")
    if len(text) > MAX_TEXT:
        raise _error(f"The query is longer than {MAX_TEXT} characters", MAX_TEXT + 1)
    if (bad := UNSEARCHABLE.search(text)) is not None:
        raise _error("The query holds a character that cannot be searched for", bad.start() + 1)
    if not text.strip():
        return And(())
    parser = _parser().parse_interactive(text)
    seen = []
    try:
        for token in parser.iter_parse():
            seen.append(token)
        tree = parser.feed_eof(seen[-1] if seen else None)
    except UnexpectedCharacters as error:
        raise _bad_character(text, error.pos_in_stream) from None
    except UnexpectedToken as error:
        # LALR merges states, so the error's own expected set can hold terminals that would
        # fail a step later; the parser, asked terminal by terminal, knows exactly.
        raise _syntax_error(text, error.token, parser.accepts(), seen) from None
    try:
        return _Builder(text).transform(tree).node
    except VisitError as error:
        if isinstance(error.orig_exc, QueryError):
            raise error.orig_exc from None
        raise


@cache
def _parser() -> Lark:
    return Lark.open("text.lark", rel_to=__file__, parser="lalr", lexer="basic")


def _error(message: str, column: int) -> QueryError:
    return QueryError(f"{message.rstrip('.')} at column {column}", column=column)


def _shown(text: str) -> str:
    return f"“{text if len(text) <= SHOWN else text[: SHOWN - 1] + '…'}”"


# Syntax errors: the parser's view (a token it did not expect) said the way a person reads it.


def _bad_character(text: str, position: int) -> QueryError:
    char = text[position]
    if char in "\"'`":
        return _error(f"The text quoted with {char} is not closed", position + 1)
    return _error(f"Unexpected {_shown(char)}: quote text that holds it", position + 1)


def _syntax_error(text: str, token: Token, expected: set, seen: list) -> QueryError:
    at_end = token.type == "$END"
    if seen and not at_end and seen[-1] is token:
        seen = seen[:-1]
    previous = seen[-1] if seen else None
    column = len(text) + 1 if at_end else token.start_pos + 1
    after = f" after {_shown(previous.value)}" if previous is not None else ""
    found = "" if at_end else f", not {_shown(token.value)}"
    if expected <= {"WORD", "QUOTED"}:
        message = f"Expected a value{after}{found}"
    elif {"NOT", "LPAR"} <= expected:
        message = f"Expected a condition{after}{found}"
    elif expected == {"LPAR"}:
        message = f"Expected a list such as (1, 2){after}{found}"
    elif "COMPARE" in expected:
        message = f"Expected an operator such as =, <, ~, in, has or exists{after}{found}"
    elif expected == {"AND"}:
        message = f"Expected “and”{after} (between A and B){found}"
    elif expected == {"RPAR"}:
        message = f"Expected “)” to close a “(”{after}{found}"
    elif expected <= {"COMMA", "RPAR"}:
        message = f"Expected “,” or “)”{after}{found}"
    elif expected <= {"IN", "EXISTS", "BETWEEN"}:
        message = f"Expected “in”, “exists” or “between”{after}{found}"
    elif "RPAR" in expected:
        message = f"Expected “and”, “or” or “)”{after}{found}"
    else:
        message = f"Expected “and”, “or” or the end of the query{after}{found}"
    return _error(message, column)


# From the parse tree to the run-query tree.


@dataclass(frozen=True)
class _Field:
    name: str  # the field in the run-query model: "state", "summary.val/acc"
    label: str  # as written
    column: int


@dataclass(frozen=True)
class _Part:
    """A piece of the tree with what the limits of nodes.py count: its height and its size."""

    node: object
    height: int
    size: int


class _Builder(Transformer_NonRecursive):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    # Conditions

    def compare(self, children):
        field, op, value = children
        operator = "=" if op.value == "==" else op.value
        return self._leaf(Compare(field.name, operator, self._value(field, value)), value)

    def match(self, children):
        field, op, value = children
        pattern = _unquoted(value)
        if field.name == "tags":
            raise _error("Tags are matched whole: use tags has or tags in", op.start_pos + 1)
        node = Regex(field.name, pattern)
        return self._leaf(Not(node) if op.value == "!~" else node, value)

    def one_of(self, children):
        field, _, values = children
        return self._members(field, values, negate=False)

    def none_of(self, children):
        field, _, _, values = children
        return self._members(field, values, negate=True)

    def between(self, children):
        field, _, low, _, high = children
        node = And(
            (
                Compare(field.name, ">=", self._value(field, low)),
                Compare(field.name, "<=", self._value(field, high)),
            )
        )
        return self._leaf(node, low)

    def not_between(self, children):
        field, *rest = children
        inner = self.between([field, *rest[1:]])
        return self._combine(Not(inner.node), [inner], rest[0])

    def has(self, children):
        field, op, value = children
        if field.name != "tags":
            raise _error(f"Only tags take “has”, not {_shown(field.label)}", op.start_pos + 1)
        return self._leaf(HasTag(_unquoted(value)), value)

    def exists(self, children):
        field, op = children
        return self._leaf(Exists(field.name, present=True), op)

    def missing(self, children):
        field, op, _ = children
        return self._leaf(Exists(field.name, present=False), op)

    def search(self, children):
        first, last = children[0], children[-1]
        if first.type == "QUOTED":
            text = _unquoted(first)
        else:
            text = self.text[first.start_pos : last.end_pos]
        node = Or((Contains("name", text), Contains("run_id", text)))
        return self._leaf(node, first)

    # Fields and values

    def field(self, tokens):
        column = tokens[0].start_pos + 1
        label = self.text[tokens[0].start_pos : tokens[-1].end_pos]
        segments = _segments(tokens)
        head = segments[0].lower()
        if len(segments) == 1 and head in RUN_FIELDS:
            return _Field(RUN_FIELDS[head], label, column)
        if head in JSON_COLUMNS:
            if len(segments) == 1:
                raise _error(f"{head} needs a key, e.g. {head}.lr", column)
            if not all(segments[1:]):
                raise _error(f"{_shown(label)} has an empty key", column)
            return _Field(f"{head}.{'.'.join(segments[1:])}", label, column)
        raise _error(_unknown_field(segments), column)

    def values(self, children):
        return [child for child in children if child.type in ("WORD", "QUOTED")]

    def _value(self, field: _Field, token: Token):
        quoted = token.type == "QUOTED"
        text = _unquoted(token)
        if not quoted and text.lower() == "null":
            return None
        if field.name in TIME_FIELDS:
            return _date(text, token)
        if field.name in NUMBER_FIELDS:
            if quoted or not NUMBER.fullmatch(text):
                message = f"{field.label} is a number of seconds, not {_shown(text)}"
                raise _error(message, _at(token))
            return _number(text, token)
        if field.name == "state" and text not in Run.State.values:
            close = difflib.get_close_matches(text.lower(), Run.State.values, n=1)
            hint = f": did you mean “{close[0]}”?" if close else ""
            raise _error(f"Runs have no state {_shown(text)}{hint}", _at(token))
        if quoted or field.name in RUN_FIELDS.values():
            return text
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return _number(text, token) if NUMBER.fullmatch(text) else text

    def _members(self, field, values, *, negate):
        items = tuple(self._value(field, value) for value in values)
        return self._leaf(In(field.name, items, negate=negate), values[0] if values else None)

    def _leaf(self, node, token) -> _Part:
        """A condition, checked now so that a mistake the compiler finds (a regular expression
        that does not compile, a date compared to a number) points at its place."""
        try:
            to_q(node)
        except QueryError as error:
            raise _error(str(error), _at(token) if token is not None else 1) from None
        size, height = _measure(node)
        if size > MAX_NODES:
            raise _error(f"The query has more than {MAX_NODES} conditions", _at(token))
        return _Part(node, height, size)

    # Logic

    def negation(self, children):
        op, part = children
        return self._combine(Not(part.node), [part], op)

    def and_expr(self, children):
        return self._join(And, children)

    def or_expr(self, children):
        return self._join(Or, children)

    def group(self, children):
        return children[1]

    def _join(self, kind, children):
        parts = [child for child in children if isinstance(child, _Part)]
        op = next(child for child in children if isinstance(child, Token))
        return self._combine(kind(tuple(part.node for part in parts)), parts, op)

    def _combine(self, node, parts, op) -> _Part:
        height = 1 + max(part.height for part in parts)
        size = 1 + sum(part.size for part in parts)
        if height > MAX_DEPTH:
            raise _error(f"The query is nested deeper than {MAX_DEPTH} levels", _at(op))
        if size > MAX_NODES:
            raise _error(f"The query has more than {MAX_NODES} conditions", _at(op))
        return _Part(node, height, size)


def _at(token: Token) -> int:
    return token.start_pos + 1


def _measure(node) -> tuple[int, int]:
    """(size, height) of a condition's own small tree, counted as nodes.check counts them."""
    if isinstance(node, (And, Or)):
        measures = [_measure(item) for item in node.items]
        return 1 + sum(m[0] for m in measures), 1 + max((m[1] for m in measures), default=0)
    if isinstance(node, Not):
        size, height = _measure(node.item)
        return size + 1, height + 1
    return 1 + (len(node.values) if isinstance(node, In) else 0), 0


def _unquoted(token: Token) -> str:
    if token.type != "QUOTED":
        return token.value
    quote, inner = token.value[0], token.value[1:-1]
    # Only the quote and the backslash are escaped, so regular expressions keep their \d.
    return re.sub(r"\\([\\" + quote + "])", r"\1", inner)


def _segments(tokens: list) -> list[str]:
    """The dotted path of a field written as words and quoted parts: summary.`val acc`.x."""
    segments = []
    for index, token in enumerate(tokens):
        if token.type == "QUOTED":
            if index and not tokens[index - 1].value.endswith("."):
                raise _error("Put a dot before a quoted part of a key", _at(token))
            segments.append(_unquoted(token))
            continue
        pieces = token.value.split(".")
        if index:  # after a quoted part
            if pieces[0]:
                raise _error("Put a dot after a quoted part of a key", _at(token))
            pieces = pieces[1:]
        if index < len(tokens) - 1:  # before a quoted part: its trailing dot
            pieces = pieces[:-1]
        segments.extend(pieces)
    return segments


def _unknown_field(segments: list[str]) -> str:
    written = ".".join(segments)
    known = [*FIELD_NAMES, *JSON_COLUMNS]
    close = difflib.get_close_matches(segments[0].lower(), known, n=1, cutoff=0.6)
    if close and close[0] in JSON_COLUMNS and len(segments) > 1:
        suggestion = ".".join([close[0], *segments[1:]])
        return f"Unknown field {_shown(written)}: did you mean “{suggestion}”?"
    if close and close[0] not in JSON_COLUMNS and len(segments) == 1:
        return f"Unknown field {_shown(written)}: did you mean “{close[0]}”?"
    return (
        f"Unknown field {_shown(written)}: keys are written config.{written} or summary.{written}"
    )


def _number(text: str, token: Token):
    number = int(text) if INTEGER.fullmatch(text) else float(text)
    if not math.isfinite(float(number)):
        raise _error(f"{_shown(text)} is too large a number", _at(token))
    return number


def _date(text: str, token: Token) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _error(
            f"{_shown(text)} is not a date such as 2026-11-01 or 2026-11-01T09:30", _at(token)
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def quote_key(column: str, key: str) -> str:
    """How a query writes a config or summary key: `summary.val/acc`, summary.`val acc`."""
    pieces = [
        piece
        if PLAIN_KEY.fullmatch(piece)
        else "`" + piece.replace("\\", "\\\\").replace("`", "\\`") + "`"
        for piece in key.split(".")
    ]
    return ".".join([column, *pieces])


def condition_may_start(text: str) -> bool:
    """Whether a condition (so a field name) may come after `text`: what autocomplete asks
    before it offers keys. False where a value is due, or where `text` is already a mistake."""
    parser = _parser().parse_interactive(text)
    try:
        parser.exhaust_lexer()
    except (UnexpectedCharacters, UnexpectedToken):
        return False
    # Where a condition starts, "(" and "not" fit; after a word, "not" (not in) but no "(".
    return {"NOT", "LPAR"} <= parser.accepts()
