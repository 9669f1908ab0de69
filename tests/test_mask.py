"""Masks as scikit-image applies them: `filters.sobel(image, mask)`, `feature.canny(mask=...)`.

scikit-image's Sobel is ours divided by 4 (its kernels are normalised) with the L2
magnitude divided by sqrt(2); its border `reflect` is our `"symmetric"`. Its Canny
smooths with `mode="constant"` by default; with `mode="mirror"` (our `"reflect"`) and
the same thresholds it is compared pixel for pixel here.
"""

import keras
import numpy as np
import pytest
from scipy import ndimage

from keras_edges import build_canny_model, build_edge_model
from keras_edges.layers import MaskErosion

skimage_filters = pytest.importorskip("skimage.filters")
skimage_feature = pytest.importorskip("skimage.feature")


@pytest.fixture(scope="module")
def photo(camera):
    """A 64x80 crop of the camera photo in [0, 1], float64."""
    return camera[200:264, 180:260] / 255.0


@pytest.fixture(scope="module")
def region():
    """A disk-shaped mask with a notch, touching the frame on the left."""
    rows, columns = np.mgrid[:64, :80]
    mask = (rows - 32) ** 2 + (columns - 30) ** 2 < 28**2
    mask[28:36, 40:] = False
    return mask


def _as_batch(array):
    return array[None, :, :, None].astype("float32")


def test_mask_erosion_is_scipys_binary_erosion(region):
    """MaskErosion is binary_erosion(mask, ones((3, 3)), border_value=0)."""
    expected = ndimage.binary_erosion(region, np.ones((3, 3)), border_value=0)
    got = np.asarray(MaskErosion()(_as_batch(region)))[0, :, :, 0]
    np.testing.assert_array_equal(got, expected.astype("float32"))


def test_masked_sobel_matches_scikit_image(photo, region):
    """build_edge_model(mask=True) is skimage.filters.sobel(image, mask) up to its scale."""
    expected = skimage_filters.sobel(photo, mask=region)
    model = build_edge_model(magnitude="l2", padding="symmetric", mask=True)
    got = np.asarray(model([_as_batch(photo), _as_batch(region)]))[0, :, :, 0]
    np.testing.assert_allclose(got / (4 * np.sqrt(2)), expected, rtol=1e-5, atol=1e-6)
    assert (got[~region] == 0).all() and got[region].max() > 0.1


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_masked_canny_matches_scikit_image(photo, region, sigma):
    """build_canny_model(mask=True) is skimage's canny(mask=...) with mode='mirror'."""
    image = photo.astype("float32")
    expected = skimage_feature.canny(
        image, sigma, 0.02, 0.08, mask=region, mode="mirror"
    )
    # skimage's ndi.sobel is our Sobel (unnormalised): the same thresholds
    model = build_canny_model(sigma=sigma, low=0.02, high=0.08, mask=True)
    got = np.asarray(model([_as_batch(image), _as_batch(region)]))[0, :, :, 0]
    assert not got[~region].any()
    assert (got != expected).mean() < 2e-3
    assert expected.sum() > 50


def test_mask_changes_only_the_region_border(photo, region):
    """Deep inside the mask, the masked suppressed magnitude equals the unmasked one."""
    options = dict(sigma=1.0, output="suppressed")
    model = build_canny_model(mask=True, **options)
    masked = np.asarray(model([_as_batch(photo), _as_batch(region)]))[0, :, :, 0]
    plain = np.asarray(build_canny_model(**options)(_as_batch(photo)))[0, :, :, 0]
    deep = ndimage.binary_erosion(region, np.ones((13, 13)), border_value=0)
    np.testing.assert_allclose(masked[deep], plain[deep], rtol=1e-5, atol=1e-6)
    assert not np.allclose(masked[region & ~deep], plain[region & ~deep])


def test_masked_models_save_and_load(tmp_path, photo, region):
    """Masked models load in safe mode and give the same output."""
    for model in (build_edge_model(mask=True), build_canny_model(mask=True)):
        model.save(tmp_path / "m.keras")
        loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
        inputs = [_as_batch(photo), _as_batch(region)]
        np.testing.assert_array_equal(
            np.asarray(loaded(inputs)), np.asarray(model(inputs))
        )


def test_mask_with_gradients_output_is_refused():
    """A mask takes the magnitude only."""
    with pytest.raises(ValueError, match="`output`. Expected one of \\['magnitude'\\]"):
        build_edge_model(mask=True, output="gradients")
