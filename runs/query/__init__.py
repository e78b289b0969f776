"""One query model for runs: the tree (nodes), its compiler to the ORM, and the translators
from the ways people ask (the client's MongoDB-style filters today)."""

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
    "to_q",
]
