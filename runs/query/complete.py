"""Autocomplete for the runs query box: the word at the cursor, and the run fields and config
and summary keys that could replace it, written as a query writes them."""

from collections.abc import Callable
from dataclasses import dataclass

from .text import FIELD_NAMES, condition_may_start, quote_key

# Characters that end a word: what the grammar's WORD cannot hold.
STOPS = set(" \t\r\n()\"'`,=!<>~")
MAX_SUGGESTIONS = 12


@dataclass(frozen=True)
class Suggestion:
    text: str  # as the query writes it: summary.`val acc`
    kind: str  # "field", "config" or "summary"


@dataclass(frozen=True)
class Completion:
    start: int  # the word at the cursor spans text[start:end]
    end: int
    suggestions: tuple


def suggest(text: str, at: int, keys: Callable[[], dict[str, list[str]]]) -> Completion | None:
    """What could replace the word that the cursor (`at`, an offset in `text`) is in or after.
    `keys` gives the project's keys by column; it is called only where a field may be typed."""
    at = max(0, min(at, len(text)))
    start = at
    while start > 0 and text[start - 1] not in STOPS:
        start -= 1
    end = at
    while end < len(text) and text[end] not in STOPS:
        end += 1
    typed = text[start:at].lower()
    if not typed or not condition_may_start(text[:start]):
        return None
    # Each candidate with the name it is matched by: keys as named, not as quoted.
    candidates = [(name, Suggestion(name, "field")) for name in FIELD_NAMES]
    for column, names in keys().items():
        candidates += [
            (f"{column}.{name}".lower(), Suggestion(quote_key(column, name), column))
            for name in names
            if all(name.split("."))
        ]
    # Those that begin with what was typed first, then those that contain it (`acc` finds
    # summary.val/acc), each in the order given: fields, then keys by column and name.
    starting = [s for name, s in candidates if name.startswith(typed)]
    containing = [s for name, s in candidates if typed in name and s not in starting]
    found = (starting + containing)[:MAX_SUGGESTIONS]
    if not found or [s.text for s in found] == [text[start:end]]:
        return None  # nothing fits, or the word is already the one that does
    return Completion(start, end, tuple(found))
