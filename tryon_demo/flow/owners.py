"""Who may look a task up again: its creator, who holds its ownership token.

The tokens themselves (HMAC of the task id with the server's secret) are
:mod:`tryon_demo.hosting.ownership`; this is how the flows use them.
"""

from __future__ import annotations

from functools import cached_property

from ..errors import TaskNotFoundError, api_error
from ..hosting import ownership
from ..settings import Settings, ensure_state_dir


class Owners:
    """Issues and checks the ownership tokens of one app (its secret is in the state folder)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def _secret(self) -> ownership.OwnerSecret:
        return ownership.OwnerSecret(ensure_state_dir(self.settings))

    def token(self, task_id: str) -> str:
        """The token that lets the creator of ``task_id`` look it up again later."""
        return ownership.issue_token(self._secret, task_id)

    def valid(self, task_id: str, token: str | None) -> bool:
        """Whether ``token`` is the one issued for ``task_id``."""
        return ownership.token_valid(self._secret, task_id, token)

    def browser_secret(self) -> str:
        """The key the page encrypts its stored ownership tokens with; stable across restarts."""
        return ownership.browser_secret(self._secret)

    def may_look_up(self, task_id: str, owner_token: str | None, api_key: str | None) -> bool:
        """Whether this caller may see ``task_id``: with a key of their own, any task of that
        key (the API keeps each key's tasks apart); with the owner's key, or whatever key on
        the simulator (offline: one account for every key), only a task they created."""
        if (api_key or "").strip() and self.settings.mode != "offline":
            return True
        return self.valid(task_id, owner_token)


def not_found() -> TaskNotFoundError:
    """What a lookup of a task the caller did not create gets: the API's own answer to an
    unknown id, so the reply does not tell whether the task exists."""
    error = api_error(http_status=404, code=1203, api_message=None, request_id=None)
    assert isinstance(error, TaskNotFoundError)
    return error
