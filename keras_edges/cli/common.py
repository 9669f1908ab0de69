"""What several subcommands share: the detector options and loading a `--model`."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_edges.kernels import KERNELS, MAGNITUDES, PADDING_MODES, _check_operator


def add_detector_options(
    parser: argparse.ArgumentParser, *, threshold: bool = True
) -> None:
    """Add `--operator`, `--ksize`, `--padding`, `--magnitude`, `--normalize` (and `--threshold`)."""
    parser.add_argument(
        "--operator",
        default="sobel",
        choices=sorted(KERNELS),
        help="gradient operator (default: sobel)",
    )
    parser.add_argument(
        "--ksize",
        type=int,
        default=None,
        help="kernel size: 3, 5 or 7 for sobel (default: the operator's smallest)",
    )
    parser.add_argument(
        "--padding",
        default="reflect",
        choices=PADDING_MODES,
        help="border mode (default: reflect)",
    )
    parser.add_argument(
        "--magnitude",
        default="l1",
        choices=MAGNITUDES,
        help="|gx|+|gy| or sqrt(gx^2+gy^2)",
    )
    if threshold:
        parser.add_argument(
            "--threshold",
            type=float,
            help="write a binary map: edges >= THRESHOLD x full scale, in [0, 1]",
        )
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="scale edges by the operator's full scale",
    )


def check_operator(parser: argparse.ArgumentParser, operator: str, ksize) -> None:
    """A usage error unless `ksize` is one of `operator`'s sizes (None: its smallest)."""
    try:
        _check_operator(operator, ksize)
    except (ValueError, TypeError) as error:
        parser.error(str(error))


def load_model(name: str, parser: argparse.ArgumentParser):
    """Load `--model`; a missing or unreadable file is a usage error."""
    if not Path(name).is_file():
        parser.error(f"--model {name!r}: no such file")
    import keras

    import keras_edges.layers  # noqa: F401 - registers the layers the model refers to

    try:
        return keras.saving.load_model(name)
    except Exception as error:  # noqa: BLE001 - any failure means "not a usable model"
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        parser.error(f"--model {name!r} is not a loadable Keras model: {reason}")
