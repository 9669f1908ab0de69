"""The new options as the peers call them: masks, colour, one axis, Canny's outputs, new methods."""

import numpy as np
import pytest
from scipy import ndimage

from keras_edges import detect_edges
from keras_edges.kernels import LUMA

skimage_filters = pytest.importorskip("skimage.filters")
skimage_feature = pytest.importorskip("skimage.feature")


@pytest.fixture(scope="module")
def photo(camera):
    """A 64x80 crop of the camera photo in [0, 1], float32."""
    return (camera[200:264, 180:260] / 255.0).astype("float32")


@pytest.fixture(scope="module")
def region():
    """A disk-shaped mask touching the frame on the left."""
    rows, columns = np.mgrid[:64, :80]
    return (rows - 32) ** 2 + (columns - 30) ** 2 < 28**2


def test_mask_option_matches_scikit_image_sobel(photo, region):
    """detect_edges(mask=...) is skimage.filters.sobel(image, mask) times 4 * sqrt(2)."""
    got = detect_edges(photo, mask=region, magnitude="l2", padding="symmetric")
    expected = skimage_filters.sobel(photo.astype("float64"), mask=region)
    np.testing.assert_allclose(got / (4 * np.sqrt(2)), expected, rtol=1e-5, atol=1e-6)


def test_mask_option_on_a_batch_and_with_threshold(photo, region):
    """A batch takes one mask for all; a thresholded map is False outside the eroded mask."""
    batch = np.stack([photo, photo[::-1]])[..., None]
    edges = detect_edges(batch, mask=region, threshold=0.1)
    eroded = ndimage.binary_erosion(region, np.ones((3, 3)), border_value=0)
    assert edges.shape == batch.shape and edges.dtype == np.bool_
    assert not edges[:, ~eroded].any() and edges[:, eroded].any()
    with pytest.raises(ValueError, match="`mask`. Expected the image's height"):
        detect_edges(photo, mask=region[:10])


@pytest.mark.parametrize("axis, component", [(0, 1), (1, 0)])
def test_axis_matches_scikit_image(photo, axis, component):
    """axis= is skimage's sobel(image, axis=...) times 4 (its smoothing sums to 1)."""
    got = detect_edges(photo, axis=axis, padding="symmetric")
    expected = skimage_filters.sobel(photo.astype("float64"), axis=axis)
    np.testing.assert_allclose(got / 4, expected, rtol=1e-5, atol=1e-6)
    gradients = detect_edges(photo, output="gradients", padding="symmetric")
    np.testing.assert_array_equal(got, gradients[..., component])
    np.testing.assert_array_equal(
        detect_edges(photo, axis=axis - 2, padding="symmetric"), got
    )
    with pytest.raises(ValueError, match="`axis`. Expected 0 or -2"):
        detect_edges(photo, axis=2)


def test_colour_option_sees_an_isoluminant_boundary():
    """colour='max'/'di_zenzo' through detect_edges see a red/green boundary of equal luminance."""
    image = np.zeros((12, 12, 3), "float32")
    image[:, :6, 0] = 0.6
    image[:, 6:, 1] = 0.6 * LUMA[0] / LUMA[1]
    assert detect_edges(image).max() < 1e-5
    for colour in ("max", "di_zenzo"):
        edges = detect_edges(image, colour=colour)
        assert edges.shape == (12, 12, 1) and edges[:, 5:7].min() > 1.0
        normalized = detect_edges(image, colour=colour, normalize=True)
        assert 0.1 < normalized.max() <= 1.0
        assert detect_edges(image, colour=colour, threshold=0.1)[:, 5:7].all()


def test_canny_mask_output_and_blur_options(photo, region):
    """canny_edges' mask matches skimage; its outputs are the model's; kornia's blur size runs."""
    expected = skimage_feature.canny(photo, 1.0, 0.02, 0.08, mask=region, mode="mirror")
    got = detect_edges(photo, method="canny", low=0.02, high=0.08, mask=region)
    assert (got != expected).mean() < 2e-3 and got.sum() > 50
    suppressed = detect_edges(photo, method="canny", output="suppressed")
    thresholds = detect_edges(
        photo, method="canny", output="thresholds", low=0.3, high=1.0
    )
    assert suppressed.dtype == np.float32 and set(np.unique(thresholds)) <= {0, 0.5, 1}
    edges = detect_edges(photo, method="canny", sigma=(1.0, 1.0), blur_ksize=5)
    assert edges.dtype == np.bool_ and edges.shape == photo.shape


@pytest.mark.parametrize(
    "method, options",
    [
        ("laplacian", dict(ksize=3)),
        ("log", dict(sigma=1.5)),
        ("dog", dict(low_sigma=1.0, high_sigma=2.0)),
        ("xdog", dict(sigma=1.0, phi=5.0)),
        ("marr_hildreth", dict(sigma=2.0, threshold=0.01)),
    ],
)
def test_second_derivative_methods_through_detect_edges(photo, method, options):
    """detect_edges(method=...) hands the family's options to its function."""
    from keras_edges import methods

    function = methods.METHODS[method]
    np.testing.assert_array_equal(
        detect_edges(photo, method=method, **options), function(photo, **options)
    )
    with pytest.raises(TypeError, match="operator"):
        detect_edges(photo, method=method, operator="sobel")
