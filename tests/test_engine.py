"""Tests for the stencil engine (keras_edges.engine.stencil): equal to the Keras model."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_edges import (
    BorderPadding,
    GradientMagnitude,
    build_edge_model,
    detect_edges,
    get_kernels,
)
from keras_edges.engine import stencil
from keras_edges.kernels import KERNELS, PADDING_MODES, max_response

from conftest import ROOT, TOLERANCE

pytestmark = pytest.mark.backends(*stencil.BACKENDS)

ALL_KERNELS = [
    (operator, ksize)
    for operator in sorted(KERNELS)
    for ksize in sorted(KERNELS[operator])
]


def _both(image, **options):
    """The edges of `image` from the fast engine and from the Keras model."""
    return detect_edges(image, engine="fast", **options), detect_edges(
        image, engine="model", **options
    )


def _assert_same(fast, reference, atol=None):
    """Same shape and dtype; equal values (bit for bit unless `atol` is given)."""
    assert fast.shape == reference.shape and fast.dtype == reference.dtype
    if atol is None:
        np.testing.assert_array_equal(fast, reference)
    else:
        np.testing.assert_allclose(
            fast, reference, rtol=TOLERANCE["float32"]["rtol"], atol=atol
        )


def _random_kernel_model(size=3, channels=1, padding="reflect", magnitude="l1", seed=0):
    """A trained-like model: build_edge_model's graph with random, non-separable kernels."""
    model = build_edge_model(
        "sobel",
        ksize=size,
        padding=padding,
        magnitude=magnitude,
        channels=channels,
        trainable=True,
    )
    rng = np.random.default_rng(seed)
    for name in ("grad_x", "grad_y"):
        model.get_layer(name).set_weights(
            [rng.normal(size=(size, size, channels, 1)).astype("float32")]
        )
    return model


@pytest.fixture
def small_tiles(monkeypatch):
    """Make the fast engine tile anything above 24 x 24 output pixels into 16 x 16 tiles."""
    monkeypatch.setattr(stencil, "_TILE", 16)
    monkeypatch.setattr(stencil, "_MAX_CALL_PIXELS", 24 * 24)
    stencil._layout.cache_clear()
    yield
    stencil._layout.cache_clear()


@pytest.fixture(scope="module")
def photo():
    """A 61 x 83 crop of the camera photo with a bright square, so uint8 edges saturate."""
    from keras_edges import load_image

    image = load_image(ROOT / "img" / "camera.png")[200:261, 150:233].copy()
    image[20:30, 20:40] = 255
    return image


@pytest.mark.parametrize("operator, ksize", ALL_KERNELS)
@pytest.mark.parametrize("padding", PADDING_MODES)
def test_uint8_is_bit_identical_to_the_model(photo, operator, ksize, padding):
    """For the integer kernels of the table, uint8 edges equal the model's bit for bit (L1 and L2, normalised too)."""
    for magnitude in ("l1", "l2"):
        options = dict(
            operator=operator, ksize=ksize, padding=padding, magnitude=magnitude
        )
        _assert_same(*_both(photo, **options))
        _assert_same(*_both(photo, normalize=True, **options))


@pytest.mark.parametrize("operator, ksize", ALL_KERNELS)
@pytest.mark.parametrize("padding", PADDING_MODES)
def test_float32_matches_the_model(photo, operator, ksize, padding):
    """float32 edges equal the model's within float32 rounding of the operator's full scale."""
    image = photo.astype("float32") / 255
    full_scale = max_response(*get_kernels(operator, ksize=ksize))
    atol = TOLERANCE["float32"]["atol"] * full_scale
    options = dict(operator=operator, ksize=ksize, padding=padding)
    _assert_same(*_both(image, **options), atol=atol)
    _assert_same(*_both(image, magnitude="l2", **options), atol=atol)


@pytest.mark.parametrize("dtype", ["float64", "float16", "uint16", "int16", "bool"])
def test_other_dtypes_match_the_model(photo, dtype):
    """float64, float16, uint16, int16 and bool images give the model's float32 edges."""
    image = (photo > 100) if dtype == "bool" else photo.astype(dtype)
    if dtype in ("float64", "float16"):
        image = image / 255
    fast, reference = _both(image)
    _assert_same(
        fast,
        reference,
        atol=TOLERANCE["float32"]["atol"] * float(np.abs(reference).max()),
    )


@pytest.mark.parametrize(
    "shape",
    [
        (1, 1),
        (1, 9),
        (2, 2),
        (7, 5),
        (7, 5, 1),
        (7, 5, 3),
        (7, 5, 4),
        (5, 7, 5, 1),
        (3, 9, 8, 3),
    ],
)
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_ranks_batches_and_tiny_images_match_the_model(shape, dtype):
    """Every rank, colour, a batch of 5 (chunked as 4 + 1) and 1-pixel images give the model's edges."""
    image = np.random.default_rng(1).integers(0, 256, size=shape).astype(dtype)
    for padding in ("reflect", "symmetric", "replicate", "zeros"):
        _assert_same(
            *_both(image, padding=padding), atol=None if dtype == "uint8" else 1e-3
        )


