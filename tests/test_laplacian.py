"""The second-derivative family against its peers: OpenCV, scikit-image, scipy, kornia.

Conventions converted (and only these): scikit-image's `filters.laplace` is the negative
of `d2/dx2 + d2/dy2` and borders by scipy's `reflect` (our `"symmetric"`); its
`difference_of_gaussians` borders by `nearest` (our `"replicate"`); scipy's
`gaussian_laplace` by `reflect` (our `"symmetric"`); OpenCV's default border is
`BORDER_REFLECT_101` (our `"reflect"`); kornia's `laplacian` pads with torch's `reflect`
(our `"reflect"`) and divides its kernel by its L1 norm when `normalized=True`.
"""

import json

import keras
import numpy as np
import pytest
from scipy import ndimage

from keras_edges.kernels import LAPLACIANS, laplacian_kernel
from keras_edges.layers import LaplacianOfGaussian, XDoGThreshold, ZeroCrossings
from keras_edges.models import build_laplacian_model

cv2 = pytest.importorskip("cv2")
skimage_filters = pytest.importorskip("skimage.filters")


def _run(model, image):
    """The model on one (H, W) float image, as (H, W)."""
    return np.asarray(model(image[None, :, :, None].astype("float32")))[0, :, :, 0]


@pytest.fixture(scope="module")
def photo(camera):
    """A 64x80 crop of the camera photo in [0, 1], float32."""
    return (camera[200:264, 180:260] / 255.0).astype("float32")


@pytest.mark.parametrize("ksize", [1, 3, 5, 7])
def test_laplace_matches_opencv(photo, ksize):
    """`laplace` with the OpenCV variant is `cv2.Laplacian(ksize)` under BORDER_REFLECT_101."""
    expected = cv2.Laplacian(photo, cv2.CV_32F, ksize=ksize)
    got = _run(build_laplacian_model("laplace", ksize=ksize), photo)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)


