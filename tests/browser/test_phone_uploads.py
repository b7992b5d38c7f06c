"""Photos shrunk in the browser before they are uploaded, for a stakeholder on a phone's slow
uplink: what is uploaded, what the API then gets, and a page that cannot shrink."""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image, ImageDraw, ImageOps
from playwright.sync_api import Browser, Page, Route, expect

from tests import pictures
from tests.browser.test_first_screen import PHONE
from tests.browser.test_page import GARMENT, PERSON
from tests.conftest import FAKE_KEY
from tests.fake_api import FakeApi, Reply, Seen
from tests.similarity import ssim
from tests.test_app import RunningApp
from tryon_demo.errors import ImageError
from tryon_demo.pictures import ImageLimits, prepare_image
from tryon_demo.pictures.plan import Header, plan_picture
from tryon_demo.settings import Settings
from tryon_demo.simulator import SimulatorConfig, SimulatorServer
from tryon_demo.ui import shrink

pytestmark = pytest.mark.browser

#: What the two 12 MP photos may take to upload together (the originals are 5.4 MB).
MOST_UPLOADED = 1_500_000
DESKTOP: dict[str, Any] = {"viewport": {"width": 1440, "height": 900}}
UPLOAD = re.compile(r".*/gradio_api/upload(\?.*)?$")
#: How long a 12 MP photo may take to be shrunk and uploaded on a machine busy with other tests.
UPLOAD_WAIT_MS = 30_000
#: The limits the browser tests' app runs with (tests/browser/conftest.py): the defaults.
LIMITS = ImageLimits()


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two 12 MP camera photos: the person held upright (stored on its side with EXIF
    orientation 6) and the garment shot landscape; and the same two as PNGs for the clipboard,
    which holds pixels, not files."""
    folder = tmp_path_factory.mktemp("photos")
    made = {
        "person.jpg": pictures.camera_photo((3000, 4000), seed=1, orientation=6),
        "garment.jpg": pictures.camera_photo((4000, 3000), seed=2),
    }
    paths = {}
    for name, data in made.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    for name in ("person", "garment"):
        with Image.open(paths[f"{name}.jpg"]) as photo:
            upright = photo.transpose(Image.Transpose.ROTATE_270) if name == "person" else photo
            paths[f"{name}.png"] = folder / f"{name}.png"
            upright.save(paths[f"{name}.png"], compress_level=1)
    return paths


def open_page(browser: Browser, url: str, init_script: str = "", **context: Any) -> Page:
    """A fresh browser on the page, after ``init_script`` ran in it (to take an API away)."""
    browser_context = browser.new_context(**context)
    if init_script:
        browser_context.add_init_script(init_script)
    page = browser_context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url)
    page.wait_for_selector("#run-button")
    # The page's load hook installs the shrinking; a photo chosen before it ran (a busy
    # machine, the first instant) goes as it is, which is not what these tests look at.
    page.wait_for_function("'__tryonShrink' in window")
    return page


class Uploads:
    """The request bodies the page sends to Gradio's upload route, counted as they pass."""

    def __init__(self, page: Page) -> None:
        self.sizes: list[int] = []
        page.route(UPLOAD, self._count)

    def _count(self, route: Route) -> None:
        self.sizes.append(len(route.request.post_data_buffer or b""))
        route.continue_()

    @property
    def total(self) -> int:
        return sum(self.sizes)


class RecordingApi:
    """The simulator behind a recorder: the pictures of every task the app created."""

    def __init__(self, simulator: SimulatorServer) -> None:
        self.simulator = simulator
        self.fake = FakeApi(self._forward)
        self.creates: dict[str, dict[str, Any]] = {}

    def _forward(self, seen: Seen) -> Reply:
        headers = {k: v for k, v in seen.headers.items() if k in ("authorization", "content-type")}
        answer = requests.request(
            seen.method, self.simulator.url + seen.path, headers=headers, data=seen.body, timeout=60
        )
        if seen.method == "POST" and answer.ok:
            self.creates[answer.json()["data"]["task_id"]] = json.loads(seen.body)
        kind = answer.headers.get("content-type", "application/json")
        content = answer.content
        if kind.startswith("application/json"):  # result links lead here too, like the API's
            content = content.replace(self.simulator.url.encode(), self.fake.url.encode())
        return Reply(answer.status_code, content, {"Content-Type": kind})

    def sent_pictures(self, task_id: str) -> tuple[bytes, bytes]:
        """The person and garment pictures the create of ``task_id`` carried."""
        body = self.creates[task_id]
        return base64.b64decode(body["human_image"]), base64.b64decode(body["cloth_image"])