@pytest.mark.parametrize("padding", PADDING_MODES)
def test_images_that_fill_their_bucket_match_the_model(padding):
    """Images whose padded size is exactly a bucket (bordered inside the graph) give the model's edges."""
    rng = np.random.default_rng(5)
    for ksize in (3, 7):
        extra = (
            ksize - 1 if padding == "valid" else 0
        )  # valid output = image - (ksize - 1)
        for shape in [(32 + extra, 48 + extra), (2, 16 + extra, 32 + extra, 1)]:
            image = rng.integers(0, 256, size=shape, dtype=np.uint8)
            _assert_same(*_both(image, ksize=ksize, padding=padding))
            _assert_same(
                *_both(
                    image.astype("float32"),
                    ksize=ksize,
                    padding=padding,
                    magnitude="l2",
                ),
                atol=1e-2,
            )
    readonly = rng.integers(0, 256, size=(32, 48), dtype=np.uint8)
    readonly.flags.writeable = False  # cannot be shared through DLPack: copied instead
    _assert_same(*_both(readonly, padding="reflect" if padding == "valid" else padding))


@pytest.mark.parametrize("magnitude", ["l1", "l2"])
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_threshold_and_normalize_match_the_model(photo, magnitude, dtype):
    """`threshold` gives the model's boolean map; `normalize` the model's scaled edges."""
    image = photo if dtype == "uint8" else photo.astype("float32") / 255
    for threshold in (0.0, 0.1, 0.25, 1.0):
        fast, reference = _both(image, magnitude=magnitude, threshold=threshold)
        assert fast.dtype == np.bool_
        np.testing.assert_array_equal(fast, reference)
    _assert_same(
        *_both(image, magnitude=magnitude, normalize=True),
        atol=None if dtype == "uint8" else 1e-6,
    )


@pytest.mark.parametrize(
    "size, padding, magnitude",
    [
        (3, "reflect", "l1"),
        (5, "symmetric", "l2"),
        (5, "replicate", "l1"),
        (3, "zeros", "l2"),
        (5, "valid", "l1"),
    ],
)
def test_trained_like_model_matches(photo, size, padding, magnitude):
    """A model with random (non-separable) kernels passed as `model=` gives its own edges."""
    model = _random_kernel_model(size, padding=padding, magnitude=magnitude)
    kernel = model.get_layer("grad_x").get_weights()[0][:, :, 0, 0]
    assert (
        stencil._factors(kernel) is None
    )  # the general stencil, not the separable one
    image = photo.astype("float32") / 255
    fast, reference = _both(image, model=model)
    _assert_same(fast, reference, atol=1e-4)
    fast, reference = _both(photo, model=model)  # uint8: rounding may differ by 1 at .5
    assert fast.dtype == np.uint8 and np.abs(fast.astype(int) - reference).max() <= 1


def test_multichannel_and_even_kernel_models_match(photo):
    """A 3-channel model on RGB input, and an even 4 x 4 kernel with asymmetric padding, match the model."""
    rgb = (
        np.stack([photo, photo[::-1], photo[:, ::-1]], axis=-1).astype("float32") / 255
    )
    model = _random_kernel_model(3, channels=3, seed=2)
    _assert_same(*_both(rgb, model=model), atol=1e-4)
    image = keras.Input(shape=(None, None, 1), name="image")
    padded = BorderPadding(((2, 1), (2, 1)), mode="symmetric", name="pad")(image)
    convs = [
        keras.layers.Conv2D(1, 4, use_bias=False, name=name)(padded)
        for name in ("grad_x", "grad_y")
    ]
    even = keras.Model(image, GradientMagnitude(name="magnitude")(convs))
    assert stencil.plan(even) is not None
    _assert_same(*_both(photo.astype("float32"), model=even), atol=1e-3)


def test_changed_weights_are_used():
    """Setting new weights on a model passed as `model=` changes the fast engine's edges."""
    model = build_edge_model("sobel", trainable=True)
    image = np.random.default_rng(3).uniform(size=(12, 12)).astype("float32")
    first = detect_edges(image, model=model)
    model.get_layer("grad_x").set_weights(
        [2 * model.get_layer("grad_x").get_weights()[0]]
    )
    model.get_layer("grad_y").set_weights(
        [2 * model.get_layer("grad_y").get_weights()[0]]
    )
    np.testing.assert_allclose(detect_edges(image, model=model), 2 * first, rtol=1e-6)


