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
"""


def _add_detector_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--operator", default="sobel", choices=sorted(KERNELS), help="gradient operator (default: sobel)")
    parser.add_argument("--ksize", type=int, default=None, help="kernel size: 3, 5 or 7 for sobel (default: the operator's smallest)")
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
    return parser


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


def main(argv: list[str] | None = None) -> int:
    """Run `keras-edges` with `argv` (default: `sys.argv[1:]`); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = {"detect": _run_detect, "demo": _run_demo}[args.command]
    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
