"""Seed sweep for the learned filters: does `fit_edge_model` recover Sobel from random starts?

For each seed, the two kernels start from `RandomNormal(stddev=0.1, seed=seed)` and are
trained with the default recipe of `keras_edges.fit_edge_model` (targets: the fixed
Sobel operator's output on the same crops). The table reports, per seed, the optimizer
steps run, the first step count at which the kernels were within the tolerance (checked
at the end of each epoch), the wall time of the whole `fit_edge_model` call, the final
training loss and the kernel error after the best sign/swap alignment (`kernel_error`).

    python benchmarks/bench_train.py --data img        # the photos in img/
    python benchmarks/bench_train.py --data synthetic  # generated 1/f random images
    python benchmarks/bench_train.py --data img --operator scharr --targets  # given targets
    python benchmarks/bench_train.py --data img --no-zero-mean --no-zero-sum  # ablation

With `--targets`, the targets are the operator's edge maps of the whole images, given to
`fit_edge_model` as arrays (learning from supplied targets rather than from the operator).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras
import numpy as np

from keras_edges import build_edge_model, fit_edge_model, kernel_error, load_image
from keras_edges.datasets import synthetic_images
from keras_edges.io import IMAGE_SUFFIXES


class _FirstPass(keras.callbacks.Callback):
    """Record the first step count at which the kernel error is within `tolerance`."""

    def __init__(self, operator, tolerance, steps_per_epoch):
        super().__init__()
        self.operator, self.tolerance, self.steps_per_epoch = (
            operator,
            tolerance,
            steps_per_epoch,
        )
        self.first = None

    def on_epoch_end(self, epoch, logs=None):
        if (
            self.first is None
            and kernel_error(self.model, self.operator) <= self.tolerance
        ):
            self.first = (epoch + 1) * self.steps_per_epoch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("img", "synthetic"), default="img")
    parser.add_argument("--operator", default="sobel")
    parser.add_argument(
        "--targets",
        action="store_true",
        help="give the operator's edge maps as targets",
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--steps-per-epoch", type=int, default=100)
    parser.add_argument("--tolerance", type=float, default=0.02)
    parser.add_argument(
        "--zero-mean",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="subtract crop means",
    )
    parser.add_argument(
        "--zero-sum",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="ZeroSum constraint",
    )
    args = parser.parse_args(argv)

    if args.data == "img":
        paths = sorted(
            p for p in (ROOT / "img").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
        )
        images = [load_image(p).astype("float32") / 255.0 for p in paths]
        described = f"{len(images)} photos in img/"
    else:
        images = list(synthetic_images(256, size=64, seed=1234))
        described = "256 generated 64x64 images with a 1/f spectrum"
    targets = None
    if args.targets:
        reference = build_edge_model(args.operator)
        targets = [
            np.asarray(reference(image[None, :, :, None]))[0] for image in images
        ]

    print(
        f"data: {described}; operator: {args.operator}; targets: {'given' if args.targets else 'computed'}; "
        f"zero_mean={args.zero_mean}, zero_sum={args.zero_sum}"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}, "
        f"Python {platform.python_version()}, keras {keras.__version__}"
    )
    print()
    print(
        f"| seed | steps | steps to <= {args.tolerance} | seconds | final loss | kernel error | pass |"
    )
    print("|---:|---:|---:|---:|---:|---:|:---:|")
    passed, times = 0, []
    for seed in range(args.seeds):
        tracker = _FirstPass(args.operator, args.tolerance, args.steps_per_epoch)
        start = time.perf_counter()
        model, history = fit_edge_model(
            images,
            targets,
            operator=args.operator,
            epochs=args.epochs,
            steps_per_epoch=args.steps_per_epoch,
            seed=seed,
            zero_mean=args.zero_mean,
            zero_sum=args.zero_sum,
            callbacks=[tracker],
            verbose=0,
        )
        seconds = time.perf_counter() - start
        error = kernel_error(model, args.operator)
        ok = error <= args.tolerance and seconds < 60
        passed += ok
        times.append(seconds)
        steps = args.epochs * args.steps_per_epoch
        print(
            f"| {seed} | {steps} | {tracker.first or '-'} | {seconds:.1f} | {history.history['loss'][-1]:.2e} "
            f"| {error:.2e} | {'yes' if ok else 'no'} |",
            flush=True,
        )
    print()
    print(
        f"{passed}/{args.seeds} seeds within {args.tolerance} of {args.operator} in under 60 s "
        f"(median {np.median(times):.1f} s per seed)"
    )
    return 0 if passed >= 0.9 * args.seeds else 1


if __name__ == "__main__":
    sys.exit(main())
