"""A report as one HTML file that reads offline, for whoever may read the report: what the
report page shows (its latest version, or the team's draft, marked, when never published), with
the stylesheets and plotly.js inlined from the site's own static files, so opening it needs no
network and no server. Nothing in it links back into the site: the source is named as text.

A media panel's images travel inside the file as data: URIs of their thumbnails (text blocks
show no images, reports/markdown.py), up to MAX_INLINE_IMAGES bytes in all; past that, the
panel says which were left out."""

import base64
from urllib.parse import urlsplit

import nh3
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from runs.media.thumbnails import thumbnail

from .markdown import ATTRIBUTES, TAGS, URL_SCHEMES
from .models import Report
from .panels import render_blocks, without_site_addresses
from .selectors import shown_content

STYLESHEETS = ("css/app.css", "css/reports.css")
# Report charts draw lines, which plotly.js's smallest bundle draws; a figure with another kind
# of trace takes the full bundle (the same split as static/js/plotly_config.js).
BASIC_BUNDLE, FULL_BUNDLE = "vendor/plotly-basic.min.js", "vendor/plotly.min.js"
BASIC_TRACES = {"scatter", "bar", "pie"}
PRINT_SCRIPT = "js/print_charts.js"  # the report page's: charts at the paper's width
MAX_INLINE_IMAGES = 20 * 1024 * 1024


def static_text(path: str) -> str:
    """A static file's text from where the site serves it: its source (the finders, with
    node_modules for plotly.js), else the copy collectstatic made."""
    found = finders.find(path)
    if found:
        with open(found, encoding="utf-8") as source:
            return source.read()
    with staticfiles_storage.open(path) as collected:
        return collected.read().decode("utf-8")


def inline_script(code: str) -> str:
    # Inside <script>, "</script" would end the element early; "<\/" means the same in JS
    # strings, regular expressions and comments, the only places it can occur.
    return code.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def _is_site_link(href: str) -> bool:
    parts = urlsplit(href)
    if not parts.scheme:  # relative: a page of the site, dead offline
        return True
    site = urlsplit(settings.SITE_URL)
    return (parts.scheme, parts.netloc) == (site.scheme, site.netloc)


def offline_text(html: str) -> str:
    """A text block's HTML with its links into the site made plain text; links elsewhere stay."""

    def keep(tag, attribute, value):
        if tag == "a" and attribute == "href" and _is_site_link(value):
            return None
        return value

    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=keep,
        link_rel="noopener noreferrer",
    )


def _plotly_bundle(blocks) -> str:
    types = {
        trace.get("type") or "scatter"
        for block in blocks
        if block.figure
        for trace in block.figure["data"]
    }
    if not types:
        return ""
    return static_text(BASIC_BUNDLE if types <= BASIC_TRACES else FULL_BUNDLE)


def inline_images(blocks) -> None:
    """Each media panel's images as data: URIs of their thumbnails, while the file stays under
    MAX_INLINE_IMAGES; an image left out (too much, or no thumbnail) is said on its panel."""
    budget = MAX_INLINE_IMAGES
    for block in blocks:
        left_out = 0
        for image in block.images:
            data = thumbnail(image["file"]) if image.get("file") else None
            if data is None or len(data) > budget:
                image["src"], left_out = "", left_out + 1
                continue
            budget -= len(data)
            image["src"] = "data:image/webp;base64," + base64.b64encode(data).decode("ascii")
        if left_out:
            block.notes.append(f"{left_out} image(s) left out of this file: see the report.")


def export_filename(title: str) -> str:
    return f"{slugify(title)[:80] or 'report'}.html"


def report_html(
    project, report: Report, *, source_url: str, outside: bool = False
) -> tuple[str, str]:
    """(file name, the file's HTML) of the report as its reader sees it on the report page;
    `source_url` (none for a share link's holder: its token stays out of the file) is named
    in the file as text; `outside` (a reader who may not see the project): not its path either."""
    version, title, shown = shown_content(report)
    blocks = without_site_addresses(render_blocks(project, shown))
    for block in blocks:
        if block.html:
            block.html = offline_text(block.html)
    inline_images(blocks)
    context = {
        "project": project,
        "report": report,
        "version": version,
        "title": title,
        "blocks": blocks,
        "offline": True,
        "outside": outside,
        "source_url": source_url,
        "exported_at": timezone.now(),
        "stylesheet": "\n".join(static_text(path) for path in STYLESHEETS),
        "plotly": inline_script(_plotly_bundle(blocks)),
        "print_script": inline_script(static_text(PRINT_SCRIPT)),
    }
    return export_filename(title), render_to_string("reports/export.html", context)
