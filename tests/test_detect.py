"""Tests for detect_edges (keras_edges.detect)."""

import io

import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf
from PIL import Image

from keras_edges import build_edge_model, detect_edges, get_kernels, load_image
from keras_edges.kernels import KERNELS, gradient_frame, max_response

from conftest import IMG, SAMPLE_PHOTOS, TOLERANCE

ALL_KERNELS = [
    (operator, ksize)
    for operator in sorted(KERNELS)
    for ksize in sorted(KERNELS[operator])
]
# detect_edges padding -> scipy.ndimage border mode
SCIPY_MODES = {
    "reflect": "mirror",
    "symmetric": "reflect",
    "replicate": "nearest",
    "zeros": "constant",
}

PLUS = np.zeros((5, 5), "float32")
PLUS[1:4, 2] = 1
PLUS[2, 1:4] = 1  # noqa: E702 - kornia's fixture
# Hand-computed |gx| + |gy| with replicate borders (kornia's expected map) ...
SOBEL_L1_REPLICATE = np.array(
    [
        [0, 2, 2, 2, 0],
        [2, 6, 4, 6, 2],
        [2, 4, 0, 4, 2],
        [2, 6, 4, 6, 2],
        [0, 2, 2, 2, 0],
    ],
    "float32",
)
# ... and with reflect borders: on the middle of each side the mirrored row equals the row
# inside, so both gradients vanish there.
SOBEL_L1_REFLECT = np.array(
    [
        [0, 2, 0, 2, 0],
        [2, 6, 4, 6, 2],
        [0, 4, 0, 4, 0],
        [2, 6, 4, 6, 2],
        [0, 2, 0, 2, 0],
    ],
    "float32",
)


def _reference(image, operator="sobel", ksize=3, padding="reflect", magnitude="l1"):
    """Edges from scipy.ndimage.correlate with the matching border mode (float64)."""
    kernel_x, kernel_y = (
        k[:, :, 0, 0].astype("float64") for k in get_kernels(operator, ksize=ksize)
    )
    image = image.astype("float64")
    mode = SCIPY_MODES.get(padding, "constant")
    grad_x = scipy.ndimage.correlate(image, kernel_x, mode=mode)
    grad_y = scipy.ndimage.correlate(image, kernel_y, mode=mode)
    edges = (
        np.abs(grad_x) + np.abs(grad_y)
        if magnitude == "l1"
        else np.hypot(grad_x, grad_y)
    )
    if padding == "valid":  # an even kernel's anchor is element ksize // 2, as scipy's
        before, after = ksize // 2, (ksize - 1) // 2
        edges = edges[before : edges.shape[0] - after, before : edges.shape[1] - after]
    return edges


def _float32_atol(operator, ksize):
    """float32 rounding grows with the kernel's weights: 1e-5 of the operator's full scale."""
    kernel_x, kernel_y = get_kernels(operator, ksize=ksize)
    return TOLERANCE["float32"]["atol"] * max_response(kernel_x, kernel_y, "l1")


def test_plus_fixture_replicate_matches_kornia():
    """The plus image under replicate padding gives kornia's hand-computed map."""
    np.testing.assert_allclose(
        detect_edges(PLUS, padding="replicate"), SOBEL_L1_REPLICATE, atol=1e-6
    )


def test_plus_fixture_reflect():
    """The plus image under the default reflect padding gives the hand-computed map."""
    np.testing.assert_allclose(detect_edges(PLUS), SOBEL_L1_REFLECT, atol=1e-6)


@pytest.mark.parametrize("operator, ksize", ALL_KERNELS)
@pytest.mark.parametrize(
    "padding", ["reflect", "symmetric", "replicate", "zeros", "valid"]
)
def test_matches_scipy_on_a_photo(camera, operator, ksize, padding):
    """On a real photo, every operator, size and padding equals scipy's correlate."""
    image = camera[100:228, 150:310].astype("float32") / 255
    expected = _reference(image, operator, ksize, padding)
    edges = detect_edges(image, operator=operator, ksize=ksize, padding=padding)
    np.testing.assert_allclose(
        edges, expected, rtol=1e-5, atol=_float32_atol(operator, ksize)
    )


