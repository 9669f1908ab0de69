"""Side-by-side speed of `detect_edges` and other Sobel edge detectors, in one run.

    python benchmarks/bench_detect.py            # the full table (a few minutes)
    python benchmarks/bench_detect.py --quick    # a smaller table in under a minute

Every method gets the same images (a natural photo tiled to size, as numpy arrays) and
returns a numpy array of L1 Sobel edges `|gx| + |gy|` (scikit-image's `filters.sobel`
returns its own L2 scaling). TensorFlow runs on ONE thread (intra- and inter-op
parallelism 1, set before TensorFlow starts), as does OpenCV's "1 thread" row; the
"default threads" rows run in a second process with TensorFlow's default threading.

Columns: MP/s after warm-up (best of the repeats), the speed relative to OpenCV on one
thread (>1 is faster), the first call's time (tracing, XLA compilation, model building),
and the peak resident memory added while the method ran (Linux `VmHWM`, reset before).
The comparison libraries (OpenCV, scikit-image, scipy) are benchmark extras, never
runtime dependencies of keras_edges.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SIZES = {
    "256x256": (256, 256),
    "1920x1080": (1080, 1920),
    "4096x4096": (4096, 4096),
    "64x256x256": (64, 256, 256),
}
QUICK_SIZES = ("256x256", "1920x1080", "64x256x256")


def _parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer sizes and repeats (< 1 minute)"
    )
    parser.add_argument(
        "--tf-threads",
        type=int,
        default=1,
        help="TensorFlow threads; 0 = default (all cores)",
    )
    parser.add_argument(
        "--methods", default="all", help="comma-separated method names (default: all)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print results as JSON lines (for the merged run)",
    )
    return parser.parse_args(argv)


ARGS = _parse()

import numpy as np
import tensorflow as tf

if ARGS.tf_threads:
    tf.config.threading.set_intra_op_parallelism_threads(ARGS.tf_threads)
    tf.config.threading.set_inter_op_parallelism_threads(ARGS.tf_threads)

import cv2
import keras
import scipy.ndimage
import skimage.filters

from keras_edges import build_edge_model, detect_edges, load_image

DEFAULT_CV_THREADS = cv2.getNumThreads()


def _peak_reset() -> bool:
    """Reset the process's peak RSS (VmHWM) to its current RSS; False where impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as file:
            file.write("5")
        return True
    except OSError:
        return False


