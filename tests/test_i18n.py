"""Languages: messages are keys and values until shown, rendered from one catalogue per
language; the visitor's language comes from the page's switch or else the browser, and
everything a person can cause reads in it, with the API's own words quoted as the API wrote them.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests import pictures
from tests.conftest import FAKE_KEY
from tryon_demo import cli, ui
from tryon_demo.api.auth import BearerAuth
from tryon_demo.api.client import TryOnClient, raise_for_failed, wait_timeout_error
from tryon_demo.api.models import Task, parse_task, parse_task_reply
from tryon_demo.errors import _CODE_TABLE, NetworkError, TryOnError, api_error, error_text
from tryon_demo.flow import batch, outfit
from tryon_demo.flow.lookbook import LookItem, summary_msg, table_rows
from tryon_demo.flow.pipeline import Pipeline
from tryon_demo.flow.prepare import api_image_source, prepare_submission
from tryon_demo.flow.run import run
from tryon_demo.flow.step import Step
from tryon_demo.hosting.limits import LimitExceededError, SubmissionLimiter
from tryon_demo.hosting.quota import Quota
from tryon_demo.pictures import ImageLimits, prepare_image
from tryon_demo.pictures.outfit import check_combination, compose_outfit
from tryon_demo.settings import Rate, Settings, load_settings
from tryon_demo.simulator import SimulatorServer
from tryon_demo.text import messages
from tryon_demo.text.i18n import (
    choose,
    language,
    table_headers,
    translate,
    ui_translations,
)
from tryon_demo.text.messages import Code, Msg, catalogue, languages, msg, placeholders

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tryon_demo"

#: ASCII words that may stay in Chinese text: names of things, formats, units, settings and
#: the API's own vocabulary (its field names and task states).
NAMES = frozenset(
    """API JPG JPEG PNG GIF WEBP TIFF BMP HEIC EXIF RGB CMYK JSON HTTP URL UTC MB MP
    Kling Kolors Ctrl KLING_API_KEY KLING_API_BASE KLING_ACCESS_KEY KLING_SECRET_KEY
    TRYON_STATE_DIR TRYON_MAX_LONG_SIDE TRYON_RATE_PER_SESSION base64 data http https jpg png
    url ftp file javascript int str list dict bool task_id task_status request_id page_num
    page_size human_image cloth_image submitted processing succeed failed minute
    hour zip ACCESS_KEY SECRET_KEY TRYON_PUBLIC_URL off""".split()  # noqa: SIM905
)
#: Values shown as they are: links, `task ids`, 'quoted values', dotted names (a.png, v1.5),
#: ids and model names (req-1, kolors-virtual-try-on-v1).
_VALUES = re.compile(r"https?://\S+|`[^`]*`|'[^']*'|\b\w+(?:[.-]\w+)+\b")


def english_left(text: str) -> list[str]:
    """Runs of three or more ASCII letters in ``text`` that are not names."""
    return [
        word
        for word in re.findall(r"[A-Za-z][A-Za-z0-9_]{2,}", _VALUES.sub(" ", text))
        if word not in NAMES
    ]


def assert_chinese(text: str) -> None:
    """``text`` is Chinese: it has Chinese characters and no English words but names."""
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert english_left(text) == [], text


def without_quote(text: str, quote: str) -> str:
    """``text`` with the API's quoted words taken out, after checking they are there as is."""
    assert f"API 返回：{quote}" in text, text
    return text.replace(quote, "")


# --- the catalogues --------------------------------------------------------------------------


def test_there_is_a_catalogue_for_english_and_for_chinese() -> None:
    assert languages()[:1] == ("en",)
    assert set(languages()) >= {"en", "zh"}


@pytest.mark.parametrize("lang", languages())
def test_no_key_is_written_twice_in_a_catalogue(lang: str) -> None:
    # A second entry silently replaces the first: one message would say the other's words.
    folder = Path(__file__).resolve().parent.parent / "tryon_demo" / "text" / "locales"
    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in items]
        twice.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(items)

    json.loads((folder / f"{lang}.json").read_text(encoding="utf-8"), object_pairs_hook=pairs)
    assert twice == []


@pytest.mark.parametrize("lang", [lang for lang in languages() if lang != "en"])
def test_every_catalogue_has_exactly_the_keys_and_placeholders_of_the_english_one(
    lang: str,
) -> None:
    english, other = catalogue("en"), catalogue(lang)
    assert set(other) == set(english), set(other) ^ set(english)
    differing = {
        key: (placeholders(english[key]), placeholders(other[key]))
        for key in english
        if placeholders(english[key]) != placeholders(other[key])
    }
    assert differing == {}