@pytest.mark.parametrize("path", SAMPLE_PHOTOS, ids=lambda p: p.name)
def test_matches_scipy_on_every_sample_image(path):
    """Every bundled image, L1 and L2, equals the scipy reference (whole image, float input)."""
    image = load_image(path).astype("float32") / 255
    for magnitude in ("l1", "l2"):
        np.testing.assert_allclose(
            detect_edges(image, magnitude=magnitude),
            _reference(image, magnitude=magnitude),
            **TOLERANCE["float32"],
        )


def _seed_notebook_loop(image):
    """The seed notebook's explicit loop: 3x3 windows, no padding, clipped to 0..255."""
    vertical = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    horizontal = vertical.T
    height, width = image.shape
    out = np.zeros((height - 2, width - 2))
    for i in range(height - 2):
        for j in range(width - 2):
            window = image[i : i + 3, j : j + 3]
            w = np.sum(window * vertical)
            h = np.sum(window * horizontal)
            out[i, j] = np.clip(np.abs(w) + np.abs(h), 0, 255)
    return out.astype(np.uint8)


def test_valid_padding_reproduces_the_seed_notebook():
    """padding='valid' gives the seed loop's (H-2, W-2) output, value for value."""
    image = load_image(IMG / "arrows.png")[60:140, 100:220]
    edges = detect_edges(image, padding="valid")
    assert (
        edges.shape == (image.shape[0] - 2, image.shape[1] - 2)
        and edges.dtype == np.uint8
    )
    np.testing.assert_array_equal(edges, _seed_notebook_loop(image))


@pytest.mark.parametrize("operator, ksize", ALL_KERNELS)
@pytest.mark.parametrize("padding", ["reflect", "symmetric", "replicate"])
def test_constant_image_has_no_edges(operator, ksize, padding):
    """A flat image has zero response everywhere, border included, under mirrored borders."""
    edges = detect_edges(
        np.full((12, 9), 0.7), operator=operator, ksize=ksize, padding=padding
    )
    np.testing.assert_allclose(edges, 0.0, atol=_float32_atol(operator, ksize))


def test_zero_padding_invents_border_edges():
    """Zero padding gives a flat image a non-zero frame (4 v on the sides for Sobel) and a zero interior."""
    edges = detect_edges(np.full((8, 8), 0.5), padding="zeros")
    np.testing.assert_allclose(edges[1:-1, 1:-1], 0.0, atol=1e-6)
    np.testing.assert_allclose(edges[0, 2:-2], 2.0, atol=1e-6)  # 4 * 0.5
    assert (edges[0] > 0).all() and (edges[:, -1] > 0).all()


def test_transpose_and_flip_symmetry(camera):
    """Edges of the transposed or flipped image are the transposed or flipped edges."""
    image = camera[:64, :80]
    edges = detect_edges(image)
    np.testing.assert_array_equal(detect_edges(np.ascontiguousarray(image.T)), edges.T)
    np.testing.assert_array_equal(
        detect_edges(np.ascontiguousarray(image[:, ::-1])), edges[:, ::-1]
    )
    np.testing.assert_array_equal(
        detect_edges(np.ascontiguousarray(image[::-1])), edges[::-1]
    )


def test_uint8_saturates_instead_of_wrapping():
    """A full-contrast step (response 1020) gives 255, not 1020 % 256 = 252."""
    step = np.zeros((6, 6), np.uint8)
    step[:, 3:] = 255  # noqa: E702
    edges = detect_edges(step)
    assert edges.dtype == np.uint8
    np.testing.assert_array_equal(edges[:, 2:4], 255)
    np.testing.assert_array_equal(edges[:, [0, 1, 4, 5]], 0)


def test_uint8_equals_float_over_255(camera):
    """For uint8 input, normalized edges / 255 equal the float edges of image / 255 within rounding."""
    as_uint8 = detect_edges(camera, normalize=True).astype("float64") / 255
    as_float = detect_edges(camera / 255.0, normalize=True)
    assert as_float.dtype == np.float32
    np.testing.assert_allclose(as_uint8, as_float, atol=0.5 / 255 + 1e-6)


