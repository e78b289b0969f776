from django import template

from teamsite.lib.durations import human_duration

register = template.Library()


@register.filter
def duration(seconds):
    """A runtime in seconds as "39m 49s"; empty for a run without one."""
    return human_duration(seconds)
