"""Tests for the model builder (keras_edges.models)."""

import json

import keras
import numpy as np
import pytest

import keras_edges  # noqa: F401 - registers the layers, as a user's import does
from keras_edges.kernels import KERNELS, get_kernels
from keras_edges.models import build_edge_model, build_sobel_model

pytestmark = pytest.mark.backends


@pytest.mark.parametrize("operator", sorted(KERNELS))
def test_two_bias_free_conv_layers_hold_the_table(operator):
    """The model has exactly two bias-free Conv2D layers holding the table's kernels."""
    model = build_edge_model(operator)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.name for layer in convs] == ["grad_x", "grad_y"]
    assert all(not layer.use_bias and len(layer.get_weights()) == 1 for layer in convs)
    kernel_x, kernel_y = get_kernels(operator)
    np.testing.assert_array_equal(model.get_layer("grad_x").get_weights()[0], kernel_x)
    np.testing.assert_array_equal(model.get_layer("grad_y").get_weights()[0], kernel_y)
    assert model.get_layer("magnitude").norm == "l1"
    assert model.name == f"{operator}_edges"


def test_layer_names_are_the_api():
    """The graph's layers are image, pad, grad_x, grad_y, magnitude, in that order."""
    assert [layer.name for layer in build_sobel_model().layers] == [
        "image",
        "pad",
        "grad_x",
        "grad_y",
        "magnitude",
    ]


@pytest.mark.parametrize("trainable, count", [(False, 0), (True, 2)])
def test_trainable_weight_count(trainable, count):
    """The fixed model has no trainable weights; the trainable one has the two kernels."""
    model = build_edge_model(trainable=trainable)
    assert len(model.trainable_weights) == count
    assert len(model.non_trainable_weights) == 2 - count


def test_sobel_shortcut_forwards_arguments():
    """build_sobel_model(**kwargs) is build_edge_model('sobel', **kwargs)."""
    model = build_sobel_model(ksize=7, magnitude="l2", padding="zeros")
    assert model.get_layer("grad_x").kernel.shape == (7, 7, 1, 1)
    assert model.get_layer("magnitude").norm == "l2"
    assert model.get_layer("pad").mode == "zeros" and model.get_layer(
        "pad"
    ).pad_width == ((3, 3), (3, 3))


@pytest.mark.parametrize("channels", [3, 4])
def test_multichannel_model_sees_the_channel_mean(channels):
    """A grey image repeated over C channels gives the one-channel model's output."""
    grey = np.random.default_rng(4).uniform(size=(1, 9, 11, 1)).astype("float32")
    expected = np.asarray(build_edge_model()(grey))
    output = np.asarray(
        build_edge_model(channels=channels)(np.repeat(grey, channels, axis=-1))
    )
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("operator", ["sobel", "farid"])
def test_rgb_model_agrees_with_detect_edges_luminance(operator):
    """One colour rule: build_edge_model(channels=3) on RGB gives detect_edges' edges."""
    from keras_edges import detect_edges

    rgb = np.random.default_rng(5).uniform(size=(2, 13, 17, 3)).astype("float32")
    expected = detect_edges(rgb, operator=operator)
    output = np.asarray(build_edge_model(operator, channels=3)(rgb))
    np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("magnitude", ["l1", "l2"])
def test_normalized_model_stays_in_unit_range(magnitude):
    """normalize=True keeps the response of [0, 1] images in [0, 1], reaching 1 on a worst case."""
    checker = (np.indices((16, 16)).sum(axis=0) % 2).astype("float32")[None, :, :, None]
    corner = np.zeros((1, 16, 16, 1), "float32")
    corner[:, 8:, 8:] = 1  # noqa: E702
    model = build_edge_model("sobel", normalize=True, magnitude=magnitude)
    for image in (
        checker,
        corner,
        np.random.default_rng(5).uniform(size=(1, 16, 16, 1)).astype("float32"),
    ):
        assert 0.0 <= float(np.asarray(model(image)).max()) <= 1.0 + 1e-6
    # The L1 worst case of Sobel is a diagonal corner: 6 before normalisation.
    diagonal = np.triu(np.ones((8, 8), "float32"))[None, :, :, None]
    if magnitude == "l1":
        assert float(np.asarray(model(diagonal)).max()) == pytest.approx(1.0, abs=1e-6)


def test_save_and_load_round_trip(tmp_path):
    """A saved .keras model loads in safe mode without custom_objects and gives identical output."""
    model = build_edge_model("scharr", padding="symmetric", magnitude="l2")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    image = np.random.default_rng(6).uniform(size=(2, 13, 17, 1)).astype("float32")
    np.testing.assert_array_equal(np.asarray(loaded(image)), np.asarray(model(image)))
    assert loaded.get_layer("pad").mode == "symmetric"


