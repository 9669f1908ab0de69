"""Canny: keras_edges against scikit-image and OpenCV, agreement and speed, in one run.

Part 1 (agreement), for each sample photo in img/ (grey) and a few synthetic shapes, one
markdown row: the F-measure (1-pixel tolerance) between our edge map and
skimage.feature.canny with the same sigma and thresholds, the F-measure against cv2.Canny
on the same pre-smoothed uint8 image (our model with sigma=0, replicate borders, quantised
suppression), whether the fast engine's map equals the Keras model's, and the median time
of each call.

Part 2 (speed), the targets of issue 12, each side by side with OpenCV's GaussianBlur +
Canny and skimage.feature.canny on the same input: a 512x512 photo, a 1920x1080 photo, a
batch of 64 256x256 crops, a 1920x1080 serpentine (one long weak chain with one strong
seed), the exported model in the TFLite interpreter, and output="gradients"/"orientation"
against the Sobel magnitude engine.

TensorFlow and OpenCV run on one thread (set before TensorFlow starts).
Run: `python benchmarks/bench_canny.py [--repeat 5] [--skip-agreement]`.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import scipy.ndimage  # noqa: E402
import tensorflow as tf  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.feature import canny as skimage_canny  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
cv2.setNumThreads(1)

from keras_edges import build_canny_model, detect_edges, load_image  # noqa: E402
from keras_edges.export import export_model  # noqa: E402

SIGMA, LOW, HIGH = 1.0, 0.05, 0.15  # skimage settings, images in [0, 1]
CV_LOW, CV_HIGH = 50.5, 120.5  # OpenCV settings, raw Sobel magnitude of 0..255 pixels
# Speed runs: uint8 pixels, thresholds in 0..255 units (skimage's defaults, 10 % / 20 %).
SPEED_LOW, SPEED_HIGH = 25.5, 51.0


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


def agreement(repeat):
    """Part 1: the agreement table."""
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
        f"sigma={SIGMA}, thresholds {LOW}/{HIGH} (skimage, [0, 1] images), "
        f"{CV_LOW}/{CV_HIGH} (cv2, L1, uint8)\n"
    )
    print(
        "| image | size | F vs skimage | F vs OpenCV | engine = model | engine (ms) "
        "| model (ms) | skimage (ms) | cv2 (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, image in images():
        unit = image.astype("float64") / 255
        batch = tf.constant(unit[None, :, :, None].astype("float32"))
        edges, model_s = timed(
            lambda batch=batch: run[ours](batch).numpy()[0, :, :, 0], repeat
        )
        unit32 = unit.astype("float32")
        fast, engine_s = timed(
            lambda unit32=unit32: detect_edges(unit32, method="canny", model=ours),
            repeat,
        )
        reference, skimage_s = timed(
            lambda unit=unit: skimage_canny(unit, SIGMA, LOW, HIGH, mode="mirror"),
            repeat,
        )
        smoothed = scipy.ndimage.gaussian_filter(
            image.astype("float64"), SIGMA, mode="nearest"
        )
        smoothed = np.clip(np.rint(smoothed), 0, 255).astype("uint8")
        cv_out = np.empty_like(smoothed)  # OpenCV at its best: one output buffer
        cv_reference, cv_s = timed(
            lambda smoothed=smoothed, out=cv_out: cv2.Canny(
                smoothed, CV_LOW, CV_HIGH, edges=out
            ),
            repeat,
        )
        cv_reference = cv_reference > 0
        cv_edges = detect_edges(smoothed, method="canny", model=opencv_like)
        print(
            f"| {name} | {image.shape[0]}x{image.shape[1]} | "
            f"{f_measure(edges, reference):.4f} | {f_measure(cv_edges, cv_reference):.4f} | "
            f"{np.array_equal(fast, edges)} | {engine_s * 1e3:.2f} | {model_s * 1e3:.1f} | "
            f"{skimage_s * 1e3:.1f} | {cv_s * 1e3:.2f} |"
        )


def serpentine(height, width):
    """A dim snake 3 pixels wide with 3-pixel gaps, bright at one end: its edges are one
    long weak chain on each side, with one strong seed (the worst case for a dilation loop).
    """
    image = np.zeros((height, width), np.uint8)
    for top in range(0, height - 2, 6):
        image[top : top + 3] = 60
        if top + 9 <= height:  # join to the next row at alternating ends
            side = slice(width - 3, width) if top % 12 == 0 else slice(0, 3)
            image[top + 3 : top + 6, side] = 60
    image[:3, :3] = 255  # the one strong seed
    return image


def photo(height, width):
    """A grey sample photo resized to `height` x `width` (Lanczos)."""
    grey = Image.open(ROOT / "img" / "astronaut.jpg").convert("L")
    return np.asarray(grey.resize((width, height), Image.LANCZOS))


_CV_BUFFERS = {}


def opencv_canny(image):
    """OpenCV's blur + Canny with the same sigma (9x9 Gaussian) and thresholds, at its
    best: into `dst=`/`edges=` buffers allocated once per shape (the result is reused)."""
    if image.shape not in _CV_BUFFERS:
        _CV_BUFFERS[image.shape] = (np.empty_like(image), np.empty_like(image))
    smoothed, edges = _CV_BUFFERS[image.shape]
    cv2.GaussianBlur(
        image, (9, 9), SIGMA, dst=smoothed, borderType=cv2.BORDER_REFLECT_101
    )
    return cv2.Canny(smoothed, SPEED_LOW, SPEED_HIGH, edges=edges, L2gradient=True)


def ours(image):
    return detect_edges(
        image, method="canny", sigma=SIGMA, low=SPEED_LOW, high=SPEED_HIGH
    )


def skimage_batch(images):
    return [skimage_canny(image, SIGMA, SPEED_LOW, SPEED_HIGH) for image in images]


def opencv_batch(images):
    return [opencv_canny(image) for image in images]


def tflite_runner(model, shape):
    """A TFLite interpreter for `model`, resized to `shape`, and a function running it."""
    path = export_model(
        model, Path(tempfile.mkdtemp()) / "canny.tflite", format="tflite"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=1)
    (source,), (result,) = (
        interpreter.get_input_details(),
        interpreter.get_output_details(),
    )
    interpreter.resize_tensor_input(source["index"], shape)
    interpreter.allocate_tensors()

    def run(batch):
        interpreter.set_tensor(source["index"], batch)
        interpreter.invoke()
        return interpreter.get_tensor(result["index"])

    return run


def speed(repeat):
    """Part 2: the speed targets, each against OpenCV and scikit-image."""
    rows = []

    def row(name, size, pixels, ours_s, skimage_s, cv_s, target, met):
        rows.append(
            f"| {name} | {size} | {ours_s * 1e3:.2f} | {pixels / ours_s / 1e6:.0f} | "
            f"{skimage_s * 1e3:.1f} | {cv_s * 1e3:.2f} | {skimage_s / ours_s:.1f}x | "
            f"{ours_s / cv_s:.1f}x | {target} | {'yes' if met else 'no'} |"
        )

    small = load_image(ROOT / "img" / "camera.png", mode="L")
    _, ours_s = timed(lambda: ours(small), repeat)
    _, sk_s = timed(lambda: skimage_canny(small, SIGMA, SPEED_LOW, SPEED_HIGH), repeat)
    _, cv_s = timed(lambda: opencv_canny(small), repeat)
    met = sk_s / ours_s >= 8 and ours_s / cv_s <= 3
    row("camera.png", "512x512", small.size, ours_s, sk_s, cv_s,
        ">= 8x skimage, <= 3x OpenCV's time", met)  # fmt: skip

    hd = photo(1080, 1920)
    _, hd_s = timed(lambda: ours(hd), repeat)
    _, sk_s = timed(lambda: skimage_canny(hd, SIGMA, SPEED_LOW, SPEED_HIGH), repeat)
    _, cv_s = timed(lambda: opencv_canny(hd), repeat)
    row("astronaut.jpg resized", "1920x1080", hd.size, hd_s, sk_s, cv_s,
        "<= 10 ms", hd_s <= 0.010)  # fmt: skip

    crops = np.stack(
        [
            np.roll(photo(512, 512), (37 * i, 53 * i), (0, 1))[:256, :256]
            for i in range(64)
        ]
    )
    _, batch_s = timed(lambda: ours(crops[..., None]), repeat)
    _, sk_s = timed(lambda: skimage_batch(crops), max(1, repeat // 2))
    _, cv_s = timed(lambda: opencv_batch(crops), repeat)
    row("astronaut.jpg crops", "64x256x256", crops.size, batch_s, sk_s, cv_s,
        ">= 100 MP/s", crops.size / batch_s >= 100e6)  # fmt: skip

    snake = serpentine(1080, 1920)
    edges, snake_s = timed(lambda: ours(snake), repeat)
    reference, sk_s = timed(
        lambda: skimage_canny(snake, SIGMA, SPEED_LOW, SPEED_HIGH), max(1, repeat // 2)
    )
    _, cv_s = timed(lambda: opencv_canny(snake), repeat)
    row("serpentine, one strong seed", "1920x1080", snake.size, snake_s, sk_s, cv_s,
        "<= 3x the 1080p photo", snake_s <= 3 * hd_s)  # fmt: skip
    print(f"serpentine: {int(edges.sum())} edge pixels found from one seed")

    model = build_canny_model(sigma=SIGMA, low=SPEED_LOW, high=SPEED_HIGH)
    batch = small[None, :, :, None].astype("float32")
    interpreter = tflite_runner(model, batch.shape)
    exported, tflite_s = timed(lambda: interpreter(batch), repeat)
    _, sk_s = timed(lambda: skimage_canny(small, SIGMA, SPEED_LOW, SPEED_HIGH), repeat)
    _, cv_s = timed(lambda: opencv_canny(small), repeat)
    row("camera.png, exported model (TFLite)", "512x512", small.size, tflite_s, sk_s,
        cv_s, "<= 50 ms", tflite_s <= 0.050)  # fmt: skip
    same = np.array_equal(np.asarray(exported)[0, :, :, 0].astype(bool), ours(small))
    print(f"TFLite edge map equals detect_edges': {same}")

    print(
        "\n| input | size | keras_edges (ms) | MP/s | skimage (ms) | OpenCV blur + Canny"
        " (ms) | vs skimage | time vs OpenCV | target | met? |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    print("\n".join(rows))

    print("\n| output, 1920x1080 uint8 | ms | MP/s | vs magnitude | target | met? |")
    print("|---|---:|---:|---:|---|---|")
    _, magnitude_s = timed(lambda: detect_edges(hd), repeat)
    print(f"| magnitude (Sobel engine) | {magnitude_s * 1e3:.2f} | "
          f"{hd.size / magnitude_s / 1e6:.0f} | 1.00 | | |")  # fmt: skip
    for output in ("gradients", "orientation"):
        _, output_s = timed(
            lambda output=output: detect_edges(hd, output=output), repeat
        )
        ratio = magnitude_s / output_s
        print(f"| {output} | {output_s * 1e3:.2f} | {hd.size / output_s / 1e6:.0f} | "
              f"{ratio:.2f} | >= 0.50 | {'yes' if ratio >= 0.5 else 'no'} |")  # fmt: skip
        # (engine="model" for comparison)
        _, model_s = timed(
            lambda output=output: detect_edges(hd, output=output, engine="model"),
            max(1, repeat // 2),
        )
        print(f"| {output}, engine='model' | {model_s * 1e3:.2f} | "
              f"{hd.size / model_s / 1e6:.0f} | {magnitude_s / model_s:.2f} | | |")  # fmt: skip


def machine():
    with open("/proc/cpuinfo") as file:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in file if "model name" in line),
            platform.processor(),
        )
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, keras {keras.__version__}, OpenCV {cv2.__version__}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-agreement", action="store_true")
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}; TensorFlow and OpenCV on 1 thread\n")
    if not args.skip_agreement:
        agreement(args.repeat)
        print()
    speed(args.repeat)


if __name__ == "__main__":
    main()
