"""Shared fixtures and the one table of tolerances."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "img"
SAMPLE_PHOTOS = sorted(p for p in IMG.iterdir() if p.suffix in (".png", ".jpg"))

# Tolerances by dtype: float32 random inputs rtol=atol=1e-5; float16 1e-3.
TOLERANCE = {
    "float32": dict(rtol=1e-5, atol=1e-5),
    "float16": dict(rtol=1e-3, atol=1e-3),
}


@pytest.fixture(scope="session")
def camera() -> np.ndarray:
    """The 512x512 grey camera photo from img/."""
    from keras_edges import load_image

    return load_image(IMG / "camera.png")
