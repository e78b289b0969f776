"""One query model for runs: the tree (nodes), its compiler to the ORM, and the translators
from the ways people ask: the client's MongoDB-style filters and the text query language."""

from .compiler import has_tag, order_by, to_q
from .mongo import from_mongo, parse_order
from .nodes import (
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
from .text import parse as parse_text
from .text import quote_key

__all__ = [
    "And",
    "Compare",
    "Contains",
    "Exists",
    "HasTag",
    "In",
    "Not",
    "Or",
    "QueryError",
    "Regex",
    "from_mongo",
    "has_tag",
    "order_by",
    "parse_order",
    "parse_text",
    "quote_key",
    "to_q",
]
