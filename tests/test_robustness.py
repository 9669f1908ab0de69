"""Property-based tests: random shapes, dtypes, values and bytes at detect_edges and load_image.

Valid and invalid inputs come from separate strategies: a valid input must give a
well-formed result (a wrongly rejected one fails), and an input with one defect must give
one of the documented exceptions (ValueError, TypeError, FileNotFoundError).
"""

import io

import numpy as np
import pytest
import scipy.ndimage
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from keras_edges import KERNELS, detect_edges, get_kernels, load_image
from keras_edges.kernels import MAGNITUDES, PADDING_MODES

DOCUMENTED = (ValueError, TypeError, FileNotFoundError)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# scipy.ndimage border modes that match the package's padding modes.
SCIPY_MODES = {
    "reflect": "mirror",
    "symmetric": "reflect",
    "replicate": "nearest",
    "zeros": "constant",
}

PIXEL_DTYPES = [
    "bool",
    "uint8",
    "int8",
    "uint16",
    "int16",
    "int32",
    "int64",
    "uint64",
    "float16",
    "float32",
    "float64",
]
ODD_DTYPES = ["complex64", "U3", "datetime64[s]", "object"]


@st.composite
def valid_options(draw):
    """Options that detect_edges must accept: every operator (Roberts and Farid included)
    with one of its own sizes (or None), any padding, magnitude, threshold in [0, 1]."""
    operator = draw(st.sampled_from(sorted(KERNELS)))
    return {
        "operator": operator,
        "ksize": draw(st.none() | st.sampled_from(sorted(KERNELS[operator]))),
        "padding": draw(st.sampled_from(PADDING_MODES)),
        "magnitude": draw(st.sampled_from(MAGNITUDES)),
        "threshold": draw(st.none() | st.floats(0.0, 1.0)),
        "normalize": draw(st.booleans()),
    }


def _size(opts) -> int:
    """The kernel size that `opts` selects."""
    return opts["ksize"] or min(KERNELS[opts["operator"]])


@st.composite
def valid_inputs(draw):
    """`(array, options)`: any pixel dtype, rank 2 to 4 with 1, 3 or 4 channels, sides at
    least the kernel (at least 1 unless `padding="valid"`), finite values within +-1e30."""
    opts = draw(valid_options())
    low = _size(opts) if opts["padding"] == "valid" else 1
    side = st.integers(low, low + 6) | st.sampled_from([low, low + 300])
    height, width = draw(side), draw(st.integers(low, low + 6))
    shape = draw(
        st.sampled_from(
            [
                (height, width),
                (height, width, draw(st.sampled_from([1, 3, 4]))),
                (
                    draw(st.integers(1, 3)),
                    height,
                    width,
                    draw(st.sampled_from([1, 3, 4])),
                ),
            ]
        )
    )
    dtype = np.dtype(draw(st.sampled_from(PIXEL_DTYPES)))
    elements = None
    if dtype.kind == "f":
        bound = float(np.float32(1e29)) if dtype.itemsize > 2 else 6e4
        elements = st.floats(-bound, bound, allow_nan=False, width=8 * dtype.itemsize)
    return draw(hnp.arrays(dtype, shape, elements=elements)), opts


def _check_result(array, edges, opts):
    """A successful call returns the documented dtype and shape, without NaN or negatives."""
    rank = array.ndim
    assert isinstance(edges, np.ndarray) and edges.ndim == rank
    expected = (
        np.bool_
        if opts["threshold"] is not None
        else (np.uint8 if array.dtype == np.uint8 else np.float32)
    )
    assert edges.dtype == expected
    shrink = _size(opts) - 1 if opts["padding"] == "valid" else 0
    spatial = array.shape[:2] if rank in (2, 3) else array.shape[1:3]
    out_spatial = edges.shape[:2] if rank in (2, 3) else edges.shape[1:3]
    assert out_spatial == tuple(side - shrink for side in spatial)
    if rank == 4:
        assert edges.shape[0] == array.shape[0]
    if edges.dtype == np.float32:
        assert not np.isnan(edges).any() and (edges >= 0).all()


@SETTINGS
@given(valid=valid_inputs())
@example(
    valid=(
        np.arange(12, dtype=np.uint8).reshape(3, 4),
        dict(
            operator="roberts",
            ksize=2,
            padding="valid",
            magnitude="l2",
            threshold=None,
            normalize=False,
        ),
    )
)
def test_detect_edges_accepts_every_valid_input(valid):
    """Every valid array and option set gives a well-formed result (no exception)."""
    array, opts = valid
    _check_result(array, detect_edges(array, **opts), opts)


