"""Real-world images made with Pillow: the catalogue the image rules are tested against."""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image, ImageDraw

PERSON_COLOUR = (70, 110, 160)
#: Noise comes from this seed, so every run gets the same bytes and a failure can be replayed.
NOISE_SEED = 20261126
GARMENT_COLOUR = (200, 30, 40)


def noise(length: int, seed: int = NOISE_SEED) -> bytes:
    """``length`` random-looking bytes, the same on every run."""
    return random.Random(seed).randbytes(length)


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def person(size: tuple[int, int] = (600, 900)) -> Image.Image:
    """A plain figure on a grey backdrop: enough for the simulator's composite."""
    image = Image.new("RGB", size, (225, 228, 232))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.ellipse((w * 0.4, h * 0.05, w * 0.6, h * 0.2), fill=(230, 190, 160))
    draw.rectangle((w * 0.3, h * 0.22, w * 0.7, h * 0.95), fill=PERSON_COLOUR)
    return image


def garment(size: tuple[int, int] = (500, 500)) -> Image.Image:
    """A red T-shirt shape on a white product-photo background."""
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    w, h = size
    draw.polygon(
        [
            (w * 0.3, h * 0.1),
            (w * 0.7, h * 0.1),
            (w * 0.9, h * 0.3),
            (w * 0.75, h * 0.4),
            (w * 0.75, h * 0.9),
            (w * 0.25, h * 0.9),
            (w * 0.25, h * 0.4),
            (w * 0.1, h * 0.3),
        ],
        fill=GARMENT_COLOUR,
    )
    return image


def person_jpeg(size: tuple[int, int] = (600, 900)) -> bytes:
    return encode(person(size), "JPEG", quality=90)


def garment_png(size: tuple[int, int] = (500, 500)) -> bytes:
    return encode(garment(size), "PNG")


def exif_rotated_jpeg() -> bytes:
    """A portrait photo stored landscape with EXIF orientation 6, as phones write them.

    Upright it is 400 wide and 600 tall, red on top and blue below.
    """
    upright = Image.new("RGB", (400, 600), (0, 0, 255))
    ImageDraw.Draw(upright).rectangle((0, 0, 400, 300), fill=(255, 0, 0))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor saved
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def cmyk_jpeg() -> bytes:
    return encode(person().convert("CMYK"), "JPEG", quality=90)


def rgba_png() -> bytes:
    """A garment cut-out: transparent around an opaque shirt."""
    image = Image.new("RGBA", (500, 500), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((100, 100, 400, 450), fill=(*GARMENT_COLOUR, 255))
    return encode(image, "PNG")


def palette_png() -> bytes:
    image = garment().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(image, "PNG", transparency=0)


def png_16bit() -> bytes:
    """A 16-bit greyscale gradient, mid-grey at its centre."""
    image = Image.new("I;16", (400, 400))
    image.putdata([(x * 65535) // 399 for _ in range(400) for x in range(400)])
    return encode(image, "PNG")


def webp() -> bytes:
    return encode(person(), "WEBP", quality=90)


def gif() -> bytes:
    return encode(garment().convert("P"), "GIF")


def bmp() -> bytes:
    return encode(person(), "BMP")


def tiff() -> bytes:
    return encode(person(), "TIFF")


def greyscale_jpeg() -> bytes:
    return encode(person().convert("L"), "JPEG", quality=90)


def noisy_jpeg_over_10mb() -> bytes:
    """A 12 MP photo full of fine detail, saved at top quality: over the API's 10 MB."""
    size = (4000, 3000)
    image = Image.frombytes("RGB", size, noise(size[0] * size[1] * 3))
    return encode(image, "JPEG", quality=100)


def phone_photo_24mp() -> bytes:
    return encode(person((6000, 4000)), "JPEG", quality=92)


def small_image() -> bytes:
    return encode(person((200, 200)), "JPEG")


def truncated_jpeg() -> bytes:
    data = encode(Image.frombytes("RGB", (600, 600), noise(600 * 600 * 3)), "JPEG")
    return data[: len(data) // 2]


def text_file() -> bytes:
    return b"This is a shopping list, not a photo.\nmilk\neggs\n"


def decompression_bomb() -> bytes:
    """A tiny PNG that claims 20000 x 20000 pixels (400 MP)."""
    return encode(Image.new("1", (20000, 20000)), "PNG")


def jpeg_with_orientation(stored: Image.Image, orientation: int) -> bytes:
    """``stored`` as a JPEG whose EXIF says to show it turned by ``orientation`` (1 to 8)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(stored, "JPEG", quality=90, exif=exif.tobytes())


def camera_photo(
    size: tuple[int, int] = (3000, 4000), *, seed: int = 1, orientation: int = 1
) -> bytes:
    """A 12 MP phone-camera photo as the camera writes it: a figure on a shaded backdrop with
    blotches, fine texture and sensor noise (about 2.6 MB as a quality-92 JPEG, like a phone's).

    ``size`` is the picture upright. With ``orientation`` 6 it is stored on its side, as
    phones held upright store it, with the EXIF tag that turns it back.
    """
    import numpy as np

    width, height = size
    rng = np.random.default_rng(seed)
    blotches = rng.integers(0, 256, (height // 150 + 2, width // 150 + 2, 3), dtype=np.uint8)
    texture = rng.integers(78, 179, (height // 6 + 1, width // 6 + 1, 3), dtype=np.uint8)
    shade = np.asarray(Image.linear_gradient("L").resize(size), dtype=np.int16)[..., None]
    pixels = (
        np.asarray(person(size), dtype=np.int16) * 7 // 10
        + (_fitted(blotches, size, Image.Resampling.BICUBIC) - 128) * 4 // 10
        + (_fitted(texture, size, Image.Resampling.BILINEAR) - 128) * 6 // 10
        + shade // 5
        + rng.integers(-6, 7, (height, width, 3), dtype=np.int16)  # sensor noise
        + 60
    )
    photo = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    if orientation == 6:
        photo = photo.transpose(Image.Transpose.ROTATE_90)  # what the sensor saved
    exif = Image.Exif()
    exif[0x010F] = "Pillow phone"  # Make
    exif[0x0112] = orientation
    return encode(photo, "JPEG", quality=92, exif=exif.tobytes())


def _fitted(pixels: Any, size: tuple[int, int], resample: Image.Resampling) -> Any:
    """Small random pixels stretched to ``size``, as signed numbers to add up."""
    import numpy as np

    return np.asarray(Image.fromarray(pixels).resize(size, resample), dtype=np.int16)