@pytest.fixture(scope="module")
def api() -> Iterator[RecordingApi]:
    with SimulatorServer(
        SimulatorConfig(task_seconds=0.5, api_keys=frozenset({FAKE_KEY}))
    ) as simulator:
        recording = RecordingApi(simulator)
        with recording.fake:
            yield recording


@pytest.fixture(scope="module")
def recorded_url(api: RecordingApi, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app, online against the recorded simulator, so a test reads what the API got."""
    settings = Settings(
        api_key=FAKE_KEY,
        api_base=api.fake.url + "/kling",
        poll_interval=0.2,
        poll_max_interval=0.4,
    )
    # The page's time limit for a shrink is for a visitor's phone; two test workers decoding
    # 12 MP photos in one busy machine's browsers can pass it, and the original would go.
    quick = shrink.TIMEOUT_MS
    shrink.TIMEOUT_MS = 120_000
    try:
        running = RunningApp(settings, tmp_path_factory.mktemp("phone-work"))
    finally:
        shrink.TIMEOUT_MS = quick
    yield running.url
    running.close()


@pytest.fixture
def desktop(browser: Browser, recorded_url: str) -> Iterator[Page]:
    page = open_page(browser, recorded_url, **DESKTOP)
    yield page
    page.context.close()


def choose_by_file(page: Page, person: Path | str, garment: Path | str) -> None:
    page.locator("#human-image input[type=file]").set_input_files(str(person))
    page.locator("#cloth-image input[type=file]").set_input_files(str(garment))


def served(page: Page, path: Path) -> str:
    """An address on the page's own origin that serves ``path``, for the page to fetch (large
    files cross into the page faster this way than as arguments)."""
    address = f"{page.url.rstrip('/')}/test-file/{path.name}"
    page.route(address, lambda route: route.fulfill(path=str(path)))
    return address


def drop(page: Page, selector: str, path: Path) -> None:
    """Drag ``path`` from the desktop and drop it on the upload area of ``selector``."""
    transfer = page.evaluate_handle(
        """async ([address, name]) => {
            const blob = await (await fetch(address)).blob();
            const transfer = new DataTransfer();
            transfer.items.add(new File([blob], name, { type: "image/jpeg" }));
            return transfer;
        }""",
        [served(page, path), path.name],
    )
    area = page.locator(f"{selector} .upload-container").first
    for kind in ("dragenter", "dragover", "drop"):
        area.dispatch_event(kind, {"dataTransfer": transfer})


def choose_by_drop(page: Page, person: Path, garment: Path) -> None:
    drop(page, "#human-image", person)
    expect(page.locator("#human-image img")).to_be_visible(timeout=UPLOAD_WAIT_MS)
    drop(page, "#cloth-image", garment)


def copy_to_clipboard(page: Page, path: Path) -> None:
    """Put the PNG at ``path`` on the clipboard, as a screenshot tool or an image editor does."""
    page.evaluate(
        """async (address) => {
            const blob = await (await fetch(address)).blob();
            const png = new Blob([blob], { type: "image/png" });
            await navigator.clipboard.write([new ClipboardItem({ "image/png": png })]);
        }""",
        served(page, path),
    )


def paste(page: Page, selector: str, path: Path) -> None:
    """Copy the PNG at ``path`` to the clipboard and press the image's paste button."""
    copy_to_clipboard(page, path)
    page.locator(f"{selector} button[aria-label='Paste from clipboard']").click()


def choose_by_paste(page: Page, person: Path, garment: Path) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    paste(page, "#human-image", person.with_suffix(".png"))
    expect(page.locator("#human-image img")).to_be_visible(timeout=UPLOAD_WAIT_MS)
    paste(page, "#cloth-image", garment.with_suffix(".png"))


CHOOSERS = {"file": choose_by_file, "drop": choose_by_drop, "paste": choose_by_paste}


def run_and_fetch_sent(page: Page, api: RecordingApi) -> tuple[bytes, bytes]:
    """Press Run, wait for the result, and return the two pictures the API received."""
    expect(page.locator("#human-image img")).to_be_visible(timeout=UPLOAD_WAIT_MS)
    expect(page.locator("#cloth-image img")).to_be_visible(timeout=UPLOAD_WAIT_MS)
    page.click("#run-button")
    expect(page.locator("#result-image img")).to_be_visible(timeout=30_000)
    return api.sent_pictures(page.locator("#status code").first.inner_text())


def server_made(path: Path) -> Image.Image:
    """The picture the server alone sends the API for ``path`` (today's path)."""
    prepared = prepare_image(path, limits=LIMITS)
    assert prepared.data is not None
    return Image.open(io.BytesIO(prepared.data))


