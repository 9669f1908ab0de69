"""Tests for Canny's detector (keras_edges.layers Canny pieces, models.build_canny_model, detect_edges)."""

import json

import cv2
import keras
import numpy as np
import pytest
import scipy.ndimage
from skimage.feature import canny as skimage_canny

from keras_edges import build_canny_model, detect_edges, load_image
from keras_edges.layers import (
    GaussianBlur,
    GradientMagnitude,
    Hysteresis,
    NonMaxSuppression,
)

from conftest import SAMPLE_PHOTOS, gradient

pytestmark = pytest.mark.backends


def _f_measure(edges, reference):
    """F-measure between two edge maps where a pixel matches anything within 1 pixel (8-neighbourhood)."""
    near = np.ones((3, 3), bool)
    precision = (edges & scipy.ndimage.binary_dilation(reference, near)).sum() / max(
        edges.sum(), 1
    )
    recall = (reference & scipy.ndimage.binary_dilation(edges, near)).sum() / max(
        reference.sum(), 1
    )
    return 2 * precision * recall / max(precision + recall, 1e-12)


def _run(model, image):
    """The model's output for one (H, W) image, as an (H, W) array."""
    return np.asarray(model(image[None, :, :, None].astype("float32")))[0, :, :, 0]


def _shapes(size=96):
    """Synthetic test images in [0, 1]: an anti-aliased disk, a square, a triangle, a noisy ellipse."""
    rows, columns = np.mgrid[:size, :size] + 0.5
    disk = np.clip(size / 3 - np.hypot(rows - size / 2, columns - size / 2) + 0.5, 0, 1)
    square = np.zeros((size, size))
    square[size // 4 : 3 * size // 4, size // 5 : 4 * size // 5] = 0.8  # noqa: E702
    triangle = (rows > size / 5) & (columns > size / 5) & (rows + columns < 1.5 * size)
    ellipse = ((rows - size / 2) / (size / 3)) ** 2 + (
        (columns - size / 2) / (size / 4)
    ) ** 2 < 1
    noisy = 0.3 + 0.4 * ellipse + np.random.default_rng(0).normal(0, 0.03, (size, size))
    return {
        "disk": disk,
        "square": square,
        "triangle": triangle * 0.6 + 0.2,
        "noisy_ellipse": noisy,
    }


def _square_spiral(size):
    """A square spiral from the centre outwards, rings one pixel apart, as a boolean map and its path."""
    mask = np.zeros((size, size), bool)
    row = column = size // 2
    path = [(row, column)]
    moves = [(0, 1), (1, 0), (0, -1), (-1, 0)]
    length, turn = 2, 0
    while True:
        d_row, d_column = moves[turn % 4]
        for _ in range(length):
            row, column = row + d_row, column + d_column
            if not (0 <= row < size and 0 <= column < size):
                mask[tuple(np.array(path).T)] = True
                return mask, path
            path.append((row, column))
        turn += 1
        length += 2 * (turn % 2 == 0)


def _serpentine(height, width):
    """A one-pixel snake through every other row of the image, joined at alternating ends."""
    mask = np.zeros((height, width), bool)
    mask[::2] = True
    for row in range(1, height - 1, 2):
        mask[row, width - 1 if row % 4 == 1 else 0] = True
    return mask


@pytest.mark.parametrize("path", SAMPLE_PHOTOS, ids=lambda p: p.name)
def test_agrees_with_scikit_image_on_photos(path):
    """On every sample photo the edge map matches skimage.feature.canny (F >= 0.95 with 1-pixel tolerance)."""
    image = load_image(path, mode="L").astype("float64") / 255
    model = build_canny_model(sigma=1.0, low=0.05, high=0.15)
    expected = skimage_canny(
        image, sigma=1.0, low_threshold=0.05, high_threshold=0.15, mode="mirror"
    )
    assert _f_measure(_run(model, image), expected) >= 0.95


@pytest.mark.parametrize("sigma", [1.0, 2.0])
def test_agrees_with_scikit_image_on_shapes(sigma):
    """On synthetic shapes, with absolute thresholds and with quantiles, the maps match scikit-image's."""
    for name, image in _shapes().items():
        model = build_canny_model(sigma=sigma, low=0.05, high=0.1)
        expected = skimage_canny(
            image, sigma=sigma, low_threshold=0.05, high_threshold=0.1, mode="mirror"
        )
        assert _f_measure(_run(model, image), expected) >= 0.95, name
        model = build_canny_model(sigma=sigma, low=0.8, high=0.9, use_quantiles=True)
        expected = skimage_canny(
            image,
            sigma=sigma,
            low_threshold=0.8,
            high_threshold=0.9,
            mode="mirror",
            use_quantiles=True,
        )
        assert _f_measure(_run(model, image), expected) >= 0.95, name


def test_uint8_thresholds_are_in_pixel_units(camera):
    """detect_edges on uint8 takes thresholds in 0..255 units, as skimage.feature.canny on uint8."""
    image = camera[:200, :240]
    edges = detect_edges(image, method="canny", low=20, high=40, sigma=1.5)
    expected = skimage_canny(
        image, sigma=1.5, low_threshold=20, high_threshold=40, mode="mirror"
    )
    assert edges.dtype == np.bool_ and edges.shape == image.shape
    assert _f_measure(edges, expected) >= 0.95
    np.testing.assert_array_equal(
        edges,
        detect_edges(
            image / 255.0, method="canny", low=20 / 255, high=40 / 255, sigma=1.5
        ),
    )


@pytest.mark.parametrize("l2", [False, True], ids=["l1", "l2"])
@pytest.mark.parametrize("path", SAMPLE_PHOTOS[:3], ids=lambda p: p.name)
def test_agrees_with_opencv(path, l2):
    """cv2.Canny on the same pre-smoothed uint8 image: sigma=0, replicate borders, quantised suppression."""
    image = load_image(path, mode="L").astype("float64")
    smoothed = np.clip(
        np.rint(scipy.ndimage.gaussian_filter(image, 1.0, mode="nearest")), 0, 255
    ).astype("uint8")
    expected = cv2.Canny(smoothed, 50.5, 120.5, L2gradient=l2) > 0
    model = build_canny_model(
        sigma=0.0,
        low=50.5,
        high=120.5,
        magnitude="l2" if l2 else "l1",
        padding="replicate",
        interpolate=False,
    )
    assert _f_measure(_run(model, smoothed), expected) >= 0.99


def test_spiral_connected_to_one_seed_is_recovered_and_a_lonely_one_removed():
    """Hysteresis follows a weak spiral from its single strong pixel; a weak spiral without one disappears."""
    spiral, path = _square_spiral(41)
    suppressed = np.zeros((41, 90), "float32")
    suppressed[:, :41][spiral] = 0.5
    suppressed[path[-1]] = 2.0  # the one strong pixel, at the outer end
    suppressed[:, 49:][spiral] = (
        0.5  # the same spiral, 8 pixels to the right, no strong pixel
    )
    edges = np.asarray(
        Hysteresis(low=0.4, high=1.0)([suppressed[None, :, :, None]] * 2)
    )[0, :, :, 0]
    np.testing.assert_array_equal(edges[:, :41], spiral)
    assert not edges[:, 41:].any()
    assert len(path) > 700


def test_snake_across_the_whole_image_terminates_and_is_recovered():
    """A snake through every other row (over 2000 pixels) is fully recovered from a seed at one end."""
    snake = _serpentine(64, 64)
    suppressed = np.where(snake, 0.5, 0.0).astype("float32")
    suppressed[63, 0 if (63 // 2) % 2 == 0 else 63] = (
        0.0  # (row 63 is not part of the snake)
    )
    suppressed[0, 0] = 1.0
    for steps in (1, 4):
        edges = np.asarray(
            Hysteresis(low=0.5, high=1.0, steps=steps)(
                [suppressed[None, :, :, None]] * 2
            )
        )[0, :, :, 0]
        np.testing.assert_array_equal(edges, snake)


@pytest.mark.parametrize("interpolate", [True, False])
def test_suppressed_edges_are_one_pixel_thick(interpolate):
    """Non-maximum suppression leaves no 2x2 block of edge pixels on anti-aliased circles of any radius.

    Only magnitudes above rounding noise count: the blurred flat inside of a disk has
    gradients of 1e-8 in float32 that no threshold keeps.
    """
    model = build_canny_model(sigma=1.0, low=0.01, high=0.02, interpolate=interpolate)
    suppress = keras.Model(model.input, model.get_layer("suppress").output)
    rows, columns = np.mgrid[:80, :80] + 0.5
    for radius in (5.0, 9.3, 17.5, 30.2):
        disk = np.clip(radius - np.hypot(rows - 40.2, columns - 39.7) + 0.5, 0, 1)
        kept = _run(suppress, disk) > 1e-4
        blocks = kept[1:, 1:] & kept[:-1, 1:] & kept[1:, :-1] & kept[:-1, :-1]
        assert not blocks.any(), radius
        assert kept.sum() > 5 * radius  # the circle is there


def test_nms_keeps_the_crest_across_the_gradient():
    """A ridge across the gradient keeps only its crest: vertical and horizontal ridges, both modes."""
    rows, columns = np.indices((9, 9))
    ridges = {(1.0, 0.0): 4 - np.abs(columns - 4), (0.0, -1.0): 4 - np.abs(rows - 3)}
    for (grad_x, grad_y), ridge in ridges.items():
        magnitude = ridge.astype("float32")[None, :, :, None]
        ones = np.ones_like(magnitude)
        for interpolate in (True, False):
            kept = np.asarray(
                NonMaxSuppression(interpolate=interpolate)(
                    [grad_x * ones, grad_y * ones, magnitude]
                )
            )
            inside = (
                slice(1, -1),
                slice(1, -1),
            )  # outside counts as 0: the frame may keep more
            np.testing.assert_array_equal(
                (kept[0, :, :, 0] > 0)[inside], (ridge == ridge.max())[inside]
            )


@pytest.mark.parametrize("interpolate", [True, False])
def test_nms_passes_its_gradient_to_the_kept_pixels_only(interpolate):
    """d(output)/d(magnitude) is 1 where a pixel is kept, else 0; the gradients' is 0."""
    rng = np.random.default_rng(5)
    grad_x, grad_y = rng.normal(size=(2, 1, 12, 12, 1)).astype("float32")
    magnitude = np.hypot(grad_x, grad_y)
    layer = NonMaxSuppression(interpolate=interpolate)
    kept = np.asarray(layer([grad_x, grad_y, magnitude])) > 0
    assert 0 < kept.sum() < kept.size
    d_x, d_y, d_magnitude = gradient(
        lambda x, y, m: layer([x, y, m]), grad_x, grad_y, magnitude
    )
    np.testing.assert_array_equal(d_magnitude, kept.astype("float32"))
    np.testing.assert_array_equal(d_x, 0 * d_x)
    np.testing.assert_array_equal(d_y, 0 * d_y)


@pytest.mark.backends("tensorflow")
@pytest.mark.parametrize("interpolate", [True, False])
def test_magnitude_and_suppression_have_no_selects_or_comparisons(interpolate):
    """Their masks are float32 arithmetic: TFLite's XNNPACK runs it several times faster
    than comparisons and selects, which it does not take (benchmarks/README.md)."""
    import tensorflow as tf

    unwanted = {"Select", "SelectV2", "Greater", "GreaterEqual", "Less", "LessEqual"}
    unwanted |= {"Equal", "NotEqual", "LogicalAnd", "LogicalOr", "LogicalNot"}
    spec = tf.TensorSpec((1, 16, 16, 1), tf.float32)
    magnitude = GradientMagnitude(norm="l2")
    suppress = NonMaxSuppression(interpolate=interpolate)
    graph = (
        tf.function(lambda x, y: suppress([x, y, magnitude([x, y])]))
        .get_concrete_function(spec, spec)
        .graph
    )
    types = {operation.type for operation in graph.get_operations()}
    assert not types & unwanted, types & unwanted


def test_gaussian_matches_scipy():
    """GaussianBlur after reflect padding is scipy's gaussian_filter(mode='mirror'), truncate 4."""
    image = np.random.default_rng(1).uniform(size=(1, 30, 25, 1)).astype("float32")
    model = build_canny_model(sigma=1.7)
    smooth = keras.Model(model.input, model.get_layer("blur").output)
    expected = scipy.ndimage.gaussian_filter(
        image[0, :, :, 0].astype("float64"), 1.7, mode="mirror"
    )
    np.testing.assert_allclose(
        np.asarray(smooth(image))[0, :, :, 0], expected, atol=1e-6
    )
    assert np.asarray(GaussianBlur(0.0)(image)).shape == image.shape


def test_canny_model_saves_and_loads_in_safe_mode(tmp_path):
    """The saved Canny model loads with safe_mode=True and no custom_objects, and gives the same map."""
    model = build_canny_model(
        "scharr", sigma=1.4, low=0.3, high=0.6, use_quantiles=True, interpolate=False
    )
    model.save(tmp_path / "canny.keras")
    loaded = keras.saving.load_model(tmp_path / "canny.keras", safe_mode=True)
    image = np.stack([_shapes(48)[name] for name in ("disk", "noisy_ellipse")])[
        ..., None
    ].astype("float32")
    output = np.asarray(loaded(image))
    assert output.dtype == np.bool_ and output.shape == image.shape and output.any()
    np.testing.assert_array_equal(output, np.asarray(model(image)))
    clone = keras.Model.from_config(model.get_config())
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(
        model.get_config(), sort_keys=True
    )
    assert [layer.name for layer in model.layers] == [
        "image",
        "blur_pad",
        "blur",
        "pad",
        "grad_x",
        "grad_y",
        "magnitude",
        "suppress",
        "hysteresis",
    ]


@pytest.mark.parametrize("operator", ["farid", "prewitt", "roberts", "scharr", "sobel"])
def test_every_operator_finds_the_disk(operator):
    """Canny with every operator of the table outlines a disk (within a pixel of the true circle)."""
    disk = _shapes(64)["disk"]
    edges = detect_edges(
        disk, method="canny", operator=operator, use_quantiles=True, low=0.85, high=0.95
    )
    reference = skimage_canny(
        disk,
        sigma=1.0,
        low_threshold=0.85,
        high_threshold=0.95,
        use_quantiles=True,
        mode="mirror",
    )
    assert _f_measure(edges, reference) >= 0.9


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            dict(low=0.5, high=0.2),
            ValueError,
            r"`high`. Expected high >= low. Received: low=0.5, high=0.2",
        ),
        (
            dict(low=0.1, high=1.5, use_quantiles=True),
            ValueError,
            r"`high`. Expected a number in \[0.0, 1.0\]. Received: high=1.5",
        ),
        (
            dict(sigma=-1.0),
            ValueError,
            r"`sigma`. Expected a number >= 0.0. Received: sigma=-1.0",
        ),
        (dict(low="low"), TypeError, r"`low`. Expected a number. Received: low='low'"),
        (dict(operator="canny"), ValueError, r"`operator`. Expected one of"),
        (dict(padding="wrap"), ValueError, r"`padding`. Expected one of"),
    ],
)
def test_bad_canny_arguments(kwargs, error, message):
    """Thresholds, sigma and options are validated when the model is built."""
    with pytest.raises(error, match=message):
        build_canny_model(**kwargs)


