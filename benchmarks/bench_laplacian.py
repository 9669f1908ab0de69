"""Speed of the second-derivative family and colour edges against their peers, one run.

    python benchmarks/bench_laplacian.py

Input: the camera photo (512x512) as float32 in [0, 1] (colour rows: the coffee photo,
400x600 RGB). Each row is the best of 5 warm repeats after one warm-up call; the ratio
is the peer's time over ours (> 1: we are faster). keras_edges runs the Keras model
(these models have no stencil engine yet), compiled once per configuration.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import scipy.ndimage  # noqa: E402
from skimage import filters  # noqa: E402

from keras_edges import detect_edges, load_image  # noqa: E402

IMG = Path(__file__).resolve().parents[1] / "img"


def best(function, repeats=5):
    """The best wall time of `repeats` calls after one warm-up, in ms."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main():
    camera = load_image(IMG / "camera.png").astype(np.float32) / 255.0
    coffee = load_image(IMG / "coffee.jpg", mode="RGB").astype(np.float32) / 255.0
    rows = [
        (
            "Laplacian, ksize 1",
            lambda: detect_edges(camera, method="laplacian", ksize=1),
            "cv2.Laplacian",
            lambda: cv2.Laplacian(camera, cv2.CV_32F, ksize=1),
        ),
        (
            "Laplacian, ksize 1",
            lambda: detect_edges(camera, method="laplacian", ksize=1),
            "skimage laplace",
            lambda: filters.laplace(camera),
        ),
        (
            "LoG, sigma 2",
            lambda: detect_edges(camera, method="log", sigma=2.0),
            "scipy gaussian_laplace",
            lambda: scipy.ndimage.gaussian_laplace(camera, 2.0),
        ),
        (
            "DoG, 1 / 1.6",
            lambda: detect_edges(camera, method="dog", low_sigma=1.0),
            "skimage difference_of_gaussians",
            lambda: filters.difference_of_gaussians(camera, 1.0),
        ),
        (
            "colour max (Sobel L2)",
            lambda: detect_edges(coffee, colour="max", magnitude="l2"),
            "3x cv2.Sobel pairs + max",
            lambda: np.max(
                [
                    np.hypot(
                        cv2.Sobel(coffee[..., c], cv2.CV_32F, 1, 0),
                        cv2.Sobel(coffee[..., c], cv2.CV_32F, 0, 1),
                    )
                    for c in range(3)
                ],
                axis=0,
            ),
        ),
    ]
    print("| operation | keras_edges ms | peer | peer ms | peer / ours |")
    print("|---|---:|---|---:|---:|")
    for name, ours, peer_name, peer in rows:
        ours_ms, peer_ms = best(ours), best(peer)
        print(
            f"| {name} | {ours_ms:.2f} | {peer_name} | {peer_ms:.2f} | "
            f"{peer_ms / ours_ms:.2f}x |"
        )


if __name__ == "__main__":
    main()
