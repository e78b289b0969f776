"""What the client logs for each kind of media (`wandb.Image`, `wandb.Table`, `wandb.Audio`, ...):
the `_type` of the value it puts in the history row, and the run files that value points to.

A single medium is a `<kind>-file` value with a `path`; a list logged under one key is one value
naming its files (`filenames`) or holding each medium's own value (`videos`, `audio`, `html`,
`objects`), with `captions` beside them."""

from dataclasses import dataclass

from runs.models import RunFile

IMAGE = "image"
TABLE = "table"
HISTOGRAM = "histogram"
AUDIO = "audio"
VIDEO = "video"
HTML = "html"
OBJECT3D = "object3d"
MOLECULE = "molecule"
PLOTLY = "plotly"
BOKEH = "bokeh"

KIND_OF_TYPE = {
    "image-file": IMAGE,
    "images/separated": IMAGE,
    "table-file": TABLE,
    "incremental-table-file": TABLE,
    "histogram": HISTOGRAM,
    "audio-file": AUDIO,
    "audio": AUDIO,
    "video-file": VIDEO,
    "videos": VIDEO,
    "html-file": HTML,
    "html": HTML,
    "object3D-file": OBJECT3D,
    "object3D": OBJECT3D,
    "molecule-file": MOLECULE,
    "molecule": MOLECULE,
    "plotly-file": PLOTLY,
    "bokeh-file": BOKEH,
}
MEDIA_TYPES = list(KIND_OF_TYPE)

# Where a list of media keeps each medium's own value.
_MEMBER_LISTS = ("videos", "audio", "html", "objects")


@dataclass
class MediaItem:
    """One logged file of a media value, and its caption."""

    name: str
    caption: str = ""
    file: object = None  # the uploaded RunFile, once looked up; None until it is uploaded


def kind_of(value) -> str | None:
    if not isinstance(value, dict):
        return None
    kind = value.get("_type")
    return KIND_OF_TYPE.get(kind) if isinstance(kind, str) else None


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _captions(value: dict, count: int) -> list[str]:
    captions = value.get("captions")
    if not isinstance(captions, list):
        captions = []
    captions = [_text(caption) for caption in captions]
    return (captions + [""] * count)[:count]


def media_items(value) -> list[MediaItem]:
    """The files a logged media value points to, in order, with their captions."""
    if not isinstance(value, dict):
        return []
    path = value.get("path")
    if isinstance(path, str):
        return [MediaItem(path, _text(value.get("caption")))]
    for member_list in _MEMBER_LISTS:
        members = value.get(member_list)
        if isinstance(members, list):
            captions = _captions(value, len(members))
            return [
                MediaItem(member["path"], _text(member.get("caption")) or caption)
                for member, caption in zip(members, captions, strict=True)
                if isinstance(member, dict) and isinstance(member.get("path"), str)
            ]
    names = value.get("filenames")
    if not isinstance(names, list):
        return []
    captions = _captions(value, len(names))
    pairs = zip(names, captions, strict=True)
    return [MediaItem(name, caption) for name, caption in pairs if isinstance(name, str)]


def attach_files(run, items: list[MediaItem]) -> None:
    """Point each item at its uploaded run file: one query for all of them, none for no items."""
    names = {item.name for item in items}
    if not names:
        return
    uploaded = RunFile.objects.filter(run=run, name__in=names).exclude(uploaded_at=None)
    files = {file.name: file for file in uploaded}
    for item in items:
        item.file = files.get(item.name)
