"""Tests for the kernel table (keras_edges.kernels)."""

import itertools

import numpy as np
import pytest
import scipy.ndimage

from keras_edges.kernels import KERNELS, get_kernels, gradient_frame, max_response

ALL_KERNELS = [
    (operator, ksize)
    for operator in sorted(KERNELS)
    for ksize in sorted(KERNELS[operator])
]

# OpenCV's getDerivKernels(1, 0, ksize): (derivative, smoothing) for ksize 3, 5, 7.
OPENCV_SOBEL = {
    3: ([-1, 0, 1], [1, 2, 1]),
    5: ([-1, -2, 0, 2, 1], [1, 4, 6, 4, 1]),
    7: ([-1, -4, -5, 0, 5, 4, 1], [1, 6, 15, 20, 15, 6, 1]),
}


@pytest.mark.parametrize("ksize", sorted(OPENCV_SOBEL))
def test_sobel_matches_opencv_deriv_kernels(ksize):
    """Sobel of every size is the outer product of OpenCV's smoothing and derivative vectors."""
    derivative, smoothing = OPENCV_SOBEL[ksize]
    kernel_x, kernel_y = get_kernels("sobel", ksize=ksize)
    np.testing.assert_array_equal(kernel_x[:, :, 0, 0], np.outer(smoothing, derivative))
    np.testing.assert_array_equal(kernel_y[:, :, 0, 0], np.outer(derivative, smoothing))


def test_seed_notebook_kernel_is_the_negative():
    """The seed's [[1,0,-1],[2,0,-2],[1,0,-1]] is the negative of the stored Sobel kernel."""
    seed = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], "float32")
    np.testing.assert_array_equal(get_kernels("sobel")[0][:, :, 0, 0], -seed)


def test_scharr_and_prewitt_values():
    """Scharr and Prewitt hold their textbook 3x3 values."""
    np.testing.assert_array_equal(
        get_kernels("scharr")[0][:, :, 0, 0], [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]
    )
    np.testing.assert_array_equal(
        get_kernels("prewitt")[0][:, :, 0, 0], [[-1, 0, 1]] * 3
    )


@pytest.mark.parametrize(
    "operator, ksize", [k for k in ALL_KERNELS if k[0] != "roberts"]
)
def test_kernel_invariants(operator, ksize):
    """Each kernel sums to zero, is odd in x, even in y, and kernel_y is its transpose."""
    kernel_x, kernel_y = get_kernels(operator, ksize=ksize)
    assert kernel_x.shape == (ksize, ksize, 1, 1) and kernel_x.dtype == np.float32
    kernel = kernel_x[:, :, 0, 0]
    assert kernel.sum() == pytest.approx(0.0, abs=1e-7)
    np.testing.assert_array_equal(kernel, -kernel[:, ::-1])
    np.testing.assert_array_equal(kernel, kernel[::-1, :])
    np.testing.assert_array_equal(kernel_y[:, :, 0, 0], kernel.T)


