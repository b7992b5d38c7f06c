"""The HTTP layer every request passes before Gradio (and the one admission path behind it)
sees it, in one declared order.

Beneath it, at the connection itself, :mod:`.header_timeout` closes connections that never
finish sending their request headers. Then, outermost first (Starlette runs the list in order):

1. :class:`.access.AccessGuard`: the password on every route, and a brake on guessing it
   (only when ``TRYON_ACCESS_PASSWORD`` is set);
2. :class:`.closed_doors.ClosedDoors`: routes of Gradio's this app does not use, refused for
   everyone (remote ``file=`` URLs, deep links);
3. :class:`.body_limit.BodyLimitMiddleware`: the app-wide body cap, and each address's upload
   budget;
4. :class:`.event_guard.EventGuard`: each event's body within what that event needs, and no
   malformed owner token.

A refusal at any step ends the request there: nothing behind it runs.
"""

from __future__ import annotations

from starlette.middleware import Middleware

from ..settings import Settings
from . import access
from .body_limit import MAX_BODY_BYTES, BodyLimitMiddleware, UploadBudget
from .closed_doors import ClosedDoors
from .event_guard import EventGuard, rules_from_scope


def http_middleware(settings: Settings, auth_message: str) -> list[Middleware]:
    """The middleware list for Gradio's ``app_kwargs``, outermost first."""
    return [
        *access.access_middleware(settings, auth_message),
        Middleware(ClosedDoors),
        Middleware(
            BodyLimitMiddleware,
            uploads=UploadBudget(settings.upload_budget_bytes),
            address=access.scope_address(settings.trusted_proxies),
        ),
        Middleware(EventGuard, rules=rules_from_scope(MAX_BODY_BYTES)),
    ]
