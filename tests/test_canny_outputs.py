"""Canny's other outputs and inputs: suppressed magnitude, double threshold, gradients in, blur size.

Peers: scikit-image's `feature.canny` tracking (8-connected components of the weak
pixels holding a strong one, written out with scipy's `label`, on our suppressed
magnitude), `scipy.ndimage.gaussian_filter` with a sigma per axis, kornia's
`gaussian_blur2d(kernel_size, sigma)` (written out: the same Gaussian formula over
`kernel_size` taps, normalised), OpenCV's `Canny(dx, dy, low, high)` on int16 Sobel
gradients (`BORDER_REPLICATE`, as cv2.Canny's own Sobel).
"""

import json

import keras
import numpy as np
import pytest
import scipy.ndimage

from keras_edges import build_canny_model, canny_from_gradients, load_image
from keras_edges.layers import DoubleThreshold, GaussianBlur

from conftest import SAMPLE_PHOTOS

cv2 = pytest.importorskip("cv2")


def _run(model, image):
    """The model's output for one (H, W) image, as an (H, W) array."""
    return np.asarray(model(image[None, :, :, None].astype("float32")))[0, :, :, 0]


@pytest.fixture(scope="module")
def photo(camera):
    """A 96x128 crop of the camera photo in [0, 1]."""
    return (camera[100:196, 200:328] / 255.0).astype("float32")


def _hysteresis_reference(suppressed, low, high):
    """scikit-image's canny tracking: 8-connected weak components holding a strong pixel.

    (`skimage.filters.apply_hysteresis_threshold` labels 4-connected components and
    thresholds strictly; `feature.canny` labels with a 3x3 structure, as this does.)
    """
    weak = (suppressed >= low) & (suppressed > 0)
    labels, count = scipy.ndimage.label(weak, structure=np.ones((3, 3)))
    keep = np.zeros(count + 1, bool)
    keep[np.unique(labels[weak & (suppressed >= high)])] = True
    keep[0] = False
    return keep[labels]


def test_suppressed_then_hysteresis_is_the_edge_map(photo):
    """edges == scikit-image canny's 8-connected tracking of the suppressed magnitude."""
    options = dict(sigma=1.4, low=0.3, high=1.0)
    suppressed = _run(build_canny_model(output="suppressed", **options), photo)
    edges = _run(build_canny_model(**options), photo)
    assert suppressed.dtype == np.float32 and (suppressed >= 0).all()
    assert (edges <= (suppressed > 0)).all()  # edges lie on the suppressed ridges
    expected = _hysteresis_reference(suppressed, 0.3, 1.0)
    np.testing.assert_array_equal(edges, expected)
    assert 0 < expected.sum() < ((suppressed >= 0.3).sum())  # tracking dropped some


def test_thresholds_map_is_kornias_weak_strong_encoding(photo):
    """output='thresholds' is 0.5 * (s >= low) + 0.5 * (s >= high) of the suppressed s."""
    options = dict(sigma=1.0, low=0.3, high=1.0)
    suppressed = _run(build_canny_model(output="suppressed", **options), photo)
    got = _run(build_canny_model(output="thresholds", **options), photo)
    weak, strong = (suppressed >= 0.3) & (suppressed > 0), suppressed >= 1.0
    expected = 0.5 * weak + 0.5 * strong
    np.testing.assert_array_equal(got, expected.astype("float32"))
    assert set(np.unique(got)) == {0.0, 0.5, 1.0}


@pytest.mark.parametrize("sigma", [(1.0, 2.5), (2.0, 0.7)])
def test_sigma_per_axis_matches_scipy(photo, sigma):
    """GaussianBlur((sigma_rows, sigma_columns)) is scipy's gaussian_filter(sigma=(rows, columns))."""
    blur = GaussianBlur(sigma)
    (rows, columns) = blur.radii()
    padded = np.pad(photo, ((rows, rows), (columns, columns)), mode="symmetric")
    got = np.asarray(blur(padded[None, :, :, None]))[0, :, :, 0]
    expected = scipy.ndimage.gaussian_filter(photo.astype("float64"), sigma)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_kernel_size_matches_kornias_gaussian(photo):
    """ksize=(5, 7) with sigma (1, 1.5): kornia's gaussian_blur2d taps, normalised, correlated."""

    def taps(size, sigma):
        x = np.arange(size) - size // 2
        g = np.exp(-(x**2) / (2 * sigma**2))
        return g / g.sum()

    blur = GaussianBlur((1.0, 1.5), ksize=(5, 7))
    assert blur.radii() == (2, 3)
    padded = np.pad(photo, ((2, 2), (3, 3)), mode="reflect")  # kornia's default
    got = np.asarray(blur(padded[None, :, :, None]))[0, :, :, 0]
    expected = scipy.ndimage.correlate1d(
        photo.astype("float64"), taps(5, 1.0), 0, mode="mirror"
    )
    expected = scipy.ndimage.correlate1d(expected, taps(7, 1.5), 1, mode="mirror")
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_canny_with_blur_ksize_and_sigma_pair_runs_as_the_model(photo):
    """A Canny model with kornia's 5x5 kernel differs from the 4-sigma one and loads back."""
    model = build_canny_model(sigma=(1.0, 1.0), blur_ksize=5, low=0.05, high=0.15)
    default = build_canny_model(low=0.05, high=0.15)
    assert model.get_layer("blur_pad").pad_width == ((2, 2), (2, 2))
    a, b = _run(model, photo), _run(default, photo)
    assert 0 < (a != b).sum() < 0.05 * a.size