def test_other_models_fall_back_to_the_model_engine():
    """A model not shaped like build_edge_model's (here: a bias) runs through Keras and still works."""
    image = keras.Input(shape=(None, None, 1))
    model = keras.Model(
        image, keras.layers.Conv2D(1, 3, padding="same", name="grad_x")(image)
    )
    assert stencil.plan(model) is None
    data = np.random.default_rng(4).uniform(size=(6, 7)).astype("float32")
    np.testing.assert_array_equal(
        detect_edges(data, model=model), detect_edges(data, model=model, engine="model")
    )


def test_non_contiguous_views_work(photo):
    """Strided views (flipped, every other column) give the edges of their contiguous copies."""
    for view in (photo[::-1], photo[:, ::2], photo.T):
        np.testing.assert_array_equal(
            detect_edges(view), detect_edges(np.ascontiguousarray(view))
        )


def test_separable_factors_are_exact_integers():
    """Sobel, Scharr and Prewitt kernels factor into integer vectors whose outer product is the kernel."""
    for operator, ksize in ALL_KERNELS:
        if operator not in ("sobel", "scharr", "prewitt"):
            continue
        kernel = KERNELS[operator][ksize]
        column, row = stencil._factors(kernel)
        np.testing.assert_array_equal(np.outer(column, row), kernel)
        assert np.array_equal(column, np.round(column)) and np.array_equal(
            row, np.round(row)
        )
    assert stencil._factors(np.arange(9.0).reshape(3, 3) ** 2) is None
    assert stencil._factors(KERNELS["roberts"][2][0]) is None  # a diagonal: rank 2


@pytest.mark.parametrize("mode", ["reflect", "symmetric", "replicate"])
def test_border_index_is_the_pad_layers_rule(mode):
    """The engine's NumPy border indices equal the pad layer's (`layers.gradient._source_indices`)."""
    from keras_edges.layers.gradient import _source_indices

    for size in (1, 2, 3, 4, 7, 10):
        for before, after in ((0, 0), (1, 1), (2, 1), (3, 3), (9, 4)):
            expected = np.asarray(_source_indices(size, before, after, mode))
            np.testing.assert_array_equal(
                stencil._border_index(size, before, after, mode), expected
            )


def test_buckets():
    """Sizes round up to m * 2**e with m in 8..15: at most 12.5 % slack, exact for common sizes."""
    assert [stencil._bucket(n) for n in (1, 16, 17, 255, 256, 1080, 1920, 4096)] == [
        16,
        16,
        18,
        256,
        256,
        1152,
        1920,
        4096,
    ]
    sizes = np.arange(1, 5000)
    buckets = np.array([stencil._bucket(int(n)) for n in sizes])
    assert (buckets >= sizes).all() and (buckets <= np.maximum(16, sizes * 1.125)).all()


def test_new_size_within_a_bucket_compiles_nothing():
    """A second image size in the same bucket reuses the compiled function."""
    detect_edges(np.zeros((100, 140), np.uint8))
    misses = stencil._fast_function.cache_info().misses
    detect_edges(np.zeros((97, 130), np.uint8))
    assert stencil._fast_function.cache_info().misses == misses


@pytest.mark.parametrize("padding", PADDING_MODES)
def test_tiled_equals_untiled(small_tiles, photo, padding):
    """With 16 x 16 tiles, every padding gives the untiled model's edges (uint8 bit for bit, batches too)."""
    layout = stencil._layout(
        stencil.plan(
            build_edge_model("sobel", ksize=5, padding=padding, magnitude="l2")
        ),
        1,
        *photo.shape,
        1,
    )
    assert len(layout[3]) > 1 and len(layout[4]) > 1  # really tiled
    _assert_same(*_both(photo, ksize=5, padding=padding))
    _assert_same(
        *_both(photo.astype("float32"), magnitude="l2", padding=padding), atol=1e-3
    )
    batch = np.stack([photo, photo[::-1], photo[:, ::-1]])[..., None]
    _assert_same(*_both(batch, padding=padding))
    _assert_same(
        *_both(photo, padding=padding, model=_random_kernel_model(5, padding=padding)),
        atol=1,
    )


def test_unknown_engine_is_reported():
    """An unknown engine names the valid choices."""
    with pytest.raises(
        ValueError,
        match=r"`engine`. Expected one of \['fast', 'model'\]. Received: engine='gpu'",
    ):
        detect_edges(np.zeros((4, 4)), engine="gpu")


MEMORY_SCRIPT = """
import os, resource
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from keras_edges import detect_edges

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) * 1024

def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) * 1024

detect_edges(np.zeros((2049, 2049), np.uint8))  # compiles the tile shape
image = np.random.default_rng(0).integers(0, 256, ({size}, {size}), dtype=np.uint8)
with open("/proc/self/clear_refs", "w") as file:  # resets VmHWM to the current RSS
    file.write("5")
before = rss()
edges = detect_edges(image)
print((peak() - before - edges.nbytes) / 2**20)
"""


