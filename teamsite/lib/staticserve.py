"""WhiteNoise as `make run` uses it: the collected, compressed copy of a static file while it is
current, the source file as soon as someone edits it."""

import os

from django.contrib.staticfiles import finders
from whitenoise.base import WhiteNoise
from whitenoise.middleware import WhiteNoiseMiddleware


def _is_current_copy(copy, source):
    try:
        copied, original = os.stat(copy), os.stat(source)
    except OSError:
        return False
    return copied.st_size == original.st_size and copied.st_mtime >= original.st_mtime


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """In development (DEBUG: WhiteNoise looks files up on each request, finders first) the
    finders' source file would always win over STATIC_ROOT, whose copy has its compressed twins
    next to it. Prefer that copy while it is as new as the source and the same size, so pages
    load compressed after `collectstatic` and an edit still shows on the next reload."""

    def candidate_paths_for_url(self, url):
        collected = list(WhiteNoise.candidate_paths_for_url(self, url))
        source = None
        if self.use_finders and url.startswith(self.static_prefix):
            source = finders.find(url[len(self.static_prefix) :])
        if source:
            yield from (path for path in collected if _is_current_copy(path, source))
            yield source
        yield from collected
