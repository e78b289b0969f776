"""Syntax highlighting of file text with Pygments: class names in the markup, colours in one
stylesheet (static/css/highlight.css) so pages need no inline styles."""

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.util import ClassNotFound

STYLE = "default"
CSS_CLASS = "highlight"


def lexer_for(name: str):
    """The lexer Pygments picks from the file name; plain text when it knows none."""
    try:
        return get_lexer_for_filename(name.rsplit("/", 1)[-1], stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def highlight_text(name: str, text: str) -> str:
    """`text` as HTML (escaped, highlighted by the lexer for `name`) with line numbers."""
    formatter = HtmlFormatter(style=STYLE, cssclass=CSS_CLASS, linenos="table", wrapcode=True)
    return highlight(text, lexer_for(name), formatter)


def stylesheet() -> str:
    """The contents of static/css/highlight.css, made from the Pygments style."""
    rules = HtmlFormatter(style=STYLE, cssclass=CSS_CLASS).get_style_defs(f".{CSS_CLASS}")
    header = (
        "/* Colours for highlighted file text, generated from the Pygments style "
        f'"{STYLE}": python -c "from teamsite.lib.highlight import stylesheet; '
        "print(stylesheet(), end='')\" > static/css/highlight.css */\n"
    )
    return header + rules + "\n"
