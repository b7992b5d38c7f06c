"""The owner's door: without TRYON_OWNER_PASSWORD no owner route exists; with it, only the
owner's password opens /metrics, /owner/usage.json and the /owner page, never the visitors'."""

from __future__ import annotations

import base64
import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.owner_app import OwnerApp
from tryon_demo.errors import ConfigurationError
from tryon_demo.settings import Settings, load_settings

OWNER = "owner-pass-7Qx!2"
VISITOR = "visitor-pass-19"
FRESH_ADDRESSES = itertools.count(1)
OWNER_PATHS = [
    ("GET", "metrics"),
    ("GET", "owner"),
    ("GET", "owner/"),
    ("GET", "owner/usage.json"),
    ("GET", "owner/config"),
    ("GET", "owner/gradio_api/info"),
    ("POST", "owner/login"),
]


def start(tmp_path: Path, **options: object) -> OwnerApp:
    settings = Settings(
        state_dir=tmp_path / "state", trusted_proxies=1, simulator_task_seconds=0.3, **options
    )  # type: ignore[arg-type]
    return OwnerApp(settings, tmp_path / "work")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnerApp]:
    app = start(tmp_path_factory.mktemp("owner"), owner_password=OWNER, access_password=VISITOR)
    yield app
    app.close()


def bearer(password: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {password}"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def from_address(address: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"X-Forwarded-For": address, **(headers or {})}


@pytest.mark.parametrize("visitor_password", [None, VISITOR], ids=["open-demo", "private-demo"])
def test_without_an_owner_password_every_owner_route_answers_404(
    tmp_path: Path, visitor_password: str | None
) -> None:
    app = start(tmp_path, access_password=visitor_password)
    try:
        credentials = [{}, bearer(VISITOR), basic("demo", VISITOR), bearer("anything")]
        for method, path in OWNER_PATHS:
            for headers in credentials:
                reply = requests.request(
                    method, app.url + path, headers=headers, allow_redirects=False, timeout=10
                )
                assert reply.status_code == 404, (method, path, headers, reply.text[:200])
    finally:
        app.close()


@pytest.mark.parametrize("path", ["metrics", "owner/usage.json"])
@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong"), bearer(VISITOR), basic("owner", OWNER), bearer(OWNER + "x"), bearer("é")],
    ids=["none", "wrong", "visitors-password", "basic-not-bearer", "longer", "non-ascii"],
)
def test_the_metrics_and_the_json_refuse_anything_but_the_owners_bearer_with_401(
    guarded: OwnerApp, path: str, headers: dict[str, str]
) -> None:
    # Each case from an address of its own: six wrong guesses from one would be throttled.
    address = f"203.0.113.{next(FRESH_ADDRESSES)}"
    reply = requests.get(guarded.url + path, headers=from_address(address, headers))
    assert reply.status_code == 401, reply.text
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert "tryon_" not in reply.text and "today" not in reply.text


def test_the_owners_bearer_opens_the_metrics_and_the_json(guarded: OwnerApp) -> None:
    metrics = requests.get(
        guarded.url + "metrics", headers=from_address("198.51.100.2", bearer(OWNER))
    )
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "# TYPE tryon_creates_total counter" in metrics.text
    figures = requests.get(
        guarded.url + "owner/usage.json", headers=from_address("198.51.100.2", bearer(OWNER))
    )
    assert figures.status_code == 200
    assert set(figures.json()) >= {"today", "days"}
    assert figures.headers["cache-control"] == "no-store"


def test_the_owner_page_asks_for_the_owners_login(guarded: OwnerApp) -> None:
    page = requests.get(guarded.url + "owner/", headers=from_address("198.51.100.3"))
    assert page.status_code == 200 and "<html" in page.text  # Gradio's login page
    config = requests.get(guarded.url + "owner/config", headers=from_address("198.51.100.3"))
    assert config.status_code == 401
    assert "owner" in config.json()["detail"]["auth_message"]