def test_uint16_is_scaled_to_unit_range(camera):
    """uint16 pixels are read as value / 65535 and give float32 edges."""
    image16 = camera.astype(np.uint16) * 257
    edges = detect_edges(image16)
    assert edges.dtype == np.float32
    np.testing.assert_allclose(
        edges, detect_edges(camera / 255.0), **TOLERANCE["float32"]
    )


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "int16", "int32", "bool"]
)
def test_other_dtypes_give_float32(dtype):
    """bool, float and signed integer pixels are used as they are and give float32 edges."""
    image = (np.indices((10, 10)).sum(axis=0) % 3 == 0).astype(dtype)
    edges = detect_edges(image)
    assert edges.dtype == np.float32
    np.testing.assert_allclose(
        edges, _reference(image.astype("float64")), **TOLERANCE["float32"]
    )


@pytest.mark.parametrize(
    "shape, out_shape",
    [
        ((7, 9), (7, 9)),
        ((7, 9, 1), (7, 9, 1)),
        ((7, 9, 3), (7, 9, 1)),
        ((2, 7, 9, 1), (2, 7, 9, 1)),
        ((3, 7, 9, 4), (3, 7, 9, 1)),
    ],
)
@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
def test_ranks_and_dtypes(shape, out_shape, dtype):
    """(H,W), (H,W,C) and (N,H,W,C) keep their rank with one output channel; uint8 stays uint8."""
    image = np.random.default_rng(7).integers(0, 256, size=shape).astype(dtype)
    edges = detect_edges(image)
    assert edges.shape == out_shape
    assert edges.dtype == (np.uint8 if dtype == "uint8" else np.float32)


def test_batch_equals_images_one_by_one():
    """Each image of a batch gets the edges it gets alone."""
    batch = np.random.default_rng(8).uniform(size=(3, 11, 13, 1)).astype("float32")
    edges = detect_edges(batch)
    for image, expected in zip(batch, edges):
        np.testing.assert_allclose(
            detect_edges(image), expected, **TOLERANCE["float32"]
        )


def test_colour_uses_pillow_luminance():
    """A uint8 RGB array gives exactly the edges of Pillow's 'L' conversion; alpha is ignored."""
    rgb = load_image(IMG / "coffee.jpg", mode="RGB")[:120, :160]
    expected = detect_edges(np.asarray(Image.fromarray(rgb).convert("L")))
    np.testing.assert_array_equal(detect_edges(rgb)[:, :, 0], expected)
    rgba = np.concatenate(
        [
            rgb,
            np.random.default_rng(9).integers(
                0, 256, rgb.shape[:2] + (1,), dtype=np.uint8
            ),
        ],
        axis=-1,
    )
    np.testing.assert_array_equal(detect_edges(rgba), detect_edges(rgb))
    np.testing.assert_array_equal(detect_edges(Image.fromarray(rgb)), expected)


def test_float_colour_uses_601_weights():
    """A float RGB image is weighted 0.299, 0.587, 0.114 before the gradient."""
    rgb = np.random.default_rng(10).uniform(size=(9, 8, 3))
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(
        detect_edges(rgb)[:, :, 0], _reference(grey), **TOLERANCE["float32"]
    )


def test_paths_pil_bytes_and_tensors_agree(camera):
    """A path, a str path, a PIL image, encoded bytes and a tf.Tensor give the same edges."""
    path = IMG / "camera.png"
    expected = detect_edges(camera)
    np.testing.assert_array_equal(detect_edges(path), expected)
    np.testing.assert_array_equal(detect_edges(str(path)), expected)
    np.testing.assert_array_equal(detect_edges(Image.open(path)), expected)
    np.testing.assert_array_equal(detect_edges(path.read_bytes()), expected)
    np.testing.assert_array_equal(detect_edges(tf.constant(camera)), expected)


def test_list_of_different_sizes_gives_a_list():
    """A list of images of different sizes gives a list of edge maps of those sizes."""
    images = [
        np.zeros((5, 6), np.uint8),
        np.ones((9, 4), "float32"),
        IMG / "arrows.png",
    ]
    edges = detect_edges(images)
    assert isinstance(edges, list)
    assert [e.shape for e in edges] == [(5, 6), (9, 4), (240, 320)]
    assert [e.dtype for e in edges] == [np.uint8, np.float32, np.uint8]