def test_laplace_matches_scikit_image(photo):
    """scikit-image's `filters.laplace` is the negated 4-neighbour Laplacian, symmetric border."""
    expected = skimage_filters.laplace(photo.astype("float64"))
    model = build_laplacian_model("laplace", ksize=1, padding="symmetric")
    np.testing.assert_allclose(-_run(model, photo), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("ksize", [3, 5])
def test_box_laplacian_matches_kornia(photo, ksize):
    """kornia's `laplacian(kernel_size, normalized=True)`: box kernel / its L1 norm, reflect border."""
    kernel = np.ones((ksize, ksize))
    kernel[ksize // 2, ksize // 2] = 1 - ksize**2
    kernel /= np.abs(kernel).sum()  # kornia's normalize_kernel2d
    expected = ndimage.correlate(photo.astype("float64"), kernel, mode="mirror")
    got = _run(build_laplacian_model("laplace", variant="box", ksize=ksize), photo)
    scale = np.abs(laplacian_kernel("box", ksize)).sum()
    np.testing.assert_allclose(got / scale, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("sigma", [0.8, 1.0, 2.5])
def test_log_matches_scipy_gaussian_laplace(photo, sigma):
    """`log` is `scipy.ndimage.gaussian_laplace` (its `reflect` border is our `symmetric`)."""
    expected = ndimage.gaussian_laplace(photo.astype("float64"), sigma)
    model = build_laplacian_model("log", sigma=sigma, padding="symmetric")
    np.testing.assert_allclose(_run(model, photo), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("sigma, high_sigma", [(1.0, None), (1.0, 3.0), (2.0, 2.0)])
def test_dog_matches_scikit_image(photo, sigma, high_sigma):
    """`dog` is scikit-image's `difference_of_gaussians` (its `nearest` border: `replicate`)."""
    expected = skimage_filters.difference_of_gaussians(
        photo.astype("float64"), sigma, high_sigma
    )
    model = build_laplacian_model(
        "dog", sigma=sigma, high_sigma=high_sigma, padding="replicate"
    )
    np.testing.assert_allclose(_run(model, photo), expected, rtol=1e-5, atol=1e-5)


def test_xdog_matches_numpy_reference(photo):
    """XDoG is Winnemöller's eq. 5 and 7 on scipy's Gaussians, written out in NumPy."""
    sigma, p, epsilon, phi = 1.2, 20.0, 0.3, 4.0
    image = photo.astype("float64")
    small = ndimage.gaussian_filter(image, sigma, mode="mirror")
    large = ndimage.gaussian_filter(image, 1.6 * sigma, mode="mirror")
    sharpened = (1 + p) * small - p * large
    expected = np.where(
        sharpened >= epsilon, 1.0, 1.0 + np.tanh(phi * (sharpened - epsilon))
    )
    model = build_laplacian_model(
        "xdog", sigma=sigma, sharpness=p, epsilon=epsilon, phi=phi
    )
    got = _run(model, photo)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert 0.05 < (got < 0.5).mean() < 0.95  # neither all paper nor all ink


def _zero_crossings_reference(response, threshold):
    """Gonzalez and Woods' rule, pixel by pixel: opposite neighbours of opposite sign."""
    padded = np.pad(response, 1)
    height, width = response.shape
    edges = np.zeros(response.shape, bool)
    for i in range(height):
        for j in range(width):
            for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
                a = padded[1 + i + di, 1 + j + dj]
                b = padded[1 + i - di, 1 + j - dj]
                if a * b < 0 and abs(a - b) > threshold:
                    edges[i, j] = True
    return edges


@pytest.mark.parametrize("threshold", [0.0, 0.02])
def test_marr_hildreth_matches_loop_reference(photo, threshold):
    """LoG then zero crossings equals the rule applied by a plain loop to scipy's LoG."""
    response = ndimage.gaussian_laplace(photo.astype("float64"), 2.0)
    expected = _zero_crossings_reference(response, threshold)
    model = build_laplacian_model(
        "log", sigma=2.0, padding="symmetric", zero_crossings=threshold
    )
    got = _run(model, photo)
    assert got.dtype == np.bool_
    # float32 vs float64 may flip a crossing whose difference ties the threshold
    assert (got != expected).mean() < 1e-3
    assert 0.02 < got.mean() < 0.6


def test_zero_crossings_of_a_step():
    """A vertical step's LoG crosses zero on the two columns around the step, nowhere else."""
    image = np.zeros((16, 16), "float32")
    image[:, 8:] = 1.0
    edges = _run(build_laplacian_model("log", zero_crossings=0.01), image)
    assert edges[:, 7].all() and edges[:, 8].all()
    assert not edges[:, :6].any() and not edges[:, 10:].any()


@pytest.mark.parametrize("method", ["laplace", "dog"])
def test_flat_image_gives_zero(method):
    """A constant image gives 0 everywhere, border included, under reflect padding."""
    flat = np.full((12, 13), 0.7, "float32")
    np.testing.assert_allclose(_run(build_laplacian_model(method), flat), 0, atol=1e-6)


def test_log_of_flat_image_is_scipys_truncation_bias():
    """LoG's truncated kernel sums to scipy's small negative number, not 0, as scipy's."""
    flat = np.full((12, 13), 0.7, "float32")
    expected = ndimage.gaussian_laplace(flat.astype("float64"), 1.0)
    got = _run(build_laplacian_model("log", padding="symmetric"), flat)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-7)
    assert -2e-4 < got.min() <= got.max() < 0


def test_channels_are_filtered_separately(photo):
    """Each channel of a colour image gets its own Laplacian, as OpenCV does."""
    rgb = np.stack([photo, 1 - photo, photo**2], axis=-1)
    got = np.asarray(build_laplacian_model("laplace", channels=3)(rgb[None]))[0]
    expected = cv2.Laplacian(rgb, cv2.CV_32F, ksize=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_channels_first_gives_the_same(photo):
    """A channels_first model returns the channels_last result, transposed."""
    first = build_laplacian_model("dog", data_format="channels_first")
    got = np.asarray(first(photo[None, None]))[0, 0]
    np.testing.assert_allclose(
        got, _run(build_laplacian_model("dog"), photo), atol=1e-6
    )


@pytest.mark.parametrize("method", ["laplace", "log", "dog", "xdog"])
def test_saved_model_loads_in_safe_mode(tmp_path, photo, method):
    """Every model of the family saves and loads without custom_objects, same output."""
    model = build_laplacian_model(method)
    path = tmp_path / f"{method}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(_run(loaded, photo), _run(model, photo))


@pytest.mark.parametrize(
    "layer",
    [LaplacianOfGaussian(1.5), XDoGThreshold(10, 0.1, 2.0), ZeroCrossings(0.5)],
    ids=lambda layer: type(layer).__name__,
)
def test_layer_config_round_trip(layer):
    """get_config -> from_config gives a JSON-equal config, under the package's name."""
    config = layer.get_config()
    assert json.dumps(type(layer).from_config(config).get_config()) == json.dumps(
        config
    )
    assert keras.saving.get_registered_name(type(layer)).startswith("keras_edges>")


def test_table_is_read_only():
    """The Laplacian table's kernels cannot be written."""
    with pytest.raises(ValueError, match="read-only"):
        LAPLACIANS["opencv"][1][0, 0] = 5.0


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(method="sobel"), "Expected one of"),
        (dict(ksize=4), "Expected one of \\[1, 3, 5, 7\\]"),
        (dict(variant="box", ksize=1), "Expected one of \\[3, 5, 7\\]"),
        (dict(method="dog", sigma=2.0, high_sigma=1.0), "high_sigma"),
        (dict(method="log", sigma=0.0), "sigma"),
        (dict(method="xdog", zero_crossings=0.1), "zero_crossings"),
    ],
)
def test_bad_options_are_refused(options, match):
    """Bad options raise a ValueError naming the argument and the choices."""
    with pytest.raises(ValueError, match=match):
        build_laplacian_model(**options)


def test_functions_match_their_peers_on_a_photo(camera):
    """The functions give the peers' values on uint8 and float input, rank kept."""
    from keras_edges.methods.laplacian import (
        difference_of_gaussians,
        laplacian,
        laplacian_of_gaussian,
    )

    crop = camera[100:160, 100:180]
    expected = cv2.Laplacian(crop.astype("float32"), cv2.CV_32F, ksize=3)
    np.testing.assert_allclose(laplacian(crop, ksize=3), expected, atol=1e-3)
    batch = (crop / 255.0).astype("float32")[None, :, :, None]
    got = laplacian_of_gaussian(batch, sigma=1.5)
    assert got.shape == batch.shape
    reference = ndimage.gaussian_laplace(crop / 255.0, 1.5)
    np.testing.assert_allclose(got[0, :, :, 0], reference, rtol=1e-4, atol=1e-5)
    dog = difference_of_gaussians(crop, 1.0, 2.0)
    skimage_dog = skimage_filters.difference_of_gaussians(crop, 1.0, 2.0)
    np.testing.assert_allclose(dog / 255.0, skimage_dog, rtol=1e-4, atol=1e-5)


def test_functions_on_a_path_and_a_list(tmp_path):
    """A path gives (H, W); a list gives a list; colour becomes luminance."""
    from keras_edges.methods.laplacian import marr_hildreth, xdog

    from conftest import IMG

    drawing = xdog(IMG / "coins.png")
    assert drawing.ndim == 2 and 0 < drawing.min() and drawing.max() <= 1
    edges = marr_hildreth([np.zeros((8, 9)), np.ones((5, 6, 3), "uint8")])
    assert [e.shape for e in edges] == [(8, 9), (5, 6, 1)]
    assert edges[0].dtype == np.bool_ and not edges[0].any()