@pytest.mark.parametrize("lang", languages())
def test_every_key_renders_with_all_its_values_filled_in(lang: str) -> None:
    for key, template in catalogue(lang).items():
        names = placeholders(template)
        rendered = Msg(key, dict.fromkeys(names, 7)).render(lang)
        assert not any("{" + name for name in names if "{" + name in rendered), key
        assert rendered.strip() or key.startswith("sep."), key


def test_every_chinese_text_is_chinese_but_for_names() -> None:
    wordless = {"lookbook.header_number", "prep.note", "cli.failed_reason", "fmt.bold"}
    for key, template in catalogue("zh").items():
        if key.startswith("sep.") or key in wordless:
            continue
        rendered = Msg(key, dict.fromkeys(placeholders(template), 7)).render("zh")
        assert_chinese(rendered)


def test_every_key_the_code_names_is_in_the_english_catalogue() -> None:
    named: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        named |= set(
            re.findall(r"""\b(?:msg|text|Msg)\(\s*["']([\w-]+(?:\.[\w-]+)+)["']""", source)
        )
    assert named, "no keys found"
    assert named <= set(catalogue("en")), sorted(named - set(catalogue("en")))


def test_keys_made_from_a_name_exist_for_every_name() -> None:
    english = catalogue("en")
    phases = ("preparing", "submitted", "processing", "succeed", "failed", "error")
    states = ("queued", "waiting", "submitted", "processing", "succeed", "failed", "error")
    wanted = [f"status.{p}" for p in phases] + [f"state.{s}" for s in states]
    wanted += [f"error.code.{code}" for code in _CODE_TABLE]
    wanted += [f"piece.{kind}" for kind in ("top", "bottom", "one-piece")]
    wanted += [f"response.hint.{status}" for status in (401, 403, 404, 429, 502, 503, 504)]
    assert [key for key in wanted if key not in english] == []


def test_every_label_the_page_uses_is_in_the_catalogues() -> None:
    source = "".join(p.read_text() for p in (PACKAGE / "ui").glob("*.py"))
    used = set(re.findall(r"""\bT\(["'](\w+)["']\)""", source))
    tables = ui_translations()
    assert used and used <= set(tables["en"]), used - set(tables["en"])
    assert tables["zh"] == tables["zh-CN"] == tables["zh-TW"]
    assert set(tables["zh"]) == set(tables["en"])


def test_no_error_is_raised_with_an_unkeyed_sentence() -> None:
    """A TryOnError built from a plain string is shown in English to every visitor; this lists
    any that arrived since the catalogues were made, so they can be given keys."""
    import tryon_demo.errors as errors
    import tryon_demo.hosting.limits  # noqa: F401 - defines LimitExceededError

    def subclasses(cls: type) -> set[str]:
        return {cls.__name__}.union(*(subclasses(sub) for sub in cls.__subclasses__()))

    error_names = subclasses(errors.TryOnError)
    unkeyed: list[str] = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in error_names and isinstance(
                node.args[0], ast.Constant | ast.JoinedStr | ast.BinOp
            ):
                unkeyed.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert unkeyed == []


def test_adding_a_language_is_adding_one_catalogue_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("en", "zh"):
        (tmp_path / f"{name}.json").write_text((messages.LOCALES / f"{name}.json").read_text())
    french = json.loads((messages.LOCALES / "en.json").read_text())
    french["meta"] = {"name": "Français", "browser_locales": ["fr"], "gradio_locale": "fr"}
    french["messages"]["status.succeed"] = "Terminé"
    (tmp_path / "fr.json").write_text(json.dumps(french))
    with monkeypatch.context() as patch:
        patch.setattr(messages, "LOCALES", tmp_path)
        messages._load_all.cache_clear()
        try:
            assert "fr" in languages()
            assert language("fr-FR,en;q=0.5") == "fr"
            assert msg("status.succeed").render("fr") == "Terminé"
            assert ("Français", "fr") in ui.language_choices()
        finally:
            patch.undo()
            messages._load_all.cache_clear()


# --- rendering -------------------------------------------------------------------------------


def test_a_message_renders_in_each_language_with_nested_messages_in_the_same_language() -> None:
    error = msg("image.empty", field=msg("field.person"))
    assert error.render("en") == "Person image: the file is empty."
    assert error.render("zh") == "人物图片：文件为空。"
    assert str(error) == "Person image: the file is empty."