def size_of(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


# The clipboard holds pixels: Chromium encodes two 12 MP PNGs to put them there and again to
# read them back, about 90 s on a busy machine, so this test has more than the default 120 s.
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("device", "how"),
    [("desktop", "file"), ("phone", "file"), ("desktop", "drop"), ("desktop", "paste")],
)
def test_two_camera_photos_upload_small_and_the_api_gets_todays_size(
    browser: Browser,
    recorded_url: str,
    api: RecordingApi,
    photos: dict[str, Path],
    device: str,
    how: str,
) -> None:
    page = open_page(browser, recorded_url, **(PHONE if device == "phone" else DESKTOP))
    uploads = Uploads(page)
    person, garment = photos["person.jpg"], photos["garment.jpg"]
    CHOOSERS[how](page, person, garment)
    human, cloth = run_and_fetch_sent(page, api)
    assert len(uploads.sizes) == 2
    assert uploads.total <= MOST_UPLOADED, uploads.sizes
    source = {"file": ".jpg", "drop": ".jpg", "paste": ".png"}[how]
    assert size_of(human) == server_made(person.with_suffix(source)).size == (1125, 1500)
    assert size_of(cloth) == server_made(garment.with_suffix(source)).size == (1500, 1125)
    page.context.close()


#: The two ways the page draws a photo at its new size: decoded and resized in one step
#: (``createImageBitmap``, where the browser can), or decoded whole and drawn smaller.
DRAWN = {
    "resized while decoded": "",
    "drawn from the whole picture": "delete window.createImageBitmap;",
}


@pytest.mark.parametrize("way", list(DRAWN))
def test_the_pictures_the_api_gets_look_like_the_servers_own(
    browser: Browser, recorded_url: str, api: RecordingApi, photos: dict[str, Path], way: str
) -> None:
    page = open_page(browser, recorded_url, init_script=DRAWN[way], **DESKTOP)
    choose_by_file(page, photos["person.jpg"], photos["garment.jpg"])
    human, cloth = run_and_fetch_sent(page, api)
    assert page.evaluate("window.__tryonShrink.stats.shrunk") == 2
    assert page.evaluate("window.__tryonShrink.resizesWhileDecoding") == (not DRAWN[way])
    for sent, path in ((human, photos["person.jpg"]), (cloth, photos["garment.jpg"])):
        made, server = Image.open(io.BytesIO(sent)), server_made(path)
        assert made.size == server.size
        assert ssim(made, server) >= 0.98
        # Against the photo resized before any compression, the page's JPEG keeps as much.
        with Image.open(path) as original:
            ideal = ImageOps.exif_transpose(original).resize(server.size, Image.Resampling.LANCZOS)
        assert ssim(made, ideal) >= ssim(server, ideal)
    page.context.close()


def test_a_transparent_garment_is_flattened_onto_white_as_the_server_does(
    desktop: Page, api: RecordingApi, tmp_path: Path
) -> None:
    cut_out = Image.new("RGBA", (4000, 3000), (0, 0, 0, 0))
    ImageDraw.Draw(cut_out).rectangle((1000, 500, 3000, 2600), fill=(*pictures.GARMENT_COLOUR, 255))
    path = tmp_path / "cut-out.png"
    cut_out.save(path)
    uploads = Uploads(desktop)
    choose_by_file(desktop, PERSON, path)
    _, cloth = run_and_fetch_sent(desktop, api)
    assert desktop.evaluate("window.__tryonShrink.stats.shrunk") == 1
    assert uploads.sizes[-1] < path.stat().st_size
    sent, server = Image.open(io.BytesIO(cloth)), server_made(path)
    assert sent.size == server.size
    assert sent.convert("RGB").getpixel((10, 10)) == pytest.approx((255, 255, 255), abs=2)
    assert ssim(sent, server) >= 0.98


def test_a_photo_run_sends_as_it_is_is_uploaded_as_it_is(desktop: Page, api: RecordingApi) -> None:
    uploads = Uploads(desktop)
    choose_by_file(desktop, PERSON, GARMENT)  # 768 px JPEG and PNG: nothing to shrink
    run_and_fetch_sent(desktop, api)
    assert desktop.evaluate("window.__tryonShrink.stats") == {"shrunk": 0, "kept": 2, "failed": 0}
    originals = [Path(PERSON).stat().st_size, Path(GARMENT).stat().st_size]
    assert all(any(0 < sent - size < 1000 for sent in uploads.sizes) for size in originals)