@st.composite
def invalid_inputs(draw):
    """`(array, options)`: a valid input with exactly one defect."""
    array, opts = draw(valid_inputs())
    defect = draw(
        st.sampled_from(
            [
                "empty",
                "rank",
                "channels",
                "nan",
                "huge",
                "operator",
                "ksize",
                "padding",
                "threshold",
                "too small",
            ]
        )
    )
    if defect == "empty":
        array = np.zeros((0, 3), array.dtype)
    elif defect == "rank":
        array = np.zeros(draw(st.sampled_from([(), (5,), (1, 2, 2, 1, 1)])), "float32")
    elif defect == "channels":
        array = np.zeros((4, 4, draw(st.sampled_from([2, 5]))), array.dtype)
    elif defect == "nan":
        array = np.zeros((4, 5), "float32")
        array[1, 2] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    elif defect == "huge":
        array = np.zeros((4, 5), "float64")
        array[1, 2] = draw(st.sampled_from([1e31, -1e300]))
    elif defect == "operator":
        opts["operator"] = draw(st.sampled_from(["canny", "Sobel", "laplace"]))
    elif defect == "ksize":
        sizes = KERNELS[opts["operator"]]
        opts["ksize"] = draw(
            st.sampled_from([k for k in (1, 2, 3, 4, 5, 7, 9) if k not in sizes])
        )
    elif defect == "padding":
        opts["padding"] = draw(st.sampled_from(["same", "wrap", "mirror"]))
    elif defect == "threshold":
        opts["threshold"] = draw(st.sampled_from([-0.1, 1.5, np.nan, "high", True]))
    else:  # an image smaller than the kernel with padding="valid"
        opts.update(operator="sobel", ksize=5, padding="valid")
        array = np.zeros((draw(st.integers(1, 4)), 8), "float32")
    return array, opts


@SETTINGS
@given(invalid=invalid_inputs())
def test_detect_edges_rejects_every_invalid_input(invalid):
    """An input with one defect raises a documented exception, never returns or crashes."""
    array, opts = invalid
    with pytest.raises(DOCUMENTED):
        detect_edges(array, **opts)


def _reference(
    image: np.ndarray, operator, ksize, padding, magnitude, **_
) -> np.ndarray:
    """Independent float64 edges of one 2-D image with scipy.ndimage.correlate."""
    kernel_x, kernel_y = (
        k[:, :, 0, 0].astype(np.float64) for k in get_kernels(operator, ksize=ksize)
    )
    mode = SCIPY_MODES.get(padding, "constant")
    grad_x = scipy.ndimage.correlate(image, kernel_x, mode=mode)
    grad_y = scipy.ndimage.correlate(image, kernel_y, mode=mode)
    edges = (
        np.abs(grad_x) + np.abs(grad_y)
        if magnitude == "l1"
        else np.hypot(grad_x, grad_y)
    )
    if padding == "valid":  # an even kernel's anchor is its element size // 2
        size = kernel_x.shape[0]
        top, bottom = size // 2, (size - 1) // 2
        edges = edges[top : edges.shape[0] - bottom, top : edges.shape[1] - bottom]
    return edges


@SETTINGS
@given(
    image=hnp.arrays(
        np.float64,
        st.tuples(st.integers(7, 12), st.integers(7, 12)),
        elements=st.floats(-1e3, 1e3, allow_nan=False, width=32),
    ),
    opts=valid_options().map(lambda o: {**o, "threshold": None, "normalize": False}),
)
def test_detect_edges_matches_scipy_on_random_images(image, opts):
    """Finite images give scipy.ndimage's edges for every operator, size and border."""
    edges = detect_edges(image, **opts)
    expected = _reference(image.astype(np.float32).astype(np.float64), **opts)
    scale = (
        max(1.0, float(np.abs(image).max()))
        * np.abs(get_kernels(opts["operator"], ksize=opts["ksize"])[0]).sum()
    )
    np.testing.assert_allclose(edges, expected, rtol=1e-5, atol=1e-6 * scale)


@SETTINGS
@given(
    dtype=st.sampled_from(ODD_DTYPES),
    shape=hnp.array_shapes(min_dims=2, max_dims=3, max_side=4),
)
def test_detect_edges_rejects_non_numeric_pixels(dtype, shape):
    """Complex, string, datetime and object pixels are a TypeError or ValueError."""
    array = np.zeros(shape, dtype=dtype)
    with pytest.raises((TypeError, ValueError)):
        detect_edges(array)


@SETTINGS
@given(
    value=st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.text(max_size=3),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    )
)
def test_detect_edges_rejects_non_images(value):
    """Objects that are not images (scalars, text, dicts, None) give a documented exception."""
    with pytest.raises(DOCUMENTED):
        detect_edges(value)


# --- load_image ----------------------------------------------------------------------

FORMATS = ["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM"]