@pytest.mark.slow
def test_peak_memory_of_a_large_image_is_bounded(tmp_path):
    """An 8192 x 8192 uint8 image needs < 40 MB beyond input and output: one tile's working set."""
    script = tmp_path / "memory.py"
    script.write_text(textwrap.dedent(MEMORY_SCRIPT.format(size=8192)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if "clear_refs" in done.stderr:
        pytest.skip("this kernel cannot reset the peak RSS (/proc/self/clear_refs)")
    assert done.returncode == 0, done.stderr[-2000:]
    extra_mb = float(done.stdout.split()[-1])
    # Measured: 4 MB tiled, for 8192**2 and 16384**2 alike (the tile's working set does not
    # grow with the image); 70 MB untiled (a padded copy of the whole image).
    assert extra_mb < 40, extra_mb


@pytest.mark.parametrize("operator, ksize", ALL_KERNELS)
def test_gradients_and_orientation_match_the_model(photo, operator, ksize):
    """output='gradients'/'orientation' through the engine: the model's (integer kernels on uint8 bit for bit)."""
    for image in (
        photo,
        photo.astype("float32") / 255,
        np.stack([photo, photo[::-1, ::-1]])[..., None],
    ):
        options = dict(operator=operator, ksize=ksize, padding="symmetric")
        fast, gradients = _both(image, output="gradients", **options)
        exact = image.dtype == np.uint8 and operator != "farid"  # integer arithmetic
        atol = None if exact else 1e-5 * float(np.abs(gradients).max())
        _assert_same(fast, gradients, atol=atol)
        fast, reference = _both(image, output="orientation", **options)
        assert fast.shape == reference.shape and fast.dtype == np.float32
        turn = np.angle(np.exp(1j * (fast.astype("float64") - reference)))
        # An angle error times the gradient's length is a gradient error: float32 rounding.
        strength = np.hypot(gradients[..., :1], gradients[..., 1:])[..., 0]
        strength = strength.reshape(turn.shape)
        assert (np.abs(turn) * strength <= 1e-5 * strength.max()).all()


def test_orientation_of_a_colour_model_matches_the_model(photo):
    """A 3-channel model's orientation through the engine (its kernels and frame passed
    as run-time tensors) is the Keras model's, as for one channel."""
    model = build_edge_model("sobel", channels=3, padding="symmetric")
    colour = np.stack([photo, photo[::-1], photo[:, ::-1]], axis=-1)
    fast, reference = _both(colour, model=model, output="orientation")
    assert fast.shape == reference.shape and fast.dtype == np.float32
    gradients = detect_edges(colour, model=model, output="gradients", engine="model")
    turn = np.angle(np.exp(1j * (fast.astype("float64") - reference)))
    strength = np.hypot(gradients[..., 0], gradients[..., 1]).reshape(turn.shape)
    assert (np.abs(turn) * strength <= 1e-5 * strength.max()).all()


def test_arctangent_is_numpys_to_a_few_ulp():
    """The engine's in-graph atan2 against NumPy's (float64): signed zeros, the axes,
    the diagonals, exact and random pairs; within 3 ulp of the float32 result (angles
    below float32's smallest normal number are flushed to zero by XLA)."""
    edge = [0.0, -0.0, 1.0, -1.0, 3.0, -3.0, 1e-30, -1e-30, 1e30, 255.0]
    y, x = (np.array(values, np.float32).ravel() for values in np.meshgrid(edge, edge))
    rng = np.random.default_rng(0)
    scale = 10.0 ** rng.uniform(-20, 20, (2, 100_000))
    random = (rng.normal(size=(2, 100_000)) * scale).astype(np.float32)
    y, x = np.concatenate([y, random[0]]), np.concatenate([x, random[1]])
    ours = stencil.tf.function(stencil._atan2, jit_compile=True)(y, x)
    ours = np.asarray(ours)
    exact = np.arctan2(y.astype(np.float64), x.astype(np.float64))
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(np.arctan2(y, x)))
    ulp = np.spacing(np.abs(exact).astype(np.float32))
    tolerance = np.maximum(3 * ulp, np.finfo(np.float32).tiny)
    assert (np.abs(ours - exact) <= tolerance).all()


def test_gradients_of_tiled_images_match(small_tiles, photo):
    """Tiled, the signed gradients are the untiled model's, bit for bit on uint8."""
    _assert_same(*_both(photo, output="gradients", ksize=5))


def test_plan_reads_kernels_without_numpy_deprecation_warning():
    """Reading the kernels raises no DeprecationWarning (NumPy 2.4: `__array__` without `copy`)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert stencil.plan(build_edge_model("scharr")) is not None