def test_odd_values_never_break_a_message() -> None:
    template_with_spec = msg("image.too_large", field="x", size_mb="not a number", most_mb=None)
    assert "not a number" in template_with_spec.render("en")
    assert msg("image.too_small").render("en").startswith("{field}: it is {width} x {height}")
    assert "{0}" in msg("image.empty", field="{0}").render("en")
    assert msg("image.empty", field="{field.__class__}").render("zh").startswith("{field")
    assert msg("no.such.key").render("zh") == "no.such.key"


def test_a_plain_string_is_shown_as_it_is_in_every_language() -> None:
    text = "Person image: it is 200 x 200 pixels; the API needs at least 300 x 300."
    assert translate(text, "zh") == text
    assert TryOnError("Something entirely new happened.").render("zh") == (
        "Something entirely new happened."
    )


def test_an_error_keeps_its_key_and_its_english_for_logs_and_callers() -> None:
    error = api_error(http_status=401, code=1002, api_message=None, request_id="req-9")
    assert error.key == "_join" and error.msg.params["parts"][0] == msg("error.code.1002")
    assert error.message == "The API key is not valid. Check that it was copied whole."
    assert str(error) == error.message + " (request_id: req-9)"
    assert error.to_dict()["message"] == error.message


# --- the visitor's language ------------------------------------------------------------------


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


@pytest.mark.parametrize(
    ("choice", "header", "expected"),
    [
        ("en", "zh-CN,zh;q=0.9", "en"),
        ("zh", "en-US,en;q=0.9", "zh"),
        ("", "zh-CN", "zh"),
        (None, "zh-CN", "zh"),
        ("klingon", "zh-CN", "zh"),
    ],
)
def test_the_language_switch_overrides_the_browser(
    choice: str | None, header: str, expected: str
) -> None:
    assert choose(choice, header) == expected
    request = SimpleNamespace(headers={"accept-language": header})
    assert ui._lang(request, choice) == expected  # type: ignore[arg-type]


def test_the_switch_offers_each_language_by_its_own_name() -> None:
    assert ui.language_choices() == [("English", "en"), ("中文", "zh")]
    assert json.loads(re.search(r"const locales = (\{.*\});", ui.APPLY_LOCALE_JS)[1]) == {
        "en": "en",
        "zh": "zh-CN",
    }


