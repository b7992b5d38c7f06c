"""No picture that passes the API's checks makes a create, a query or a result answer HTTP 500:
whatever the simulated try-on makes of it, the task ends succeeded (perhaps with a note on the
picture) or failed with a message a person can act on."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, PngImagePlugin

from tryon_demo.simulator import SimulatorConfig, SimulatorServer

PATH = "/kling/v1/images/kolors-virtual-try-on"
HEADERS = {"Authorization": "Bearer sk-test"}
MODELS = ["kolors-virtual-try-on-v1", "kolors-virtual-try-on-v1-5"]
LABELS = [None, "top", "bottom", "one-piece", "top,bottom", "dress,hat"]

colours = st.tuples(*[st.integers(0, 255)] * 3)
shapes = st.lists(
    st.tuples(
        st.sampled_from(["ellipse", "rectangle"]),
        st.tuples(*[st.floats(0, 1)] * 4),
        colours,
    ),
    max_size=8,
)


@st.composite
def pictures(draw: st.DrawFn) -> tuple[bytes, str]:
    """A picture the API accepts: JPEG or PNG, at least 300 x 300, drawn at random."""
    size = (draw(st.integers(300, 900)), draw(st.integers(300, 900)))
    fmt = draw(st.sampled_from(["JPEG", "PNG"]))
    modes = ["RGB", "L"] if fmt == "JPEG" else ["RGB", "L", "RGBA", "P", "LA"]
    mode = draw(st.sampled_from(modes))
    image = Image.new("RGB", size, draw(colours))
    pen = ImageDraw.Draw(image)
    if draw(st.booleans()):  # a figure: head, neck, shoulders, arms, legs, of any build
        w, h = size
        x, top = draw(st.floats(0.2, 0.8)) * w, draw(st.floats(0.0, 0.3)) * h
        head = draw(st.floats(0.04, 0.3)) * h
        skin, cloth = draw(colours), draw(colours)
        pen.ellipse((x - 0.37 * head, top, x + 0.37 * head, top + head), fill=skin)
        neck = top + head * draw(st.floats(0.8, 1.6))
        pen.rectangle((x - 0.2 * head, top + 0.8 * head, x + 0.2 * head, neck), fill=skin)
        half = head * draw(st.floats(0.3, 1.3))
        pen.rectangle((x - half, neck, x + half, neck + 3 * head), fill=cloth)
        for side in (-1, 1):
            pen.line([(x + side * half, neck), (x + side * half * 1.2, neck + 2.6 * head)],
                     fill=skin, width=max(1, round(0.3 * head)))  # fmt: skip
            leg = sorted((x, x + side * 0.9 * half))
            pen.rectangle((leg[0], neck + 3 * head, leg[1], neck + 6.5 * head), fill=draw(colours))
    for kind, (a, b, c, d), colour in draw(shapes):
        box = sorted((a * size[0], c * size[0])), sorted((b * size[1], d * size[1]))
        corners = (box[0][0], box[1][0], box[0][1], box[1][1])
        getattr(pen, kind)(corners, fill=colour)
    if draw(st.booleans()):
        image = Image.blend(image, Image.effect_noise(size, 40).convert("RGB"), 0.3)
    image = image.convert(mode)
    buffer = io.BytesIO()
    label = draw(st.sampled_from(LABELS))
    if fmt == "PNG" and label:
        info = PngImagePlugin.PngInfo()
        info.add_text("kolors-garments", label)
        image.save(buffer, format="PNG", pnginfo=info)
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue(), mode


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig(task_seconds=0.0)) as running:
        yield running


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(person=pictures(), garment=pictures(), model=st.sampled_from(MODELS))
def test_no_accepted_picture_makes_the_simulator_answer_500(
    server: SimulatorServer, person: tuple[bytes, str], garment: tuple[bytes, str], model: str
) -> None:
    body = {
        "model_name": model,
        "human_image": base64.b64encode(person[0]).decode(),
        "cloth_image": base64.b64encode(garment[0]).decode(),
    }
    created = requests.post(server.url + PATH, headers=HEADERS, json=body, timeout=60)
    assert created.status_code in (200, 400), created.text  # 400: a garment combination refused
    if created.status_code != 200:
        return
    task_id = created.json()["data"]["task_id"]
    query = requests.get(f"{server.url}{PATH}/{task_id}", headers=HEADERS, timeout=30)
    assert query.status_code == 200, query.text
    task = query.json()["data"]
    assert task["task_status"] in ("succeed", "failed")
    if task["task_status"] == "failed":
        assert task["task_status_msg"]
        return
    result = requests.get(task["task_result"]["images"][0]["url"], timeout=30)
    assert result.status_code == 200
    assert Image.open(io.BytesIO(result.content)).format == "PNG"