@pytest.mark.parametrize("magnitude", ["l1", "l2"])
def test_normalize_and_threshold(camera, magnitude):
    """normalize divides by the full scale; threshold returns edges >= t x full scale."""
    image = camera / 255.0
    raw = _reference(image, magnitude=magnitude)
    full_scale = 6.0 if magnitude == "l1" else np.sqrt(20.0)
    normalized = detect_edges(image, magnitude=magnitude, normalize=True)
    assert (
        normalized.dtype == np.float32
        and 0 <= normalized.min()
        and normalized.max() <= 1
    )
    np.testing.assert_allclose(normalized, raw / full_scale, **TOLERANCE["float32"])
    binary = detect_edges(image, magnitude=magnitude, threshold=0.25)
    assert binary.dtype == np.bool_
    decided = (
        np.abs(raw / full_scale - 0.25) > 1e-5
    )  # pixels not on the threshold itself
    np.testing.assert_array_equal(binary[decided], (raw / full_scale >= 0.25)[decided])
    np.testing.assert_array_equal(
        detect_edges(camera, magnitude=magnitude, threshold=0.25)[decided],
        binary[decided],
    )


def test_normalized_uint8_spans_full_range():
    """With normalize=True a full-contrast diagonal corner reaches 255 in uint8."""
    corner = (np.triu(np.ones((8, 8))) * 255).astype(np.uint8)
    edges = detect_edges(corner, normalize=True)
    assert edges.dtype == np.uint8 and edges.max() == 255


def test_custom_model_is_used():
    """model= runs the given model (its kernels, padding and magnitude) instead of the operator."""
    image = np.random.default_rng(11).uniform(size=(10, 12)).astype("float32")
    model = build_edge_model("scharr", padding="replicate", magnitude="l2")
    np.testing.assert_allclose(
        detect_edges(image, model=model),
        _reference(image, "scharr", 3, "replicate", "l2"),
        **TOLERANCE["float32"],
    )
    assert detect_edges(image, model=model, normalize=True).max() <= 1.0


@pytest.mark.parametrize(
    "image, error, message",
    [
        (
            np.zeros(10),
            ValueError,
            r"Expected \(H, W\), \(H, W, C\) or \(N, H, W, C\).*Received: image.shape=\(10,\)",
        ),
        (
            np.zeros((0, 5)),
            ValueError,
            r"it is empty. Received: image.shape=\(1, 0, 5, 1\)",
        ),
        (
            np.zeros((1, 2, 3, 4, 1)),
            ValueError,
            r"Received: image.shape=\(1, 2, 3, 4, 1\)",
        ),
        (
            np.zeros((5, 5, 2)),
            ValueError,
            r"C in \{1, 3, 4\}.*Received: image.shape=\(5, 5, 2\)",
        ),
        (
            np.zeros((5, 5, 5)),
            ValueError,
            r"Received: image.shape=\(5, 5, 5\).*image\[\.\.\., None\]",
        ),
        (
            np.array([["a", "b"], ["c", "d"]]),
            TypeError,
            r"Expected bool, integer or float pixels. Received: image.dtype=<U1",
        ),
        (np.zeros((3, 3), complex), TypeError, r"Received: image.dtype=complex128"),
        (
            np.array([[0.0, np.nan], [1.0, 2.0]]),
            ValueError,
            r"Expected finite pixel values. Received an image with 1 NaN and 0 infinite",
        ),
        (
            np.array([[0.0, np.inf], [1.0, 2.0]]),
            ValueError,
            r"with 0 NaN and 1 infinite",
        ),
        (
            np.full((2, 2), 1e300),
            ValueError,
            r"infinite values \(after conversion to float32\)",
        ),
        (
            {"image": 1},
            TypeError,
            r"Expected a path, a PIL image, bytes, a NumPy array.*Received: image of type dict",
        ),
        (
            "no/such/file.png",
            FileNotFoundError,
            r"Cannot read image 'no/such/file.png': no such file",
        ),
    ],
)
def test_bad_images_are_reported(image, error, message):
    """Each kind of bad image raises the documented exception with what was expected and received."""
    with pytest.raises(error, match=message):
        detect_edges(image)