@st.composite
def damaged_files(draw):
    """Valid encodings of random small images, then truncated and/or with bytes overwritten."""
    fmt = draw(st.sampled_from(FORMATS))
    mode = draw(
        st.sampled_from(
            ["L", "RGB"]
            if fmt in ("JPEG", "PPM")
            else ["L", "RGB", "RGBA", "P", "I;16", "1"]
        )
    )
    if fmt in ("BMP", "WEBP", "GIF") and mode == "I;16":
        mode = "L"
    size = draw(st.tuples(st.integers(1, 40), st.integers(1, 40)))
    seed = draw(st.integers(0, 2**16))
    pixels = np.random.default_rng(seed).integers(
        0, 256, (size[1], size[0], 3), dtype=np.uint8
    )
    image = Image.fromarray(pixels).convert(mode)
    stream = io.BytesIO()
    image.save(stream, format=fmt)
    data = bytearray(stream.getvalue())
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return fmt, bytes(data)


def _check_loaded(array):
    """A loaded grey image is a 2-D uint8/uint16/float32 array."""
    assert isinstance(array, np.ndarray) and array.ndim == 2
    assert array.dtype in (np.uint8, np.uint16, np.float32)


@pytest.mark.filterwarnings("ignore::UserWarning")
@SETTINGS
@given(
    data=st.binary(max_size=300)
    | st.sampled_from(
        [b"", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"II*\x00", b"BM", b"\xff\xd8\xff"]
    )
)
def test_load_image_random_bytes(data):
    """Random bytes are an image or a ValueError."""
    try:
        array = load_image(data)
    except ValueError:
        return
    _check_loaded(array)


@pytest.mark.filterwarnings(
    "ignore::UserWarning"
)  # Pillow's notes on damaged TIFF tags
@SETTINGS
@given(damaged=damaged_files(), mode=st.sampled_from(["L", "RGB", "RGBA"]))
def test_load_image_damaged_files(tmp_path_factory, damaged, mode):
    """Truncated or corrupted PNG/JPEG/GIF/BMP/TIFF/WebP/PPM files load or raise ValueError."""
    fmt, data = damaged
    path = tmp_path_factory.mktemp("damaged") / f"image.{fmt.lower()}"
    path.write_bytes(data)
    try:
        array = load_image(path, mode=mode)
    except ValueError:
        return
    if mode == "L":
        _check_loaded(array)
    else:
        assert array.dtype == np.uint8 and array.shape[2:] == (len(mode),)


@SETTINGS
@given(
    source=st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.lists(st.integers(), max_size=2),
        st.just(np.zeros(3)),
    ),
    mode=st.text(max_size=5) | st.sampled_from(["L", "RGB", "RGBA"]),
)
def test_load_image_wrong_arguments(source, mode):
    """Non-path sources are a TypeError and unknown modes a ValueError."""
    with pytest.raises((TypeError, ValueError)):
        load_image(source, mode=mode)


@SETTINGS
@given(
    image=hnp.arrays(np.uint8, st.sampled_from([(1, 4000), (4000, 1), (1, 1), (3, 5)])),
    suffix=st.sampled_from([".png", ".tiff", ".bmp"]),
)
def test_load_image_round_trip_extreme_aspect(tmp_path_factory, image, suffix):
    """Extreme aspect ratios round-trip exactly through lossless formats."""
    path = tmp_path_factory.mktemp("round") / f"x{suffix}"
    Image.fromarray(image).save(path)
    np.testing.assert_array_equal(load_image(path), image)


def test_load_image_missing_and_folder(tmp_path):
    """A missing path and a folder are FileNotFoundError."""
    for source in (tmp_path / "missing.png", tmp_path):
        with pytest.raises(FileNotFoundError):
            load_image(source)


@pytest.mark.parametrize("peak", [1e20, 1e29])
def test_large_pixels_scale_exactly(peak):
    """Pixels near 1e30 give the scaled result (a flat image stays ~0), never inf or NaN."""
    flat = np.full((6, 7), peak, np.float32)
    assert detect_edges(flat, padding="replicate", ksize=5).max() <= 1e-5 * peak
    step = np.zeros((6, 7), np.float32)
    step[:, 4:] = peak / 10
    tolerance = dict(
        rtol=1e-5, atol=1e-6 * peak
    )  # float32 round-off relative to the peak
    np.testing.assert_allclose(
        detect_edges(step), detect_edges(step / peak) * peak, **tolerance
    )
    np.testing.assert_allclose(
        detect_edges(step, normalize=True),
        detect_edges(step / peak, normalize=True) * peak,
        **tolerance,
    )


@pytest.mark.parametrize("peak", [1e31, -3e38])
def test_pixels_beyond_the_float32_safe_range_are_reported(peak):
    """Pixels beyond +-1e30 (where float32 sums overflow) raise ValueError naming the range."""
    image = np.zeros((6, 7), np.float32)
    image[2, 3] = peak
    with pytest.raises(
        ValueError, match=r"Expected pixel values within \+-1e\+30.*Received values in"
    ):
        detect_edges(image)
