from django import template

from runs.media.formats import PLAYABLE_VIDEOS, file_extension, format_name
from runs.media.formats import figure_drawable as _figure_drawable
from runs.media.histograms import histogram_bars as _histogram_bars

register = template.Library()


@register.filter
def histogram_bars(value):
    """A logged histogram as {"bars": plotly bar data} or {"error": why it cannot be drawn}."""
    return _histogram_bars(value)


@register.filter
def media_format(name):
    """The format of a logged file, named for a reader: "glTF binary (GLB)"."""
    return format_name(name)


@register.filter
def video_player(name):
    """How a logged video shows: "video" (the browser plays it), "image" (a gif), or "" (a
    format browsers do not play: a download link)."""
    extension = file_extension(name)
    if extension == "gif":
        return "image"
    return "video" if extension in PLAYABLE_VIDEOS else ""


@register.filter
def figure_drawable(file):
    """Whether a logged plotly figure's file is small enough to draw in the page."""
    return _figure_drawable(file)
