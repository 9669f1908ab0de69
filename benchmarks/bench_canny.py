"""Canny agreement: keras_edges' Canny model against scikit-image and OpenCV, with timings.

For each sample photo in img/ (grey) and a few synthetic shapes, print one markdown row:
the F-measure (1-pixel tolerance) between our edge map and skimage.feature.canny with the
same sigma and thresholds, the F-measure against cv2.Canny on the same pre-smoothed uint8
image (our model with sigma=0, replicate borders, quantised suppression), and the median
time of each call. Run: `python benchmarks/bench_canny.py [--repeat 5]`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import scipy.ndimage  # noqa: E402
import tensorflow as tf  # noqa: E402
from skimage.feature import canny as skimage_canny  # noqa: E402

from keras_edges import build_canny_model, load_image  # noqa: E402

SIGMA, LOW, HIGH = 1.0, 0.05, 0.15  # skimage settings, images in [0, 1]
CV_LOW, CV_HIGH = 50.5, 120.5  # OpenCV settings, raw Sobel magnitude of 0..255 pixels


def f_measure(edges, reference):
    """F-measure where a pixel matches anything within 1 pixel (8-neighbourhood)."""
    near = np.ones((3, 3), bool)
    precision = (edges & scipy.ndimage.binary_dilation(reference, near)).sum() / max(
        edges.sum(), 1
    )
    recall = (reference & scipy.ndimage.binary_dilation(edges, near)).sum() / max(
        reference.sum(), 1
    )
    return 2 * precision * recall / max(precision + recall, 1e-12)


def timed(function, repeat):
    """(result, median seconds) of `repeat` calls after one warm-up call."""
    result = function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return result, float(np.median(times))


def images():
    """The sample photos as uint8 grey, then synthetic shapes."""
    for path in sorted(
        p for p in (ROOT / "img").iterdir() if p.suffix in (".png", ".jpg")
    ):
        yield path.name, load_image(path, mode="L")
    rows, columns = np.mgrid[:256, :256] + 0.5
    disk = np.clip(80 - np.hypot(rows - 128, columns - 128) + 0.5, 0, 1)
    yield "synthetic disk", np.rint(disk * 200 + 20).astype("uint8")
    noisy = ((rows - 128) / 90) ** 2 + ((columns - 128) / 60) ** 2 < 1
    noisy = 0.3 + 0.4 * noisy + np.random.default_rng(0).normal(0, 0.03, noisy.shape)
    yield (
        "synthetic noisy ellipse",
        np.clip(np.rint(noisy * 255), 0, 255).astype("uint8"),
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    ours = build_canny_model(sigma=SIGMA, low=LOW, high=HIGH)
    opencv_like = build_canny_model(
        sigma=0.0,
        low=CV_LOW,
        high=CV_HIGH,
        magnitude="l1",
        padding="replicate",
        interpolate=False,
    )
    run = {
        model: tf.function(
            model, input_signature=[tf.TensorSpec((None, None, None, 1), tf.float32)]
        )
        for model in (ours, opencv_like)
    }
    print(
        f"sigma={SIGMA}, thresholds {LOW}/{HIGH} (skimage, [0, 1] images), {CV_LOW}/{CV_HIGH} (cv2, L1, uint8)\n"
    )
    print(
        "| image | size | F vs skimage | F vs OpenCV | ours (ms) | skimage (ms) | cv2 (ms) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, image in images():
        unit = image.astype("float64") / 255
        batch = tf.constant(unit[None, :, :, None].astype("float32"))
        edges, ours_s = timed(
            lambda batch=batch: run[ours](batch).numpy()[0, :, :, 0], args.repeat
        )
        reference, skimage_s = timed(
            lambda unit=unit: skimage_canny(unit, SIGMA, LOW, HIGH, mode="mirror"),
            args.repeat,
        )
        smoothed = np.clip(
            np.rint(
                scipy.ndimage.gaussian_filter(
                    image.astype("float64"), SIGMA, mode="nearest"
                )
            ),
            0,
            255,
        )
        smoothed = smoothed.astype("uint8")
        cv_reference, cv_s = timed(
            lambda smoothed=smoothed: cv2.Canny(smoothed, CV_LOW, CV_HIGH) > 0,
            args.repeat,
        )
        cv_edges = run[opencv_like](
            tf.constant(smoothed[None, :, :, None].astype("float32"))
        ).numpy()[0, :, :, 0]
        print(
            f"| {name} | {image.shape[0]}x{image.shape[1]} | {f_measure(edges, reference):.4f} | "
            f"{f_measure(cv_edges, cv_reference):.4f} | {ours_s * 1e3:.1f} | {skimage_s * 1e3:.1f} | {cv_s * 1e3:.2f} |"
        )


if __name__ == "__main__":
    main()
