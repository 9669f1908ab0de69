"""`keras-edges`: a thin command line over the library, one module per subcommand.

Each subcommand module (`detect`, `export`, `demo`, `train`, `evaluate`) owns its parser
(`add_parser`) and its runner (`run`) and imports TensorFlow only inside `run`, so
`keras-edges --help` answers at once.
"""

from __future__ import annotations

import argparse
import os

from keras_edges import __version__
from keras_edges.cli import demo, detect, evaluate, export, train

__all__ = ["build_parser", "main"]

EPILOG = """examples:
  keras-edges detect img/camera.png -o edges/
  keras-edges detect photos/ -o edges/ --operator scharr --threshold 0.25
  keras-edges detect 'scans/**/*.tif' --recursive -o edges/ --format npy --shard 2/8
  keras-edges export learned.keras --format tflite -o edges.tflite
  keras-edges demo -o out/
  keras-edges train --synthetic 2000 --epochs 5 -o learned.keras
  keras-edges evaluate --synthetic 50 --operator sobel --plot pr.png
"""

SUBCOMMANDS = (detect, export, demo, train, evaluate)


def build_parser() -> argparse.ArgumentParser:
    """Build the `keras-edges` argument parser."""
    parser = argparse.ArgumentParser(
        prog="keras-edges",
        description="Edge detection with Keras models.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `keras-edges` with `argv` (default: `sys.argv[1:]`); return the exit code."""
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    return args.run(args, args.parser)