def test_bad_files_are_reported(tmp_path):
    """A file that is not an image, and a truncated image, raise ValueError naming the file."""
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ValueError, match=r"notes.png'.*not an image file"):
        detect_edges(text)
    buffer = io.BytesIO()
    Image.fromarray(
        np.random.default_rng(12).integers(0, 256, (64, 64), dtype=np.uint8)
    ).save(buffer, "PNG")
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ValueError, match=r"Cannot read image .*truncated.png"):
        detect_edges(truncated)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            dict(operator="canny"),
            ValueError,
            r"`operator`. Expected one of \['diff', 'farid', 'prewitt', 'roberts', 'scharr', 'sobel'\]. Received: operator='canny'",
        ),
        (
            dict(padding="wrap"),
            ValueError,
            r"`padding`. Expected one of .*Received: padding='wrap'",
        ),
        (
            dict(magnitude="max"),
            ValueError,
            r"`magnitude`. Expected one of \['l1', 'l2'\]",
        ),
        (
            dict(ksize=4),
            ValueError,
            r"`ksize` with operator='sobel'. Expected one of \[3, 5, 7\]. Received: ksize=4",
        ),
        (dict(ksize=9), ValueError, r"Received: ksize=9"),
        (
            dict(operator="prewitt", ksize=5),
            ValueError,
            r"Expected one of \[3\]. Received: ksize=5",
        ),
        (
            dict(threshold=7),
            ValueError,
            r"`threshold`. Expected a number in \[0, 1\].*Received: threshold=7",
        ),
        (dict(threshold="high"), TypeError, r"Received: threshold='high'"),
        (dict(model="sobel"), TypeError, r"`model`. Expected a keras.Model"),
    ],
)
def test_bad_options_are_reported(kwargs, error, message):
    """Unknown options name the argument, the valid choices and the value received."""
    with pytest.raises(error, match=message):
        detect_edges(PLUS, **kwargs)


def test_image_smaller_than_kernel_with_valid_padding():
    """padding='valid' on an image smaller than the kernel names the size needed."""
    with pytest.raises(
        ValueError, match=r"at least ksize=5. Received: image.shape=\(4, 9\)"
    ):
        detect_edges(np.zeros((4, 9)), ksize=5, padding="valid")


def test_tiny_images_work_with_mirrored_borders():
    """1x1 and 1xN images are valid under reflect padding and have no edges along the flat axis."""
    assert detect_edges(np.ones((1, 1))).shape == (1, 1)
    row = np.arange(6, dtype="float32")[None, :]
    np.testing.assert_allclose(detect_edges(row), _reference(row), atol=1e-5)


@pytest.mark.parametrize("operator, ksize", ALL_KERNELS)
def test_signed_gradients_and_orientation_match_scipy(camera, operator, ksize):
    """output='gradients' is scipy's signed (grad_x, grad_y); 'orientation' their image-frame angle."""
    image = camera[200:264, 240:320]
    kernel_x, kernel_y = (
        k[:, :, 0, 0].astype("float64") for k in get_kernels(operator, ksize=ksize)
    )
    expected = np.stack(
        [
            scipy.ndimage.correlate(image.astype("float64"), k, mode="mirror")
            for k in (kernel_x, kernel_y)
        ],
        axis=-1,
    )
    gradients = detect_edges(image, operator=operator, ksize=ksize, output="gradients")
    assert gradients.shape == image.shape + (2,) and gradients.dtype == np.float32
    np.testing.assert_allclose(
        gradients, expected, rtol=1e-5, atol=255 * _float32_atol(operator, ksize)
    )
    angle = detect_edges(image, operator=operator, ksize=ksize, output="orientation")
    true_gradient = expected @ gradient_frame(kernel_x, kernel_y).T
    strong = (
        np.hypot(*np.moveaxis(expected, -1, 0)) > 20
    )  # the angle of a tiny gradient is noise
    difference = np.angle(
        np.exp(1j * (angle - np.arctan2(true_gradient[..., 1], true_gradient[..., 0])))
    )
    assert np.abs(difference[strong]).max() < 1e-4


def test_orientation_of_steps():
    """A left-to-right step points at 0, a top-to-bottom step at pi/2, for Sobel and Roberts."""
    step = np.zeros((6, 6), "float32")
    step[:, 3:] = 1  # noqa: E702
    for operator in ("sobel", "roberts"):
        angle = detect_edges(step, operator=operator, output="orientation")
        np.testing.assert_allclose(angle[2, 3], 0.0, atol=1e-6)
        np.testing.assert_allclose(
            detect_edges(
                np.ascontiguousarray(step.T), operator=operator, output="orientation"
            )[3, 2],
            np.pi / 2,
            atol=1e-6,
        )


