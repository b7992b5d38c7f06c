"""Reading a picture from where it was given (``pictures/sources.py``): paths, bytes, ``data:``
URLs and links, and the refusals that come before any byte of it is parsed."""

from __future__ import annotations

import base64
import errno
from pathlib import Path

import pytest

from tests import pictures
from tests.payloads import said
from tryon_demo.errors import ImageError
from tryon_demo.pictures import ImageLimits, prepare_image


def test_a_file_path_is_read_and_reported_as_a_file(tmp_path: Path) -> None:
    path = tmp_path / "me.jpg"
    path.write_bytes(pictures.person_jpeg())
    prepared = prepare_image(path)
    assert prepared.report.source == "file"
    assert prepared.report.final_size == (600, 900)


def test_a_string_path_works_like_a_path(tmp_path: Path) -> None:
    path = tmp_path / "me.jpg"
    path.write_bytes(pictures.person_jpeg())
    assert prepare_image(str(path)).report.source == "file"


def test_an_http_url_passes_through_unchanged() -> None:
    url = "https://gw.alicdn.com/imgextra/i1/1860536677/O1CN012wEzZ11zC7RDNm0Jr_!!1860536677.jpg"
    prepared = prepare_image(url)
    assert prepared.payload == url
    assert prepared.is_url
    assert prepared.report.source == "url"
    assert isinstance(prepared.report.elapsed_ms, float)


def test_an_invalid_long_link_is_quoted_to_80_characters() -> None:
    url = "https://a.example/" + "x" * 100 + " y"
    with pytest.raises(ImageError) as caught:
        prepare_image(url)
    assert caught.value.message == f"Image: {url[:80]!r} is not a valid web address."


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/a.jpg", "javascript:alert(1)"]
)
def test_links_with_other_schemes_are_refused(url: str) -> None:
    with pytest.raises(ImageError, match="only http:// and https:// links"):
        prepare_image(url, field="Person image")


def test_a_data_url_is_decoded_and_sent_without_its_prefix() -> None:
    data = pictures.person_jpeg()
    prepared = prepare_image("data:image/jpeg;base64," + base64.b64encode(data).decode())
    assert base64.b64decode(prepared.payload) == data


def test_an_upload_over_the_app_limit_is_refused_with_both_sizes() -> None:
    with pytest.raises(
        ImageError, match=r"the file is 2\.0 MB; this app accepts files up to 1\.0 MB"
    ):
        prepare_image(b"\xff" * 2 * 2**20, limits=ImageLimits(max_input_bytes=2**20))


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ImageError, match="the file is empty"):
        prepare_image(b"")


@pytest.mark.parametrize("value", [None, "", "   "])
def test_nothing_given_is_refused(value: str | None) -> None:
    with pytest.raises(ImageError, match="nothing was given"):
        prepare_image(value, field="Person image")


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"'nope\.jpg' was not found"):
        prepare_image(tmp_path / "nope.jpg")


def test_a_file_of_exactly_the_upload_limit_is_accepted_and_one_byte_more_refused() -> None:
    data = pictures.person_jpeg()
    assert prepare_image(data, limits=ImageLimits(max_input_bytes=len(data))).payload
    with pytest.raises(ImageError, match="this app accepts files up to"):
        prepare_image(data, limits=ImageLimits(max_input_bytes=len(data) - 1))


LONG_URL = "https://a.example/" + "p" * 2100


def test_files_that_cannot_be_read_are_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path, message in (
        (tmp_path / "nope.jpg", "Person image: file 'nope.jpg' was not found."),
        (folder, "Person image: 'photos' is a folder, not an image file."),
        (empty, "Person image: the file is empty."),
    ):
        with pytest.raises(ImageError) as caught:
            prepare_image(path, field="Person image")
        assert (caught.value.message, caught.value.field) == (message, "Person image")


def test_a_link_of_exactly_2048_characters_is_passed_on() -> None:
    url = "https://a.example/" + "p" * (2048 - len("https://a.example/"))
    prepared = prepare_image(url)
    assert prepared.payload == url
    assert prepared.report.passthrough
    assert said(prepared) == (
        "sent as a link: the API downloads it (jpg/png, <= 10 MB, >= 300 x 300)",
    )