@pytest.mark.parametrize("l2", [False, True], ids=["l1", "l2"])
def test_from_gradients_matches_opencv_canny_dx_dy(l2):
    """from_gradients=True on cv2.Sobel's int16 gradients is cv2.Canny(dx, dy, ...)."""
    image = load_image(SAMPLE_PHOTOS[1], mode="L")
    smoothed = cv2.GaussianBlur(image, (5, 5), 1.0)
    dx = cv2.Sobel(smoothed, cv2.CV_16S, 1, 0, borderType=cv2.BORDER_REPLICATE)
    dy = cv2.Sobel(smoothed, cv2.CV_16S, 0, 1, borderType=cv2.BORDER_REPLICATE)
    expected = cv2.Canny(dx, dy, 50.5, 120.5, L2gradient=l2) > 0
    model = build_canny_model(
        from_gradients=True,
        low=50.5,
        high=120.5,
        magnitude="l2" if l2 else "l1",
        interpolate=False,
    )
    assert [t.name for t in model.inputs] == ["grad_x", "grad_y"]
    as_input = lambda g: g[None, :, :, None].astype("float32")  # noqa: E731
    got = np.asarray(model([as_input(dx), as_input(dy)]))[0, :, :, 0]
    assert (got != expected).mean() < 1e-3


def test_from_gradients_equals_the_image_model(photo):
    """Canny from the image model's own gradients equals Canny from the image."""
    from keras_edges import build_edge_model

    gradients = build_edge_model(magnitude="l2", output="gradients")
    g = np.asarray(gradients(photo[None, :, :, None]))
    edges = build_canny_model(sigma=0.0, low=0.1, high=0.3)
    from_gradients = build_canny_model(from_gradients=True, low=0.1, high=0.3)
    got = np.asarray(from_gradients([g[..., :1], g[..., 1:]]))
    np.testing.assert_array_equal(got[0, :, :, 0], _run(edges, photo))


@pytest.mark.parametrize("output", ["suppressed", "thresholds"])
def test_new_outputs_save_and_load(tmp_path, photo, output):
    """The suppressed and thresholds models load in safe mode with the same output."""
    model = build_canny_model(output=output)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(_run(loaded, photo), _run(model, photo))


def test_layer_configs_round_trip():
    """GaussianBlur with a pair and DoubleThreshold survive from_config."""
    for layer in (GaussianBlur((1.0, 2.0), ksize=(5, 9)), DoubleThreshold(0.1, 0.3)):
        config = json.loads(json.dumps(layer.get_config()))
        again = type(layer).from_config(config).get_config()
        assert json.dumps(again) == json.dumps(layer.get_config())


@pytest.mark.parametrize(
    "options, match",
    [
        (dict(output="magnitude"), "`output`. Expected one of"),
        (dict(blur_ksize=4), "odd kernel size"),
        (dict(sigma=(1.0, 2.0, 3.0)), "pair"),
        (dict(sigma=0.0, blur_ksize=5), "sigma=0"),
    ],
)
def test_bad_canny_options(options, match):
    """Bad Canny options raise a ValueError naming them."""
    with pytest.raises(ValueError, match=match):
        build_canny_model(**options)


@pytest.mark.parametrize("l2", [False, True], ids=["l1", "l2"])
def test_canny_from_gradients_is_opencv_canny_dx_dy(l2):
    """canny_from_gradients on cv2.Sobel's int16 gradients is cv2.Canny(dx, dy, ...),
    as OpenCV's users call it (OpenCV's nearest-direction suppression)."""
    image = load_image(SAMPLE_PHOTOS[1], mode="L")
    smoothed = cv2.GaussianBlur(image, (5, 5), 1.0)
    dx = cv2.Sobel(smoothed, cv2.CV_16S, 1, 0, borderType=cv2.BORDER_REPLICATE)
    dy = cv2.Sobel(smoothed, cv2.CV_16S, 0, 1, borderType=cv2.BORDER_REPLICATE)
    expected = cv2.Canny(dx, dy, 50.5, 120.5, L2gradient=l2) > 0
    got = canny_from_gradients(
        dx, dy, low=50.5, high=120.5, magnitude="l2" if l2 else "l1", interpolate=False
    )
    assert got.dtype == bool and got.shape == expected.shape
    assert (got != expected).mean() < 1e-3


def test_canny_from_gradients_equals_canny_on_the_image(photo):
    """From the package's own gradients it is canny_edges without smoothing, for one
    image and for a batch."""
    from keras_edges import canny_edges, gradient_edges

    gradients = gradient_edges(photo, magnitude="l2", output="gradients")
    got = canny_from_gradients(gradients[..., 0], gradients[..., 1], low=0.1, high=0.3)
    expected = canny_edges(photo, sigma=0.0, low=0.1, high=0.3, engine="model")
    np.testing.assert_array_equal(got, expected)
    batch = np.stack([gradients, gradients[::-1, ::-1]])
    both = canny_from_gradients(batch[..., :1], batch[..., 1:], low=0.1, high=0.3)
    assert both.shape == (2, *photo.shape)
    np.testing.assert_array_equal(both[0], expected)


@pytest.mark.parametrize(
    "grad_x, grad_y, match",
    [
        (np.zeros((4, 5)), np.zeros((4, 6)), "one shape"),
        (np.zeros((4, 5), bool), np.zeros((4, 5)), "Expected a real"),
        (np.zeros(5), np.zeros(5), "Expected a real"),
    ],
)
def test_canny_from_gradients_refuses_what_it_cannot_read(grad_x, grad_y, match):
    """Mismatched shapes, booleans and 1-D arrays are refused, naming the argument."""
    with pytest.raises(ValueError, match=match):
        canny_from_gradients(grad_x, grad_y, low=0.1, high=0.2)
