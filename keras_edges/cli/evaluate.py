"""`keras-edges evaluate`: score a detector with the BSDS boundary benchmark (ODS, OIS, AP)."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_edges.cli.common import (
    add_method_options,
    check_operator,
    import_tensorflow_quietly,
    load_model,
    method_options,
)
from keras_edges.kernels import KERNELS

# The options of each detector (--method canny or learned; the gradient of --operator or
# --model otherwise), as the method's function takes them; --nms applies to every one.
METHOD_OPTIONS = {
    "gradient": ("--ksize",),
    "canny": ("--sigma", "--low", "--high"),
    "learned": ("--scales", "--flip", "--model-version"),
}
# `evaluate --method canny` sweeps its thresholds, as the field scores Canny (Arbelaez et
# al. 2011): CANNY_STEPS strong thresholds spaced geometrically over CANNY_RANGE of the
# largest magnitude a [0, 1] image can give (Sobel L2: sqrt(20)), weak = CANNY_RATIO x strong.
CANNY_STEPS = 25
CANNY_RANGE = (0.01, 0.5)
CANNY_RATIO = 0.4


def _canny_pairs() -> list[tuple[float, float]]:
    """The (low, high) threshold pairs of the Canny sweep, in pixel units of [0, 1]."""
    import numpy as np

    from keras_edges.kernels import get_kernels, max_response

    full = max_response(*get_kernels("sobel"), "l2")
    highs = full * np.geomspace(*CANNY_RANGE, CANNY_STEPS)
    return [(CANNY_RATIO * float(high), float(high)) for high in highs]


def add_parser(commands) -> None:
    """Add the `evaluate` subcommand to `commands` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "evaluate",
        help="score a detector against ground-truth boundaries: ODS, OIS, AP",
        description="Score edges with the BSDS boundary benchmark (Arbelaez et al., PAMI 2011): "
        "99 thresholds, thinning, one-to-one matching within 0.0075 x the image diagonal.",
        epilog="examples:\n  keras-edges evaluate --synthetic 50 --operator sobel --plot pr.png\n"
        "  keras-edges evaluate --bsds BSR/BSDS500/data --split test --model learned.keras --nms",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument(
        "--bsds",
        metavar="ROOT",
        help="BSDS500 data folder (with images/ and groundTruth/)",
    )
    data.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="N synthetic_shapes images with exact boundaries",
    )
    parser.add_argument(
        "--split",
        default="test",
        choices=("train", "val", "test"),
        help="BSDS500 split (default: test)",
    )
    parser.add_argument(
        "--limit", type=int, metavar="K", help="evaluate the first K images only"
    )
    parser.add_argument(
        "--size",
        type=int,
        nargs=2,
        default=(321, 481),
        metavar=("H", "W"),
        help="synthetic image size (default: 321 481)",
    )
    parser.add_argument(
        "--noise",
        type=float,
        default=0.1,
        help="synthetic noise standard deviation (default: 0.1)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="synthetic seed (default: 0)"
    )
    detector = parser.add_mutually_exclusive_group()
    detector.add_argument(
        "--model",
        metavar="M",
        help="a saved .keras edge model (e.g. from keras-edges train)",
    )
    detector.add_argument(
        "--operator", choices=sorted(KERNELS), help="gradient operator (default: sobel)"
    )
    detector.add_argument(
        "--method",
        choices=tuple(METHOD_OPTIONS),
        help=f"gradient: --operator sobel; canny: swept over {CANNY_STEPS} threshold "
        "pairs, as the field scores it (one pair with --low and --high); learned: the "
        "shipped learned boundary detector (use with --nms)",
    )
    parser.add_argument(
        "--nms",
        action="store_true",
        help="edge non-maximum suppression before thresholding",
    )
    thresholds = {
        "--low": dict(
            type=float,
            help="Canny's weak threshold, pixels in [0, 1]: score this one pair "
            "(default: a sweep)",
        ),
        "--high": dict(
            type=float,
            help="Canny's strong threshold: score this one pair (default: a sweep)",
        ),
    }
    add_method_options(parser, METHOD_OPTIONS, **thresholds)
    parser.add_argument(
        "--thresholds", type=int, default=99, help="number of thresholds (default: 99)"
    )
    parser.add_argument(
        "--max-dist",
        type=float,
        default=0.0075,
        help="match radius / image diagonal (default: 0.0075)",
    )
    parser.add_argument("--workers", type=int, help="processes (default: all CPUs)")
    parser.add_argument(
        "--plot", metavar="PNG", help="write the precision-recall curve to this image"
    )
    parser.set_defaults(run=run, parser=parser)


def _evaluation_data(args, parser):
    """(images as float [0, 1] arrays, ground truths) for `evaluate`, and a description."""

    if args.synthetic is not None:
        if args.synthetic < 1:
            parser.error(
                f"--synthetic must be a positive number of images, got {args.synthetic}"
            )
        from keras_edges.datasets import synthetic_shapes

        try:
            images, truths = synthetic_shapes(
                args.synthetic, size=args.size, noise=args.noise, seed=args.seed
            )
        except ValueError as error:
            parser.error(str(error))
        images, truths = list(images)[: args.limit], list(truths)[: args.limit]
        return (
            images,
            [[truth] for truth in truths],
            f"{len(images)} synthetic images (noise {args.noise})",
        )
    from keras_edges.datasets import load_bsds500
    from keras_edges.io import to_float

    try:
        pairs = load_bsds500(args.bsds, args.split)
        images, truths = [], []
        for image, boundaries in pairs:
            images.append(to_float(image))
            truths.append(boundaries)
            if args.limit is not None and len(images) >= args.limit:
                break
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    return images, truths, f"BSDS500 {args.split} ({len(images)} images)"


