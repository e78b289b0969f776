"""Media a run logged (images, tables, histograms, audio, video, HTML, 3D objects, molecules,
plotly figures): how the client describes them, the run page's panels, thumbnails."""

from .kinds import KIND_OF_TYPE, MEDIA_TYPES, MediaItem, kind_of, media_items
from .panels import MediaPanel, media_panel, media_panels, plotly_bundle
from .thumbnails import thumbnail, thumbnail_name

__all__ = [
    "KIND_OF_TYPE",
    "MEDIA_TYPES",
    "MediaItem",
    "MediaPanel",
    "kind_of",
    "media_items",
    "media_panel",
    "media_panels",
    "plotly_bundle",
    "thumbnail",
    "thumbnail_name",
]
