"""Front-end libraries served from the Python packages that ship them, so nothing is pasted
into the repository and `pip install` pins their versions."""

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

# URL path under STATIC_URL -> file inside an installed package.
PACKAGED_ASSETS = {
    "vendor/plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
}


class PackagedAssetFinder(BaseFinder):
    """Finds exactly the files of PACKAGED_ASSETS (not the rest of those packages)."""

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False):
        source = PACKAGED_ASSETS.get(path)
        if source is None or not source.exists():
            return [] if find_all else None
        return [str(source)] if find_all else str(source)

    def list(self, ignore_patterns):
        for path, source in PACKAGED_ASSETS.items():
            storage = FileSystemStorage(location=source.parent)
            storage.prefix = str(Path(path).parent)
            yield source.name, storage