def test_the_visitors_password_never_opens_the_owner_page(guarded: OwnerApp) -> None:
    visitor = requests.Session()
    visitor.headers.update(from_address("198.51.100.4"))
    login = visitor.post(guarded.url + "login", data={"username": "demo", "password": VISITOR})
    assert login.status_code == 200  # logged into the demo ...
    assert visitor.get(guarded.url + "config").status_code == 200
    assert visitor.get(guarded.url + "owner/config").status_code == 401  # ... not the owner's
    refused = visitor.post(
        guarded.url + "owner/login", data={"username": "owner", "password": VISITOR}
    )
    assert refused.status_code in (400, 401)
    assert visitor.get(guarded.url + "owner/config").status_code == 401
    basic_visitor = from_address("198.51.100.4", basic("demo", VISITOR))
    assert requests.get(guarded.url + "owner/config", headers=basic_visitor).status_code == 401


def test_the_owners_login_opens_the_owner_page(guarded: OwnerApp) -> None:
    owner = requests.Session()
    owner.headers.update(from_address("198.51.100.5"))
    login = owner.post(guarded.url + "owner/login", data={"username": "owner", "password": OWNER})
    assert login.status_code == 200
    config = owner.get(guarded.url + "owner/config")
    assert config.status_code == 200
    assert OWNER not in config.text


def test_guessing_the_owners_password_is_throttled_at_every_owner_door(
    guarded: OwnerApp,
) -> None:
    address = "198.51.100.66"
    for _ in range(5):
        wrong = requests.get(guarded.url + "metrics", headers=from_address(address, bearer("no")))
        assert wrong.status_code == 401
    right = requests.get(guarded.url + "metrics", headers=from_address(address, bearer(OWNER)))
    assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    page_login = requests.post(
        guarded.url + "owner/login",
        data={"username": "owner", "password": OWNER},
        headers=from_address(address),
    )
    assert page_login.status_code == 429  # one throttle for the owner's password
    other = requests.get(
        guarded.url + "metrics", headers=from_address("198.51.100.67", bearer(OWNER))
    )
    assert other.status_code == 200


def test_the_owners_password_appears_in_no_page_reply_or_log(
    guarded: OwnerApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = requests.Session()
    owner.headers.update(from_address("198.51.100.8"))
    owner.post(guarded.url + "owner/login", data={"username": "owner", "password": OWNER})
    visitor = requests.Session()
    visitor.headers.update(from_address("198.51.100.9"))
    visitor.post(guarded.url + "login", data={"username": "demo", "password": VISITOR})
    replies = [
        owner.get(guarded.url + "owner/"),
        owner.get(guarded.url + "owner/config"),
        owner.get(guarded.url + "owner/gradio_api/info"),
        owner.get(guarded.url + "owner/usage.json", headers=bearer(OWNER)),
        owner.get(guarded.url + "metrics", headers=bearer(OWNER)),
        visitor.get(guarded.url),
        visitor.get(guarded.url + "config"),
        requests.get(guarded.url + "metrics", headers=from_address("198.51.100.10")),
    ]
    for reply in replies:
        assert OWNER not in reply.text, reply.url
    assert all(OWNER not in record.getMessage() for record in caplog.records)


def test_the_owner_and_the_visitors_may_not_share_a_password() -> None:
    env = {"TRYON_OWNER_PASSWORD": "same-one", "TRYON_ACCESS_PASSWORD": "same-one"}
    with pytest.raises(ConfigurationError, match="TRYON_OWNER_PASSWORD must differ"):
        load_settings(env, dotenv_path=None)


def test_the_owners_password_is_a_secret_kept_out_of_every_output() -> None:
    settings = load_settings({"TRYON_OWNER_PASSWORD": OWNER}, dotenv_path=None)
    assert OWNER in settings.secrets()
    assert OWNER not in repr(settings)
