"""`keras-edges detect` as a Beam pipeline against the plain command, on one machine.

Writes N generated images (crops of the img/ sample photos, 256x256 colour JPEGs) to a
temporary folder, then times, as separate processes (wall clock, the start included):
the plain command, the pipeline on Beam's FnApiRunner in one process ("1 worker"), and
with two worker processes (`--direct_num_workers 2 --direct_running_mode
multi_processing`), for the Sobel magnitude and the learned detector. The same commands
on one image give the fixed cost of a run (Python, TensorFlow and, for Beam, starting the
pipeline and its workers); the throughput is over the N images past that fixed cost.
Every run's files are checked to be those of the plain command, byte for byte.

Run (in the venv with `keras-edges[beam]`): `python benchmarks/bench_beam.py [--images 300]`.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "plain": [],
    "beam, 1 worker": ["--runner", "FnApiRunner"],
    "beam, 2 workers": [
        "--runner",
        "FnApiRunner",
        "--direct_num_workers",
        "2",
        "--direct_running_mode",
        "multi_processing",
    ],
}
METHODS = {"sobel": [], "learned": ["--method", "learned"]}


def make_images(folder: Path, count: int, size: int = 256) -> None:
    """`count` colour JPEG crops of the sample photos (numpy's fixed seed)."""
    rng = np.random.default_rng(0)
    photos = [
        np.asarray(Image.open(path).convert("RGB"))
        for path in sorted(ROOT.glob("img/*.jpg"))
    ]
    folder.mkdir(parents=True)
    for index in range(count):
        photo = photos[index % len(photos)]
        y = rng.integers(0, photo.shape[0] - size + 1)
        x = rng.integers(0, photo.shape[1] - size + 1)
        crop = Image.fromarray(photo[y : y + size, x : x + size])
        crop.save(folder / f"{index:04d}.jpg", quality=90)


def timed(arguments: list[str]) -> float:
    """Wall seconds of `keras-edges ARGUMENTS` in a fresh process."""
    command = [sys.executable, "-m", "keras_edges", *arguments, "--quiet"]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return seconds


def same_files(first: Path, second: Path) -> bool:
    """Whether two output folders hold the same files, byte for byte."""
    names = sorted(p.name for p in first.iterdir())
    match, mismatch, errors = filecmp.cmpfiles(first, second, names, shallow=False)
    return (
        not mismatch
        and not errors
        and sorted(p.name for p in second.iterdir()) == names
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=300)
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        make_images(work / "many", args.images)
        make_images(work / "one", 1)
        print(
            f"{args.images} images 256x256 (JPEG), {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}\n"
        )
        print(
            "| method | run | 1 image (fixed cost) | N images | images/s past the fixed cost |"
        )
        print("|---|---|---|---|---|")
        for method, options in METHODS.items():
            reference = None
            for name, runner in RUNS.items():
                out = work / f"{method}-{name.replace(' ', '').replace(',', '')}"
                fixed = timed(
                    [
                        "detect",
                        str(work / "one"),
                        "-o",
                        str(out / "one"),
                        *options,
                        *runner,
                    ]
                )
                total = timed(
                    [
                        "detect",
                        str(work / "many"),
                        "-o",
                        str(out / "many"),
                        *options,
                        *runner,
                    ]
                )
                if reference is None:
                    reference = out / "many"
                elif not same_files(reference, out / "many"):
                    raise RuntimeError(f"{name}: files differ from the plain command's")
                rate = args.images / max(total - fixed, 1e-9)
                print(
                    f"| {method} | {name} | {fixed:.1f} s | {total:.1f} s | {rate:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