def test_the_command_line_speaks_the_terminals_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("TRYON_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert cli.main(["prepare", str(tmp_path / "missing.jpg")]) == 2
    said = capsys.readouterr().err.strip()
    assert said == "错误：图片：找不到文件 'missing.jpg'。"


# --- everything a person can cause, on a Chinese browser -------------------------------------


def test_on_a_chinese_browser_the_garment_notes_are_all_chinese(
    simulator: SimulatorServer, image_files: tuple[Path, Path], tmp_path: Path
) -> None:
    """The bug: the old reverse translation read these notes as "服装 image: already
    acceptable: sent byte for byte", a garment named "image"."""
    settings = Settings(api_key=FAKE_KEY, api_base=simulator.gateway_base, poll_interval=0.05)
    pipeline = Pipeline.build(settings, tmp_path / "work")

    async def first_with_notes() -> Step:
        async for step in run(pipeline, *image_files, compare=False):
            if step.notes:
                return step
        raise AssertionError("no step with notes")

    notes = ui._render(asyncio.run(first_with_notes()), running=True, lang="zh")[3]
    assert notes == (
        "- 人物图片：已符合要求：按原文件逐字节发送\n- 服装图片：已符合要求：按原文件逐字节发送"
    )


@pytest.mark.parametrize("code", sorted(_CODE_TABLE))
def test_every_api_error_code_reads_in_chinese_with_the_apis_words_quoted(code: int) -> None:
    words = "Invalid parameter: human_image is too small"
    error = api_error(
        http_status=400, code=code, api_message=words, request_id="req-1", retry_after=3
    )
    text = error_text(error, "zh")
    assert_chinese(without_quote(text, words))
    assert text.endswith("（请求 ID：req-1）")


def test_an_unknown_api_error_reads_in_chinese_with_its_status_and_code() -> None:
    error = api_error(http_status=418, code=9999, api_message=None, request_id=None)
    assert error.render("zh") == "API 返回错误（HTTP 418，代码 9999）。"


def test_the_apis_words_are_never_translated_even_when_they_look_like_the_apps() -> None:
    task = parse_task(
        {
            "task_id": "t-1",
            "task_status": "failed",
            "task_status_msg": "Garment image: already acceptable",
        },
        raw={},
    )
    status = Step("failed", 2.0, task=task).status_text("zh")
    assert status.endswith("API 返回：Garment image: already acceptable")
    with pytest.raises(TryOnError) as caught:
        raise_for_failed(task)
    assert caught.value.render("zh") == "任务 t-1 失败：API 返回：Garment image: already acceptable"


def _task(status: str, message: str | None = None) -> Task:
    data: dict[str, Any] = {"task_id": "t-1", "task_status": status}
    if message:
        data["task_status_msg"] = message
    return parse_task(data, raw=data)


@pytest.mark.parametrize(
    "step",
    [
        Step("preparing", 0.0),
        Step("submitted", 1.5, task=_task("submitted")),
        Step("processing", 2.5, task=_task("processing")),
        Step("succeed", 3.5, task=_task("succeed")),
        Step("failed", 3.5, task=_task("failed")),
        Step(
            "error", 9.0, task=_task("processing"), error=wait_timeout_error("t-1", "processing", 9)
        ),
    ],
    ids=lambda step: step.phase,
)
def test_every_status_reads_in_chinese(step: Step) -> None:
    assert_chinese(step.status_text("zh"))


def _refusals(tmp_path: Path) -> dict[str, Callable[[], object]]:
    """One way to break each rule the app judges itself."""
    person = tmp_path / "person.jpg"
    person.write_bytes(pictures.person_jpeg())
    white = tmp_path / "white.png"
    white.write_bytes(pictures.encode(pictures.garment().point(lambda _: 255), "PNG"))
    garment = tmp_path / "garment.png"
    garment.write_bytes(pictures.garment_png())
    client = TryOnClient("http://127.0.0.1:9", BearerAuth(FAKE_KEY), get_retries=0)
    pipeline = Pipeline.build(Settings(lookbook_max_items=1), tmp_path / "work")
    field = msg("field.person")

    def lookbook(count: int) -> object:
        items = batch.lookbook(pipeline, person, [object()] * count)  # type: ignore[list-item]
        return asyncio.run(items.__anext__())

    return {
        "nothing": lambda: prepare_image(None, field=field),
        "blank text": lambda: prepare_image("  ", field=field),
        "scheme": lambda: prepare_image("ftp://example.com/a.jpg", field=field),
        "bad url": lambda: prepare_image("http:///nohost.jpg", field=field),
        "long url": lambda: prepare_image("https://example.com/" + "a" * 3000, field=field),
        "data not base64": lambda: prepare_image("data:image/png,abc", field=field),
        "bad base64": lambda: prepare_image("data:image/png;base64,@@@", field=field),
        "not found": lambda: prepare_image(tmp_path / "missing.jpg", field=field),
        "folder": lambda: prepare_image(tmp_path, field=field),
        "empty": lambda: prepare_image(b"", field=field),
        "too large": lambda: prepare_image(
            pictures.person_jpeg(), field=field, limits=ImageLimits(max_input_bytes=100)
        ),
        "not an image": lambda: prepare_image(pictures.text_file(), field=field),
        "too small": lambda: prepare_image(pictures.small_image(), field=field),
        "bomb": lambda: prepare_image(
            pictures.person_jpeg(), field=field, limits=ImageLimits(max_input_pixels=1000)
        ),
        "damaged": lambda: prepare_image(pictures.truncated_jpeg(), field=field),
        "same picture": lambda: prepare_submission(person, person),
        "upload without file": lambda: api_image_source({"path": ""}, field),
        "neither upload nor link": lambda: api_image_source("just some words", field),
        "unsupported value": lambda: api_image_source(42, field),
        "unknown model": lambda: TryOnClient.create_body("a", "b", "kolors-x"),
        "missing image": lambda: TryOnClient.create_body("", "b"),
        "data prefix": lambda: TryOnClient.create_body("data:image/png;base64,AA", "b"),
        "bad callback": lambda: TryOnClient.create_body("a", "b", callback_url="ftp://x"),
        "no task id": lambda: client.get("  "),
        "page range": lambda: client.list(0),
        "three pieces": lambda: check_combination(("top", "bottom", "top")),
        "two tops": lambda: check_combination(("top", "top")),
        "two bottoms": lambda: check_combination(("bottom", "bottom")),
        "one-piece with more": lambda: check_combination(("one-piece", "top")),
        "outfit missing piece": lambda: asyncio.run(
            outfit.compose(pipeline, garment, None, ("top", "bottom"))
        ),
        "outfit link": lambda: compose_outfit("https://example.com/a.jpg", garment),
        "outfit blank": lambda: compose_outfit(white, garment),
        "lookbook empty": lambda: lookbook(0),
        "lookbook too many": lambda: lookbook(2),
        "bad rate": lambda: Rate.parse("lots", "TRYON_RATE_PER_SESSION"),
        "not a number": lambda: load_settings({"TRYON_MAX_LONG_SIDE": "big"}, None),
        "half a key pair": lambda: load_settings({"KLING_ACCESS_KEY": "ak"}, None),
        "base scheme": lambda: load_settings({"KLING_API_BASE": "ftp://x"}, None),
        "no base url": lambda: TryOnClient.from_settings(Settings(), base_url=""),
    }


def test_every_refused_input_reads_in_chinese(tmp_path: Path) -> None:
    refused: dict[str, str] = {}
    for name, attempt in _refusals(tmp_path).items():
        with pytest.raises(TryOnError) as caught:
            attempt()
        refused[name] = caught.value.render("zh")
    english = {
        name: text
        for name, text in refused.items()
        if not re.search(r"[\u4e00-\u9fff]", text) or english_left(text)
    }
    assert english == {}


@pytest.mark.parametrize(
    ("picture", "limits"),
    [
        (pictures.person_jpeg, None),
        (pictures.phone_photo_24mp, None),
        (pictures.rgba_png, None),
        (pictures.palette_png, None),
        (pictures.png_16bit, None),
        (pictures.gif, None),
        (pictures.webp, None),
        (pictures.cmyk_jpeg, None),
        (pictures.greyscale_jpeg, None),
        (pictures.exif_rotated_jpeg, None),
        (pictures.noisy_jpeg_over_10mb, ImageLimits(max_long_side=0)),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_what_preparation_did_reads_in_chinese(
    picture: Callable[[], bytes], limits: ImageLimits | None
) -> None:
    actions = prepare_image(picture(), limits=limits).report.actions
    note = msg("prep.note", field=msg("field.garment"), actions=actions).render("zh")
    assert note.startswith("服装图片：")
    assert_chinese(note)


def test_a_link_note_reads_in_chinese() -> None:
    actions = prepare_image("https://example.com/a.jpg").report.actions
    assert_chinese(msg("prep.note", field=msg("field.person"), actions=actions).render("zh"))


def test_submission_limits_read_in_chinese() -> None:
    refusals = []
    for per_session, overall in (("1/minute", ""), ("", "1/minute")):
        limiter = SubmissionLimiter(Rate.parse(per_session, "x"), Rate.parse(overall, "y"))
        limiter.acquire("me")
        with pytest.raises(LimitExceededError) as caught:
            limiter.acquire("me")
        refusals.append(caught.value.render("zh"))
    for cap, share in ((1, 0), (0, 1)):  # the day's cap, and one address's share of it
        quota = Quota(cap, share)
        quota.reserve("me").commit()
        with pytest.raises(LimitExceededError) as caught:
            quota.reserve("me")
        refusals.append(caught.value.render("zh"))
    assert refusals[0].startswith("您在最近 60 秒内") and refusals[1].startswith("所有访客")
    for text in refusals:
        assert_chinese(text)


def test_network_errors_read_in_chinese() -> None:
    with (
        TryOnClient("http://127.0.0.1:9", BearerAuth(FAKE_KEY), get_retries=0) as client,
        pytest.raises(NetworkError) as caught,
    ):
        client.get("task-1")
    assert_chinese(error_text(caught.value, "zh"))
    assert "127.0.0.1" in error_text(caught.value, "zh")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (502, "<html><h1>502 Bad Gateway</h1></html>"),
        (200, '{"task_id": "t-1"}'),
        (400, '{"code": 0, "data": {}}'),
        (200, '{"code": 0}'),
        (200, '{"code": 0, "data": []}'),
        (200, '{"code": 0, "data": {"task_status": "submitted"}}'),
        (200, '{"code": 0, "data": {"task_id": "t", "task_status": "odd"}}'),
        (
            200,
            '{"code": 0, "data": {"task_id": "t", "task_status": "succeed", '
            '"task_result": {"images": 3}}}',
        ),
        (
            200,
            '{"code": 0, "data": {"task_id": "t", "task_status": "succeed", '
            '"task_result": {"images": [{}]}}}',
        ),
    ],
)
def test_replies_the_app_cannot_read_are_explained_in_chinese(status: int, body: str) -> None:
    with pytest.raises(TryOnError) as caught:
        parse_task_reply(status, body)
    assert_chinese(caught.value.render("zh"))


def test_a_result_that_cannot_be_fetched_reads_in_chinese(tmp_path: Path) -> None:
    with pytest.raises(TryOnError) as caught:
        Pipeline.build(Settings(), tmp_path).results.fetch(_task("succeed"))
    assert_chinese(caught.value.render("zh"))


def test_the_lookbook_table_and_summary_read_in_chinese() -> None:
    fault = TryOnError(msg("app.fault_garment"))
    items = (
        LookItem(1, "a.png", "succeed"),
        LookItem(2, "b.png", "waiting", note=msg("lookbook.rate_limited", seconds=4, attempt=2)),
        LookItem(3, "c.png", "failed", note=msg("status.no_reason")),
        LookItem(4, "d.png", "error", note=fault.as_msg()),
        LookItem(5, "e.png", "error", note=msg("lookbook.no_result")),
        LookItem(6, "f.png", "queued"),
        LookItem(7, "g.png", "submitted"),
        LookItem(8, "h.png", "processing"),
    )
    assert summary_msg(items).render("zh") == (
        "已完成 1/8 · 1 个失败 · 2 个无法运行 · 2 个进行中 · 1 个等待中（限流） · 1 个排队中"
    )
    rows = table_rows(items, "zh")
    assert [row[2] for row in rows] == [
        "完成",
        "等待中（限流）",
        "失败",
        "出错",
        "出错",
        "排队中",
        "已提交",
        "处理中",
    ]
    assert rows[1][4] == "被限流；4 秒后重试（第 2 次）"
    for row in rows:
        if row[4]:
            assert_chinese(row[4])
    assert table_headers("zh") == ("#", "服装", "状态", "任务 ID", "备注")
    assert_chinese(msg("lookbook.finished", summary=summary_msg(items)).render("zh"))


def test_the_pages_own_run_time_texts_read_in_chinese() -> None:
    stopped = Msg.join([msg("page.stopped_waiting"), msg("page.reattach", task_id=Code("t-1"))])
    assert stopped.markdown("zh") == (
        "**已停止等待。** 任务仍在 API 端继续运行。稍后可用任务 ID `t-1` 重新关联。"
    )
    data = {
        "task_id": "t-1",
        "task_status": "succeed",
        "task_result": {"images": [{"index": 0, "url": "http://127.0.0.1:1/r.png"}]},
    }
    step = Step("succeed", 1.0, task=parse_task(data, raw=data))
    for offline in (True, False):  # an address on this server is never shown
        link = ui._result_link(step, offline, "zh")
        assert "127.0.0.1" not in link and "下载" in link
        assert_chinese(link)
    public = {**data, "task_result": {"images": [{"index": 0, "url": "https://cdn.example/r.png"}]}}
    link = ui._result_link(Step("succeed", 1.0, task=parse_task(public, raw=public)), False, "zh")
    assert link.startswith("结果地址：") and "https://cdn.example/r.png" in link
    assert_chinese(link)


def test_the_session_history_names_each_tasks_state_in_the_visitors_language() -> None:
    entry = {"task_id": "t-1", "model": "kolors-virtual-try-on-v1", "status": "succeed"}
    captions = [
        caption for _, caption in ui._gallery([{**entry, "time": "12:00:00", "thumb": None}], "zh")
    ]
    assert captions == ["12:00:00 · 完成 · v1 · t-1"]


def test_a_callbacks_state_is_named_in_the_visitors_language_beside_the_apis_word() -> None:
    data = {"task_id": "t-1", "task_status": "processing"}
    task = parse_task(data, raw=data)
    step = Step("processing", 2.0, task=task, callback={"task_status": "succeed"})
    chinese = step.status_text("zh")
    assert "已收到回调：完成（API 原文：succeed）" in chinese
    assert_chinese(chinese.replace("succeed", ""))
    assert "Callback received: done (API: succeed)" in step.status_text("en")
    odd = Step("processing", 2.0, task=task, callback={"task_status": "paused"})
    assert "已收到回调：paused" in odd.status_text("zh")
