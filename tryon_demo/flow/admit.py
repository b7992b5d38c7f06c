"""Who is asking: the visitor every flow works for."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Visitor:
    """Whoever a flow works for: the address their limits are counted under (``ip:<address>``,
    see :func:`tryon_demo.hosting.access.visitor_key`) and the API key of their own, if any."""

    address: str = ""
    own_key: str | None = field(default=None, repr=False)
    #: Answers whether the caller has gone away (an HTTP client that disconnected).
    gone: Callable[[], Awaitable[bool]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "own_key", (self.own_key or "").strip() or None)


#: A visitor with no address and no key of their own (the tests' default caller).
ANYONE = Visitor()
