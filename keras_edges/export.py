"""Export edge models for deployment: a TensorFlow SavedModel, a TFLite flatbuffer or ONNX.

TensorFlow is imported when a model is exported, so that the CLI checks its arguments
(`_check_target`) in a moment.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from keras_edges.io import atomic_path
from keras_edges.validation import check_choice

if TYPE_CHECKING:
    import keras

__all__ = ["EXPORT_FORMATS", "export_model"]

EXPORT_FORMATS = ("savedmodel", "tflite", "onnx")


def _export_onnx(model: keras.Model, path: Path) -> None:
    """Write `model` as ONNX (dynamic batch, height and width) that onnxruntime runs.

    The graph is frozen first (`convert_variables_to_constants_v2`), so tensors that
    layers hold outside their weights (Keras' `Normalization` keeps its mean and
    variance so) become constants instead of extra graph inputs; and dilated `SAME`
    convolutions get explicit pads, which onnxruntime needs for dilations above 1.
    """
    import onnx
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    spec = tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name="image")
    function = tf.function(lambda image: model(image, training=False))
    logger, level = tf.get_logger(), tf.get_logger().level
    logger.setLevel("ERROR")  # the freezing's deprecation notices are not the user's
    try:
        frozen = convert_variables_to_constants_v2(function.get_concrete_function(spec))
        graph, _ = tf2onnx.convert.from_graph_def(
            frozen.graph.as_graph_def(),
            input_names=[tensor.name for tensor in frozen.inputs],
            output_names=[tensor.name for tensor in frozen.outputs],
        )
    finally:
        logger.setLevel(level)
    shapes = {each.name: tuple(each.dims) for each in graph.graph.initializer}
    for node in graph.graph.node:
        attributes = {
            each.name: onnx.helper.get_attribute_value(each) for each in node.attribute
        }
        pad = attributes.get("auto_pad", b"NOTSET")
        dilations = attributes.get("dilations", [1, 1])
        if node.op_type != "Conv" or pad not in (b"SAME_UPPER", b"SAME_LOWER"):
            continue
        if max(dilations) == 1 or max(attributes.get("strides", [1, 1])) != 1:
            continue
        kernel = attributes.get("kernel_shape") or shapes[node.input[1]][2:]
        totals = [(k - 1) * d for k, d in zip(kernel, dilations)]
        before = [t // 2 if pad == b"SAME_UPPER" else t - t // 2 for t in totals]
        del node.attribute[:]
        for name, value in attributes.items():
            if name != "auto_pad":
                node.attribute.append(onnx.helper.make_attribute(name, value))
        pads = before + [t - b for t, b in zip(totals, before)]
        node.attribute.append(onnx.helper.make_attribute("pads", pads))
    onnx.save(graph, str(path))


def _as_model(model_or_path) -> keras.Model:
    """Return `model_or_path` as a Keras model, loading a `.keras` file in safe mode.

    A path is checked before TensorFlow is imported, so a bad one is reported at once.
    """
    if not isinstance(model_or_path, (str, os.PathLike)):
        import keras

        if isinstance(model_or_path, keras.Model):
            return model_or_path
        raise TypeError(
            "Invalid type for argument `model_or_path`. Expected a keras.Model or the path "
            f"of a .keras file. Received: model_or_path of type {type(model_or_path).__name__}"
        )
    path = Path(model_or_path)
    if not path.is_file():
        what = "not a regular file" if path.exists() else "no such file"
        raise FileNotFoundError(f"Cannot read model {str(path)!r}: {what}.")
    if path.suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ValueError(  # Keras itself would say "File not found"
            f"Cannot load model {str(path)!r}: not a complete .keras file (a zip "
            "archive); it may be truncated, or not a Keras model."
        )
    import keras

    import keras_edges.layers  # noqa: F401 - registers the layers the file names

    try:
        return keras.saving.load_model(path)
    except Exception as error:  # noqa: BLE001 - any failure means "not a loadable model"
        reason = (
            str(error).strip().splitlines()[0]
            if str(error).strip()
            else type(error).__name__
        )
        raise ValueError(f"Cannot load model {str(path)!r}: {reason}") from None


# What a SavedModel folder holds at its top level, and the identifier a TFLite
# flatbuffer carries at bytes 4..8: only such earlier exports are ever replaced.
_SAVEDMODEL_ENTRIES = frozenset(
    {
        "saved_model.pb",
        "saved_model.pbtxt",
        "variables",
        "assets",
        "fingerprint.pb",
        "keras_metadata.pb",
    }
)
_TFLITE_IDENTIFIER = b"TFL3"


def _is_earlier_export(path: Path) -> bool:
    """Whether `path` is a SavedModel folder, a TFLite or an ONNX file, and nothing else."""
    if path.is_symlink():
        return False
    try:
        if path.is_file():
            with path.open("rb") as stream:
                head = stream.read(8)
            onnx = path.suffix.lower() == ".onnx" and head[:1] == b"\x08"  # ir_version
            return head[4:] == _TFLITE_IDENTIFIER or onnx
        if not path.is_dir():
            return False
        names = {entry.name for entry in path.iterdir()}
        variables = path / "variables"
        return (
            "saved_model.pb" in names
            and names <= _SAVEDMODEL_ENTRIES
            and (
                not variables.exists()
                or all(v.name.startswith("variables.") for v in variables.iterdir())
            )
        )
    except OSError:  # unreadable: not known to be an export, so never replaced
        return False


def _check_target(path, *, overwrite: bool) -> Path:
    """Return `path` if an export may be written there, or raise saying why not.

    Raises:
        FileNotFoundError: If the parent folder of `path` does not exist.
        FileExistsError: If `path` exists and `overwrite` is False, or it exists and is
            not an earlier export (anything but a SavedModel folder or a TFLite file),
            or it is the working folder or one of its parents.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(
            f"Cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist."
        )
    here = Path.cwd().resolve()
    if path.resolve() in (here, *here.parents):
        raise FileExistsError(
            f"Cannot export to {str(path)!r}: it is the working folder or one of its "
            "parents; name a new file or folder."
        )
    if not (path.exists() or path.is_symlink()):
        return path
    if not _is_earlier_export(path):
        raise FileExistsError(
            f"Cannot export to {str(path)!r}: it exists and is not an earlier export (a "
            "SavedModel folder or a TFLite file), so it is never replaced; name a new "
            "file or folder."
        )
    if not overwrite:
        raise FileExistsError(
            f"Cannot export to {str(path)!r}: an earlier export is there; pass "
            "overwrite=True (--overwrite) to replace it."
        )
    return path