def _status(field: str) -> int:
    with open("/proc/self/status") as file:
        for line in file:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def _image(shape, dtype):
    """The camera photo tiled (and mirrored) to `shape`, as uint8 or float32 in [0, 1]."""
    photo = load_image(ROOT / "img" / "camera.png")
    photo = np.concatenate([photo, photo[:, ::-1]], axis=1)
    photo = np.concatenate([photo, photo[::-1]], axis=0)
    height, width = shape[-2:]
    reps = (-(-height // photo.shape[0]), -(-width // photo.shape[1]))
    image = np.tile(photo, reps)[:height, :width]
    if len(shape) == 3:  # a batch: shifted crops, so the images differ
        image = np.stack([np.roll(image, 7 * i, axis=1) for i in range(shape[0])])[
            ..., None
        ]
    image = np.ascontiguousarray(image)
    return image if dtype == "uint8" else (image / np.float32(255)).astype(np.float32)


def _per_image(function):
    """Apply a one-image function to an image or to each image of a batch."""

    def run(image):
        if image.ndim == 4:
            return np.stack([function(each[:, :, 0]) for each in image])
        return function(image)

    return run


def _opencv(image):
    if image.dtype == np.uint8:
        grad_x = cv2.Sobel(image, cv2.CV_16S, 1, 0)
        grad_y = cv2.Sobel(image, cv2.CV_16S, 0, 1)
        return cv2.add(cv2.convertScaleAbs(grad_x), cv2.convertScaleAbs(grad_y))
    grad_x = cv2.Sobel(image, cv2.CV_32F, 1, 0)
    grad_y = cv2.Sobel(image, cv2.CV_32F, 0, 1)
    return cv2.add(cv2.absdiff(grad_x, 0.0), cv2.absdiff(grad_y, 0.0))


def _opencv_threads(threads):
    def run(image):
        cv2.setNumThreads(threads)
        try:
            return _per_image(_opencv)(image)
        finally:
            cv2.setNumThreads(DEFAULT_CV_THREADS)

    return run


def _scipy(image):
    image = image.astype(np.float32)
    grad_x = scipy.ndimage.sobel(image, axis=1, mode="mirror")
    grad_y = scipy.ndimage.sobel(image, axis=0, mode="mirror")
    return np.abs(grad_x) + np.abs(grad_y)


def _as_batch(image):
    return image[None, :, :, None] if image.ndim == 2 else image


@tf.function(input_signature=[tf.TensorSpec((None, None, None, 1), tf.float32)])
def _tf_sobel(batch):
    return tf.reduce_sum(tf.abs(tf.image.sobel_edges(batch)), axis=-1)


@tf.function(input_signature=[tf.TensorSpec((None, None, None, 1), tf.float32)])
def _keras_sobel(batch):
    return tf.reduce_sum(tf.abs(keras.ops.image.sobel_edges(batch)), axis=-1)


def _graph(function):
    def run(image):
        return function(tf.constant(_as_batch(image), tf.float32)).numpy()

    return run


_MODEL = None


def _predict(image):
    global _MODEL
    _MODEL = _MODEL or build_edge_model("sobel")
    return _MODEL.predict(_as_batch(image).astype(np.float32), verbose=0, batch_size=64)


METHODS = {
    "detect_edges": detect_edges,
    "detect_edges engine=model": lambda image: detect_edges(image, engine="model"),
    "OpenCV (1 thread)": _opencv_threads(1),
    "OpenCV (default threads)": _opencv_threads(DEFAULT_CV_THREADS),
    "scikit-image filters.sobel": _per_image(skimage.filters.sobel),
    "scipy ndimage.sobel x2": _per_image(_scipy),
    "tf.image.sobel_edges": _graph(_tf_sobel),
    "keras.ops.image.sobel_edges": _graph(_keras_sobel),
    "model.predict (naive)": _predict,
}


def _measure(function, image, budget):
    """`(first call s, best warm call s, peak extra RSS bytes)`."""
    resettable = _peak_reset()
    before = _status("VmRSS")
    start = time.perf_counter()
    function(image)
    first = time.perf_counter() - start
    times, spent = [], 0.0
    while len(times) < 3 or (spent < budget and len(times) < 200):
        start = time.perf_counter()
        function(image)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    peak = _status("VmHWM") - before if resettable else float("nan")
    return first, min(times), peak


def _run(sizes, methods, budget):
    rows = []
    for size in sizes:
        shape = SIZES[size]
        for dtype in ("uint8", "float32"):
            image = _image(shape, dtype)
            pixels = int(np.prod(shape))
            for name in methods:
                if name == "model.predict (naive)" and size == "4096x4096":
                    continue  # ~1 GB of float32 activations and no information
                first, warm, peak = _measure(METHODS[name], image, budget)
                rows.append(
                    dict(
                        size=size,
                        dtype=dtype,
                        method=name,
                        first=first,
                        warm=warm,
                        mps=pixels / warm / 1e6,
                        peak=peak,
                    )
                )
                print(
                    f"  {size} {dtype} {name}: {pixels / warm / 1e6:.0f} MP/s",
                    file=sys.stderr,
                    flush=True,
                )
    return rows


def _new_size_check():
    """First call of a fresh configuration, and a new size within a known bucket."""
    image = _image((1080, 1920), "uint8")
    start = time.perf_counter()
    detect_edges(image, operator="scharr")  # a configuration not used before
    first = time.perf_counter() - start
    warm = float(
        np.median(
            [_timed(lambda: detect_edges(image, operator="scharr")) for _ in range(20)]
        )
    )
    new = []
    for shrink in range(0, 50, 10):  # five new sizes in the same bucket (1152 x 1920)
        other = np.ascontiguousarray(image[: 1070 - shrink, : 1900 - shrink])
        new.append(_timed(lambda: detect_edges(other, operator="scharr")))  # noqa: B023
    return {"first": first, "warm": warm, "new": new}


def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _machine():
    with open("/proc/cpuinfo") as file:
        cpu = next(
            (
                line.split(":", 1)[1].strip()
                for line in file
                if line.startswith("model name")
            ),
            platform.processor(),
        )
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, TensorFlow {tf.__version__}, keras {keras.__version__}, OpenCV {cv2.__version__}"


def _table(rows):
    reference = {
        (r["size"], r["dtype"]): r["mps"]
        for r in rows
        if r["method"] == "OpenCV (1 thread)"
    }
    lines = [
        "| size | dtype | method | MP/s | vs OpenCV 1 thread | first call (ms) | peak RSS added (MB) |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = (
            r["mps"] / reference[(r["size"], r["dtype"])]
            if (r["size"], r["dtype"]) in reference
            else float("nan")
        )
        lines.append(
            f"| {r['size']} | {r['dtype']} | {r['method']} | {r['mps']:.0f} | {ratio:.2f}x | {r['first'] * 1e3:.1f} | {r['peak'] / 2**20:.0f} |"
        )
    return "\n".join(lines)


def main():
    sizes = QUICK_SIZES if ARGS.quick else tuple(SIZES)
    methods = list(METHODS) if ARGS.methods == "all" else ARGS.methods.split(",")
    budget = 0.05 if ARGS.quick else 0.3
    rows = _run(sizes, methods, budget)
    if ARGS.json:
        for row in rows:
            print(json.dumps(row))
        return
    if ARGS.tf_threads == 1 and not ARGS.quick:
        # detect_edges with TensorFlow's default threads needs a fresh process.
        command = [
            sys.executable,
            __file__,
            "--tf-threads",
            "0",
            "--methods",
            "detect_edges",
            "--json",
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        for line in done.stdout.splitlines():
            row = json.loads(line)
            row["method"] = "detect_edges (default threads)"
            rows.append(row)
        order = {
            name: i
            for i, name in enumerate(methods + ["detect_edges (default threads)"])
        }
        rows.sort(
            key=lambda r: (
                list(SIZES).index(r["size"]),
                r["dtype"] != "uint8",
                order[r["method"]],
            )
        )
    check = _new_size_check()
    photo = _image((256, 256), "uint8")
    same = np.array_equal(
        detect_edges(photo), _opencv(photo)
    )  # both reflect-101, saturated
    print(f"Machine: {_machine()}")
    print(
        f"Command: python benchmarks/bench_detect.py{' --quick' if ARGS.quick else ''} (TensorFlow threads: {ARGS.tf_threads or 'default'})\n"
    )
    print(_table(rows))
    print(f"\ndetect_edges output equals OpenCV's (uint8, 256x256): {same}.")
    print(
        f"\ndetect_edges, 1920x1080 uint8, operator='scharr' (a configuration not used before): first call "
        f"{check['first'] * 1e3:.0f} ms; warm (median) {check['warm'] * 1e3:.2f} ms; the first call of each of five new "
        f"sizes in the same bucket (1900x1070 ... 1860x1030): "
        f"{', '.join(f'{t * 1e3:.2f}' for t in check['new'])} ms (median "
        f"{np.median(check['new']) / check['warm']:.1f}x warm)."
    )


if __name__ == "__main__":
    main()
