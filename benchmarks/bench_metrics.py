"""Edge quality on synthetic data (ODS/OIS/AP) and the time the boundary benchmark takes.

    python benchmarks/bench_metrics.py quality [--images 50] [--noise 0.1] [--canny]
    python benchmarks/bench_metrics.py timing [--images 200] [--annotators 5] [--workers 2]

`quality` scores Sobel (raw magnitude, normalised by its full scale) with and without
edge NMS, and with `--canny` also Canny through `detect_edges(method="canny")`
(`evaluate_canny`; default thresholds, `--canny-sigma` 2), on `synthetic_shapes` of 321 x 481 pixels with Gaussian noise.
`timing` times `evaluate_boundaries` on 481 x 321 images at 99 thresholds: the BSDS500
test set's size (200 images, about 5 annotators each).
Results go in benchmarks/README.md, section "Edge quality".
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run from a checkout, installed or not
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_edges import detect_edges, evaluate_boundaries, synthetic_shapes  # noqa: E402

SIZE = (321, 481)


def sobel_maps(images, nms=False):
    """Sobel magnitude divided by its full scale (6 for 3x3 L1): soft maps in [0, 1]."""
    return [detect_edges(image, normalize=True) for image in images]


def evaluate_sobel(images, truths, *, nms=False, workers=None):
    return evaluate_boundaries(sobel_maps(images), truths, nms=nms, workers=workers)


def evaluate_canny(images, truths, *, workers=None, **canny_options):
    """Canny (a binary map) at one threshold, through detect_edges(method="canny")."""
    maps = [
        np.asarray(detect_edges(image, method="canny", **canny_options), bool)
        for image in images
    ]
    return evaluate_boundaries(maps, truths, thresholds=1, workers=workers)


def run_quality(args):
    images, truths = synthetic_shapes(
        args.images, size=SIZE, noise=args.noise, seed=args.seed
    )
    print(
        f"{args.images} synthetic_shapes images {SIZE[1]}x{SIZE[0]}, noise={args.noise}, seed={args.seed}"
    )
    print("| detector | ODS | OIS | AP | seconds |\n|---|---|---|---|---|")
    rows = [
        (
            "Sobel magnitude",
            lambda: evaluate_sobel(images, truths, workers=args.workers),
        ),
        (
            "Sobel magnitude + NMS",
            lambda: evaluate_sobel(images, truths, nms=True, workers=args.workers),
        ),
    ]
    if args.canny:
        name = f"Canny sigma={args.canny_sigma} (binary, 1 threshold)"
        rows.append(
            (
                name,
                lambda: evaluate_canny(
                    images, truths, workers=args.workers, sigma=args.canny_sigma
                ),
            )
        )
    for name, run in rows:
        start = time.perf_counter()
        scores = run()
        print(
            f"| {name} | {scores.ods:.3f} | {scores.ois:.3f} | {scores.ap:.3f} | {time.perf_counter() - start:.1f} |"
        )


def run_timing(args):
    rng = np.random.default_rng(args.seed)
    images, boundaries = synthetic_shapes(
        args.images, size=SIZE, noise=0.1, seed=args.seed
    )
    # BSDS500 has about 5 annotators per image: the truth plus copies shifted by 1-2 pixels.
    truths = [
        [
            np.roll(b, tuple(rng.integers(-2, 3, 2)), axis=(0, 1))
            for _ in range(args.annotators)
        ]
        for b in boundaries
    ]
    edges = sobel_maps(images)
    start = time.perf_counter()
    scores = evaluate_boundaries(edges, truths, workers=args.workers, progress=False)
    elapsed = time.perf_counter() - start
    print(
        f"{args.images} images {SIZE[1]}x{SIZE[0]}, {args.annotators} annotators, 99 thresholds, "
        f"{args.workers} workers: {elapsed:.1f} s ({scores})"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=("quality", "timing"))
    parser.add_argument("--images", type=int)
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--annotators", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--canny",
        action="store_true",
        help="also evaluate Canny (detect_edges(method='canny'))",
    )
    parser.add_argument(
        "--canny-sigma",
        type=float,
        default=2.0,
        help="Canny's Gaussian sigma (default: 2)",
    )
    args = parser.parse_args()
    if args.what == "quality":
        args.images = args.images or 50
        run_quality(args)
    else:
        args.images = args.images or 200
        run_timing(args)


if __name__ == "__main__":
    main()