def export_model(
    model_or_path, path, *, format: str = "savedmodel", overwrite: bool = False
) -> Path:
    """Export an edge model as a TensorFlow SavedModel folder or a TFLite file.

    The exported graph takes float32 images `(batch, height, width, channels)` of any
    batch size, height and width (a TFLite interpreter sets them with
    `resize_tensor_input`) and returns the same edges as the Keras model (TFLite within
    float32 round-off). The SavedModel serves the signature `serve` (and
    `serving_default`) and needs neither Keras nor keras_edges to run.

    Nothing else is ever lost: with `overwrite=True`, only an earlier export at `path`
    (a SavedModel folder, recognised by holding only a SavedModel's files, or a TFLite
    file, recognised by its `TFL3` identifier) is replaced; any other file or folder,
    the working folder and its parents are refused. The new export is built in a
    temporary folder next to `path` and swapped in only when complete, so a failed or
    interrupted export leaves the earlier one as it was.

    Args:
        model_or_path: A `keras.Model` (e.g. from `build_edge_model`) or the path of a
            saved `.keras` model.
        path: Destination: a folder for `"savedmodel"`, a file (`.tflite`, `.onnx`)
            for `"tflite"` and `"onnx"`. Its parent folder must exist.
        format: `"savedmodel"`, `"tflite"` or `"onnx"` (tf2onnx on the model's frozen
            graph, which needs `pip install tf2onnx` and the TensorFlow backend; run
            the file with onnxruntime).
        overwrite: Replace an earlier export at `path` (never anything else).

    Returns:
        The path written, as a `pathlib.Path`.

    Raises:
        ValueError: If `format` is unknown or the model file cannot be loaded.
        TypeError: If `model_or_path` is neither a model nor a path.
        FileNotFoundError: If the model file or the parent folder of `path` is missing.
        FileExistsError: If `path` exists and is not an earlier export, or is one and
            `overwrite` is False, or `path` is the working folder or one of its parents.

    Example:
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "sobel.tflite"
    >>> export_model(build_edge_model("sobel"), target, format="tflite").name
    'sobel.tflite'
    >>> target.stat().st_size > 0
    True
    """
    check_choice("format", format, EXPORT_FORMATS)
    if format == "onnx":
        import keras

        if keras.backend.backend() != "tensorflow":
            raise ValueError(
                "Invalid value for argument `format` under the Keras backend "
                f"{keras.backend.backend()!r}. Expected 'savedmodel' or 'tflite' (ONNX "
                "export runs under KERAS_BACKEND=tensorflow). Received: format='onnx'"
            )
    path = _check_target(path, overwrite=overwrite)
    model = _as_model(model_or_path)
    if format == "onnx" and any(layer.name == "hysteresis" for layer in model.layers):
        raise ValueError(
            "Invalid value for argument `format` for a Canny model. Expected 'savedmodel' "
            "or 'tflite': its hysteresis labels components with segment max, which "
            "onnxruntime does not run. Received: format='onnx'"
        )
    with atomic_path(path, replace_folder=True) as temporary:  # checked: an export
        if format == "onnx":
            _export_onnx(model, temporary)
        elif format == "tflite":
            import tensorflow as tf

            saved = temporary.parent / ".savedmodel"  # inside the temporary folder
            model.export(str(saved), format="tf_saved_model", verbose=False)
            data = tf.lite.TFLiteConverter.from_saved_model(str(saved)).convert()
            temporary.write_bytes(data)
        else:
            model.export(str(temporary), format="tf_saved_model", verbose=False)
        _check_target(path, overwrite=overwrite)  # nothing else appeared meanwhile
    return path
