"""`keras-edges export`: a saved or built edge model as a SavedModel folder or a TFLite file."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_edges.cli.common import (
    DETECTOR_OPTIONS,
    check_operator,
    import_tensorflow_quietly,
    load_model,
)


def add_parser(commands) -> None:
    """Add the `export` subcommand to `commands` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "export",
        help="export an edge model as a TensorFlow SavedModel or TFLite file",
        description="Export a saved .keras model, or one built from --operator, for serving or\n"
        "phones. The exported model takes float32 (batch, height, width, channels) images\n"
        "of any size and needs neither Keras nor keras_edges to run.",
        epilog="examples:\n  keras-edges export learned.keras --format tflite -o edges.tflite\n"
        "  keras-edges export learned.keras --format savedmodel -o edges_savedmodel/\n"
        "  keras-edges export --operator scharr --normalize -o scharr.tflite",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "model",
        nargs="?",
        metavar="MODEL.keras",
        help="saved model (default: build one from --operator)",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        help="destination folder (savedmodel) or file (tflite, onnx)",
    )
    parser.add_argument(
        "--format",
        choices=("savedmodel", "tflite", "onnx"),
        help="default: tflite for a .tflite output, onnx for .onnx, else savedmodel",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier export (a SavedModel folder or TFLite file; nothing else)",
    )
    group = parser.add_argument_group(
        "options that build the model (without MODEL.keras)"
    )
    # default None, so that a given option is known (the help states the default)
    for flag in _BUILD_FLAGS:
        group.add_argument(flag, **{**DETECTOR_OPTIONS[flag], "default": None})
    parser.set_defaults(run=run, parser=parser)


_BUILD_FLAGS = ("--operator", "--ksize", "--padding", "--magnitude", "--normalize")


def _build_options(args, parser) -> dict:
    """The options that build a model, by keyword; with MODEL.keras any is a usage error."""
    given = {
        flag: getattr(args, flag[2:])
        for flag in _BUILD_FLAGS
        if getattr(args, flag[2:]) is not None
    }
    if args.model and given:
        parser.error(
            f"{', '.join(given)}: {'builds' if len(given) == 1 else 'build'} a model "
            f"from an operator, but {args.model!r} is already a model: give one or the other"
        )
    defaults = {flag: DETECTOR_OPTIONS[flag]["default"] for flag in _BUILD_FLAGS}
    return {flag[2:]: value for flag, value in {**defaults, **given}.items()}


def run(args, parser) -> int:
    """Run `keras-edges export`; returns the exit code."""
    output = Path(args.output)
    suffix = output.suffix.lower()
    fmt = args.format or {".tflite": "tflite", ".onnx": "onnx"}.get(
        suffix, "savedmodel"
    )
    from keras_edges.export import _check_target

    try:  # only an earlier export is ever replaced, and only with --overwrite
        _check_target(output, overwrite=args.overwrite)
    except (FileExistsError, FileNotFoundError) as error:
        parser.error(str(error))
    options = _build_options(args, parser)
    import_tensorflow_quietly()
    if args.model:
        model = load_model(args.model, parser)
    else:
        check_operator(parser, options["operator"], options["ksize"])
        from keras_edges.models import build_edge_model

        model = build_edge_model(options.pop("operator"), **options)
    from keras_edges.export import export_model

    export_model(model, output, format=fmt, overwrite=args.overwrite)
    print(f"exported {args.model or model.name} as {fmt} to {output}")
    return 0
