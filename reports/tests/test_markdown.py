"""Text blocks: Markdown renders, and nothing that could run script comes through."""

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from reports.markdown import render_markdown

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


class Elements(HTMLParser):
    """The elements of rendered HTML as a browser would parse them."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


SAFE_SCHEMES = ("http:", "https:", "mailto:")


def unsafe(html: str) -> list:
    """Elements or attributes that could run script, load something, or restyle the page."""
    problems = []
    for tag, attrs in Elements(html).found:
        if tag not in ALLOWED_TAGS:
            problems.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or name in ("style", "src", "srcdoc"):
                problems.append(f"{tag}[{name}]")
            href = (value or "").lower()
            has_scheme = ":" in href.split("/")[0]
            if name == "href" and has_scheme and not href.startswith(SAFE_SCHEMES):
                problems.append(f"href={value}")
    return problems


def test_markdown_renders_headings_lists_tables_and_links():
    html = render_markdown(
        "# Result\n\n- **fast**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[docs](https://example.org)"
    )
    assert "<h1>Result</h1>" in html
    assert "<strong>fast</strong>" in html
    assert "<td>1</td>" in html
    assert '<a href="https://example.org" rel="noopener noreferrer">docs</a>' in html


def test_raw_html_is_shown_as_text():
    html = render_markdown('<script>alert(1)</script> <img src=x onerror="alert(1)">')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_javascript_links_lose_their_address():
    html = render_markdown("[click](javascript:alert(1)) [two](JaVaScRiPt:alert(1))")
    assert [tag for tag, _ in Elements(html).found] == ["p"]  # no link at all
    assert unsafe(render_markdown("<a href='javascript:x'>y</a> [z](vbscript:x)")) == []


def test_html_in_link_titles_and_code_is_escaped():
    html = render_markdown(
        '[x](https://a.example "\\" onmouseover=\\"alert(1)")\n\n`<b onclick=1>`'
    )
    (link,) = [attrs for tag, attrs in Elements(html).found if tag == "a"]
    assert set(link) == {"href", "title", "rel"}
    assert "&lt;b onclick=1&gt;" in html


MARKDOWN_BITS = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[a](javascript:alert(1))",
        "<a href='javascript:x'>y</a>",
        "<iframe src=//x>",
        "<style>*{}</style>",
        '" onload="x',
        "\n\n",
        "# ",
        "| a |\n|---|\n| b |\n",
        "`",
        "```\n",
        "<",
        ">",
        "[",
        "](",
        ")",
        "*",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=20)), max_size=20).map("".join))
def test_any_text_renders_without_script_or_event_attributes(text):
    assert unsafe(render_markdown(text)) == []


def test_the_check_itself_finds_what_it_looks_for():
    found = unsafe('<script></script><a href="javascript:x" onclick="y">z</a><p style="x">')
    assert found == ["script", "href=javascript:x", "a[onclick]", "p[style]"]
