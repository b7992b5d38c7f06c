"""The simulator speaks the contract: the seed's own examples are the test vectors."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
import requests
from PIL import Image, PngImagePlugin

from tests import pictures
from tests.conftest import StartSimulator, b64
from tryon_demo.simulator import SimulatorConfig, SimulatorServer

PATH = "/kling/v1/images/kolors-virtual-try-on"
SEED_HUMAN = "https://gw.alicdn.com/imgextra/i1/1860536677/O1CN012wEzZ11zC7RDNm0Jr_!!1860536677.jpg"
SEED_CLOTH = "https://gw.alicdn.com/imgextra/i4/3370044138/O1CN01p0Zl411gRFvj0NnwQ_!!3370044138.jpg"
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer sk-xxxx"}


def post(
    server: SimulatorServer, body: Any, headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(server.url + PATH, headers=headers or HEADERS, json=body, timeout=10)


def assert_error(response: requests.Response, status: int, code: int, text: str) -> None:
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert text in body["message"]
    assert body["request_id"]


def test_the_seed_python_example_gets_the_documented_envelope(simulator: SimulatorServer) -> None:
    # The seed's requests example, host swapped for the simulator.
    resp = requests.post(
        simulator.url + "/kling/v1/images/kolors-virtual-try-on",
        headers={"Content-Type": "application/json", "Authorization": "Bearer sk-xxxx"},
        json={
            "model_name": "kolors-virtual-try-on-v1-5",
            "human_image": SEED_HUMAN,
            "cloth_image": SEED_CLOTH,
        },
        timeout=10,
    )
    body = resp.json()
    assert resp.status_code == 200
    assert set(body) == {"code", "message", "request_id", "data"}
    assert (body["code"], body["message"]) == (0, "SUCCEED")
    assert set(body["data"]) == {"task_id", "task_status", "created_at", "updated_at"}
    assert body["data"]["task_status"] == "submitted"
    assert body["data"]["created_at"] == body["data"]["updated_at"]
    assert len(str(body["data"]["created_at"])) == 13  # milliseconds


def test_the_seed_example_with_base64_images_gets_the_same_envelope(
    simulator: SimulatorServer, person_b64: str, garment_b64: str
) -> None:
    resp = post(simulator, {"human_image": person_b64, "cloth_image": garment_b64})
    assert resp.json()["data"]["task_status"] == "submitted"


def test_url_inputs_end_in_a_definite_explained_state(simulator: SimulatorServer) -> None:
    task_id = post(simulator, {"human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH}).json()[
        "data"
    ]["task_id"]
    time.sleep(0.7)
    data = requests.get(f"{simulator.url}{PATH}/{task_id}", headers=HEADERS, timeout=10).json()[
        "data"
    ]
    assert data["task_status"] == "succeed"
    assert "not fetched" in data["task_status_msg"]
    image = requests.get(data["task_result"]["images"][0]["url"], timeout=10)
    assert Image.open(io.BytesIO(image.content)).size == (768, 1024)


def test_the_result_is_the_garment_over_the_person_stamped_simulated(
    simulator: SimulatorServer, person_b64: str, garment_b64: str
) -> None:
    task_id = post(simulator, {"human_image": person_b64, "cloth_image": garment_b64}).json()[
        "data"
    ]["task_id"]
    time.sleep(0.7)
    data = requests.get(f"{simulator.url}{PATH}/{task_id}", headers=HEADERS, timeout=10).json()[
        "data"
    ]
    png = requests.get(data["task_result"]["images"][0]["url"], timeout=10).content
    result = Image.open(io.BytesIO(png)).convert("RGB")
    assert result.size == (600, 900)
    r, g, b = result.getpixel((300, 400))  # upper body: the red garment now
    assert r > 150 and g < 80 and b < 80
    backdrop = result.getpixel((20, 450))  # untouched (up to JPEG noise)
    assert all(abs(a - b) <= 3 for a, b in zip(backdrop, (225, 228, 232), strict=True))
    band = result.getpixel((5, 880))
    assert band[0] < 80 and band[2] < 80  # the dark SIMULATED band


def test_the_composite_is_deterministic(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    results = []
    for _ in range(2):
        server = start_simulator(task_seconds=0.1)
        task_id = post(server, {"human_image": person_b64, "cloth_image": garment_b64}).json()[
            "data"
        ]["task_id"]
        time.sleep(0.2)
        results.append(
            requests.get(f"{server.url}/simulator/results/{task_id}.png", timeout=10).content
        )
    assert results[0] == results[1]


def test_a_request_without_a_bearer_token_is_401_1001(simulator: SimulatorServer) -> None:
    assert_error(
        post(simulator, {}, headers={"Content-Type": "application/json"}),
        401,
        1001,
        "Authorization",
    )


@pytest.mark.parametrize("missing", ["human_image", "cloth_image"])
def test_a_missing_image_is_400_1201(simulator: SimulatorServer, missing: str) -> None:
    body = {"human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH}
    del body[missing]
    assert_error(post(simulator, body), 400, 1201, f"{missing} is required")


def test_an_unknown_model_is_400_1201(simulator: SimulatorServer) -> None:
    body = {"model_name": "kolors-v9", "human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH}
    assert_error(post(simulator, body), 400, 1201, "model_name is invalid")


def test_a_data_prefix_is_400_1201(simulator: SimulatorServer, person_b64: str) -> None:
    body = {"human_image": "data:image/jpeg;base64," + person_b64, "cloth_image": SEED_CLOTH}
    assert_error(post(simulator, body), 400, 1201, "without the 'data:' prefix")


@pytest.mark.parametrize(
    ("image", "text"),
    [
        (pictures.small_image(), "below the minimum 300x300"),
        (pictures.webp(), "format WEBP is not supported"),
        (pictures.text_file(), "not a valid image"),
        (pictures.truncated_jpeg(), "damaged or truncated"),
        (pictures.noisy_jpeg_over_10mb(), "larger than 10MB"),
    ],
    ids=["too-small", "webp", "not-an-image", "truncated", "over-10mb"],
)
def test_an_image_that_breaks_the_rules_is_400_1201(
    simulator: SimulatorServer, image: bytes, text: str
) -> None:
    assert_error(
        post(simulator, {"human_image": b64(image), "cloth_image": SEED_CLOTH}), 400, 1201, text
    )


def test_text_that_is_neither_url_nor_base64_is_400_1201(simulator: SimulatorServer) -> None:
    body = {"human_image": "not base64 at all!", "cloth_image": SEED_CLOTH}
    assert_error(post(simulator, body), 400, 1201, "neither an http(s) URL nor valid base64")


def test_a_body_that_is_not_json_is_400_1200(simulator: SimulatorServer) -> None:
    resp = requests.post(simulator.url + PATH, headers=HEADERS, data="{oops", timeout=10)
    assert_error(resp, 400, 1200, "not valid JSON")


def _labelled_garment(labels: str) -> str:
    info = PngImagePlugin.PngInfo()
    info.add_text("kolors-garments", labels)
    return b64(pictures.encode(pictures.garment(), "PNG", pnginfo=info))


def test_v1_refuses_a_top_and_bottom_combination(
    simulator: SimulatorServer, person_b64: str
) -> None:
    body = {"human_image": person_b64, "cloth_image": _labelled_garment("top,bottom")}
    assert_error(post(simulator, body), 400, 1201, "takes a single garment")


@pytest.mark.parametrize(
    "labels",
    ["top,top", "bottom,bottom", "one-piece,one-piece", "top,one-piece", "bottom,one-piece"],
)
def test_v1_5_refuses_the_combinations_the_contract_lists(
    simulator: SimulatorServer, person_b64: str, labels: str
) -> None:
    body = {
        "model_name": "kolors-virtual-try-on-v1-5",
        "human_image": person_b64,
        "cloth_image": _labelled_garment(labels),
    }
    assert_error(post(simulator, body), 400, 1201, "is not supported")


def test_v1_5_accepts_a_top_and_bottom_in_one_image(
    simulator: SimulatorServer, person_b64: str
) -> None:
    body = {
        "model_name": "kolors-virtual-try-on-v1-5",
        "human_image": person_b64,
        "cloth_image": _labelled_garment("top,bottom"),
    }
    assert post(simulator, body).json()["code"] == 0


def test_a_callback_to_another_host_is_refused_offline(simulator: SimulatorServer) -> None:
    body = {
        "human_image": SEED_HUMAN,
        "cloth_image": SEED_CLOTH,
        "callback_url": "https://example.com/hook",
    }
    assert_error(post(simulator, body), 400, 1201, "only calls back to this machine")


def test_an_unknown_task_is_404_1203(simulator: SimulatorServer) -> None:
    resp = requests.get(f"{simulator.url}{PATH}/missing", headers=HEADERS, timeout=10)
    assert_error(resp, 404, 1203, "does not exist")


def test_a_wrong_method_is_404_1202(simulator: SimulatorServer) -> None:
    resp = requests.put(simulator.url + PATH, headers=HEADERS, timeout=10)
    assert_error(resp, 404, 1202, "not allowed")


@pytest.mark.parametrize("query", ["pageNum=0", "pageNum=1001", "pageSize=501", "pageSize=x"])
def test_list_paging_out_of_range_is_400_1201(simulator: SimulatorServer, query: str) -> None:
    resp = requests.get(f"{simulator.url}{PATH}?{query}", headers=HEADERS, timeout=10)
    assert_error(resp, 400, 1201, "must be")


def test_over_the_concurrency_limit_a_create_is_429_1303(start_simulator: StartSimulator) -> None:
    server = start_simulator(max_concurrent_tasks=1, task_seconds=2)
    assert post(server, {"human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH}).json()["code"] == 0
    resp = post(server, {"human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH})
    assert_error(resp, 429, 1303, "parallel task over resource pack limit")


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def callback_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_callbacks_post_the_bare_task_object_on_each_status_change(
    simulator: SimulatorServer,
    callback_receiver: tuple[str, list[dict[str, Any]]],
    person_b64: str,
    garment_b64: str,
) -> None:
    url, received = callback_receiver
    body = {
        "human_image": person_b64,
        "cloth_image": garment_b64,
        "callback_url": url,
        "external_task_id": "mine-1",
    }
    task_id = post(simulator, body).json()["data"]["task_id"]
    deadline = time.monotonic() + 30  # a bound for a hang, not a timing: it ends on the condition
    while len(received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [c["task_status"] for c in received] == ["submitted", "processing", "succeed"]
    assert all(c["task_id"] == task_id and "code" not in c for c in received)
    assert received[-1]["task_result"]["images"][0]["url"].endswith(f"{task_id}.png")
    assert received[-1]["task_info"] == {"external_task_id": "mine-1"}


def test_a_failed_task_explains_itself(
    start_simulator: StartSimulator, person_b64: str, garment_b64: str
) -> None:
    from tryon_demo.simulator import Faults

    server = start_simulator(
        task_seconds=0.1, faults=Faults(fail_share=1.0, fail_message="Pose not supported")
    )
    task_id = post(server, {"human_image": person_b64, "cloth_image": garment_b64}).json()["data"][
        "task_id"
    ]
    time.sleep(0.2)
    data = requests.get(f"{server.url}{PATH}/{task_id}", headers=HEADERS, timeout=10).json()["data"]
    assert (data["task_status"], data["task_status_msg"]) == ("failed", "Pose not supported")
    assert data["task_result"] == {"images": []}


def test_base64_images_reach_the_simulator_byte_for_byte(simulator: SimulatorServer) -> None:
    person, garment = pictures.person_jpeg(), pictures.garment_png()
    reply = post(simulator, {"human_image": b64(person), "cloth_image": b64(garment)})
    task = simulator.simulator.tasks[reply.json()["data"]["task_id"]]
    # The simulator keeps digests, not pictures (bounded memory): the digests of these bytes.
    assert (task.human, task.cloth) == (
        hashlib.sha256(person).digest(),
        hashlib.sha256(garment).digest(),
    )


def test_the_simulator_keeps_the_last_1000_tasks_and_forgets_older_ones(
    start_simulator: StartSimulator,
) -> None:
    assert SimulatorConfig().max_tasks_kept == 1000
    server = start_simulator(max_tasks_kept=3, task_seconds=0.1)
    ids = [
        post(server, {"human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH}).json()["data"][
            "task_id"
        ]
        for _ in range(4)
    ]
    gone = requests.get(f"{server.url}{PATH}/{ids[0]}", headers=HEADERS, timeout=10)
    assert_error(gone, 404, 1203, "")
    for task_id in ids[1:]:
        kept = requests.get(f"{server.url}{PATH}/{task_id}", headers=HEADERS, timeout=10)
        assert kept.json()["data"]["task_id"] == task_id


def test_a_held_simulator_keeps_tasks_running_until_released(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(task_seconds=0.05)
    server.simulator.hold()
    task_id = post(server, {"human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH}).json()["data"][
        "task_id"
    ]
    time.sleep(0.3)  # six times the task's length: it would have ended by now

    def status() -> str:
        reply = requests.get(f"{server.url}{PATH}/{task_id}", headers=HEADERS, timeout=10)
        return str(reply.json()["data"]["task_status"])

    assert status() == "submitted"
    server.simulator.release()
    assert status() == "succeed"


def test_a_simulator_held_at_processing_keeps_the_task_processing_until_released(
    start_simulator: StartSimulator,
) -> None:
    server = start_simulator(task_seconds=0.05)
    server.simulator.hold()
    task_id = post(server, {"human_image": SEED_HUMAN, "cloth_image": SEED_CLOTH}).json()["data"][
        "task_id"
    ]

    def status() -> str:
        reply = requests.get(f"{server.url}{PATH}/{task_id}", headers=HEADERS, timeout=10)
        return str(reply.json()["data"]["task_status"])

    assert status() == "submitted"
    server.simulator.hold_at(task_id, "processing")
    time.sleep(0.3)  # six times the task's length
    assert status() == "processing"
    server.simulator.release()
    assert status() == "succeed"
