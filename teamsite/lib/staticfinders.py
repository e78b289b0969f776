"""Front-end libraries served from the npm packages that ship them (package.json, installed by
`make setup` with `npm ci` into node_modules/), so nothing is pasted into the repository and the
lock file pins their versions."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core import checks
from django.core.files.storage import FileSystemStorage

NODE_MODULES = Path(settings.BASE_DIR) / "node_modules"

# URL path under STATIC_URL -> file inside an installed package. plotly.js's official bundles:
# the full one (every trace type; about a second of script evaluation) and two partial ones,
# so a page loads only what its charts draw (see static/js/plotly_config.js).
PACKAGED_ASSETS = {
    "vendor/plotly.min.js": NODE_MODULES / "plotly.js-dist-min" / "plotly.min.js",
    "vendor/plotly-cartesian.min.js": (
        NODE_MODULES / "plotly.js-cartesian-dist-min" / "plotly-cartesian.min.js"
    ),
    "vendor/plotly-basic.min.js": NODE_MODULES / "plotly.js-basic-dist-min" / "plotly-basic.min.js",
}


class PackagedAssetFinder(BaseFinder):
    """Finds exactly the files of PACKAGED_ASSETS (not the rest of those packages)."""

    def check(self, **kwargs):
        # Without them every chart page misses its script (and collectstatic would leave them
        # out of the manifest, which breaks those pages in production): say what to run.
        return [
            checks.Error(
                f"{source} is missing: this static file cannot be served.",
                hint="Install the front-end packages: `make setup` (or `npm ci`).",
                obj=path,
                id="teamsite.E001",
            )
            for path, source in PACKAGED_ASSETS.items()
            if not source.is_file()
        ]

    def find(self, path, find_all=False):
        source = PACKAGED_ASSETS.get(path)
        if source is None or not source.is_file():
            return [] if find_all else None
        return [str(source)] if find_all else str(source)

    def list(self, ignore_patterns):
        for path, source in PACKAGED_ASSETS.items():
            if not source.is_file():
                continue
            storage = FileSystemStorage(location=source.parent)
            storage.prefix = str(Path(path).parent)
            yield source.name, storage
