"""Every fixed first segment of the site's URLs is a reserved entity name: an entity of that
name would have its pages hidden behind the fixed route."""

from django.urls import URLResolver, get_resolver

from teams.models import RESERVED_NAMES


def routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        else:
            yield route


def test_every_fixed_first_segment_is_a_reserved_name():
    first_segments = {
        route.lstrip("^").split("/")[0] for route in routes(get_resolver().url_patterns)
    }
    fixed = {segment for segment in first_segments if segment and not set("<([") & set(segment)}

    assert "admin" in fixed and "sdk" in fixed  # the walk reaches included URLconfs
    # Entity names are compared lowercased (teams.services).
    assert sorted(segment for segment in fixed if segment.lower() not in RESERVED_NAMES) == []