def _evaluation_edges(args, parser, images, model, options):
    """Soft `(H, W)` edge maps in [0, 1] (or binary maps for Canny) and the thresholds.

    Colour images give `(H, W, 1)` edges (the input's rank): the channel axis goes.
    """
    import numpy as np

    from keras_edges.detect import detect_edges

    if args.method == "canny":
        maps = [np.zeros(image.shape[:2], np.float32) for image in images]
        pairs = _canny_pairs_of(options)
        try:
            for low, high in pairs:  # one compiled Canny serves every pair
                given = dict(options, method="canny", low=low, high=high)
                for soft, image in zip(maps, images):
                    soft += np.reshape(detect_edges(image, **given), soft.shape)
        except (ValueError, TypeError) as error:
            parser.error(str(error))
        # Higher pairs keep fewer pixels (a subset), so the share of pairs that keep a
        # pixel, thresholded between k and k + 1 pairs, is the k-th pair's edge map.
        levels = [(k + 0.5) / len(pairs) for k in range(len(pairs))]
        return [soft / len(pairs) for soft in maps], levels
    if args.method == "learned":
        edges = [detect_edges(image, method="learned", **options) for image in images]
    elif model is not None:
        try:
            edges = [
                detect_edges(image, model=model, normalize=True) for image in images
            ]
        except (
            ValueError
        ):  # not an edge model with known kernels: scale by the largest response
            edges = [detect_edges(image, model=model) for image in images]
            scale = max(float(np.max(edge)) for edge in edges) or 1.0
            edges = [edge / scale for edge in edges]
    else:
        operator = args.operator or "sobel"
        check_operator(parser, operator, args.ksize)
        edges = [
            detect_edges(image, operator=operator, ksize=args.ksize, normalize=True)
            for image in images
        ]
    return [np.clip(np.squeeze(edge), 0, 1) for edge in edges], args.thresholds


def _canny_pairs_of(options: dict) -> list:
    """The pairs that `evaluate --method canny` scores: the sweep, or --low/--high's."""
    if "low" in options or "high" in options:
        return [(options.get("low"), options.get("high"))]
    return _canny_pairs()


def _canny_described(options: dict, ods_threshold: float) -> str:
    """What `evaluate --method canny` scored: its sigma and the pairs it swept."""
    sigma = options.get("sigma", 1.0)  # canny_edges' default
    pairs = _canny_pairs_of(options)
    if len(pairs) == 1:
        low, high = pairs[0]
        return f"Canny (sigma {sigma:g}) at one pair: low={low}, high={high}"
    first_high, last_high = pairs[0][1], pairs[-1][1]
    best_low, best_high = pairs[min(int(ods_threshold * len(pairs)), len(pairs) - 1)]
    return (
        f"Canny (sigma {sigma:g}) swept over {len(pairs)} threshold pairs: high "
        f"{first_high:.3g} .. {last_high:.3g} (geometric), low = {CANNY_RATIO:g} x high; "
        f"ODS near low={best_low:.3g}, high={best_high:.3g}"
    )


def run(args, parser) -> int:
    """Run `keras-edges evaluate`; returns the exit code."""
    if args.thresholds < 1:
        parser.error(f"--thresholds must be at least 1, got {args.thresholds}")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be a positive number of images, got {args.limit}")
    if not 0 <= args.max_dist < 1:
        parser.error(
            "--max-dist must be a fraction of the image diagonal, e.g. 0.0075 (at least "
            f"0, below 1: 1 reaches across the whole image), got {args.max_dist}"
        )
    if args.plot is not None and Path(args.plot).suffix.lower() not in (
        ".png",
        ".pdf",
        ".svg",
    ):
        parser.error(f"--plot must name a .png, .pdf or .svg file, got {args.plot!r}")
    if args.plot is not None and not Path(args.plot).resolve().parent.is_dir():
        parser.error(f"--plot {args.plot!r}: its folder does not exist")
    options = method_options(parser, args, METHOD_OPTIONS, args.method or "gradient")
    model = None if args.model is None else load_model(args.model, parser)
    images, truths, described = _evaluation_data(args, parser)
    import_tensorflow_quietly()
    edges, thresholds = _evaluation_edges(args, parser, images, model, options)
    from keras_edges.metrics import evaluate_boundaries
    from keras_edges.plot import plot_precision_recall

    detector = (
        args.model
        or args.method
        or f"{args.operator or 'sobel'}{' + nms' if args.nms else ''}"
    )
    scores = evaluate_boundaries(
        edges,
        truths,
        thresholds=thresholds,
        max_dist=args.max_dist,
        nms=args.nms and args.method != "canny",  # Canny's edges are thin already
        workers=args.workers,
        progress=None,
    )
    print(f"{detector} on {described}")
    if args.method == "canny":
        print(_canny_described(options, scores.ods_threshold))
    print(
        f"ODS={scores.ods:.3f} OIS={scores.ois:.3f} AP={scores.ap:.3f}  "
        f"(at threshold {scores.ods_threshold:.3f}: recall {scores.ods_recall:.3f}, "
        f"precision {scores.ods_precision:.3f})"
    )
    if args.plot is not None:
        from keras_edges.io import atomic_path

        figure = plot_precision_recall({detector: scores}, title=described)
        with atomic_path(args.plot) as temporary:
            figure.savefig(temporary, dpi=120)
        print(f"precision-recall curve in {args.plot}")
    return 0
