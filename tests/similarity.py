"""How alike two pictures look: SSIM, written with numpy (no image-metrics package needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

#: SSIM's window: a Gaussian of sigma 1.5, cut at 5 pixels each side (Wang et al. 2004).
_OFFSETS = np.arange(-5, 6)
_WINDOW = np.exp(-(_OFFSETS**2) / (2 * 1.5**2))
_WINDOW /= _WINDOW.sum()
#: The constants that keep the ratio stable in flat areas, for 8-bit pixels.
_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


def _blur(pixels: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The window's weighted mean around each pixel (rows, then columns; no padding)."""
    rows = np.apply_along_axis(lambda line: np.convolve(line, _WINDOW, "valid"), 1, pixels)
    return np.apply_along_axis(lambda line: np.convolve(line, _WINDOW, "valid"), 0, rows)


def ssim(first: Image.Image, second: Image.Image) -> float:
    """The mean structural similarity of two same-sized pictures' luma: 1.0 for the same
    picture, lower as structure, contrast or brightness part ways."""
    if first.size != second.size:
        raise ValueError(f"sizes differ: {first.size} and {second.size}")
    a, b = (np.asarray(p.convert("L"), dtype=np.float64) for p in (first, second))
    mu_a, mu_b = _blur(a), _blur(b)
    var_a = _blur(a * a) - mu_a**2
    var_b = _blur(b * b) - mu_b**2
    cov = _blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + _C1) * (2 * cov + _C2)) / (
        (mu_a**2 + mu_b**2 + _C1) * (var_a + var_b + _C2)
    )
    return float(index.mean())
