"""Tests for the registered layers (keras_edges.layers)."""

import json

import keras
import numpy as np
import pytest
import scipy.ndimage

from keras_edges.kernels import PADDING_MODES
from keras_edges.layers import (
    BorderPadding,
    GaussianBlur,
    GradientMagnitude,
    GradientOrientation,
    Hysteresis,
    NonMaxSuppression,
)

from conftest import gradient

pytestmark = pytest.mark.backends

# BorderPadding mode -> numpy.pad mode.
NUMPY_PAD = {
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "zeros": "constant",
}


@pytest.mark.parametrize("mode", sorted(NUMPY_PAD))
@pytest.mark.parametrize("shape", [(1, 5, 7, 1), (2, 4, 3, 3)])
@pytest.mark.parametrize("pad_width", [1, ((2, 1), (0, 3))])
def test_padding_matches_numpy(mode, shape, pad_width):
    """Each border mode pads exactly as numpy.pad does."""
    image = np.random.default_rng(1).normal(size=shape).astype("float32")
    pads = ((1, 1), (1, 1)) if pad_width == 1 else pad_width
    expected = np.pad(image, ((0, 0), *pads, (0, 0)), mode=NUMPY_PAD[mode])
    np.testing.assert_array_equal(
        np.asarray(BorderPadding(pad_width, mode=mode)(image)), expected
    )


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "replicate"])
def test_padding_wider_than_the_image(mode):
    """Padding wider than the image repeats the mirror pattern instead of failing (tf.pad would)."""
    row = np.array([1.0, 2.0], "float32").reshape(1, 1, 2, 1)
    padded = np.asarray(BorderPadding(((0, 0), (3, 3)), mode=mode)(row))[0, 0, :, 0]
    expected = np.pad(row[0, 0, :, 0], 3, mode=NUMPY_PAD[mode])
    np.testing.assert_array_equal(padded, expected)


def test_reflect_padding_of_a_single_pixel():
    """A 1x1 image under reflect padding repeats its only pixel."""
    padded = np.asarray(BorderPadding(2)(np.full((1, 1, 1, 1), 7.0)))
    np.testing.assert_array_equal(padded, np.full((1, 5, 5, 1), 7.0))


def test_valid_mode_is_identity():
    """mode='valid' leaves the tensor unchanged."""
    image = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
    np.testing.assert_array_equal(
        np.asarray(BorderPadding(1, mode="valid")(image)), image
    )
    assert BorderPadding(1, mode="valid").compute_output_shape((None, 3, 4, 1)) == (
        None,
        3,
        4,
        1,
    )


def test_padding_output_shape():
    """compute_output_shape adds the pad widths and keeps unknown sizes unknown."""
    layer = BorderPadding(((1, 2), (3, 4)))
    assert layer.compute_output_shape((2, 10, 20, 1)) == (2, 13, 27, 1)
    assert layer.compute_output_shape((None, None, None, 1)) == (None, None, None, 1)


def test_magnitude_values():
    """L1 is |gx| + |gy| and L2 is sqrt(gx^2 + gy^2), elementwise."""
    rng = np.random.default_rng(2)
    grad_x, grad_y = rng.normal(size=(2, 2, 5, 5, 1)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(GradientMagnitude()([grad_x, grad_y])),
        np.abs(grad_x) + np.abs(grad_y),
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        np.asarray(GradientMagnitude(norm="l2")([grad_x, grad_y])),
        np.hypot(grad_x, grad_y),
        rtol=1e-6,
    )


def test_l2_gradient_is_finite_at_zero():
    """The L2 magnitude's gradient is finite (zero) where both gradients are zero."""
    layer = GradientMagnitude(norm="l2")
    d_x, d_y = gradient(
        lambda x, y: layer([x, y]),
        np.array([0.0, 3.0], "float32").reshape(1, 1, 2, 1),
        np.array([0.0, 4.0], "float32").reshape(1, 1, 2, 1),
    )
    np.testing.assert_allclose(d_x.ravel(), [0.0, 0.6], atol=1e-6)
    np.testing.assert_allclose(d_y.ravel(), [0.0, 0.8], atol=1e-6)


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_magnitude_gradient_matches_finite_differences(norm):
    """The backend's gradient agrees with central differences away from zero.

    float32 on every backend (JAX computes in float32 unless x64 is enabled): the step
    h = 1e-2 keeps truncation (~h**2) and rounding (~1e-7 / h) errors below 1e-4.
    """
    layer = GradientMagnitude(norm=norm)
    rng = np.random.default_rng(3)
    grad_x, grad_y = (
        rng.uniform(0.5, 2.0, size=(2, 1, 3, 3, 1))
        * rng.choice([-1, 1], size=(2, 1, 3, 3, 1))
    ).astype("float32")
    (analytic,) = gradient(lambda x: layer([x, grad_y]), grad_x)
    step = np.float32(1e-2)
    forward = np.asarray(layer([grad_x + step, grad_y]), "float64")
    backward = np.asarray(layer([grad_x - step, grad_y]), "float64")
    np.testing.assert_allclose(analytic, (forward - backward) / (2 * step), atol=1e-4)