def _components_reference(weak, strong):
    """scipy's 8-connected components of `weak` that hold a `strong` pixel."""
    labels, count = scipy.ndimage.label(weak, np.ones((3, 3)))
    keep = np.zeros(count + 1, bool)
    keep[labels[strong]] = True
    keep[0] = False
    return keep[labels]


@pytest.mark.parametrize("seed", range(6))
def test_hysteresis_is_connected_components(seed):
    """On random weak/strong maps (batches, odd sizes), Hysteresis keeps exactly scipy's components."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 4)), *rng.integers(1, 60, 2), 1)
    suppressed = rng.uniform(0, 1, shape) * (rng.uniform(size=shape) < 0.55)
    suppressed = suppressed.astype("float32")
    edges = np.asarray(Hysteresis(low=0.3, high=0.9)([suppressed, suppressed]))
    for image, found in zip(suppressed[..., 0], edges[..., 0]):
        expected = _components_reference(image >= 0.3, image >= 0.9)
        np.testing.assert_array_equal(found, expected & (image > 0))


def test_hysteresis_beyond_float32_keys_uses_int32(monkeypatch):
    """Past 2**24 blocks the labels are compared as int32: forced here, same components."""
    import keras_edges.layers.canny

    monkeypatch.setattr(keras_edges.layers.canny, "_FLOAT_EXACT", 0)
    rng = np.random.default_rng(7)
    suppressed = rng.uniform(0, 1, (2, 41, 37, 1)) * (
        rng.uniform(size=(2, 41, 37, 1)) < 0.55
    )
    suppressed = suppressed.astype("float32")
    edges = np.asarray(Hysteresis(low=0.3, high=0.9)([suppressed, suppressed]))
    for image, found in zip(suppressed[..., 0], edges[..., 0]):
        expected = _components_reference(image >= 0.3, image >= 0.9)
        np.testing.assert_array_equal(found, expected & (image > 0))


def test_hysteresis_needs_few_rounds_on_long_chains():
    """A chain of length L is one component after at most log2(L) rounds (a dilation loop needs L)."""
    from keras_edges.layers.canny import _blocks, _components

    spiral, path = _square_spiral(129)
    snake = _serpentine(128, 128)
    for mask, length in (
        (spiral, len(path)),
        (snake, snake.sum()),
        (snake.T, snake.sum()),
    ):
        pointers, rounds = _components(_blocks(mask[None].astype("float32")))
        # Labels live on 2x2 blocks framed by empty ones: pixel (i, j) is in block
        # ((i + 2) // 2, (j + 2) // 2) of a ((H + 5) // 2, (W + 5) // 2) grid.
        blocks = np.asarray(pointers)[:-1]
        grid = blocks.reshape([(n + 5) // 2 for n in mask.shape])
        rows, columns = np.indices(mask.shape)
        labels = grid[(rows + 2) // 2, (columns + 2) // 2]
        assert len(np.unique(labels[mask])) == 1  # one component
        occupied = np.zeros(grid.shape, bool)
        occupied[((rows + 2) // 2)[mask], ((columns + 2) // 2)[mask]] = True
        assert (grid[~occupied] == blocks.size).all()  # the rest is background
        assert 1 <= int(rounds) <= np.log2(length), (int(rounds), length)
