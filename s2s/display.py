"""Displaying generated code: highlighted for a terminal, as HTML or Markdown for notebooks.

:func:`highlight_ansi` colours code for a terminal (the command line), :func:`highlight_html`
and :func:`markdown_code` render it for Jupyter; :class:`Code` is what ``s2s.show`` hands to
IPython's ``display``.  Pygments is used when installed, else a small built-in tokenizer.
This module imports nothing from s2s, so the API and the command line both depend on it.
"""
from __future__ import annotations

import html
import io
import keyword
import sys
import tokenize
from typing import Any, Callable

__all__ = ["Code", "highlight_ansi", "highlight_html", "ipython_shell", "markdown_code"]


# --- highlighting ------------------------------------------------------------------------

_ANSI = {"keyword": "\033[1;34m", "comment": "\033[2;32m", "string": "\033[33m",
         "number": "\033[36m", "def": "\033[1;35m"}
_ANSI_RESET = "\033[0m"
_CSS = {"keyword": "color:#008000;font-weight:bold", "comment": "color:#3d7b7b;font-style:italic",
        "string": "color:#ba2121", "number": "color:#666666", "def": "color:#0000ff"}


def _spans(code: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) character offsets of keywords, names being defined, comments,
    strings and numbers; nothing when the text does not tokenize."""
    starts = [0]
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = []
    previous = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            kind = None
            if token.type == tokenize.COMMENT:
                kind = "comment"
            elif token.type == tokenize.STRING:
                kind = "string"
            elif token.type == tokenize.NUMBER:
                kind = "number"
            elif token.type == tokenize.NAME:
                if keyword.iskeyword(token.string):
                    kind = "keyword"
                elif previous in ("def", "class"):
                    kind = "def"
            if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                  tokenize.DEDENT, tokenize.COMMENT):
                previous = token.string
            if kind is not None and token.start[0] == token.end[0]:
                line = token.start[0] - 1
                spans.append((starts[line] + token.start[1], starts[line] + token.end[1], kind))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    return spans


def _builtin_highlight(code: str, open_: Callable[[str], str], close: str,
                       escape: Callable[[str], str]) -> str:
    out = []
    position = 0
    for start, end, kind in _spans(code):
        out.append(escape(code[position:start]))
        out.append(open_(kind) + escape(code[start:end]) + close)
        position = end
    out.append(escape(code[position:]))
    return "".join(out)


def highlight_ansi(code: str) -> str:
    """``code`` with ANSI colours (pygments when installed, else a small built-in one)."""
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return _builtin_highlight(code, _ANSI.__getitem__, _ANSI_RESET, lambda text: text)
    return highlight(code, PythonLexer(), TerminalFormatter(bg="dark"))


def highlight_html(code: str) -> str:
    """``code`` as highlighted HTML with inline styles (pygments when installed)."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        body = _builtin_highlight(code, lambda kind: f'<span style="{_CSS[kind]}">', "</span>",
                                  html.escape)
        return f'<pre class="s2s-code">{body}</pre>'
    return highlight(code, PythonLexer(), HtmlFormatter(noclasses=True))


def markdown_code(code: str) -> str:
    """``code`` as a fenced Markdown code block."""
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}python\n{code.rstrip(chr(10))}\n{fence}\n"


# --- notebooks -------------------------------------------------------------------------

class Code:
    """Generated code as IPython/Jupyter displays it: highlighted HTML, Markdown, or text."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:               # text/plain: terminal IPython prints the code
        return self.text.rstrip("\n")

    def _repr_markdown_(self) -> str:
        return markdown_code(self.text)

    def _repr_html_(self) -> str:
        return highlight_html(self.text)


def ipython_shell() -> Any:
    """The running IPython shell, or None (IPython is always imported inside one)."""
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    return get_ipython() if get_ipython is not None else None