@pytest.mark.parametrize(
    "layer",
    [
        BorderPadding(((1, 2), (0, 3)), mode="symmetric"),
        BorderPadding(2, mode="zeros"),
        GradientMagnitude(norm="l2"),
    ],
)
def test_config_round_trip(layer):
    """get_config -> from_config gives a layer with a JSON-equal config."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(
        config, sort_keys=True
    )


def test_layers_are_registered():
    """Layers are registered under the package name, so safe-mode loading finds them."""
    assert (
        keras.saving.get_registered_name(BorderPadding) == "keras_edges>BorderPadding"
    )
    assert (
        keras.saving.get_registered_name(GradientMagnitude)
        == "keras_edges>GradientMagnitude"
    )
    assert (
        keras.saving.get_registered_object("keras_edges>BorderPadding") is BorderPadding
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: BorderPadding(1, mode="wrap"),
            r"`mode`. Expected one of \['reflect', 'symmetric', 'replicate', 'zeros', 'valid'\]. Received: mode='wrap'",
        ),
        (lambda: BorderPadding(-1), r"`pad_width`. Expected a non-negative int"),
        (lambda: BorderPadding(((1, 2, 3), (0, 0))), r"`pad_width`"),
        (
            lambda: GradientMagnitude(norm="max"),
            r"`norm`. Expected one of \['l1', 'l2'\]. Received: norm='max'",
        ),
    ],
)
def test_bad_layer_arguments(make, message):
    """Bad layer arguments fail at construction with the standard message."""
    with pytest.raises(ValueError, match=message):
        make()


def test_padding_modes_match_scipy_names():
    """Every padding mode except 'valid' has a scipy.ndimage counterpart (documented mapping)."""
    scipy_modes = {
        "reflect": "mirror",
        "symmetric": "reflect",
        "replicate": "nearest",
        "zeros": "constant",
    }
    assert set(scipy_modes) | {"valid"} == set(PADDING_MODES)
    signal = np.array([1.0, 2.0, 4.0])
    for mode, scipy_mode in scipy_modes.items():
        padded = np.asarray(
            BorderPadding(((0, 0), (1, 1)), mode=mode)(signal.reshape(1, 1, 3, 1))
        )[0, 0, :, 0]
        # correlating with [1, 0, 0] reads the left neighbour, i.e. the padded value at the left
        left = scipy.ndimage.correlate1d(signal, [1.0, 0.0, 0.0], mode=scipy_mode)
        np.testing.assert_array_equal(padded[:3], left)


def test_zero_sum_constraint_projects_and_serializes():
    """ZeroSum removes each slice's mean, is idempotent, and round-trips by registered name."""
    from keras_edges.layers import ZeroSum

    kernel = np.random.default_rng(0).normal(size=(3, 3, 2, 1)).astype("float32")
    projected = np.asarray(ZeroSum()(kernel))
    np.testing.assert_allclose(projected.sum(axis=(0, 1)), 0.0, atol=1e-6)
    np.testing.assert_allclose(
        projected - kernel,
        np.broadcast_to(-kernel.mean(axis=(0, 1)), kernel.shape),
        atol=1e-6,
    )
    np.testing.assert_allclose(np.asarray(ZeroSum()(projected)), projected, atol=1e-6)
    config = keras.saving.serialize_keras_object(ZeroSum())
    assert config["registered_name"] == "keras_edges>ZeroSum"
    assert isinstance(
        keras.saving.deserialize_keras_object(config, safe_mode=True), ZeroSum
    )


def test_orientation_of_a_leftward_gradient_is_plus_pi():
    """A gradient pointing left gives +pi whatever the sign of its zero y: angles lie in (-pi, pi]."""
    from keras_edges.layers import GradientOrientation

    grad_x = np.full((1, 1, 2, 1), -2.0, "float32")
    grad_y = np.array([0.0, -0.0], "float32").reshape(1, 1, 2, 1)
    angles = np.asarray(GradientOrientation()([grad_x, grad_y])).ravel()
    np.testing.assert_array_equal(angles, np.float32(np.pi))


