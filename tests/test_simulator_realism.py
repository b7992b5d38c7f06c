"""The simulated try-on on photo-like people: independent realism checks, through the HTTP API.

The people are rendered photographs (``scripts/make_test_people.py``) with a part map beside
each (face, neck, shoulders, chest, waist, hips, thighs, knees, shins, feet, upper arms,
forearms, hands, backdrop) and where their belt is. The simulator never sees the part maps: each
check measures the result against them, pixel by pixel.
"""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image, ImageDraw

from tryon_demo.simulator import SimulatorConfig, SimulatorServer

PEOPLE_DIR = Path(__file__).parent / "data" / "people"
PEOPLE = ["standing", "legs-together", "half-length", "white-shirt"]
WITH_LEGS = [p for p in PEOPLE if p != "half-length"]
PATH = "/kling/v1/images/kolors-virtual-try-on"
HEADERS = {"Authorization": "Bearer sk-test"}
V1, V15 = "kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5"
MODELS = [V1, V15]
RED, BLUE, TEAL, YELLOW = (200, 30, 40), (30, 60, 170), (20, 150, 150), (240, 200, 30)
#: A pixel that moved this far on any channel was changed; closer, it is as it was.
CHANGED = 28


# --- the garments: product photos on white ---------------------------------------------------


def _canvas(size: tuple[int, int] = (500, 500)) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", size, (255, 255, 255))
    return image, ImageDraw.Draw(image)


def tee() -> Image.Image:
    """A short-sleeved T-shirt laid flat, sleeves out at an angle."""
    image, d = _canvas()
    d.polygon(
        [(180, 50), (215, 62), (285, 62), (320, 50), (440, 130), (405, 200), (355, 165),
         (355, 460), (145, 460), (145, 165), (95, 200), (60, 130)],
        fill=RED,
    )  # fmt: skip
    d.line([(145, 300), (355, 300)], fill=(185, 26, 36), width=3)  # a fold across it
    return image


def trousers() -> Image.Image:
    image, d = _canvas()
    d.polygon(
        [(170, 30), (330, 30), (365, 470), (265, 470), (250, 170), (235, 470), (135, 470)],
        fill=BLUE,
    )
    d.rectangle((170, 30, 330, 52), fill=(24, 50, 150))  # the waistband
    return image


def a_line_dress() -> Image.Image:
    """Knee-length, sleeveless on thin straps, a fitted bodice flaring into an A-line skirt."""
    image, d = _canvas((500, 480))
    d.polygon(
        [(190, 30), (200, 30), (205, 90), (295, 90), (300, 30), (310, 30), (318, 110),
         (326, 190), (430, 440), (70, 440), (174, 190), (182, 110)],
        fill=TEAL,
    )  # fmt: skip
    return image


def sheath_dress() -> Image.Image:
    """A long sleeveless dress, straight from the shoulders."""
    image, d = _canvas((500, 700))
    d.polygon(
        [(185, 40), (220, 40), (250, 90), (280, 40), (315, 40), (330, 250), (345, 660),
         (155, 660), (170, 250)],
        fill=YELLOW,
    )  # fmt: skip
    return image


GARMENTS = {"tee": tee, "trousers": trousers, "a-line-dress": a_line_dress, "sheath": sheath_dress}
COLOURS = {"tee": RED, "trousers": BLUE, "a-line-dress": TEAL, "sheath": YELLOW}


# --- the people and the measures ------------------------------------------------------------


@cache
def photo(name: str) -> bytes:
    return (PEOPLE_DIR / f"{name}.jpg").read_bytes()


@cache
def original(name: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(photo(name))).convert("RGB"), dtype=np.int16)


@cache
def parts(name: str) -> tuple[np.ndarray, dict[str, int], dict[str, int]]:
    info = json.loads((PEOPLE_DIR / f"{name}.json").read_text())
    labels = np.asarray(Image.open(PEOPLE_DIR / f"{name}-parts.png"))
    return labels, info["parts"], info["landmarks"]


def region(name: str, *part_names: str) -> np.ndarray:
    """The parts named, where the SIMULATED stamp does not cover them."""
    labels, legend, _ = parts(name)
    return np.isin(labels, [legend[p] for p in part_names]) & outside_the_stamp(labels.shape)


def changed(result: np.ndarray, name: str) -> np.ndarray:
    return np.abs(result - original(name)).max(axis=2) > CHANGED


