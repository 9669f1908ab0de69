"""Property-based tests: random shapes, dtypes, values and bytes at detect_edges and load_image.

Every outcome is a correct result or one of the documented exceptions (ValueError,
TypeError, FileNotFoundError), never another exception type.
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
shapes = st.one_of(
    hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6),
    st.sampled_from(
        [(1, 4000), (4000, 1), (1, 1), (2, 1, 300, 3), (3, 700, 1), (1, 2, 2, 4)]
    ),
)
options = st.fixed_dictionaries(
    {
        "operator": st.sampled_from(sorted(KERNELS)),
        "ksize": st.sampled_from([3, 5, 7]),
        "padding": st.sampled_from(PADDING_MODES),
        "magnitude": st.sampled_from(MAGNITUDES),
        "threshold": st.none()
        | st.floats(allow_nan=True)
        | st.sampled_from([0.0, 0.3, 1.0]),
        "normalize": st.booleans(),
    }
)


@st.composite
def pixel_arrays(draw):
    """Arrays of any shape and pixel dtype, with any values (NaN and inf included)."""
    dtype = np.dtype(draw(st.sampled_from(PIXEL_DTYPES)))
    return draw(hnp.arrays(dtype, draw(shapes)))


def _reference(
    image: np.ndarray, operator, ksize, padding, magnitude, **_
) -> np.ndarray:
    """Independent float64 edges of one 2-D image with scipy.ndimage.correlate."""
    kernel_x = get_kernels(operator, ksize=ksize)[0][:, :, 0, 0].astype(np.float64)
    mode = SCIPY_MODES.get(padding, "constant")
    grad_x = scipy.ndimage.correlate(image, kernel_x, mode=mode)
    grad_y = scipy.ndimage.correlate(image, kernel_x.T, mode=mode)
    edges = (
        np.abs(grad_x) + np.abs(grad_y)
        if magnitude == "l1"
        else np.hypot(grad_x, grad_y)
    )
    if padding == "valid":
        half = ksize // 2
        edges = edges[half : edges.shape[0] - half, half : edges.shape[1] - half]
    return edges


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
    shrink = opts["ksize"] - 1 if opts["padding"] == "valid" else 0
    spatial = array.shape[:2] if rank in (2, 3) else array.shape[1:3]
    out_spatial = edges.shape[:2] if rank in (2, 3) else edges.shape[1:3]
    assert out_spatial == tuple(side - shrink for side in spatial)
    if rank == 4:
        assert edges.shape[0] == array.shape[0]
    if edges.dtype == np.float32:
        assert not np.isnan(edges).any() and (edges >= 0).all()


@SETTINGS
@given(array=pixel_arrays(), opts=options)
@example(
    array=np.full((1, 4000), np.nan, np.float32),
    opts=dict(
        operator="sobel",
        ksize=3,
        padding="reflect",
        magnitude="l1",
        threshold=None,
        normalize=False,
    ),
)
@example(
    array=np.full((2, 3), 3e38, np.float32),
    opts=dict(
        operator="sobel",
        ksize=3,
        padding="zeros",
        magnitude="l2",
        threshold=None,
        normalize=False,
    ),
)
def test_detect_edges_on_anything(array, opts):
    """Any array and options give a well-formed result or a documented exception."""
    try:
        edges = detect_edges(array, **opts)
    except DOCUMENTED:
        return
    _check_result(array, edges, opts)


@SETTINGS
@given(
    image=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 12)),
        elements=st.floats(-1e3, 1e3, allow_nan=False, width=32),
    ),
    opts=options.map(lambda o: {**o, "threshold": None, "normalize": False}),
)
def test_detect_edges_matches_scipy_on_random_images(image, opts):
    """Finite images of any small size give scipy.ndimage's edges, or a documented error."""
    try:
        edges = detect_edges(image, **opts)
    except DOCUMENTED:
        assert opts["ksize"] not in KERNELS[opts["operator"]] or (
            opts["padding"] == "valid" and min(image.shape) < opts["ksize"]
        )
        return
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
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    )
)
def test_detect_edges_on_non_images(value):
    """Objects that are not images give a documented exception, never a crash."""
    try:
        edges = detect_edges(value)
    except DOCUMENTED:
        return
    assert isinstance(edges, (np.ndarray, list))


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
