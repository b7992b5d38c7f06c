"""Where the API calls a run back: the app's own callback URL with a one-time token, or the
visitor's own URL passed through untouched.

The tokens and the runs waiting on them are :mod:`tryon_demo.hosting.callback_inbox`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ..hosting.callback_inbox import Inbox
from ..hosting.callback_urls import check_callback_url
from ..settings import Settings
from ..text.messages import Msg, msg
from .pools import off_loop


@dataclass(frozen=True)
class Callback:
    """What one create carries: the URL, the app's token in it (``None`` for a visitor's own
    URL or none at all) and the note the page shows about it."""

    url: str | None = None
    token: str | None = None
    note: Msg | None = None

    def masked(self, url: str) -> str:
        """``url`` with the token shortened, as the page shows it: the token is the callback's
        credential."""
        if self.token is None:
            return url
        return url.replace(self.token, self.token[:6] + "…")


class Callbacks:
    """The app's callback address and its tokens, for every create it makes."""

    def __init__(
        self, settings: Settings, inbox: Inbox, served_url: Callable[[], str | None] | None
    ) -> None:
        self.settings = settings
        self.inbox = inbox
        #: The loopback URL the app is being served at with its callback route, once it is
        #: (``None`` before launch): offline, the simulator calls back there.
        self.served_url = served_url

    def base(self) -> str | None:
        """The app's address for the API's callbacks, or ``None`` when it has none (polling).

        Offline, the in-process simulator calls back on loopback, so the app's own loopback
        URL; otherwise ``TRYON_PUBLIC_URL`` (on a Space ``https://<SPACE_HOST>``).
        """
        if not self.settings.callbacks:
            return None
        if self.settings.mode == "offline":
            return self.served_url() if self.served_url is not None else None
        return self.settings.public_url

    async def check(self, callback_url: str | None) -> None:
        """Refuse a callback into the server's own network in a public deployment, before
        anything is prepared or created (a host name is resolved off the event loop)."""
        if self.settings.public and (callback_url or "").strip():
            await off_loop(partial(check_callback_url, callback_url, public=True))

    def for_create(self, visitor_url: str | None) -> Callback:
        """The callback of one create.

        A visitor's own callback URL passes through untouched (the app then polls and says so);
        else the app's own with a new one-time token when the app can be reached.
        """
        own = (visitor_url or "").strip()
        if own:
            return Callback(own, None, msg("callback.note_visitor"))
        base = self.base()
        if base is None:
            return Callback()
        token, url = self.inbox.expect(base, ttl=self.settings.wait_timeout + 60)
        return Callback(
            url, token, msg("callback.note_own", seconds=self.settings.callback_backstop)
        )
