"""Regenerate the README's picture, `img/docs/demo_edges.png` (run once; the output is committed).

The photo, its Sobel edges contrast-stretched for display, Canny's edges and the learned
detector's boundaries (thinned with NMS), side by side with titles. Grey figures are stored as one-channel PNG to stay small (about 100 KB).
Usage: python img/docs/make_figure.py [IMAGE] [-o PNG] [--dpi DPI]  (from the repository root)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

DEFAULT_IMAGE = "img/camera.png"
DEFAULT_OUTPUT = "img/docs/demo_edges.png"


def make_figure(image, output, *, dpi: float = 72) -> Path:
    """Draw `image` next to its stretched Sobel edges, Canny's and the learned ones; save the PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from keras_edges import detect_edges, save_image, show_edges, stretch_contrast

    panels = {
        "Sobel (contrast-stretched)": stretch_contrast(
            detect_edges(image, normalize=True)
        ),
        "Canny": detect_edges(image, method="canny"),
        "learned (keras_edges weights)": detect_edges(
            image, method="learned", nms=True
        ),
    }
    figure = show_edges(image, panels, titles=["input", *panels])
    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    if (pixels[..., :1] == pixels).all():
        pixels = pixels[..., 0]
    return save_image(output, pixels)


def main(argv: list[str] | None = None) -> int:
    """Parse `argv`, write the figure, print its path and size; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python img/docs/make_figure.py",
        description="Write the README's demo picture.",
    )
    parser.add_argument(
        "image",
        nargs="?",
        default=DEFAULT_IMAGE,
        help=f"input photo (default: {DEFAULT_IMAGE})",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        help=f"PNG to write (default: {DEFAULT_OUTPUT})",
    )
    parser.add_argument(
        "--dpi", type=float, default=72, help="resolution (default: 72)"
    )
    args = parser.parse_args(argv)
    if not Path(args.image).is_file():
        parser.error(
            f"{args.image!r} is not a file (run from the repository root, or pass the image)"
        )
    path = make_figure(args.image, args.output, dpi=args.dpi)
    print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
