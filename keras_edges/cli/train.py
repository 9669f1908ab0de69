"""`keras-edges train`: learn the two edge kernels from images (the trainable variant)."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_edges.cli.common import check_operator, import_tensorflow_quietly
from keras_edges.kernels import KERNELS, MAGNITUDES


def add_parser(commands) -> None:
    """Add the `train` subcommand to `commands` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "train",
        help="learn the two edge kernels from images (the trainable variant)",
        epilog="examples:\n  keras-edges train --synthetic 2000 --epochs 5 -o learned.keras\n"
        "  keras-edges train img/ --operator sobel --seed 0 -o learned.keras\n"
        "  keras-edges train photos/ --targets edges/ -o learned.keras",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "images",
        nargs="?",
        metavar="IMAGES",
        help="folder of training images (searched recursively)",
    )
    parser.add_argument(
        "--targets",
        metavar="FOLDER",
        help="folder of edge maps named like the images (default: the operator's output)",
    )
    parser.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="train on N generated 64x64 random images instead of a folder",
    )
    parser.add_argument(
        "--operator",
        default="sobel",
        choices=sorted(KERNELS),
        help="operator that makes the targets (default: sobel)",
    )
    parser.add_argument(
        "--ksize",
        type=int,
        help="kernel size (default: the operator's smallest)",
    )
    parser.add_argument(
        "--magnitude",
        default="l1",
        choices=MAGNITUDES,
        help="|gx|+|gy| or sqrt(gx^2+gy^2)",
    )
    parser.add_argument("--epochs", type=int, default=15, help="epochs (default: 15)")
    parser.add_argument(
        "--steps-per-epoch",
        type=int,
        default=100,
        help="batches per epoch (default: 100)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="crops per batch (default: 32)"
    )
    parser.add_argument(
        "--crop-size",
        type=int,
        default=32,
        help="side of the square training crops (default: 32)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=0.25,
        help="initial Adam learning rate, cosine-decayed (default: 0.25)",
    )
    parser.add_argument(
        "--seed", type=int, help="random seed (initial kernels, crops, flips)"
    )
    parser.add_argument(
        "-o",
        "--output",
        default="learned.keras",
        help="output model, .keras (default: learned.keras)",
    )
    parser.set_defaults(run=run, parser=parser)


def run(args, parser) -> int:
    """Run `keras-edges train`; returns the exit code."""
    if (args.images is None) == (args.synthetic is None):
        parser.error("give either an IMAGES folder or --synthetic N (not both)")
    if args.synthetic is not None and args.synthetic < 1:
        parser.error(
            f"--synthetic must be a positive number of images, got {args.synthetic}"
        )
    if args.targets is not None and args.images is None:
        parser.error("--targets needs an IMAGES folder to pair its edge maps with")
    for option in ("epochs", "steps_per_epoch", "batch_size", "crop_size"):
        if getattr(args, option) < 1:
            parser.error(
                f"--{option.replace('_', '-')} must be a positive integer, got {getattr(args, option)}"
            )
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
    check_operator(parser, args.operator, args.ksize)
    import_tensorflow_quietly()
    import numpy as np

    from keras_edges.datasets import synthetic_images
    from keras_edges.io import atomic_path
    from keras_edges.train import fit_edge_model, kernel_error, learned_kernels

    images = (
        args.images
        if args.synthetic is None
        else synthetic_images(args.synthetic, seed=args.seed)
    )
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
    with atomic_path(output) as temporary:
        model.save(temporary)
    kernel_x, kernel_y = learned_kernels(model)
    with np.printoptions(precision=4, suppress=True):
        print(f"learned kernel_x:\n{kernel_x}\nlearned kernel_y:\n{kernel_y}")
    reference = "the given targets' best fit" if args.targets else args.operator
    error = kernel_error(model, args.operator, ksize=args.ksize)
    print(
        f"kernel error vs {args.operator} (max abs, after sign/swap alignment): {error:.4g}"
    )
    print(f"model (trained to reproduce {reference}) saved to {output}")
    return 0