def coloured(result: np.ndarray, name: str, colour: tuple[int, int, int]) -> np.ndarray:
    """Pixels the garment of ``colour`` now covers: changed, and near that colour."""
    near = np.abs(result - np.asarray(colour)).sum(axis=2) < 120
    return near & changed(result, name)


def share(mask: np.ndarray, where: np.ndarray) -> float:
    return float(mask[where].mean()) if where.any() else 0.0


def outside_the_stamp(shape: tuple[int, ...]) -> np.ndarray:
    """Everywhere but the SIMULATED band along the bottom and the tag along the top."""
    height = shape[0]
    keep = np.ones(shape[:2], dtype=bool)
    keep[: 8 + max(22, shape[1] // 28) + 4] = False
    keep[height - max(48, height // 13) - 2 :] = False
    return keep


def encode(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    # Results are rendered when a task is created: with no wait, each try-on is one create,
    # one query and one download, and every test shares them.
    with SimulatorServer(SimulatorConfig(task_seconds=0.0)) as running:
        yield running


_results: dict[tuple[str, str, str], tuple[dict[str, object], np.ndarray | None]] = {}


def try_on(server: SimulatorServer, name: str, garment: str, model: str) -> np.ndarray:
    """The result of ``name`` wearing ``garment`` on ``model``, through the HTTP API."""
    data, result = task(server, name, garment, model)
    assert data["task_status"] == "succeed", data
    assert result is not None
    return result


def task(
    server: SimulatorServer, name: str, garment: str, model: str
) -> tuple[dict[str, object], np.ndarray | None]:
    key = (name, garment, model)
    if key not in _results:
        body = {
            "model_name": model,
            "human_image": base64.b64encode(photo(name)).decode(),
            "cloth_image": encode(GARMENTS[garment]()),
        }
        reply = requests.post(server.url + PATH, headers=HEADERS, json=body, timeout=60)
        assert reply.status_code == 200, reply.text
        task_id = reply.json()["data"]["task_id"]
        deadline = time.monotonic() + 30
        while True:
            data = requests.get(f"{server.url}{PATH}/{task_id}", headers=HEADERS, timeout=30)
            assert data.status_code == 200, data.text
            state = data.json()["data"]
            if state["task_status"] in ("succeed", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        result = None
        if state["task_status"] == "succeed":
            png = requests.get(state["task_result"]["images"][0]["url"], timeout=30)
            image = Image.open(io.BytesIO(png.content)).convert("RGB")
            result = np.asarray(image, dtype=np.int16)
            assert result.shape == original(name).shape
        _results[key] = (state, result)
    return _results[key]


# --- the checks -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("garment", list(GARMENTS))
@pytest.mark.parametrize("name", PEOPLE)
def test_no_person_makes_a_create_fail_with_a_server_error(
    server: SimulatorServer, name: str, garment: str, model: str
) -> None:
    state, _ = task(server, name, garment, model)
    assert state["task_status"] in ("succeed", "failed")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("garment", list(GARMENTS))
@pytest.mark.parametrize("name", PEOPLE)
def test_the_face_stays_as_it_was_and_the_backdrop_too(
    server: SimulatorServer, name: str, garment: str, model: str
) -> None:
    state, result = task(server, name, garment, model)
    if result is None:
        return  # refused in words: checked below
    face = region(name, "face")
    assert np.abs(result - original(name))[face].mean() <= 6
    if state["task_status_msg"]:
        return  # the photo could not take the garment, and a note across it says so
    backdrop = region(name, "backdrop")
    if garment in ("a-line-dress", "sheath"):  # a skirt flares over the backdrop from the hips
        backdrop[parts(name)[2]["belt_y"] + 40 :] = False
    assert share(changed(result, name), backdrop) <= 0.01


@pytest.mark.parametrize("name", PEOPLE)
def test_v1_lays_a_tee_no_wider_than_the_body_at_the_chest(
    server: SimulatorServer, name: str
) -> None:
    result = try_on(server, name, "tee", V1)
    chest = region(name, "chest")
    rows = np.flatnonzero(chest.any(axis=1))
    body = ~region(name, "backdrop", "hair")
    tee_here = coloured(result, name, RED)
    ratios = []
    for y in rows[len(rows) // 3 : 2 * len(rows) // 3]:
        xs_body, xs_tee = np.flatnonzero(body[y]), np.flatnonzero(tee_here[y])
        assert len(xs_tee), f"no tee on row {y}"
        ratios.append((xs_tee[-1] - xs_tee[0]) / (xs_body[-1] - xs_body[0]))
    assert float(np.mean(ratios)) <= 1.15
    assert share(tee_here, chest) >= 0.8  # and it does cover the chest


@pytest.mark.parametrize(("model", "least"), [(V1, 0.6), (V15, 0.8)])
@pytest.mark.parametrize("name", PEOPLE)
def test_a_tee_leaves_the_forearms_and_hands_visible(
    server: SimulatorServer, name: str, model: str, least: float
) -> None:
    result = try_on(server, name, "tee", model)
    arms = region(name, "forearms", "hands")
    assert share(~changed(result, name), arms) >= least


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", PEOPLE)
def test_a_short_sleeved_tee_stays_off_the_forearms(
    server: SimulatorServer, name: str, model: str
) -> None:
    result = try_on(server, name, "tee", model)
    assert share(coloured(result, name, RED), region(name, "forearms")) <= 0.1
    assert share(coloured(result, name, RED), region(name, "upper_arms")) >= 0.15  # sleeves


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", WITH_LEGS)
def test_trousers_start_at_the_belt(server: SimulatorServer, name: str, model: str) -> None:
    result = try_on(server, name, "trousers", model)
    belt = parts(name)[2]["belt_y"]
    hips = region(name, "hips")
    xs = np.flatnonzero(hips.any(axis=0))
    middle = slice(int(xs.mean() - 0.25 * len(xs)), int(xs.mean() + 0.25 * len(xs)))
    blue = coloured(result, name, BLUE)[:, middle].mean(axis=1) > 0.5
    top = int(np.flatnonzero(blue)[0])
    assert abs(top - belt) <= 40, (top, belt)
    assert share(coloured(result, name, BLUE), region(name, "thighs")) >= 0.7


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", WITH_LEGS)
def test_trousers_stay_off_the_torso_and_the_arms(
    server: SimulatorServer, name: str, model: str
) -> None:
    result = try_on(server, name, "trousers", model)
    blue = coloured(result, name, BLUE)
    assert share(blue, region(name, "chest", "waist")) <= 0.1
    assert share(blue, region(name, "forearms", "hands")) <= 0.1


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", WITH_LEGS)
def test_an_a_line_dress_covers_from_the_chest_to_the_knees(
    server: SimulatorServer, name: str, model: str
) -> None:
    result = try_on(server, name, "a-line-dress", model)
    teal = coloured(result, name, TEAL)
    assert share(teal, region(name, "chest")) >= 0.6  # a dress, not a skirt
    assert share(teal, region(name, "thighs")) >= 0.6
    assert share(teal, region(name, "shins")) <= 0.3  # it ends about the knees


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("garment", ["a-line-dress", "sheath"])
@pytest.mark.parametrize("name", PEOPLE)
def test_a_sleeveless_dress_leaves_the_arms_bare(
    server: SimulatorServer, name: str, garment: str, model: str
) -> None:
    result = try_on(server, name, garment, model)
    colour = coloured(result, name, COLOURS[garment])
    assert share(colour, region(name, "chest")) >= 0.6
    assert share(colour, region(name, "upper_arms", "forearms", "hands")) <= 0.1


@pytest.mark.parametrize("garment", ["tee", "trousers", "sheath"])
@pytest.mark.parametrize("name", WITH_LEGS)
def test_v1_and_v1_5_still_dress_visibly_differently(
    server: SimulatorServer, name: str, garment: str
) -> None:
    flat, fitted = try_on(server, name, garment, V1), try_on(server, name, garment, V15)
    dressed = changed(flat, name) | changed(fitted, name)  # where either model put the garment
    assert np.abs(flat - fitted)[dressed].mean() > 5


@pytest.mark.parametrize("model", MODELS)
def test_trousers_on_a_half_length_photo_are_refused_in_plain_words(
    server: SimulatorServer, model: str
) -> None:
    state, result = task(server, "half-length", "trousers", model)
    assert "legs" in str(state["task_status_msg"]).lower()
    if result is not None:  # the picture says so, and nothing was pasted on the person
        person = ~region("half-length", "backdrop")
        assert share(coloured(result, "half-length", BLUE), person) <= 0.02
