"""Where blocking work runs, off the event loop that serves every visitor.

HTTP calls run on one pool sized for many visitors' short requests; waiting is ``asyncio.sleep``,
so a visitor waiting 30 s for the API holds no thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")

#: HTTP calls run here, not on the event loop; sized for many visitors' short requests.
HTTP_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="tryon-http")
#: Pictures are decoded here, apart: decodes waiting for memory (see ``DecodeGate``) never
#: hold the threads the HTTP calls of other visitors need. Two cores decode two at a time.
DECODE_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tryon-decode")


async def off_loop(call: Callable[[], _T]) -> _T:
    """``call()`` on the HTTP pool, awaited without blocking the loop."""
    return await asyncio.get_running_loop().run_in_executor(HTTP_POOL, call)


async def decode_off_loop(call: Callable[[], _T]) -> _T:
    """``call()`` (decoding pictures) on the decoding pool, awaited without blocking the loop."""
    return await asyncio.get_running_loop().run_in_executor(DECODE_POOL, call)
