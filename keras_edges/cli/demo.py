"""`keras-edges demo`: edges of the bundled sample images (what `make demo` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_edges.io import IMAGE_SUFFIXES


def add_parser(commands) -> None:
    """Add the `demo` subcommand to `commands` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "demo",
        help="run edge detection on the bundled sample images",
        description="Write <name>_edges.png and <name>_side_by_side.png (image | edges) for\n"
        "every image in --images (what `make demo` runs).",
        epilog="examples:\n  keras-edges demo\n  keras-edges demo --images img -o out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--images", default="img", help="folder of sample images (default: img/)"
    )
    parser.add_argument(
        "-o", "--output", default="out", help="output folder (default: out/)"
    )
    parser.set_defaults(run=run, parser=parser)


def run(args, parser) -> int:
    """Run `keras-edges demo`; returns the exit code."""
    images = Path(args.images)
    if not images.is_dir():
        parser.error(
            f"--images {args.images!r} is not a folder (run from the repository root, or pass --images)"
        )
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
        save_image(
            output / f"{path.stem}_side_by_side.png", np.hstack([grey, gap, edges])
        )
        print(f"{path} -> {output / (path.stem + '_edges.png')}")
    print(f"{len(paths)} images; edges and side-by-side figures in {output}/")
    return 0