def test_a_photo_pasted_with_ctrl_v_on_the_focused_image_is_shrunk_too(
    desktop: Page, photos: dict[str, Path]
) -> None:
    desktop.context.grant_permissions(["clipboard-read", "clipboard-write"])
    uploads = Uploads(desktop)
    copy_to_clipboard(desktop, photos["person.png"])
    desktop.locator("#human-image button.upload-container").focus()
    desktop.keyboard.press("Control+V")
    expect(desktop.locator("#human-image img")).to_be_visible(timeout=UPLOAD_WAIT_MS)
    expect(desktop.locator("#human-check")).to_contain_text("1125 x 1500", timeout=UPLOAD_WAIT_MS)
    assert desktop.evaluate("window.__tryonShrink.stats.shrunk") == 1
    assert 0 < uploads.total <= MOST_UPLOADED / 2


def test_pictures_a_browser_may_read_unlike_the_server_go_up_as_they_are(
    desktop: Page, api: RecordingApi, tmp_path: Path
) -> None:
    cmyk = tmp_path / "print-catalogue.jpg"  # browsers and Pillow convert CMYK differently
    cmyk.write_bytes(pictures.encode(pictures.person((2000, 3000)).convert("CMYK"), "JPEG"))
    exif = Image.Exif()
    exif[0x0112] = 6  # a PNG's EXIF orientation, which not every browser applies
    turned = tmp_path / "turned.png"
    turned.write_bytes(pictures.encode(pictures.garment((3000, 2000)), "PNG", exif=exif))
    uploads = Uploads(desktop)
    choose_by_file(desktop, cmyk, turned)
    human, cloth = run_and_fetch_sent(desktop, api)
    assert desktop.evaluate("window.__tryonShrink.stats") == {"shrunk": 0, "kept": 2, "failed": 0}
    assert uploads.total > cmyk.stat().st_size + turned.stat().st_size
    assert size_of(human) == server_made(cmyk).size
    assert size_of(cloth) == server_made(turned).size == (1000, 1500)


def test_lookbook_garments_are_shrunk_before_upload_too(
    desktop: Page, photos: dict[str, Path]
) -> None:
    uploads = Uploads(desktop)
    desktop.get_by_role("tab", name="Lookbook").click()
    desktop.locator("#lookbook-garments input[type=file]").set_input_files(
        [str(photos["garment.jpg"]), str(photos["person.jpg"])]
    )
    expect(desktop.locator("#lookbook-garments img")).to_have_count(2, timeout=UPLOAD_WAIT_MS)
    assert desktop.evaluate("window.__tryonShrink.stats.shrunk") == 2
    assert 0 < uploads.total <= MOST_UPLOADED


#: Pages that do not shrink: one whose canvas cannot make a JPEG (shrinking fails), and one
#: where the script is never installed (a browser without DataTransfer, an API client).
BROKEN = {
    "fails": "HTMLCanvasElement.prototype.toBlob = () => { throw new Error('no JPEG here'); };",
    "absent": "delete window.DataTransfer;",
}


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_page_that_does_not_shrink_uploads_the_originals_and_runs_as_today(
    browser: Browser, recorded_url: str, api: RecordingApi, photos: dict[str, Path], how: str
) -> None:
    page = open_page(browser, recorded_url, init_script=BROKEN[how], **DESKTOP)
    uploads = Uploads(page)
    choose_by_file(page, photos["person.jpg"], photos["garment.jpg"])
    human, cloth = run_and_fetch_sent(page, api)
    shrinking = page.evaluate("window.__tryonShrink && window.__tryonShrink.stats")
    assert shrinking == ({"shrunk": 0, "kept": 0, "failed": 2} if how == "fails" else None)
    assert uploads.total > 5_000_000  # the originals
    assert size_of(human) == (1125, 1500) and size_of(cloth) == (1500, 1125)
    page.context.close()


def run_would_send(size: tuple[int, int]) -> tuple[int, int]:
    """The size Run's plan sends a JPEG photo of ``size`` at; one it refuses keeps its size,
    since the page leaves such a picture to the server."""
    try:
        return plan_picture(Header("JPEG", "RGB", size, file_bytes=2_000_000), LIMITS).final_size
    except ImageError:
        return size


def test_the_page_sizes_pictures_by_runs_own_plan(desktop: Page) -> None:
    sizes = [(4000, 3000), (3000, 4000), (1500, 1500), (1501, 1000), (1000, 1501), (2, 1)]
    sizes += [(6000, 250), (250, 6000), (5000, 400), (3001, 2001), (3000, 1999), (4033, 3025)]
    sizes += [(w, h) for w in range(1490, 4000, 97) for h in range(300, 4000, 211)]
    planned = desktop.evaluate(
        "(all) => all.map(([w, h]) => window.__tryonShrink.plan(w, h))", sizes
    )
    assert [tuple(p) for p in planned] == [run_would_send(size) for size in sizes]
