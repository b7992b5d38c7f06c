"""Text from outside (the API's messages, task ids, file names) made safe to put in Markdown.

Gradio renders status panels as Markdown with inline HTML, so an API message such as
``<img src=x>`` or a task id with a backtick would otherwise become markup on a visitor's page.
"""

from __future__ import annotations

import html
import re

#: The punctuation that makes Markdown anywhere in a line: code, emphasis, links and images,
#: tables, strikethrough. ``_`` stays: inside words it is literal, and task ids are full of it.
_INLINE = re.compile(r"([\\`*\[\]{}|~])")
#: What starts a heading, a list or a setext underline when it opens a paragraph.
_BLOCK_START = re.compile(r"^(\s*\d*)([#+=.)-])")


def escape(text: object) -> str:
    """``text`` as literal characters in Markdown: no HTML, code, emphasis, link, list or heading.

    HTML's ``& < >`` become entities, Markdown's punctuation is backslash-escaped, and line breaks
    become spaces, so a message cannot open a block of its own.
    """
    plain = " ".join(str(text).splitlines())
    escaped = _INLINE.sub(r"\\\1", html.escape(plain, quote=False))
    return _BLOCK_START.sub(r"\1\\\2", escaped, count=1)


def code(text: object) -> str:
    """``text`` as inline code (a task id): nothing inside a code span is markup, and the fence
    is longer than any run of backticks in ``text``, so the text cannot close it early."""
    plain = " ".join(str(text).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", plain)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if plain.startswith("`") or plain.endswith("`") or not plain.strip() else ""
    return f"{fence}{pad}{plain}{pad}{fence}"
