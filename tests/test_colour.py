"""Colour edges: per-channel gradients (kornia), the largest channel, Di Zenzo's tensor.

kornia is not a dependency: its `spatial_gradient(image, mode="sobel",
normalized=False)` is written out here as scipy's correlation of every channel with
the Sobel kernels under `nearest` (kornia's `replicate` border), giving `(B, C, 2, H,
W)`; our `output="gradients"` gives every channel's grad_x then every channel's grad_y.
"""

import json

import keras
import numpy as np
import pytest
from scipy import ndimage

from keras_edges import detect_edges
from keras_edges.kernels import LUMA, get_kernels
from keras_edges.layers import ColourMagnitude
from keras_edges.models import build_edge_model


def _kornia_spatial_gradient(image):
    """kornia's `spatial_gradient(mode="sobel", normalized=False)` of NHWC `image`, as (N, C, 2, H, W)."""
    kernel_x = get_kernels("sobel")[0][:, :, 0, 0].astype("float64")
    out = np.empty((image.shape[0], image.shape[-1], 2, *image.shape[1:3]))
    for n in range(image.shape[0]):
        for c in range(image.shape[-1]):
            for k, kernel in enumerate((kernel_x, kernel_x.T)):
                out[n, c, k] = ndimage.correlate(
                    image[n, :, :, c].astype("float64"), kernel, mode="nearest"
                )
    return out


@pytest.fixture(scope="module")
def rgb():
    """Two random 15x17 RGB images in [0, 1]."""
    return np.random.default_rng(11).uniform(size=(2, 15, 17, 3)).astype("float32")


@pytest.fixture(scope="module")
def isoluminant():
    """Red left, green right, of equal ITU-R 601-2 luminance."""
    image = np.zeros((1, 12, 12, 3), "float32")
    image[:, :, :6, 0] = 0.6
    image[:, :, 6:, 1] = 0.6 * LUMA[0] / LUMA[1]
    return image


@pytest.mark.parametrize("colour", ["max", "di_zenzo"])
def test_per_channel_gradients_match_kornia(rgb, colour):
    """output='gradients' with a colour mode holds kornia's per-channel Sobel gradients."""
    model = build_edge_model(
        colour=colour, channels=3, padding="replicate", output="gradients"
    )
    got = np.asarray(model(rgb))
    expected = _kornia_spatial_gradient(rgb)
    np.testing.assert_allclose(
        got[..., :3], expected[:, :, 0].transpose(0, 2, 3, 1), atol=1e-5
    )
    np.testing.assert_allclose(
        got[..., 3:], expected[:, :, 1].transpose(0, 2, 3, 1), atol=1e-5
    )


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_max_is_the_largest_channel_magnitude(rgb, norm):
    """colour='max' is, per pixel, the largest of the channels' own magnitudes."""
    gradients = _kornia_spatial_gradient(rgb)
    gx, gy = gradients[:, :, 0], gradients[:, :, 1]
    each = np.abs(gx) + np.abs(gy) if norm == "l1" else np.hypot(gx, gy)
    expected = each.max(axis=1)
    model = build_edge_model(
        colour="max", magnitude=norm, channels=3, padding="replicate"
    )
    np.testing.assert_allclose(
        np.asarray(model(rgb))[..., 0], expected, rtol=1e-5, atol=1e-5
    )


def test_di_zenzo_is_the_structure_tensors_largest_eigenvalue(rgb):
    """colour='di_zenzo' is sqrt of the largest eigenvalue of sum_c g_c g_c^T (eigvalsh)."""
    gradients = _kornia_spatial_gradient(rgb)  # (N, C, 2, H, W)
    g = gradients.transpose(0, 3, 4, 1, 2)  # (N, H, W, C, 2)
    tensor = np.einsum("nhwci,nhwcj->nhwij", g, g)
    expected = np.sqrt(np.linalg.eigvalsh(tensor)[..., -1])
    model = build_edge_model(colour="di_zenzo", channels=3, padding="replicate")
    np.testing.assert_allclose(
        np.asarray(model(rgb))[..., 0], expected, rtol=1e-4, atol=1e-4
    )


