"""`keras-edges demo`: edges of the bundled sample images (what `make demo` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_edges.cli.common import import_tensorflow_quietly


def add_parser(commands) -> None:
    """Add the `demo` subcommand to `commands` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "demo",
        help="run edge detection on the bundled sample images",
        description="Write <name>_edges.png (Sobel edges, contrast-stretched) and\n"
        "<name>_side_by_side.png (image | Sobel | Canny | learned boundaries) for every\n"
        "image in --images (what `make demo` runs).",
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


def side_by_side(image):
    """`(figure, edges)`: `image | Sobel | Canny | learned` with white gaps, and the Sobel edges.

    The Sobel edges are contrast-stretched (`stretch_contrast`), so that thin edges show
    on photos; Canny's edge map is drawn white on black; the learned detector's boundary
    probabilities (`method="learned"`, thinned with `nms=True`) white on black too. A
    colour image stays in colour.
    """
    import numpy as np

    from keras_edges.detect import detect_edges
    from keras_edges.plot import stretch_contrast

    size = image.shape[:2]  # a colour image gives (H, W, 1) edges
    edges = stretch_contrast(detect_edges(image, normalize=True).reshape(size))
    edges = np.rint(edges * 255).astype(np.uint8)
    canny = detect_edges(image, method="canny").reshape(size).astype(np.uint8) * 255
    learned = detect_edges(image, method="learned", nms=True).reshape(size)
    panels = [image, edges, canny, learned]
    if image.ndim == 3:
        panels = [
            p if p.ndim == 3 else np.repeat(p[..., None], 3, axis=2) for p in panels
        ]
    gap = np.full((image.shape[0], 8, *image.shape[2:]), 255, np.uint8)
    row = [panels[0]]
    for panel in panels[1:]:
        row += [gap, panel]
    return np.hstack(row), edges


def run(args, parser) -> int:
    """Run `keras-edges demo`; returns the exit code."""
    images = Path(args.images)
    if not images.is_dir():
        parser.error(
            f"--images {args.images!r} is not a folder (run from the repository root, or pass --images)"
        )
    import_tensorflow_quietly()
    from keras_edges.io import image_files, load_image, save_image

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    paths = image_files(images, recursive=False)
    for path in paths:
        image = load_image(path, mode="RGB")
        if (image[..., :1] == image).all():  # a grey file stays one channel
            image = image[..., 0]
        figure, edges = side_by_side(image)
        save_image(output / f"{path.stem}_edges.png", edges)
        save_image(output / f"{path.stem}_side_by_side.png", figure)
        print(f"{path} -> {output / (path.stem + '_side_by_side.png')}")
    print(f"{len(paths)} images; edges and side-by-side figures in {output}/")
    return 0
