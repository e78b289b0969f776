"""Durations as people read them: "59s", "39m 49s", "2h 3m", "4d 2h"."""

UNITS = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]


def human_duration(seconds: float | None) -> str:
    """The two largest units of a number of seconds, the second left out when it is zero;
    "" for None. Fractions of a second are dropped, negative values read as 0s."""
    if seconds is None:
        return ""
    remaining = max(0, int(seconds))
    parts = []
    for suffix, size in UNITS:
        count, remaining = divmod(remaining, size)
        if count or parts:
            parts.append((count, suffix))
        if len(parts) == 2:
            break
    if not parts:
        return "0s"
    return " ".join(f"{count}{suffix}" for count, suffix in parts if count)
