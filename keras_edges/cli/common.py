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


def scales_option(text: str) -> tuple[float, ...]:
    """Parse `--scales 0.5,1,1.5` (the learned detector's multi-scale testing)."""
    from keras_edges.validation import check_scales

    try:
        return check_scales("--scales", text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated scale factors in [0.1, 4], e.g. 0.5,1,1.5; got {text!r}"
        ) from None


# The detector options of the command line, defined once: the per-method functions'
# options (`gradient_edges`, `canny_edges`, `learned_boundaries`) with their defaults.
DETECTOR_OPTIONS = {
    "--operator": dict(
        default="sobel",
        choices=sorted(KERNELS),
        help="gradient operator (default: sobel)",
    ),
    "--ksize": dict(
        type=int,
        default=None,
        help="kernel size: 3, 5 or 7 for sobel (default: the operator's smallest)",
    ),
    "--padding": dict(
        default="reflect", choices=PADDING_MODES, help="border mode (default: reflect)"
    ),
    "--magnitude": dict(
        default="l1",
        choices=MAGNITUDES,
        help="|gx|+|gy| or sqrt(gx^2+gy^2) (default: l1; l2 for canny)",
    ),
    "--threshold": dict(
        type=float,
        default=None,
        help="write a binary map: edges >= THRESHOLD x full scale, in [0, 1] (learned: "
        "a probability)",
    ),
    "--normalize": dict(
        action="store_true",
        default=False,
        help="scale edges by the operator's full scale",
    ),
    "--sigma": dict(
        type=float, default=1.0, help="Canny's Gaussian sigma (default: 1.0)"
    ),
    "--colour": dict(
        choices=("luminance", "max", "di_zenzo"),
        default="luminance",
        help="colour edges: luminance (default), the largest channel gradient (max) "
        "or the channels' structure tensor (di_zenzo)",
    ),
    "--mask": dict(
        metavar="MASK",
        default=None,
        help="an image file, non-zero inside: edges only inside it, eroded by one pixel "
        "as scikit-image (every input must have its size)",
    ),
    "--nms": dict(
        action="store_true", default=False, help="thin the map to one-pixel ridges"
    ),
    "--scales": dict(
        type=scales_option,
        default=(1.0,),
        metavar="S[,S...]",
        help="average the learned detector's maps over these scales, e.g. 0.5,1,1.5 "
        "(default: 1)",
    ),
    "--flip": dict(
        action="store_true",
        default=False,
        help="also run the mirrored image and average the two maps (twice the time)",
    ),
    "--model-version": dict(
        dest="version",
        metavar="VERSION",
        help="the learned detector's shipped weights by version, e.g. v1 (default: the "
        "default version; see keras_edges.models.BOUNDARY_VERSIONS)",
    ),
}


def add_method_options(
    parser: argparse.ArgumentParser, methods: dict[str, tuple[str, ...]], **extra
) -> None:
    """Add the options of every method, grouped in `--help` by the methods that take them.

    `methods` maps each `--method` to its options' flags; `extra` maps a flag missing
    from `DETECTOR_OPTIONS` (e.g. `--model`, `--scales`) to its `add_argument` keywords.
    Every default is None (the help text states the real one), so that
    `method_options` can tell an option the user gave from one left out.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for flags in methods.values():
        for flag in flags:
            takers = tuple(method for method in methods if flag in methods[method])
            if flag not in groups.setdefault(takers, []):
                groups[takers].append(flag)
    for takers, flags in groups.items():
        names = " and ".join(takers)
        group = parser.add_argument_group(f"options of --method {names}")
        for flag in flags:
            spec = dict(extra[flag] if flag in extra else DETECTOR_OPTIONS[flag])
            group.add_argument(flag, **{**spec, "default": None})


def method_options(
    parser: argparse.ArgumentParser,
    args,
    methods: dict[str, tuple[str, ...]],
    method: str,
) -> dict:
    """The options of `method` that the user gave, by keyword; a foreign one is a usage error.

    An option that `method` does not take (e.g. `--sigma` with `--method gradient`)
    is refused, naming the methods that take it, rather than ignored.
    """
    flags = dict.fromkeys(flag for flags in methods.values() for flag in flags)
    given = {
        flag: getattr(args, _dest(flag))
        for flag in flags
        if getattr(args, _dest(flag)) is not None
    }
    foreign = [flag for flag in given if flag not in methods[method]]
    if foreign:
        reasons = [
            f"{flag} is an option of --method "
            + " and ".join(method for method in methods if flag in methods[method])
            for flag in foreign
        ]
        parser.error(
            f"{', '.join(foreign)}: not {'an option' if len(foreign) == 1 else 'options'} "
            f"of --method {method} ({'; '.join(reasons)})"
        )
    if "--model-version" in given:
        import_tensorflow_quietly()  # the models import Keras
        from keras_edges.models import BOUNDARY_VERSIONS

        if given["--model-version"] not in BOUNDARY_VERSIONS:
            parser.error(
                f"--model-version must be one of {', '.join(BOUNDARY_VERSIONS)}, got "
                f"{given['--model-version']!r}"
            )
        if getattr(args, "model", None):
            parser.error(
                "--model and --model-version both choose the learned detector; give one"
            )
    return {_dest(flag): value for flag, value in given.items()}


def _dest(flag: str) -> str:
    """The keyword (and `args` attribute) of an option flag: `--low` -> `low`."""
    return DETECTOR_OPTIONS.get(flag, {}).get("dest", flag[2:].replace("-", "_"))


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
        from keras_edges.methods._common import _check_model

        _check_model(model)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--model: {error}")
    return model
