"""Text from outside (the API's messages, task ids, file names) made safe to put in Markdown.

Gradio renders status panels as Markdown with inline HTML, so an API message such as
``<img src=x>`` or a task id with a backtick would otherwise become markup on a visitor's page.
Its Markdown has GitHub's extensions, which make a link of a bare ``https://...``, ``www....``
or ``someone@host`` with no markup at all, so those are broken up too (:func:`escape`).
"""

from __future__ import annotations

import html
import re

#: The punctuation that makes Markdown anywhere in a line: code, emphasis, links and images,
#: tables, strikethrough. ``_`` stays: inside words it is literal, and task ids are full of it.
_INLINE = re.compile(r"([\\`*\[\]{}|~])")
#: What starts a heading, a list or a setext underline when it opens a paragraph.
_BLOCK_START = re.compile(r"^(\s*\d*)([#+=.)-])")
#: Where GitHub-flavoured Markdown starts a link by itself: the ``:`` of ``scheme://``, the
#: ``.`` of ``www.`` and any ``@`` (an e-mail address).
_AUTOLINK = re.compile(r":(?=//)|@|(?<=[Ww]{3})\.")


def escape(text: object) -> str:
    """``text`` as literal characters in Markdown: no HTML, code, emphasis, link, list or heading.

    HTML's ``& < >`` become entities, Markdown's punctuation is backslash-escaped, and line breaks
    become spaces, so a message cannot open a block of its own. The characters that would make
    an automatic link (see :data:`_AUTOLINK`) are written as HTML entities: the page shows the
    same characters, but the Markdown renderer never sees a link in them.
    """
    plain = " ".join(str(text).splitlines())
    escaped = _INLINE.sub(r"\\\1", html.escape(plain, quote=False))
    unlinked = _AUTOLINK.sub(lambda found: f"&#{ord(found.group())};", escaped)
    return _BLOCK_START.sub(r"\1\\\2", unlinked, count=1)


def code(text: object) -> str:
    """``text`` as inline code (a task id): nothing inside a code span is markup, and the fence
    is longer than any run of backticks in ``text``, so the text cannot close it early."""
    plain = " ".join(str(text).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", plain)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if plain.startswith("`") or plain.endswith("`") or not plain.strip() else ""
    return f"{fence}{pad}{plain}{pad}{fence}"
