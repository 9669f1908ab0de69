"""Tests for exporting edge models (keras_edges.export)."""

import warnings

import numpy as np
import pytest
import tensorflow as tf

from keras_edges import (
    build_canny_model,
    build_edge_model,
    detect_edges,
    export_model,
    load_image,
)
from keras_edges.cli import main

from conftest import IMG


def run_tflite(path, batch: np.ndarray) -> np.ndarray:
    """Run a .tflite file on a float32 NHWC batch of any size with the TFLite interpreter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(model_path=str(path))
    (source,), (result,) = (
        interpreter.get_input_details(),
        interpreter.get_output_details(),
    )
    interpreter.resize_tensor_input(source["index"], batch.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], batch.astype(np.float32))
    interpreter.invoke()
    return interpreter.get_tensor(result["index"])


@pytest.fixture(scope="module")
def photo_batch() -> np.ndarray:
    """Two crops of the coins photo as a float32 batch in [0, 1], shape (2, 37, 53, 1)."""
    coins = load_image(IMG / "coins.png").astype(np.float32) / 255
    return np.stack([coins[:37, :53], coins[100:137, 50:103]])[..., None]


@pytest.mark.parametrize("operator", ["roberts", "farid"])
def test_other_operators_export_to_tflite(tmp_path, photo_batch, operator):
    """Roberts (2x2, uneven padding) and Farid export like Sobel: TFLite equals Keras."""
    model = build_edge_model(operator, magnitude="l2")
    target = export_model(model, tmp_path / "edges.tflite", format="tflite")
    expected = np.asarray(model(photo_batch))
    np.testing.assert_allclose(
        run_tflite(target, photo_batch), expected, rtol=1e-5, atol=1e-5
    )


def test_canny_exports_to_tflite_and_savedmodel(tmp_path, photo_batch):
    """The Canny model (with its hysteresis while_loop) exports; both formats give its edge map."""
    model = build_canny_model(sigma=1.0, low=0.05, high=0.15)
    expected = np.asarray(model(photo_batch)).astype(bool)
    assert expected.any() and not expected.all()
    tflite = export_model(model, tmp_path / "canny.tflite", format="tflite")
    np.testing.assert_array_equal(
        run_tflite(tflite, photo_batch).astype(bool), expected
    )
    saved = export_model(model, tmp_path / "canny_saved", format="savedmodel")
    loaded = tf.saved_model.load(str(saved))  # keep a reference: it owns the variables
    served = loaded.serve(tf.constant(photo_batch))
    np.testing.assert_array_equal(np.asarray(served).astype(bool), expected)


@pytest.mark.parametrize(
    "options",
    [
        dict(operator="sobel"),
        dict(operator="sobel", ksize=5, magnitude="l2", padding="symmetric"),
        dict(operator="scharr", padding="zeros", normalize=True),
        dict(operator="prewitt", padding="valid"),
        dict(operator="sobel", ksize=7, padding="replicate"),
    ],
)
def test_tflite_matches_keras_at_any_size(tmp_path, photo_batch, options):
    """The TFLite model gives the Keras model's output within float32 round-off, for two image sizes."""
    model = build_edge_model(**options)
    target = export_model(model, tmp_path / "edges.tflite", format="tflite")
    for batch in (photo_batch, photo_batch[:1, :20, :31]):
        expected = np.asarray(model(batch))
        # Round-off is relative to the largest response (Sobel 7x7 sums terms up to ~300).
        atol = 1e-5 * max(1.0, float(expected.max()))
        np.testing.assert_allclose(
            run_tflite(target, batch), expected, rtol=1e-5, atol=atol
        )


@pytest.mark.parametrize(
    "padding", ["reflect", "symmetric", "replicate", "zeros", "valid"]
)
def test_onnx_runs_in_onnxruntime_as_keras(tmp_path, photo_batch, padding):
    """The ONNX file (Keras' exporter) gives the model's output in onnxruntime, at two sizes."""
    import onnxruntime

    model = build_edge_model("sobel", ksize=5, magnitude="l2", padding=padding)
    target = export_model(model, tmp_path / "edges.onnx", format="onnx")
    session = onnxruntime.InferenceSession(str(target))
    name = session.get_inputs()[0].name
    for batch in (photo_batch, photo_batch[:1, :9, :64]):
        (result,) = session.run(None, {name: batch})
        expected = np.asarray(model(batch))
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-4)


def test_onnx_via_the_cli_and_canny_refused(tmp_path, photo_batch):
    """`keras-edges export m.keras -o m.onnx` runs in onnxruntime; a Canny model is refused."""
    import onnxruntime

    model = build_edge_model("prewitt", padding="symmetric", trainable=True)
    model.save(tmp_path / "edges.keras")
    target = tmp_path / "edges.onnx"
    assert main(["export", str(tmp_path / "edges.keras"), "-o", str(target)]) == 0
    session = onnxruntime.InferenceSession(str(target))
    (result,) = session.run(None, {session.get_inputs()[0].name: photo_batch})
    np.testing.assert_allclose(result, np.asarray(model(photo_batch)), atol=1e-5)
    with pytest.raises(ValueError, match="onnxruntime does not run"):
        export_model(build_canny_model(), tmp_path / "canny.onnx", format="onnx")
    assert not (tmp_path / "canny.onnx").exists()


def test_savedmodel_matches_keras_exactly(tmp_path, photo_batch):
    """The SavedModel's `serve` signature gives the Keras model's output for any size."""
    model = build_edge_model("sobel", magnitude="l2")
    target = export_model(model, tmp_path / "edges_savedmodel")
    served = tf.saved_model.load(str(target))
    for batch in (photo_batch, photo_batch[:1, :9, :64]):
        np.testing.assert_allclose(
            served.serve(tf.constant(batch)).numpy(),
            np.asarray(model(batch)),
            atol=1e-6,
        )
    assert {"serve", "serving_default"} <= set(served.signatures)


