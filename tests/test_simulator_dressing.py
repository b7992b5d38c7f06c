"""The simulated try-on dresses the body: pictures drawn here, sent over HTTP, results measured.

Also the simulator's other promises: letters-and-digits task ids, results kept within a byte cap
(inputs never kept), the credentials-echo fault, ``simulate --jwt-secret``, and the client
reading replies with and without the optional fields.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests
from PIL import Image, ImageDraw, PngImagePlugin

from tests.conftest import StartSimulator
from tryon_demo.api.auth import make_jwt
from tryon_demo.api.models import parse_task_reply
from tryon_demo.simulator import SimulatorServer

PATH = "/kling/v1/images/kolors-virtual-try-on"
HEADERS = {"Authorization": "Bearer sk-test"}
V1, V15 = "kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5"
RED, BLUE, GREEN, YELLOW = (210, 30, 40), (30, 60, 170), (30, 150, 60), (240, 200, 30)
Box = tuple[int, int, int, int]
# Regions of the person below (600 x 900).
FACE: Box = (268, 60, 332, 135)
TORSO: Box = (245, 225, 355, 390)
THIGHS: Box = (235, 540, 365, 600)
SHINS: Box = (240, 650, 360, 800)


def person() -> Image.Image:
    """A person facing the camera in a grey top and dark shorts, on a light backdrop."""
    image = Image.new("RGB", (600, 900), (226, 230, 236))
    d = ImageDraw.Draw(image)
    skin = (225, 180, 150)
    for side in (-1, 1):
        d.polygon(  # arms hanging a little apart from the body
            [
                (300 + side * 88, 185),
                (300 + side * 112, 185),
                (300 + side * 130, 450),
                (300 + side * 106, 450),
            ],
            fill=skin,
        )
        d.ellipse((300 + side * 118 - 16, 440, 300 + side * 118 + 16, 480), fill=skin)
        d.rectangle((300 + min(side * 10, side * 62), 430, 300 + max(side * 10, side * 62), 860))
        d.rectangle(
            (300 + min(side * 12, side * 60), 430, 300 + max(side * 12, side * 60), 860),
            fill=skin,
        )
    d.rectangle((285, 130, 315, 185), fill=skin)
    d.ellipse((258, 40, 342, 150), fill=skin)
    d.ellipse((280, 80, 290, 90), fill=(40, 30, 30))
    d.ellipse((310, 80, 320, 90), fill=(40, 30, 30))
    d.rectangle((218, 175, 382, 445), fill=(120, 124, 132))  # own top
    d.rectangle((222, 430, 378, 520), fill=(50, 52, 60))  # own shorts
    return image


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (500, 500), (255, 255, 255))
    return image, ImageDraw.Draw(image)


def tee(colour: tuple[int, int, int] = RED) -> Image.Image:
    image, d = canvas()
    d.polygon(
        [(170, 60), (330, 60), (450, 160), (400, 210), (360, 180), (360, 460), (140, 460),
         (140, 180), (100, 210), (50, 160)],
        fill=colour,
    )  # fmt: skip
    return image


def trousers(colour: tuple[int, int, int] = BLUE) -> Image.Image:
    image, d = canvas()
    d.polygon(
        [(170, 30), (330, 30), (360, 470), (265, 470), (250, 170), (235, 470), (140, 470)],
        fill=colour,
    )
    return image


def skirt() -> Image.Image:
    image, d = canvas()
    d.polygon([(180, 120), (320, 120), (420, 400), (80, 400)], fill=GREEN)
    return image


def dress() -> Image.Image:
    image = Image.new("RGB", (500, 700), (255, 255, 255))
    ImageDraw.Draw(image).polygon(
        [(190, 40), (310, 40), (320, 260), (420, 660), (80, 660), (180, 260)], fill=YELLOW
    )
    return image


def outfit() -> Image.Image:
    """A top above a bottom on one white picture, as the outfit composer makes them."""
    top, bottom = tee(), trousers()
    image = Image.new("RGB", (500, 1000), (255, 255, 255))
    image.paste(top.crop((0, 40, 500, 470)), (0, 20))
    image.paste(bottom.crop((0, 20, 500, 480)), (0, 500))
    return image


def encode(image: Image.Image, labels: str | None = None) -> str:
    buffer = io.BytesIO()
    info = None
    if labels:
        info = PngImagePlugin.PngInfo()
        info.add_text("kolors-garments", labels)
    image.save(buffer, format="PNG" if image.mode != "RGB" or labels else "JPEG", pnginfo=info)
    return base64.b64encode(buffer.getvalue()).decode()


def try_on(
    server: SimulatorServer, garment: Image.Image, model: str = V1, **extra: str
) -> Image.Image:
    body = {"model_name": model, "human_image": encode(person()), "cloth_image": encode(garment)}
    body.update(extra)
    reply = requests.post(server.url + PATH, headers=HEADERS, json=body, timeout=30).json()
    task_id = reply["data"]["task_id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        data = requests.get(f"{server.url}{PATH}/{task_id}", headers=HEADERS, timeout=10).json()
        if data["data"]["task_status"] == "succeed":
            png = requests.get(data["data"]["task_result"]["images"][0]["url"], timeout=10)
            return Image.open(io.BytesIO(png.content)).convert("RGB")
        time.sleep(0.05)
    raise AssertionError("the task did not succeed")


def share(image: Image.Image, box: Box, colour: tuple[int, int, int]) -> float:
    """The share of ``box`` within a shade of ``colour``."""
    pixels = _pixels(image, box)
    near = sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, colour, strict=True)) < 120)
    return near / len(pixels)


def _pixels(image: Image.Image, box: Box) -> list[tuple[int, ...]]:
    data = image.crop(box).tobytes()
    return [tuple(data[i : i + 3]) for i in range(0, len(data), 3)]


def difference(a: Image.Image, b: Image.Image, box: Box) -> float:
    pa, pb = _pixels(a, box), _pixels(b, box)
    return sum(
        abs(x - y) for p, q in zip(pa, pb, strict=True) for x, y in zip(p, q, strict=True)
    ) / (3 * len(pa))


@pytest.fixture
def server(start_simulator: StartSimulator) -> SimulatorServer:
    return start_simulator(task_seconds=0.05)


@pytest.mark.parametrize("model", [V1, V15])
def test_a_tee_covers_the_torso_and_not_the_legs(server: SimulatorServer, model: str) -> None:
    result = try_on(server, tee(), model)
    assert share(result, TORSO, RED) > 0.85
    assert share(result, SHINS, RED) < 0.05


@pytest.mark.parametrize("model", [V1, V15])
def test_trousers_cover_the_legs_and_not_the_torso(server: SimulatorServer, model: str) -> None:
    result = try_on(server, trousers(), model)
    assert share(result, THIGHS, BLUE) > 0.7
    assert share(result, SHINS, BLUE) > 0.5
    assert share(result, TORSO, BLUE) < 0.2


def test_a_skirt_covers_the_hips_and_thighs_not_the_torso(server: SimulatorServer) -> None:
    result = try_on(server, skirt())
    assert share(result, THIGHS, GREEN) > 0.7
    assert share(result, TORSO, GREEN) < 0.2


def test_a_dress_covers_the_torso_and_the_thighs(server: SimulatorServer) -> None:
    result = try_on(server, dress())
    assert share(result, TORSO, YELLOW) > 0.7
    assert share(result, THIGHS, YELLOW) > 0.7


@pytest.mark.parametrize("labels", [None, "top,bottom"], ids=["read-from-the-picture", "declared"])
def test_a_composed_outfit_puts_each_piece_in_its_place(
    server: SimulatorServer, labels: str | None
) -> None:
    body = {
        "model_name": V15,
        "human_image": encode(person()),
        "cloth_image": encode(outfit(), labels),
    }
    reply = requests.post(server.url + PATH, headers=HEADERS, json=body, timeout=30).json()
    time.sleep(0.2)
    url = f"{server.url}/simulator/results/{reply['data']['task_id']}.png"
    result = Image.open(io.BytesIO(requests.get(url, timeout=10).content)).convert("RGB")
    assert share(result, TORSO, RED) > 0.7
    assert share(result, SHINS, BLUE) > 0.5
    assert share(result, SHINS, RED) < 0.05
    assert share(result, TORSO, BLUE) < 0.2


@pytest.mark.parametrize("garment", [tee, trousers, skirt, dress], ids=lambda g: g.__name__)
def test_the_face_is_left_as_it_was(server: SimulatorServer, garment: object) -> None:
    result = try_on(server, garment())  # type: ignore[operator]
    assert difference(result, person(), FACE) < 4


def test_the_simulated_stamp_never_covers_a_face_near_the_top_corner(
    server: SimulatorServer,
) -> None:
    framed = Image.new("RGB", (600, 900), (226, 230, 236))
    framed.paste(person(), (-150, -35))  # the head now touches the top, left of centre
    body = {"human_image": encode(framed), "cloth_image": encode(tee())}
    reply = requests.post(server.url + PATH, headers=HEADERS, json=body, timeout=30).json()
    time.sleep(0.2)
    url = f"{server.url}/simulator/results/{reply['data']['task_id']}.png"
    result = Image.open(io.BytesIO(requests.get(url, timeout=10).content)).convert("RGB")
    head = (108, 5, 192, 100)
    assert difference(result, framed, head) < 4
    assert share(result, (95, 190, 205, 355), RED) > 0.85  # the garment's middle shows


def test_v1_and_v1_5_dress_visibly_differently(server: SimulatorServer) -> None:
    flat, fitted = try_on(server, tee(), V1), try_on(server, tee(), V15)
    # v1 keeps the garment's straight cut and flat colour; v1-5 follows the torso row by row
    # and lets the photo's light through. Neither reaches over the backdrop beside the body.
    assert difference(flat, fitted, (200, 160, 400, 470)) > 2
    beside_the_body = (100, 180, 180, 280)
    assert share(flat, beside_the_body, RED) < 0.05
    assert share(fitted, beside_the_body, RED) < 0.05


def test_task_ids_are_letters_and_digits_only(server: SimulatorServer) -> None:
    body = {"human_image": "https://example.com/a.jpg", "cloth_image": "https://example.com/b.jpg"}
    ids = [
        requests.post(server.url + PATH, headers=HEADERS, json=body, timeout=10).json()["data"][
            "task_id"
        ]
        for _ in range(40)
    ]
    # Like the real ones (CjikY2gHPbcAAAAABI5n9g): never a "-" a command line takes for an option.
    assert all(i.isalnum() and i.isascii() and len(i) == 22 for i in ids), ids
    assert len(set(ids)) == len(ids)


def test_results_kept_stay_within_the_byte_cap_and_inputs_are_not_kept(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(task_seconds=0.05, max_result_bytes=400_000)
    task_ids = []
    for shade in range(8):  # distinct garments: nothing shared in the cache
        colour = (200, 20 + shade * 25, 40)
        body = {"human_image": encode(person()), "cloth_image": encode(tee(colour))}
        task_ids.append(
            requests.post(server.url + PATH, headers=HEADERS, json=body, timeout=30).json()["data"][
                "task_id"
            ]
        )
    sim = server.simulator
    assert 0 < sim.renders.bytes_kept <= 400_000
    assert all(len(t.human or b"") == 32 and len(t.cloth or b"") == 32 for t in sim.tasks.values())
    time.sleep(0.1)
    oldest = requests.get(f"{server.url}/simulator/results/{task_ids[0]}.png", timeout=10)
    newest = requests.get(f"{server.url}/simulator/results/{task_ids[-1]}.png", timeout=10)
    assert (oldest.status_code, oldest.text) == (404, "result expired")
    assert newest.status_code == 200


KEY = "sk-ECHO-me-123"


def test_the_echo_fault_repeats_the_credentials_in_every_form(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(task_seconds=0.05, echo_credentials=True)
    headers = {"Authorization": f"Bearer {KEY}"}
    error = requests.post(server.url + PATH, headers=headers, data="{oops", timeout=10)
    escaped = "".join(f"\\u{ord(c):04x}" for c in KEY)
    assert KEY in error.json()["message"] and KEY in error.json()["request_id"]
    assert escaped in error.text  # the JSON text itself carries the \u escapes
    assert base64.b64encode(KEY.encode()).decode() in error.text
    body = {"human_image": "https://example.com/a.jpg", "cloth_image": "https://example.com/b.jpg"}
    task_id = requests.post(server.url + PATH, headers=headers, json=body, timeout=10).json()[
        "data"
    ]["task_id"]
    query = requests.get(f"{server.url}{PATH}/{task_id}", headers=headers, timeout=10)
    assert KEY in query.json()["data"]["task_status_msg"]
    assert escaped in query.text


def test_the_echo_fault_repeats_a_jwt_as_received(start_simulator: StartSimulator) -> None:
    server = start_simulator(echo_credentials=True, jwt_secrets={"AK": "SK"})
    token = make_jwt("AK", "SK", time.time())
    reply = requests.get(
        f"{server.url}{PATH}/missing", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    assert reply.json()["code"] == 1203
    assert token in reply.json()["message"]


def test_without_the_fault_nothing_is_echoed(server: SimulatorServer) -> None:
    reply = requests.get(
        f"{server.url}{PATH}/missing", headers={"Authorization": f"Bearer {KEY}"}, timeout=10
    )
    assert KEY not in reply.text


@pytest.fixture
def cli_simulator() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tryon_demo", "simulate", "--port", "0", "--jwt-secret", "AK:SK",
         "--jwt-secret", "AK2:SK2"],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()
    yield line.split(" on ")[1].strip()
    process.terminate()
    process.wait(timeout=10)


def test_simulate_verifies_jwts_of_every_jwt_secret_given(cli_simulator: str) -> None:
    def status(token: str) -> int:
        reply = requests.get(
            f"{cli_simulator}{PATH}/missing",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        return int(reply.json()["code"])

    now = time.time()
    assert status(make_jwt("AK", "SK", now)) == 1203  # accepted: the task is just unknown
    assert status(make_jwt("AK2", "SK2", now)) == 1203
    assert status(make_jwt("AK", "wrong", now)) == 1002


@pytest.mark.parametrize("status", ["submitted", "processing"])
@pytest.mark.parametrize("with_fields", [True, False], ids=["with-msg-and-result", "without"])
def test_the_client_reads_unfinished_tasks_with_or_without_the_optional_fields(
    status: str, with_fields: bool
) -> None:
    data: dict[str, object] = {"task_id": "CjikY2gHPbcAAAAABI5n9g", "task_status": status}
    data.update(created_at=1722769557708, updated_at=1722769557708)
    if with_fields:
        data.update(task_status_msg="", task_result={"images": []})
    text = json.dumps({"code": 0, "message": "SUCCEED", "request_id": "r", "data": data})
    task = parse_task_reply(200, text)
    assert (task.task_status, task.task_status_msg, task.images) == (status, None, ())