def test_gradients_of_uint8_and_batches_are_float32():
    """uint8 gives float32 gradients in 0..255 units; a batch keeps its leading axis."""
    image = (np.random.default_rng(3).uniform(size=(2, 9, 11, 1)) * 255).astype("uint8")
    gradients = detect_edges(image, output="gradients")
    assert gradients.shape == (2, 9, 11, 2) and gradients.dtype == np.float32
    np.testing.assert_allclose(
        gradients / 255,
        detect_edges(image.astype("float32") / 255, output="gradients"),
        atol=1e-5,
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(output="angle"),
            r"`output`. Expected one of \['magnitude', 'gradients', 'orientation'\]. Received: output='angle'",
        ),
        (
            dict(method="sobel"),
            r"`method`. Expected one of \['gradient', 'canny', 'learned', 'laplacian', 'log', 'dog', 'xdog', 'marr_hildreth'\]. Received: method='sobel'",
        ),
        (
            dict(output="gradients", threshold=0.5),
            r"apply to the gradient magnitude only",
        ),
        (
            dict(method="canny", output="orientation"),
            r"`output`. Expected one of \['edges', 'suppressed', 'thresholds'\]",
        ),
        (dict(method="canny", low=0.5, high=0.2), r"Expected high >= low"),
    ],
)
def test_bad_method_and_output_are_reported(kwargs, message):
    """Unknown methods and outputs, and options that do not combine, are named in the error."""
    with pytest.raises(ValueError, match=message):
        detect_edges(PLUS, **kwargs)


@pytest.mark.slow
def test_models_passed_in_are_freed():
    """200 models of different configurations used through detect_edges(model=...) and then
    dropped leave no model alive and RSS within 50 MB: the compiled-function caches are weak,
    and trained kernels share one compiled stencil instead of compiling their own (XLA
    keeps every graph it compiles)."""
    import gc
    import os
    import weakref

    from keras_edges import build_canny_model

    def rss_mb():
        with open("/proc/self/statm") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    # 20 configurations: with five kinds of use, the warm-up below meets each
    # (configuration, kind) pair the loop meets; XLA keeps every graph it compiles.
    configs = [
        dict(operator=operator, padding=padding, magnitude=magnitude)
        for operator in ("farid", "prewitt", "roberts", "scharr", "sobel")
        for padding in ("reflect", "zeros")
        for magnitude in ("l1", "l2")
    ]
    image = np.random.default_rng(0).random((16, 16)).astype("float32")
    rng = np.random.default_rng(1)

    def use(index):
        """Build one model, use it through one of five paths, return a weak reference."""
        config = configs[index % len(configs)]
        kind = index % 5
        if kind == 3:
            model = build_canny_model(config["operator"])
            detect_edges(image, model=model, method="canny")
            return weakref.ref(model)
        model = build_edge_model(**config, trainable=kind == 4)
        if kind == 4:  # a trained model: kernels of its own
            for name in ("grad_x", "grad_y"):
                kernel = model.get_layer(name).kernel
                model.get_layer(name).set_weights([rng.normal(size=kernel.shape)])
        options = [{}, {"engine": "model"}, {"output": "gradients"}, {}, {}][kind]
        detect_edges(image, model=model, **options)
        return weakref.ref(model)

    for index in range(len(configs)):  # the table's stencils compile once, for good
        detect_edges(image, model=build_edge_model(**configs[index]))
    for index in range(len(configs)):  # every (configuration, kind) pair of the loop
        use(index)
    gc.collect()
    start = rss_mb()
    alive = []
    for index in range(200):
        alive.append(use(index))
        if index % 20 == 19:  # Keras models are cycles: freed when the collector runs
            gc.collect()
    assert sum(reference() is not None for reference in alive) == 0
    growth = rss_mb() - start
    assert growth < 50, f"RSS grew by {growth:.1f} MB"


@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (3, 4, 4), (1, 4, 5, 3)])
def test_shape_that_reads_as_nchw_too_is_named_in_a_warning(shape):
    """An NHWC colour shape that is also a valid NCHW one warns how it was read."""
    with pytest.warns(
        UserWarning, match=r"read as channels_last \(NHWC\).*np.moveaxis"
    ):
        detect_edges(np.zeros(shape, "float32"))


def test_unambiguous_shapes_do_not_warn():
    """A usual NHWC image or batch reads without a warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        detect_edges(np.zeros((2, 16, 16, 3), "float32"))
        detect_edges(np.zeros((16, 16, 3), "uint8"))
        detect_edges(np.zeros((1, 8, 3), "uint8"))