@pytest.mark.parametrize("operator, ksize", ALL_KERNELS)
def test_step_response_is_positive(operator, ksize):
    """A dark-to-bright step left to right gives grad_x > 0 (OpenCV's sign)."""
    kernel = get_kernels(operator, ksize=ksize)[0][:, :, 0, 0]
    step = np.zeros((ksize, ksize))
    step[:, (ksize + 1) // 2 :] = 1  # noqa: E702
    assert (kernel * step).sum() > 0


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channels_share_the_kernel(channels):
    """Channel weights sum to 1: luminance for 3 channels (ITU-R 601-2), else the mean."""
    kernel_x, _ = get_kernels("sobel", channels=channels)
    assert kernel_x.shape == (3, 3, channels, 1)
    weights = [0.299, 0.587, 0.114] if channels == 3 else [1 / channels] * channels
    np.testing.assert_allclose(kernel_x[0, 0, :, 0], [-w for w in weights], atol=1e-7)
    np.testing.assert_allclose(
        kernel_x.sum(axis=2)[:, :, 0], get_kernels("sobel")[0][:, :, 0, 0], atol=1e-6
    )


def _brute_force_max(kernel_x, kernel_y, magnitude):
    """The largest magnitude over all 0/1 images of the kernel's size (2**9 for 3x3)."""
    a, b = kernel_x.ravel(), kernel_y.ravel()
    best = 0.0
    for bits in itertools.product((0.0, 1.0), repeat=a.size):
        x = np.array(bits)
        gx, gy = a @ x, b @ x
        best = max(best, abs(gx) + abs(gy) if magnitude == "l1" else np.hypot(gx, gy))
    return best


@pytest.mark.parametrize(
    "operator", [name for name in sorted(KERNELS) if min(KERNELS[name]) <= 3]
)
@pytest.mark.parametrize("magnitude", ["l1", "l2"])
def test_max_response_matches_brute_force(operator, magnitude):
    """The closed-form bound equals the maximum over every black-and-white 3x3 (or 2x2) image."""
    kernel_x, kernel_y = get_kernels(operator)
    expected = _brute_force_max(kernel_x[:, :, 0, 0], kernel_y[:, :, 0, 0], magnitude)
    assert max_response(kernel_x, kernel_y, magnitude) == pytest.approx(
        expected, rel=1e-12
    )


def test_max_response_random_kernels():
    """For random 3x3 kernels the L2 bound equals brute force (not only for symmetric ones)."""
    rng = np.random.default_rng(0)
    for _ in range(5):
        a, b = rng.normal(size=(2, 3, 3))
        assert max_response(a, b, "l2") == pytest.approx(
            _brute_force_max(a, b, "l2"), rel=1e-12
        )
        assert max_response(a, b, "l1") == pytest.approx(
            _brute_force_max(a, b, "l1"), rel=1e-12
        )


@pytest.mark.parametrize("magnitude", ["l1", "l2"])
def test_normalize_scales_to_unit_bound(magnitude):
    """normalize=True divides both kernels so that the bound becomes 1."""
    kernel_x, kernel_y = get_kernels("scharr", normalize=True, magnitude=magnitude)
    assert max_response(kernel_x, kernel_y, magnitude) == pytest.approx(1.0, rel=1e-6)


def test_roberts_cross_values_and_frame():
    """Roberts' cross holds its two diagonal kernels; its frame turns them into the image gradient."""
    kernel_x, kernel_y = (k[:, :, 0, 0] for k in get_kernels("roberts"))
    np.testing.assert_array_equal(kernel_x, [[-1, 0], [0, 1]])
    np.testing.assert_array_equal(kernel_y, [[0, -1], [1, 0]])
    # On the ramp 2x + 3y the responses are (2 + 3, 3 - 2); the frame gives back (2, 3) * sqrt(2).
    ramp = 2 * np.arange(2)[None, :] + 3 * np.arange(2)[:, None]
    responses = np.array([(kernel_x * ramp).sum(), (kernel_y * ramp).sum()])
    np.testing.assert_allclose(
        gradient_frame(kernel_x, kernel_y) @ responses, np.sqrt(2) * np.array([2, 3])
    )
    np.testing.assert_allclose(
        gradient_frame(*get_kernels("sobel", ksize=5)), np.eye(2), atol=1e-12
    )


def test_farid_matches_scikit_image():
    """Farid's kernels are scikit-image's farid_v (grad_x) and farid_h (grad_y), same sign."""
    from skimage import filters

    image = np.random.default_rng(7).uniform(size=(24, 20))
    kernel_x, kernel_y = (k[:, :, 0, 0].astype("float64") for k in get_kernels("farid"))
    inner = (slice(3, -3), slice(3, -3))  # skimage zeroes a frame; compare the interior
    grad_x = scipy.ndimage.correlate(image, kernel_x, mode="reflect")
    grad_y = scipy.ndimage.correlate(image, kernel_y, mode="reflect")
    np.testing.assert_allclose(
        grad_x[inner], filters.farid_v(image)[inner], rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        grad_y[inner], filters.farid_h(image)[inner], rtol=1e-6, atol=1e-7
    )


def test_default_ksize_is_the_smallest():
    """ksize=None picks the operator's smallest size: 2 for Roberts, 5 for Farid, 3 for Sobel."""
    assert [
        get_kernels(name)[0].shape[0] for name in ("roberts", "farid", "sobel")
    ] == [2, 5, 3]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            dict(operator="canny"),
            ValueError,
            r"`operator`. Expected one of \['diff', 'farid', 'prewitt', 'roberts', 'scharr', 'sobel'\]. Received: operator='canny'",
        ),
        (
            dict(operator="sobel", ksize=4),
            ValueError,
            r"`ksize` with operator='sobel'. Expected one of \[3, 5, 7\]. Received: ksize=4",
        ),
        (
            dict(operator="sobel", ksize=9),
            ValueError,
            r"Expected one of \[3, 5, 7\]. Received: ksize=9",
        ),
        (
            dict(operator="scharr", ksize=5),
            ValueError,
            r"Expected one of \[3\]. Received: ksize=5",
        ),
        (dict(operator="sobel", ksize=3.0), TypeError, r"Expected an int"),
        (
            dict(operator="sobel", channels=0),
            ValueError,
            r"`channels`. Expected a positive integer. Received: channels=0",
        ),
        (
            dict(operator="sobel", magnitude="l3"),
            ValueError,
            r"`magnitude`. Expected one of \['l1', 'l2'\]",
        ),
    ],
)
def test_bad_arguments_are_reported(kwargs, error, message):
    """Unknown operators, sizes and options name the argument, the choices and the value."""
    operator = kwargs.pop("operator")
    with pytest.raises(error, match=message):
        get_kernels(operator, **kwargs)


def test_table_is_read_only():
    """Neither the table's arrays nor its rows can be changed, so every get_kernels sees the table."""
    before = get_kernels("sobel")[0].copy()
    with pytest.raises(ValueError, match="read-only"):
        KERNELS["sobel"][3][0, 0] = 99
    with pytest.raises(ValueError, match="read-only"):
        KERNELS["roberts"][2][1][0, 0] = 99
    with pytest.raises(TypeError):
        KERNELS["sobel"][9] = np.zeros((9, 9))
    np.testing.assert_array_equal(get_kernels("sobel")[0], before)
    kernel_x, _ = get_kernels("sobel")
    kernel_x[0, 0] = 5  # what get_kernels returns is the caller's own copy
    np.testing.assert_array_equal(get_kernels("sobel")[0], before)


def test_diff_is_kornias_central_difference():
    """`diff` is kornia's spatial_gradient(mode="diff"): [-1, 0, 1], halved when normalized.

    kornia pads with `replicate` and its default `normalized=True` divides the kernel by
    its L1 norm (2); written out here with scipy (kornia is not a dependency).
    """
    from scipy import ndimage

    from keras_edges import build_edge_model

    image = np.random.default_rng(3).uniform(size=(9, 12))
    half = np.array([[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    expected_x = ndimage.correlate(image, half, mode="nearest")
    expected_y = ndimage.correlate(image, half.T, mode="nearest")
    model = build_edge_model("diff", padding="replicate", output="gradients")
    got = np.asarray(model(image[None, :, :, None].astype("float32")))[0] / 2
    np.testing.assert_allclose(got[..., 0], expected_x, atol=1e-6)
    np.testing.assert_allclose(got[..., 1], expected_y, atol=1e-6)