def test_di_zenzo_of_grey_is_the_l2_magnitude(rgb):
    """On one channel Di Zenzo's magnitude is the L2 gradient magnitude."""
    grey = rgb[..., :1]
    expected = np.asarray(build_edge_model(magnitude="l2")(grey))
    got = np.asarray(build_edge_model(colour="di_zenzo")(grey))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_isoluminant_boundary_is_seen_only_in_colour(isoluminant):
    """A red/green boundary of equal luminance: no luminance edge, a colour edge."""
    luminance = np.asarray(build_edge_model(channels=3)(isoluminant))
    np.testing.assert_allclose(luminance, 0, atol=1e-6)
    assert np.abs(detect_edges(isoluminant)).max() < 1e-5
    for colour in ("max", "di_zenzo"):
        edges = np.asarray(build_edge_model(colour=colour, channels=3)(isoluminant))[
            0, :, :, 0
        ]
        assert (edges[:, 5:7] > 1.0).all() and (edges[:, :4] == 0).all()


@pytest.mark.parametrize(
    "colour, magnitude", [("max", "l1"), ("max", "l2"), ("di_zenzo", "l2")]
)
def test_normalized_colour_edges_stay_in_unit_range(colour, magnitude):
    """normalize=True bounds colour magnitudes by 1 on [0, 1] images and reaches it."""
    image = np.zeros((1, 8, 8, 3), "float32")
    image[:, :, 4:] = 1.0  # a white/black step in every channel: the bound
    model = build_edge_model(
        colour=colour, magnitude=magnitude, channels=3, normalize=True
    )
    edges = np.asarray(model(image))
    assert edges.max() <= 1.0 + 1e-6
    assert (
        edges.max() > 0.6
    )  # a step reaches 4/6 (L1) and 4/sqrt(20) (L2) of Sobel's bound


def test_colour_model_saves_and_loads(tmp_path, rgb):
    """A colour model loads in safe mode and gives the same edges."""
    model = build_edge_model(colour="di_zenzo", channels=3)
    model.save(tmp_path / "colour.keras")
    loaded = keras.saving.load_model(tmp_path / "colour.keras", safe_mode=True)
    np.testing.assert_array_equal(np.asarray(loaded(rgb)), np.asarray(model(rgb)))


def test_channels_first_colour_model(rgb):
    """channels_first gives the channels_last colour edges on NCHW."""
    last = np.asarray(build_edge_model(colour="max", channels=3)(rgb))
    first = build_edge_model(colour="max", channels=3, data_format="channels_first")
    got = np.asarray(first(np.ascontiguousarray(rgb.transpose(0, 3, 1, 2))))
    np.testing.assert_allclose(got.transpose(0, 2, 3, 1), last, atol=1e-6)


def test_layer_config_round_trip():
    """ColourMagnitude's config survives from_config, under the package's name."""
    layer = ColourMagnitude("max", "l1")
    config = layer.get_config()
    assert json.dumps(ColourMagnitude.from_config(config).get_config()) == json.dumps(
        config
    )
    assert (
        keras.saving.get_registered_name(ColourMagnitude)
        == "keras_edges>ColourMagnitude"
    )


@pytest.mark.parametrize(
    "options, match",
    [
        (
            dict(colour="hsv"),
            "`colour`. Expected one of \\['luminance', 'max', 'di_zenzo'\\]",
        ),
        (dict(colour="max", trainable=True), "fixed per-channel model"),
        (dict(colour="di_zenzo", output="orientation"), "output='orientation'"),
    ],
)
def test_bad_colour_options(options, match):
    """Bad colour options raise a ValueError that names them."""
    with pytest.raises(ValueError, match=match):
        build_edge_model(channels=3, **options)