@pytest.mark.slow
def test_export_a_saved_keras_file_via_cli(tmp_path, photo_batch):
    """`keras-edges export learned.keras --format tflite` runs like detect_edges with that model."""
    model = build_edge_model("prewitt", trainable=True)
    model.get_layer("grad_x").set_weights(
        [model.get_layer("grad_x").get_weights()[0] * 1.5]
    )
    model.save(tmp_path / "learned.keras")
    target = tmp_path / "learned.tflite"
    assert (
        main(
            [
                "export",
                str(tmp_path / "learned.keras"),
                "--format",
                "tflite",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    np.testing.assert_allclose(
        run_tflite(target, photo_batch),
        detect_edges(photo_batch, model=model),
        atol=1e-5,
    )


def test_export_replaces_an_existing_savedmodel_atomically(tmp_path):
    """With overwrite, an earlier SavedModel is replaced and no temporary folder is left."""
    target = tmp_path / "model"
    export_model(build_edge_model("sobel"), target)
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        export_model(build_edge_model("scharr"), target)
    export_model(build_edge_model("scharr"), target, overwrite=True)
    served = tf.saved_model.load(str(target))
    step = np.zeros((1, 3, 4, 1), np.float32)
    step[:, :, 2:] = 1.0
    assert (
        float(served.serve(tf.constant(step)).numpy().max()) == 16.0
    )  # Scharr: 3 + 10 + 3
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_export_errors():
    """Bad format, bad object and missing files raise the documented exceptions."""
    model = build_edge_model()
    with pytest.raises(
        ValueError,
        match=r"Expected one of \['savedmodel', 'tflite', 'onnx'\]. Received: format='xla'",
    ):
        export_model(model, "x.onnx", format="xla")
    with pytest.raises(TypeError, match="Expected a keras.Model or the path"):
        export_model(42, "x.tflite")
    with pytest.raises(FileNotFoundError, match="no such file"):
        export_model("missing.keras", "x.tflite")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        export_model(model, "no/such/folder/x.tflite", format="tflite")


def test_unloadable_model_file_is_a_value_error(tmp_path):
    """A file that is not a Keras model gives a ValueError naming it."""
    (tmp_path / "bad.keras").write_text("nope")
    with pytest.raises(ValueError, match="Cannot load model"):
        export_model(tmp_path / "bad.keras", tmp_path / "x.tflite", format="tflite")


# --- nothing lost: what export replaces (issue 15) ---------------------------------


def _snapshot(root):
    """Every file under `root` (relative path -> bytes)."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize("format", ["savedmodel", "tflite"])
def test_export_never_replaces_a_folder_or_file_that_is_not_an_export(tmp_path, format):
    """A folder of photos, a SavedModel-like folder with extras, a non-TFLite file: all kept."""
    photos = tmp_path / "photos"
    (photos / "sub").mkdir(parents=True)
    (photos / "notes.txt").write_text("x")
    (photos / "sub" / "a.png").write_bytes(b"png")
    mixed = tmp_path / "mixed"  # a SavedModel plus the user's own file
    export_model(build_edge_model(), mixed)
    (mixed / "notes.txt").write_text("mine")
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"keep me")
    before = _snapshot(tmp_path)
    for target in (photos, mixed, fake):
        with pytest.raises(FileExistsError, match="is not an earlier export"):
            export_model(build_edge_model(), target, format=format, overwrite=True)
    assert _snapshot(tmp_path) == before


def test_export_refuses_the_working_folder_and_its_parents(tmp_path, monkeypatch):
    """`.`, `..` and the absolute working folder are refused and left untouched."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("x")
    monkeypatch.chdir(work)
    for target in (".", "", "..", work, tmp_path, "/"):
        with pytest.raises(
            FileExistsError, match="working folder or one of its parents"
        ):
            export_model(build_edge_model(), target, format="tflite", overwrite=True)
    assert _snapshot(tmp_path) == {"work/notes.txt": b"x"}


def test_export_replaces_one_kind_of_export_with_the_other(tmp_path, photo_batch):
    """With overwrite, a TFLite file may replace a SavedModel folder and back."""
    target = tmp_path / "model"
    export_model(build_edge_model("sobel"), target)
    export_model(build_edge_model("scharr"), target, format="tflite", overwrite=True)
    np.testing.assert_allclose(
        run_tflite(target, photo_batch),
        detect_edges(photo_batch, operator="scharr"),
        atol=1e-4,
    )
    export_model(build_edge_model("sobel"), target, overwrite=True)
    assert (target / "saved_model.pb").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


@pytest.mark.parametrize("format", ["savedmodel", "tflite"])
def test_failed_export_leaves_the_earlier_one_intact(tmp_path, monkeypatch, format):
    """If building the new export fails, the earlier export is unchanged and no temporaries remain."""
    import keras

    target = tmp_path / ("model.tflite" if format == "tflite" else "model")
    export_model(build_edge_model("sobel"), target, format=format)
    before = _snapshot(tmp_path)

    def fail(*args, **kwargs):
        raise RuntimeError("conversion failed")

    monkeypatch.setattr(keras.Model, "export", fail)
    with pytest.raises(RuntimeError, match="conversion failed"):
        export_model(build_edge_model("scharr"), target, format=format, overwrite=True)
    assert _snapshot(tmp_path) == before
