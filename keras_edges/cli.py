"""`keras-edges`: a thin command line over the library; TensorFlow is imported lazily."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keras_edges import __version__
from keras_edges.io import IMAGE_SUFFIXES
from keras_edges.kernels import KERNELS, MAGNITUDES, PADDING_MODES, _check_operator

EPILOG = """examples:
  keras-edges detect img/camera.png -o edges/
  keras-edges detect photos/ -o edges/ --operator scharr --threshold 0.25
  keras-edges demo -o out/
  keras-edges evaluate --synthetic 50 --operator sobel --plot pr.png
"""


def _add_detector_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--operator", default="sobel", choices=sorted(KERNELS), help="gradient operator (default: sobel)")
    parser.add_argument("--ksize", type=int, default=3, help="kernel size: 3, 5 or 7 for sobel (default: 3)")
    parser.add_argument("--padding", default="reflect", choices=PADDING_MODES, help="border mode (default: reflect)")
    parser.add_argument("--magnitude", default="l1", choices=MAGNITUDES, help="|gx|+|gy| or sqrt(gx^2+gy^2)")
    parser.add_argument("--threshold", type=float, help="write a binary map: edges >= THRESHOLD x full scale, in [0, 1]")
    parser.add_argument("--normalize", action="store_true", help="scale edges by the operator's full scale")


def build_parser() -> argparse.ArgumentParser:
    """Build the `keras-edges` argument parser."""
    parser = argparse.ArgumentParser(
        prog="keras-edges",
        description="Edge detection with Keras models.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    detect = commands.add_parser(
        "detect",
        help="detect edges in image files and folders",
        epilog="examples:\n  keras-edges detect img/camera.png -o edges/\n"
        "  keras-edges detect photos/ -o edges/ --threshold 0.2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    detect.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    detect.add_argument("-o", "--output", default="edges", help="output folder (default: edges/)")
    _add_detector_options(detect)

    demo = commands.add_parser(
        "demo",
        help="run edge detection on the bundled sample images",
        epilog="example:\n  keras-edges demo --images img -o out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--images", default="img", help="folder of sample images (default: img/)")
    demo.add_argument("-o", "--output", default="out", help="output folder (default: out/)")
    _add_evaluate_parser(commands)
    return parser


def _add_evaluate_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="score a detector against ground-truth boundaries: ODS, OIS, AP",
        description="Score edges with the BSDS boundary benchmark (Arbelaez et al., PAMI 2011): "
        "99 thresholds, thinning, one-to-one matching within 0.0075 x the image diagonal.",
        epilog="examples:\n  keras-edges evaluate --synthetic 50 --operator sobel --plot pr.png\n"
        "  keras-edges evaluate --bsds BSR/BSDS500/data --split test --model learned.keras --nms",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = evaluate.add_mutually_exclusive_group(required=True)
    data.add_argument("--bsds", metavar="ROOT", help="BSDS500 data folder (with images/ and groundTruth/)")
    data.add_argument("--synthetic", type=int, metavar="N", help="N synthetic_shapes images with exact boundaries")
    evaluate.add_argument("--split", default="test", choices=("train", "val", "test"), help="BSDS500 split (default: test)")
    evaluate.add_argument("--limit", type=int, metavar="K", help="evaluate the first K images only")
    evaluate.add_argument("--size", type=int, nargs=2, default=(321, 481), metavar=("H", "W"), help="synthetic image size (default: 321 481)")
    evaluate.add_argument("--noise", type=float, default=0.1, help="synthetic noise standard deviation (default: 0.1)")
    evaluate.add_argument("--seed", type=int, default=0, help="synthetic seed (default: 0)")
    detector = evaluate.add_mutually_exclusive_group()
    detector.add_argument("--model", metavar="M", help="a saved .keras edge model (e.g. from keras-edges train)")
    detector.add_argument("--operator", choices=sorted(KERNELS), help="gradient operator (default: sobel)")
    detector.add_argument("--method", choices=("canny",), help="a binary detector, scored at one threshold")
    evaluate.add_argument("--ksize", type=int, default=3, help="kernel size for --operator (default: 3)")
    evaluate.add_argument("--nms", action="store_true", help="edge non-maximum suppression before thresholding")
    evaluate.add_argument("--thresholds", type=int, default=99, help="number of thresholds (default: 99)")
    evaluate.add_argument("--max-dist", type=float, default=0.0075, help="match radius / image diagonal (default: 0.0075)")
    evaluate.add_argument("--workers", type=int, help="processes (default: all CPUs)")
    evaluate.add_argument("--plot", metavar="PNG", help="write the precision-recall curve to this image")


def _collect_images(inputs: list[str], parser: argparse.ArgumentParser) -> list[Path]:
    paths = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        elif path.is_file():
            paths.append(path)
        else:
            parser.error(f"input {name!r} does not exist")
    return paths


def _run_detect(args, parser) -> int:
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error(f"--threshold must be in [0, 1], got {args.threshold}")
    try:
        _check_operator(args.operator, args.ksize)
    except ValueError as error:
        parser.error(str(error))
    paths = _collect_images(args.inputs, parser)
    from keras_edges.detect import detect_edges
    from keras_edges.io import load_image, save_image

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    failed = 0
    options = dict(operator=args.operator, ksize=args.ksize, padding=args.padding, magnitude=args.magnitude)
    for path in paths:
        target = output / f"{path.stem}_edges.png"
        if target.resolve() == path.resolve():
            print(f"skipped {path}: the output would overwrite the input", file=sys.stderr)
            failed += 1
            continue
        try:
            edges = detect_edges(load_image(path), threshold=args.threshold, normalize=args.normalize, **options)
            save_image(target, edges)
        except (ValueError, TypeError, OSError) as error:
            print(f"failed {path}: {error}", file=sys.stderr)
            failed += 1
    print(f"{len(paths) - failed} done, {failed} failed; edges in {output}/")
    return 1 if failed else 0


def _run_demo(args, parser) -> int:
    images = Path(args.images)
    if not images.is_dir():
        parser.error(f"--images {args.images!r} is not a folder (run from the repository root, or pass --images)")
    import numpy as np

    from keras_edges.detect import detect_edges
    from keras_edges.io import load_image, save_image

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    paths = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    for path in paths:
        grey = load_image(path)
        edges = detect_edges(grey, normalize=True)
        save_image(output / f"{path.stem}_edges.png", edges)
        gap = np.full((grey.shape[0], 8), 255, np.uint8)
        save_image(output / f"{path.stem}_side_by_side.png", np.hstack([grey, gap, edges]))
        print(f"{path} -> {output / (path.stem + '_edges.png')}")
    print(f"{len(paths)} images; edges and side-by-side figures in {output}/")
    return 0


def _evaluation_data(args, parser):
    """(images as float [0, 1] arrays, ground truths) for `evaluate`, and a description."""
    import numpy as np

    if args.synthetic is not None:
        if args.synthetic < 1:
            parser.error(f"--synthetic must be a positive number of images, got {args.synthetic}")
        from keras_edges.datasets import synthetic_shapes

        try:
            images, truths = synthetic_shapes(args.synthetic, size=args.size, noise=args.noise, seed=args.seed)
        except ValueError as error:
            parser.error(str(error))
        return list(images), [[truth] for truth in truths], f"{args.synthetic} synthetic images (noise {args.noise})"
    from keras_edges.datasets import load_bsds500

    try:
        pairs = load_bsds500(args.bsds, args.split)
        images, truths = [], []
        for image, boundaries in pairs:
            images.append(image.astype(np.float32) / 255)
            truths.append(boundaries)
            if args.limit is not None and len(images) >= args.limit:
                break
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    return images, truths, f"BSDS500 {args.split} ({len(images)} images)"


def _evaluation_edges(args, parser, images):
    """Soft edge maps in [0, 1] (or binary maps for Canny) and the thresholds to use."""
    import numpy as np

    from keras_edges.detect import detect_edges

    if args.method == "canny":
        return [np.asarray(detect_edges(image, method="canny"), bool) for image in images], 1
    if args.model is not None:
        import keras

        import keras_edges  # noqa: F401 - registers the layers for safe loading

        try:
            model = keras.saving.load_model(args.model)
        except (OSError, ValueError) as error:
            parser.error(f"cannot load model {args.model!r}: {error}")
        try:
            edges = [detect_edges(image, model=model, normalize=True) for image in images]
        except ValueError:  # not an edge model with known kernels: scale by the largest response
            edges = [detect_edges(image, model=model) for image in images]
            scale = max(float(np.max(edge)) for edge in edges) or 1.0
            edges = [edge / scale for edge in edges]
    else:
        operator = args.operator or "sobel"
        try:
            _check_operator(operator, args.ksize)
        except (ValueError, TypeError) as error:
            parser.error(str(error))
        edges = [detect_edges(image, operator=operator, ksize=args.ksize, normalize=True) for image in images]
    return [np.clip(np.squeeze(edge), 0, 1) for edge in edges], args.thresholds


def _run_evaluate(args, parser) -> int:
    if args.thresholds < 1:
        parser.error(f"--thresholds must be at least 1, got {args.thresholds}")
    if not args.max_dist >= 0:
        parser.error(f"--max-dist must be non-negative, got {args.max_dist}")
    if args.plot is not None and Path(args.plot).suffix.lower() not in (".png", ".pdf", ".svg"):
        parser.error(f"--plot must name a .png, .pdf or .svg file, got {args.plot!r}")
    if args.plot is not None and not Path(args.plot).resolve().parent.is_dir():
        parser.error(f"--plot {args.plot!r}: its folder does not exist")
    if args.method == "canny":
        import inspect

        from keras_edges.detect import detect_edges

        if "method" not in inspect.signature(detect_edges).parameters:
            parser.error("--method canny needs detect_edges(..., method='canny'), which this version lacks")
    images, truths, described = _evaluation_data(args, parser)
    edges, thresholds = _evaluation_edges(args, parser, images)
    from keras_edges.metrics import evaluate_boundaries, plot_precision_recall

    detector = args.model or args.method or f"{args.operator or 'sobel'}{' + nms' if args.nms else ''}"
    scores = evaluate_boundaries(
        edges, truths, thresholds=thresholds, max_dist=args.max_dist, nms=args.nms and thresholds > 1,
        workers=args.workers, progress=None,
    )
    print(f"{detector} on {described}")
    print(f"ODS={scores.ods:.3f} OIS={scores.ois:.3f} AP={scores.ap:.3f}  "
          f"(at threshold {scores.ods_threshold:.3f}: recall {scores.ods_recall:.3f}, "
          f"precision {scores.ods_precision:.3f})")
    if args.plot is not None:
        import os
        import tempfile

        figure = plot_precision_recall({detector: scores}, title=described)
        target = Path(args.plot)
        handle, temporary = tempfile.mkstemp(dir=target.resolve().parent, suffix=target.suffix)
        os.close(handle)
        try:
            figure.savefig(temporary, dpi=120)
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        print(f"precision-recall curve in {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run `keras-edges` with `argv` (default: `sys.argv[1:]`); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = {"detect": _run_detect, "demo": _run_demo, "evaluate": _run_evaluate}[args.command]
    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
