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
  keras-edges train --synthetic 2000 --epochs 5 -o learned.keras
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

    train = commands.add_parser(
        "train",
        help="learn the two edge kernels from images (the trainable variant)",
        epilog="examples:\n  keras-edges train --synthetic 2000 --epochs 5 -o learned.keras\n"
        "  keras-edges train img/ --operator sobel --seed 0 -o learned.keras\n"
        "  keras-edges train photos/ --targets edges/ -o learned.keras",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("images", nargs="?", metavar="IMAGES", help="folder of training images (searched recursively)")
    train.add_argument("--targets", metavar="FOLDER", help="folder of edge maps named like the images (default: the operator's output)")
    train.add_argument("--synthetic", type=int, metavar="N", help="train on N generated 64x64 random images instead of a folder")
    train.add_argument("--operator", default="sobel", choices=sorted(KERNELS), help="operator that makes the targets (default: sobel)")
    train.add_argument("--ksize", type=int, default=3, help="kernel size (default: 3)")
    train.add_argument("--magnitude", default="l1", choices=MAGNITUDES, help="|gx|+|gy| or sqrt(gx^2+gy^2)")
    train.add_argument("--epochs", type=int, default=15, help="epochs (default: 15)")
    train.add_argument("--steps-per-epoch", type=int, default=100, help="batches per epoch (default: 100)")
    train.add_argument("--batch-size", type=int, default=32, help="crops per batch (default: 32)")
    train.add_argument("--crop-size", type=int, default=32, help="side of the square training crops (default: 32)")
    train.add_argument("--learning-rate", type=float, default=0.25, help="initial Adam learning rate, cosine-decayed (default: 0.25)")
    train.add_argument("--seed", type=int, help="random seed (initial kernels, crops, flips)")
    train.add_argument("-o", "--output", default="learned.keras", help="output model, .keras (default: learned.keras)")
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


def _run_train(args, parser) -> int:
    import os

    if (args.images is None) == (args.synthetic is None):
        parser.error("give either an IMAGES folder or --synthetic N (not both)")
    if args.synthetic is not None and args.synthetic < 1:
        parser.error(f"--synthetic must be a positive number of images, got {args.synthetic}")
    if args.targets is not None and args.images is None:
        parser.error("--targets needs an IMAGES folder to pair its edge maps with")
    for option in ("epochs", "steps_per_epoch", "batch_size", "crop_size"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be a positive integer, got {getattr(args, option)}")
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate must be positive, got {args.learning_rate}")
    for name in (args.images, args.targets):
        if name is not None and not Path(name).is_dir():
            parser.error(f"{name!r} is not a folder")
    output = Path(args.output)
    if output.suffix != ".keras":
        parser.error(f"-o/--output must end in .keras, got {args.output!r}")
    if not output.parent.is_dir():
        parser.error(f"the output folder {str(output.parent)!r} does not exist")
    try:
        _check_operator(args.operator, args.ksize)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    import tempfile

    import numpy as np

    from keras_edges.train import (
        _synthetic_images,
        fit_edge_model,
        kernel_error,
        learned_kernels,
    )

    images = args.images if args.synthetic is None else _synthetic_images(args.synthetic, seed=args.seed)
    try:
        model, _ = fit_edge_model(
            images,
            args.targets,
            operator=args.operator,
            ksize=args.ksize,
            magnitude=args.magnitude,
            epochs=args.epochs,
            steps_per_epoch=args.steps_per_epoch,
            batch_size=args.batch_size,
            crop_size=args.crop_size,
            learning_rate=args.learning_rate,
            seed=args.seed,
            verbose=1,
        )
    except (ValueError, TypeError, FileNotFoundError) as error:
        parser.error(str(error))
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".keras")
    os.close(handle)
    try:
        model.save(temporary)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    kernel_x, kernel_y = learned_kernels(model)
    with np.printoptions(precision=4, suppress=True):
        print(f"learned kernel_x:\n{kernel_x}\nlearned kernel_y:\n{kernel_y}")
    reference = "the given targets' best fit" if args.targets else args.operator
    error = kernel_error(model, args.operator, ksize=args.ksize)
    print(f"kernel error vs {args.operator} (max abs, after sign/swap alignment): {error:.4g}")
    print(f"model (trained to reproduce {reference}) saved to {output}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run `keras-edges` with `argv` (default: `sys.argv[1:]`); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = {"detect": _run_detect, "demo": _run_demo, "train": _run_train}[args.command]
    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