@pytest.mark.parametrize(
    "make",
    [
        lambda f: BorderPadding(((2, 1), (0, 3)), mode="symmetric", data_format=f),
        lambda f: BorderPadding(2, mode="zeros", data_format=f),
    ],
)
def test_channels_first_padding_equals_channels_last(make):
    """BorderPadding pads NCHW as it pads NHWC, bit for bit."""
    image = np.random.default_rng(11).normal(size=(2, 5, 6, 3)).astype("float32")
    expected = np.moveaxis(np.asarray(make("channels_last")(image)), -1, 1)
    layer = make("channels_first")
    output = np.asarray(layer(np.moveaxis(image, -1, 1)))
    np.testing.assert_array_equal(output, expected)
    assert layer.compute_output_shape((None, 3, 5, 6)) == (None, *expected.shape[1:])


@pytest.mark.parametrize(
    "make, inputs",
    [
        (lambda: BorderPadding(1), 1),
        (lambda: GradientMagnitude(), 2),
        (lambda: GradientOrientation(), 2),
        (lambda: GaussianBlur(1.0), 1),
        (lambda: NonMaxSuppression(), 3),
        (lambda: Hysteresis(0.1, 0.2), 2),
    ],
)
def test_every_layer_requires_rank_4(make, inputs):
    """An (H, W, C) tensor, missing its batch axis, is rejected instead of padded wrongly."""
    image = np.zeros((9, 9, 1), "float32")
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        make()(image if inputs == 1 else [image] * inputs)


# Its pixel tolerance is TensorFlow's float16 rounding: JAX's convolutions differ by 5
# edge pixels and PyTorch's by 7, not <= 4 (float32 agrees: tests/test_backends.py).
@pytest.mark.backends("tensorflow")
def _float16_undecidable(model, image, tolerance):
    """Pixels whose Canny decision float16 cannot make: candidate edge pixels whose
    magnitude is within `tolerance` of a neighbour along the gradient (either of the
    two nearest of the four directions) or of a hysteresis threshold."""
    names = ("grad_x", "grad_y", "magnitude")
    outputs = keras.Model(model.input, [model.get_layer(n).output for n in names])(
        image
    )
    grad_x, grad_y, magnitude = (np.asarray(o, "float64")[0, :, :, 0] for o in outputs)
    config = model.get_layer("hysteresis").get_config()
    low, high = config["low"], config["high"]
    padded = np.pad(magnitude, 1, constant_values=-np.inf)
    height, width = magnitude.shape
    sector = np.arctan2(grad_y, grad_x) % np.pi / (np.pi / 4)  # 0: along x, 2: along y
    tie = np.zeros(magnitude.shape, bool)
    for k, (dy, dx) in enumerate([(0, 1), (1, 1), (1, 0), (1, -1)]):
        along = (abs(sector - k) < 1) | (abs(sector - k - 4) < 1)
        for sign in (1, -1):
            neighbour = padded[
                1 + sign * dy : 1 + sign * dy + height,
                1 + sign * dx : 1 + sign * dx + width,
            ]
            tie |= along & (abs(magnitude - neighbour) <= tolerance)
    threshold = (abs(magnitude - low) <= tolerance) | (
        abs(magnitude - high) <= tolerance
    )
    return (magnitude >= low - tolerance) & (tie | threshold)


def test_layers_follow_the_mixed_precision_policy():
    """Under mixed_float16 the blur computes in float16 and Canny's edges differ from
    float32's only where float16's precision cannot decide (on any CPU)."""
    from keras_edges import build_canny_model

    square = np.zeros((1, 24, 24, 1), "float32")
    square[:, 6:18, 6:18] = 1
    reference = build_canny_model()
    expected = np.asarray(reference(square))
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        blurred = GaussianBlur(1.0)(np.ones((1, 12, 12, 1), "float32"))
        model = build_canny_model()
        edges = np.asarray(model(square))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert (
        keras.backend.standardize_dtype(blurred.dtype) == "float16"
        and model.get_layer("blur").compute_dtype == "float16"
    )
    np.testing.assert_allclose(np.asarray(blurred, "float32"), 1.0, atol=1e-3)
    assert edges.dtype == bool and edges.shape == expected.shape
    # float16 keeps 11 significant bits: each rounding errs by at most 2**-11 of the
    # largest value summed, and blur, gradient, magnitude and the suppression's
    # interpolation round a few sums each: 16 roundings' worth, 2**-7 of the full scale.
    full_scale = np.asarray(
        keras.Model(reference.input, reference.get_layer("magnitude").output)(square)
    ).max()
    undecidable = _float16_undecidable(reference, square, 2.0**-7 * full_scale)
    different = expected[0, :, :, 0] != edges[0, :, :, 0]
    assert not (different & ~undecidable).any(), np.argwhere(different & ~undecidable)
    assert undecidable.sum() < 2 * expected.sum()  # the exception stays narrow
    near = lambda mask: scipy.ndimage.binary_dilation(mask[0, :, :, 0], np.ones((3, 3)))
    assert (near(expected) >= edges[0, :, :, 0]).all()  # float16 ties move by a pixel
    assert (near(edges) >= expected[0, :, :, 0]).all()