def test_model_config_round_trip():
    """Model get_config -> from_config rebuilds the same graph (JSON-equal config)."""
    model = build_edge_model("prewitt", padding="replicate")
    clone = keras.Model.from_config(model.get_config())
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(
        model.get_config(), sort_keys=True
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(operator="laplace"),
            r"`operator`. Expected one of \['diff', 'farid', 'prewitt', 'roberts', 'scharr', 'sobel'\]. Received: operator='laplace'",
        ),
        (
            dict(padding="same"),
            r"`padding`. Expected one of \['reflect', 'symmetric', 'replicate', 'zeros', 'valid'\]. Received: padding='same'",
        ),
        (
            dict(magnitude="linf"),
            r"`magnitude`. Expected one of \['l1', 'l2'\]. Received: magnitude='linf'",
        ),
        (
            dict(ksize=6),
            r"`ksize` with operator='sobel'. Expected one of \[3, 5, 7\]. Received: ksize=6",
        ),
    ],
)
def test_bad_builder_arguments(kwargs, message):
    """Unknown options fail before any layer is built, naming the argument and the choices."""
    with pytest.raises(ValueError, match=message):
        build_edge_model(**kwargs)


def _to_first(array):
    return np.ascontiguousarray(np.moveaxis(array, -1, 1))


@pytest.mark.parametrize(
    "build, options",
    [
        (build_edge_model, dict(operator="sobel")),
        (build_edge_model, dict(operator="roberts", padding="zeros", channels=3)),
        (build_edge_model, dict(operator="farid", magnitude="l2", output="gradients")),
        (
            build_edge_model,
            dict(operator="scharr", padding="valid", output="orientation"),
        ),
        ("canny", dict(sigma=1.4, low=0.5, high=0.8, use_quantiles=True)),
        (
            "canny",
            dict(operator="prewitt", interpolate=False, low=20.0, high=60.0, sigma=0.0),
        ),
    ],
)
def test_channels_first_equals_channels_last(build, options):
    """data_format='channels_first' computes the channels_last output on NCHW.

    Bit for bit where the arithmetic is exact (integer kernels on integer pixels, and
    the edge maps), else to float32 tolerance: a backend may run NCHW and NHWC
    convolutions with different summation orders (PyTorch does).
    """
    from keras_edges import build_canny_model

    build = build_canny_model if build == "canny" else build
    channels = options.get("channels", 1)
    rng = np.random.default_rng(9)
    images = rng.integers(0, 256, (2, 19, 23, channels)).astype("float32")
    last = build(data_format="channels_last", **options)
    first = build(data_format="channels_first", **options)
    assert first.input_shape == (None, channels, None, None)
    expected = _to_first(np.asarray(last(images)))
    output = np.asarray(first(_to_first(images)))
    if output.dtype == np.bool_ or options["operator"] in ("sobel", "roberts"):
        np.testing.assert_array_equal(output, expected)
    else:
        np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-3)


def test_channels_first_model_in_detect_edges_and_saved(tmp_path):
    """detect_edges runs a channels_first model on NHWC images as the channels_last one; it saves and loads."""
    from keras_edges import detect_edges

    model = build_edge_model("sobel", channels=3, data_format="channels_first")
    model.save(tmp_path / "first.keras")
    loaded = keras.saving.load_model(tmp_path / "first.keras", safe_mode=True)
    assert loaded.get_layer("pad").data_format == "channels_first"
    image = np.random.default_rng(10).integers(0, 256, (2, 14, 17, 3), np.uint8)
    expected = detect_edges(image, model=build_edge_model("sobel", channels=3))
    for engine in ("fast", "model"):
        np.testing.assert_array_equal(
            detect_edges(image, model=loaded, engine=engine), expected
        )


def test_default_data_format_follows_keras_config(monkeypatch):
    """data_format=None is keras.config.image_data_format(); a bad one is named."""
    monkeypatch.setattr(keras.config, "image_data_format", lambda: "channels_first")
    assert build_edge_model().input_shape == (None, 1, None, None)
    with pytest.raises(
        ValueError,
        match=r"`data_format`. Expected one of \['channels_last', 'channels_first'\]. Received: data_format='nchw'",
    ):
        build_edge_model(data_format="nchw")


@pytest.mark.parametrize("output", ["gradients", "orientation"])
def test_output_head_called_on_an_array_does_not_warn(output):
    """The gradients/orientation model takes one array without an input-structure warning."""
    import warnings

    model = build_edge_model(output=output)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = np.asarray(model(np.zeros((1, 5, 6, 1), "float32")))
    assert result.shape == (1, 5, 6, 2 if output == "gradients" else 1)
