"""`keras-edges`: a thin command line over the library, one module per subcommand.

Each subcommand module (`detect`, `export`, `demo`, `train`, `evaluate`) owns its parser
(`add_parser`) and its runner (`run`) and imports TensorFlow only inside `run`, so
`keras-edges --help` answers at once. A usage error exits with 2 and one line; any other
error with 1 and one line naming the input and the error (`--debug`, or the environment
variable `KERAS_EDGES_DEBUG=1`, shows the traceback instead). TensorFlow's C++ logs are
silenced, whatever `TF_CPP_MIN_LOG_LEVEL` the parent process left; `KERAS_EDGES_TF_LOGS=1`
shows them.
"""

from __future__ import annotations

import argparse
import os
import sys

from keras_edges import __version__
from keras_edges.cli import demo, detect, evaluate, export, learn, train
from keras_edges.cli.common import silence_tensorflow_logs

__all__ = ["build_parser", "main"]

EPILOG = """examples:
  keras-edges detect img/camera.png -o edges/
  keras-edges detect photos/ -o edges/ --operator scharr --threshold 0.25
  keras-edges detect 'scans/**/*.tif' --recursive -o edges/ --format npy --shard 2/8
  keras-edges export learned.keras --format tflite -o edges.tflite
  keras-edges demo -o out/
  keras-edges train --synthetic 2000 --epochs 5 -o learned.keras
  keras-edges learn --bsds /data/BSDS500 -o runs/bsds
  keras-edges finetune my_pairs/ -o runs/mine
  keras-edges evaluate --synthetic 50 --operator sobel --plot pr.png

environment:
  KERAS_EDGES_DEBUG=1    show the traceback of an unexpected error (as --debug)
  KERAS_EDGES_TF_LOGS=1  show TensorFlow's C++ logs (silenced otherwise)
"""

SUBCOMMANDS = (detect, export, demo, train, learn, evaluate)


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
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an unexpected error (or set KERAS_EDGES_DEBUG=1)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for subcommand in SUBCOMMANDS:
        subcommand.add_parser(commands)
    return parser


def _join_shard(argv: list[str]) -> list[str]:
    """Read `--shard -1/2` as `--shard=-1/2`, so that it gets the K/N message."""
    joined = []
    for token in argv:
        if (
            joined
            and joined[-1] == "--shard"
            and token[:1] == "-"
            and token[1:2].isdigit()
        ):
            joined[-1] = f"--shard={token}"
        else:
            joined.append(token)
    return joined


def _input_of(args) -> str:
    """What the subcommand was working on, for a one-line error message."""
    for name in ("inputs", "images", "pairs", "bsds", "model"):
        value = getattr(args, name, None)
        if value:
            return " ".join(value) if isinstance(value, list) else str(value)
    if getattr(args, "synthetic", None) is not None:
        return f"{args.synthetic} synthetic images"
    return f"--operator {getattr(args, 'operator', None) or 'sobel'}"


def main(argv: list[str] | None = None) -> int:
    """Run `keras-edges` with `argv` (default: `sys.argv[1:]`); return the exit code."""
    parser = build_parser()
    args, pipeline_args = parser.parse_known_args(
        _join_shard(sys.argv[1:] if argv is None else argv)
    )
    if pipeline_args and not getattr(args, "runner", None):
        parser.error(f"unrecognized arguments: {' '.join(pipeline_args)}")
    args.pipeline_args = pipeline_args  # Beam's flags, for `detect --runner NAME`
    debug = args.debug or os.environ.get("KERAS_EDGES_DEBUG", "0") not in ("", "0")
    silence_tensorflow_logs()  # before TensorFlow loads
    try:
        return args.run(args, args.parser)
    except Exception as error:
        if debug:
            raise
        reason = (str(error).strip().splitlines() or [""])[0]
        print(
            f"keras-edges {args.command}: failed on {_input_of(args)}: "
            f"{type(error).__name__}: {reason} (--debug shows the traceback)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"keras-edges {args.command}: interrupted", file=sys.stderr)
        return 130
