"""What several subcommands share: detector options, loading `--model`, a quiet TensorFlow."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile

from keras_edges.kernels import KERNELS, MAGNITUDES, PADDING_MODES, operator_kernels

# TensorFlow's C++ log lines ("I0000 00:00:17... port.cc:153] ...") and absl's notice
# before its logging is set up, which TF_CPP_MIN_LOG_LEVEL does not reach.
_TF_LOG_LINE = re.compile(
    r"[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\] |WARNING: All log messages before absl::"
)


def tensorflow_logs_wanted() -> bool:
    """Whether the user asked for TensorFlow's own logging (`KERAS_EDGES_TF_LOGS=1`)."""
    return os.environ.get("KERAS_EDGES_TF_LOGS", "0") not in ("", "0")


def silence_tensorflow_logs() -> None:
    """Set `TF_CPP_MIN_LOG_LEVEL=3` before TensorFlow loads, unless its logs are wanted.

    The value is overridden, not defaulted: a parent process that imported TensorFlow
    (a notebook's `!keras-edges ...`, a script's `subprocess.run`) has set it to 1 in
    the environment the command inherits. `KERAS_EDGES_TF_LOGS=1` leaves it as it is.
    """
    if not tensorflow_logs_wanted():
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"


def import_tensorflow_quietly() -> None:
    """Import TensorFlow without its start-up lines on stderr; anything else is kept.

    `TF_CPP_MIN_LOG_LEVEL=3` silences TensorFlow's C++ logging, and the lines written
    to file descriptor 2 while TensorFlow loads (before that setting is read) are
    captured; those that are not TensorFlow's log lines are written back. With
    `KERAS_EDGES_TF_LOGS=1`, TensorFlow is imported as it is, its logs untouched.
    """
    silence_tensorflow_logs()
    if "tensorflow" in sys.modules:
        return
    if tensorflow_logs_wanted():
        import tensorflow  # noqa: F401

        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if not _TF_LOG_LINE.match(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


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
        operator_kernels(operator, ksize)
    except (ValueError, TypeError) as error:
        parser.error(str(error))


def load_model(name: str, parser: argparse.ArgumentParser):
    """Load `--model` and check that it is an edge model; if not, a usage error."""
    from keras_edges.export import _as_model

    import_tensorflow_quietly()

    try:
        model = _as_model(name)
        from keras_edges.detect import _check_model

        _check_model(model)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--model: {error}")
    return model


def scales_option(text: str) -> tuple[float, ...]:
    """Parse `--scales 0.5,1,1.5` (the learned detector's multi-scale testing)."""
    from keras_edges.validation import check_scales

    try:
        return check_scales("--scales", text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated scale factors in [0.1, 4], e.g. 0.5,1,1.5; got {text!r}"
        ) from None


def add_scales_option(parser: argparse.ArgumentParser) -> None:
    """Add `--scales` (the learned detector's multi-scale testing)."""
    parser.add_argument(
        "--scales",
        type=scales_option,
        default=(1.0,),
        metavar="S[,S...]",
        help="--method learned: average over these scales, e.g. 0.5,1,1.5 (default: 1)",
    )
