"""Speed of `detect_edges` under each Keras backend (TensorFlow, JAX, PyTorch), in one run.

    python benchmarks/bench_backends.py                  # every backend that imports
    python benchmarks/bench_backends.py --backends jax   # one backend

Each backend runs in its own process (`KERAS_BACKEND` is read when Keras starts), with
its default threading, on the same images: the camera photo tiled to size, uint8 and
float32. Rows: `engine="fast"` (the stencil engine under TensorFlow and JAX; the model
under other backends), `engine="model"` (the Keras model compiled by the backend:
`tf.function`, `jax.jit`, or an eager PyTorch call without autograd) and Canny
(`method="canny"`, its model). Columns: MP/s after warm-up (best of the repeats) and the
first call's time (tracing, compilation, model building).
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
BACKENDS = ("tensorflow", "jax", "torch")
CASES = (  # name, size, dtype, options
    ("fast", (256, 256), "uint8", dict(engine="fast")),
    ("fast", (1080, 1920), "uint8", dict(engine="fast")),
    ("fast", (1080, 1920), "float32", dict(engine="fast")),
    ("model", (1080, 1920), "uint8", dict(engine="model")),
    ("canny", (512, 512), "uint8", dict(method="canny")),
)


def _measure(repeats: int) -> list[dict]:
    """Run every case under this process's backend; one dict per case."""
    import keras
    import numpy as np

    from keras_edges import detect_edges, load_image

    camera = load_image(ROOT / "img" / "camera.png")
    rows = []
    for name, (height, width), dtype, options in CASES:
        tiles = (-(-height // camera.shape[0]), -(-width // camera.shape[1]))
        image = np.tile(camera, tiles)[:height, :width]
        image = image if dtype == "uint8" else image.astype("float32") / 255
        start = time.perf_counter()
        detect_edges(image, **options)
        first = time.perf_counter() - start
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            detect_edges(image, **options)
            best = min(best, time.perf_counter() - start)
        rows.append(
            dict(
                backend=keras.backend.backend(),
                case=name,
                size=f"{width}x{height}",
                dtype=dtype,
                mp_s=height * width / best / 1e6,
                first_s=first,
            )
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        for row in _measure(args.repeats):
            print(json.dumps(row))
        return 0
    rows = []
    for backend in args.backends.split(","):
        env = {
            **os.environ,
            "KERAS_BACKEND": backend,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": str(ROOT),
        }
        command = [sys.executable, __file__, "--child", "--repeats", str(args.repeats)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{backend}: failed\n{done.stderr[-1500:]}", file=sys.stderr)
            continue
        rows += [
            json.loads(line) for line in done.stdout.splitlines() if line[:1] == "{"
        ]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print("| backend | case | image | MP/s | first call (s) |")
    print("| --- | --- | --- | ---: | ---: |")
    for row in rows:
        image = f"{row['size']} {row['dtype']}"
        print(
            f"| {row['backend']} | {row['case']} | {image} | {row['mp_s']:.1f} "
            f"| {row['first_s']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