def test_a_data_url_with_a_comma_in_its_base64_part_is_refused() -> None:
    data = base64.b64encode(pictures.person_jpeg()).decode()
    with pytest.raises(ImageError, match="does not hold valid base64"):
        prepare_image(f"data:image/jpeg;base64,{data},{data}")


@pytest.mark.parametrize("as_data_url", [False, True])
def test_converted_bytes_report_their_source_and_original_size(as_data_url: bool) -> None:
    data = pictures.webp()
    source: object = data
    if as_data_url:
        source = "data:image/webp;base64," + base64.b64encode(data).decode()
    prepared = prepare_image(source)  # type: ignore[arg-type]
    assert (prepared.report.source, prepared.report.original_bytes) == ("bytes", len(data))
    assert prepared.data == base64.b64decode(prepared.payload)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("C:photo.jpg", "Person image: file 'C:photo.jpg' was not found."),
        (
            "ws://a.example/p.jpg",
            "Person image: only http:// and https:// links can be sent to the API, not ws: "
            "links. Upload the file instead.",
        ),
    ],
)
def test_a_drive_letter_is_a_file_and_any_other_scheme_a_refused_link(
    text: str, message: str
) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(text, field="Person image")
    assert (caught.value.message, caught.value.field) == (message, "Person image")


def test_a_plain_http_link_in_capitals_passes_through() -> None:
    assert prepare_image("HTTP://a.example/p.jpg").payload == "HTTP://a.example/p.jpg"
    assert prepare_image("http://a.example/p.jpg").is_url


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("   ", "Person image: nothing was given."),
        (
            "data:image/jpeg;base64," + base64.b64encode(pictures.small_image()).decode(),
            "Person image: it is 200 x 200 pixels",
        ),
    ],
)
def test_text_inputs_name_the_image_they_were_given_for(source: str, message: str) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(source, field="Person image")
    assert caught.value.message.startswith(message)
    assert caught.value.field == "Person image"


def test_a_file_that_cannot_be_read_is_refused_by_name_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "locked.jpg"
    path.write_bytes(pictures.person_jpeg())

    def denied(self: Path) -> bytes:  # the tests run as root, for whom no file is locked
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ImageError) as caught:
        prepare_image(path, field="Person image")
    assert (caught.value.message, caught.value.field) == (
        "Person image: file 'locked.jpg' could not be read (Permission denied).",
        "Person image",
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            None,
            "Garment image: nothing was given. Upload a picture or paste an http(s) link.",
        ),
        (
            "https:// spaces in/it.jpg",
            "Garment image: 'https:// spaces in/it.jpg' is not a valid web address.",
        ),
        (
            "https:///no-host.jpg",
            "Garment image: 'https:///no-host.jpg' is not a valid web address.",
        ),
        (
            "https://a.example/a b.jpg",
            "Garment image: 'https://a.example/a b.jpg' is not a valid web address.",
        ),
        (LONG_URL, "Garment image: the link is longer than 2048 characters."),
        ("data:image/png,abc", "Garment image: only base64 data: URLs are supported."),
        (
            "data:image/png;base64,a*b",
            "Garment image: the data: URL does not hold valid base64.",
        ),
    ],
    ids=[
        "none",
        "space-host",
        "no-host",
        "space-path",
        "long-link",
        "data-not-base64",
        "data-bad-base64",
    ],
)
def test_every_source_refusal_names_the_image_and_the_rule(
    source: str | None, message: str
) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(source, field="Garment image")
    assert caught.value.message == message
    assert caught.value.field == "Garment image"


@pytest.mark.parametrize(
    ("data", "limits", "message"),
    [
        (b"", None, "Person image: the file is empty."),
        (b"\xff" * 2048, ImageLimits(max_input_bytes=1024), "Person image: the file is 0.0 MB"),
    ],
)
def test_refused_bytes_name_the_image(
    data: bytes, limits: ImageLimits | None, message: str
) -> None:
    with pytest.raises(ImageError) as caught:
        prepare_image(data, field="Person image", limits=limits)
    assert caught.value.message.startswith(message)
    assert caught.value.field == "Person image"
