"""Images a run logged (`run.log({"samples": wandb.Image(...)})`): the run page's media panels,
and the thumbnails it shows, made once with Pillow and kept in storage."""

import io
import logging
from dataclasses import dataclass, field

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from .models import MetricKey, RichValue, Run, RunFile

logger = logging.getLogger(__name__)

IMAGE = "image-file"
IMAGES = "images/separated"
THUMBNAIL_WIDTH = 512
# A thumbnail keeps the image's proportions within this box.
THUMBNAIL_BOX = (THUMBNAIL_WIDTH, 4 * THUMBNAIL_WIDTH)
# Images larger than these are not decoded: a small file can unpack to gigabytes of pixels.
MAX_SOURCE_BYTES = 64 * 1024 * 1024
MAX_SOURCE_PIXELS = 40_000_000


@dataclass
class MediaImage:
    name: str
    caption: str
    file: RunFile | None


@dataclass
class MediaStep:
    step: int
    images: list[MediaImage]


@dataclass
class MediaPanel:
    key: str
    steps: list[MediaStep] = field(default_factory=list)

    @property
    def last(self) -> int:
        return len(self.steps) - 1

    @property
    def last_step(self) -> int:
        return self.steps[-1].step


def _images_of(value: dict) -> list[tuple[str, str]]:
    """(file name, caption) of each image in a logged image value, in order."""
    if value.get("_type") == IMAGE:
        path = value.get("path")
        caption = value.get("caption")
        if not isinstance(path, str):
            return []
        return [(path, caption if isinstance(caption, str) else "")]
    names = value.get("filenames")
    captions = value.get("captions")
    if not isinstance(names, list):
        return []
    if not isinstance(captions, list):
        captions = []
    captions = [c if isinstance(c, str) else "" for c in captions]
    captions = (captions + [""] * len(names))[: len(names)]
    pairs = zip(names, captions, strict=True)
    return [(name, caption) for name, caption in pairs if isinstance(name, str)]


def media_panels(run: Run) -> list[MediaPanel]:
    """One panel per image key, with the steps where it was logged: two queries in all."""
    values = (
        RichValue.objects.filter(
            run=run, key__stream=MetricKey.Stream.HISTORY, value___type__in=[IMAGE, IMAGES]
        )
        .values_list("key__name", "step", "value")
        .order_by("key__name", "step")
    )
    panels: dict[str, MediaPanel] = {}
    for key, step, value in values:
        if not isinstance(value, dict):
            continue
        images = [MediaImage(name, caption, None) for name, caption in _images_of(value)]
        if images:
            panels.setdefault(key, MediaPanel(key)).steps.append(MediaStep(step, images))
    names = {image.name for panel in panels.values() for s in panel.steps for image in s.images}
    if names:
        files = {
            file.name: file
            for file in RunFile.objects.filter(run=run, name__in=names).exclude(uploaded_at=None)
        }
        for panel in panels.values():
            for media_step in panel.steps:
                for image in media_step.images:
                    image.file = files.get(image.name)
    return list(panels.values())


def thumbnail_name(file: RunFile) -> str:
    # The checksum changes when the client uploads the file again under the same name.
    return f"thumbnails/{file.pk}-{file.md5[:12]}-{THUMBNAIL_WIDTH}.webp"


def _make_thumbnail(file: RunFile) -> bytes | None:
    if not file.storage_name or file.size is None or file.size > MAX_SOURCE_BYTES:
        return None
    try:
        with default_storage.open(file.storage_name) as handle, Image.open(handle) as image:
            # Only the header is read so far: refuse before decoding the pixels.
            if image.width * image.height > MAX_SOURCE_PIXELS:
                return None
            image.thumbnail(THUMBNAIL_BOX)
            if image.mode not in ("RGB", "RGBA"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            image.save(out, "WEBP", quality=85)
            return out.getvalue()
    except FileNotFoundError:
        return None
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
    ):
        logger.info("Run file %s is not an image Teamsite can read.", file.pk)
        return None


def thumbnail(file: RunFile) -> bytes | None:
    """The file's thumbnail, made on the first request and kept; None if it is not an image."""
    name = thumbnail_name(file)
    if default_storage.exists(name):
        with default_storage.open(name) as handle:
            return handle.read()
    data = _make_thumbnail(file)
    if data is not None:
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # made at the same time by another request
            default_storage.delete(saved)
    return data
