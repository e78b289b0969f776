"""Data several report tests log."""

import io

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from runs.models import RunFile


def png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 4), colour).save(out, "PNG")
    return out.getvalue()


def log_images(run, log, steps: int, per_step: int):
    """Images logged under "samples" at each step, the files uploaded."""
    values = []
    for step in range(steps):
        names = [f"media/images/samples_{step}_{i}.png" for i in range(per_step)]
        values.append(
            {
                "_type": "images/separated",
                "filenames": names,
                "captions": [f"step {step} image {i}" for i in range(per_step)],
                "count": per_step,
            }
        )
        for name in names:
            data = png((step * 40 % 255, 10, 10))
            RunFile.objects.create(
                run=run,
                name=name,
                storage_name=default_storage.save(f"tests/{name}", ContentFile(data)),
                size=len(data),
                md5=f"{step:032d}",
                uploaded_at=timezone.now(),
            )
    log(run, {"samples": values, "loss": [1.0] * steps})
