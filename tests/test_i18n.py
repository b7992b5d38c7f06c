"""Chinese and English: the visitor's language is picked from the browser, and everything a
person can cause reads in it, errors included."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import pictures
from tests.conftest import FAKE_KEY
from tryon_demo.auth import BearerAuth
from tryon_demo.client import TryOnClient
from tryon_demo.errors import _CODE_TABLE, NetworkError, api_error
from tryon_demo.i18n import UI_TEXT, error_text, language, translate, ui_translations
from tryon_demo.images import prepare_image
from tryon_demo.limits import LimitExceededError, Rate, SubmissionLimiter
from tryon_demo.lookbook import LookItem, summary, table_rows

ROOT = Path(__file__).resolve().parents[1]
#: Words that stay as they are in Chinese text: names, formats, units, settings.
KEPT = re.compile(
    r"KLING_API_KEY|KLING_API_BASE|API|JPG|PNG|MB|MP|UTC|http\(s\)|https?://\S*|base64|data:|"
    r"[\w.-]+\.(?:png|jpg|com|ge)|v1\.5|top|bottom|ftp:|javascript:|file:|request_id"
)


def untranslated(text: str) -> list[str]:
    """Runs of three or more English words left in a translated text."""
    rest = KEPT.sub(" ", text)
    return re.findall(r"[A-Za-z]+(?:[\s,']+[A-Za-z]+){2,}", rest)


def assert_chinese(text: str) -> None:
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert untranslated(text) == [], text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh-TW", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,zh;q=0.5,en;q=0.4", "zh"),
        ("fr-FR,de;q=0.8", "en"),
        ("", "en"),
        (None, "en"),
        ("zh;q=0, en", "en"),
        ("zh;q=abc", "en"),
    ],
)
def test_the_language_follows_the_browsers_preference(header: str | None, expected: str) -> None:
    assert language(header) == expected


def test_english_text_is_left_as_it_is() -> None:
    text = "Person image: it is 200 x 200 pixels; the API needs at least 300 x 300."
    assert translate(text, "en") == text


def test_text_the_catalogue_does_not_know_stays_english_rather_than_guessed() -> None:
    assert translate("Something entirely new happened.", "zh") == "Something entirely new happened."


@pytest.mark.parametrize("code", sorted(_CODE_TABLE))
def test_every_api_error_code_reads_in_chinese(code: int) -> None:
    error = api_error(
        http_status=400, code=code, api_message="raw api text", request_id="req-1", retry_after=3
    )
    text = error_text(error, "zh")
    assert_chinese(text.replace("raw api text", ""))
    assert text.endswith("(请求 ID: req-1)")


def test_an_unknown_api_error_reads_in_chinese_with_its_status_and_code() -> None:
    error = api_error(http_status=418, code=9999, api_message=None, request_id=None)
    assert translate(error.message, "zh") == "API 返回错误（HTTP 418，代码 9999）。"


def test_network_errors_read_in_chinese() -> None:
    with (
        TryOnClient("http://127.0.0.1:9", BearerAuth(FAKE_KEY), get_retries=0) as client,
        pytest.raises(NetworkError) as caught,
    ):
        client.get("task-1")
    assert_chinese(error_text(caught.value, "zh"))
    assert "127.0.0.1" in error_text(caught.value, "zh")


def test_submission_limits_read_in_chinese() -> None:
    limiter = SubmissionLimiter(Rate.parse("1/minute", "x"), Rate.parse("", "y"), 0)
    limiter.acquire("me")
    with pytest.raises(LimitExceededError) as caught:
        limiter.acquire("me")
    assert_chinese(error_text(caught.value, "zh"))
    daily = SubmissionLimiter(Rate.parse("", "x"), Rate.parse("", "y"), 1)
    daily.acquire("me")
    with pytest.raises(LimitExceededError) as caught:
        daily.acquire("you")
    assert_chinese(error_text(caught.value, "zh"))


def test_the_lookbook_table_and_summary_read_in_chinese() -> None:
    items = (
        LookItem(1, "a.png", "succeed"),
        LookItem(2, "b.png", "waiting", message="Rate limited; trying again in 4 s (attempt 2)"),
        LookItem(3, "c.png", "failed"),
    )
    assert translate(summary(items), "zh") == "已完成 1/3 · 1 个失败 · 1 个进行中"
    states = [translate(row[2], "zh") for row in table_rows(items)]
    assert states == ["完成", "等待中（限流）", "失败"]
    assert translate(items[1].message, "zh") == "被限流；4 秒后重试（第 2 次）"


@pytest.mark.parametrize(
    "picture",
    [
        pictures.phone_photo_24mp,
        pictures.rgba_png,
        pictures.png_16bit,
        pictures.gif,
        pictures.cmyk_jpeg,
        pictures.exif_rotated_jpeg,
        pictures.person_jpeg,
    ],
)
def test_what_preparation_did_reads_in_chinese(picture: Callable[[], bytes]) -> None:
    actions = prepare_image(picture(), field="Person image").report.actions
    note = translate(f"Person image: {', '.join(actions)}", "zh")
    assert note.startswith("人物图片：")
    assert_chinese(note)


def test_what_the_page_writes_at_run_time_reads_in_chinese() -> None:
    stopped = (
        "**Stopped waiting.** The task keeps running at the API. "
        "Re-attach later with task id `t-1`."
    )
    assert translate(stopped, "zh") == (
        "**已停止等待。** 任务仍在 API 端继续运行。稍后可用任务 ID `t-1` 重新关联。"
    )
    for text in (
        "The API deletes results after about 30 days: download what you want to keep.",
        "(the built-in simulator's address, reachable only on the server: use the download "
        "button). The real API deletes results after about 30 days.",
        "**Outfit composed**: both pieces are now the garment picture, and the model is v1.5 (the "
        "one that takes a top and a bottom). Press **Run try-on**.",
        "**Stopped.** Tasks already submitted keep running at the API.",
        "The task failed: the API gave no reason",
    ):
        assert_chinese(translate(text, "zh"))


def test_every_page_text_exists_in_both_languages() -> None:
    for key, (english, chinese) in UI_TEXT.items():
        assert english.strip() and chinese.strip(), key
        assert re.search(r"[\u4e00-\u9fff]", chinese), key
    tables = ui_translations()
    assert tables["zh-CN"] == tables["zh"] and set(tables["en"]) == set(UI_TEXT)


def test_every_key_the_page_uses_is_in_the_catalogue() -> None:
    source = (ROOT / "tryon_demo" / "ui.py").read_text()
    used = set(re.findall(r"""\bT\(["'](\w+)["']\)""", source))
    assert used and used <= set(UI_TEXT), used - set(UI_TEXT)
