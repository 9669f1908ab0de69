"""Tests for the Canny engine (keras_edges.engine.canny): the Keras Canny model's edges, pixel for pixel."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from test_canny import _serpentine, _square_spiral

from keras_edges import build_canny_model, build_edge_model, detect_edges, load_image
from keras_edges.engine import canny

from conftest import ROOT, SAMPLE_PHOTOS

# (operator, options) of build_canny_model: scikit-image's defaults, OpenCV's settings
# (no blur: exact integer arithmetic on uint8), and quantile thresholds.
CONFIGS = {
    "skimage": ("sobel", dict(sigma=1.0, low=0.05, high=0.15)),
    "opencv": (
        "sobel",
        dict(
            sigma=0.0,
            low=50.5 / 255,
            high=120.5 / 255,
            magnitude="l1",
            padding="replicate",
            interpolate=False,
        ),
    ),
    "quantiles": ("sobel", dict(sigma=1.4, low=0.7, high=0.9, use_quantiles=True)),
}


def _model_edges(model, images):
    """The Keras model's edge map of each `(H, W)` image, run one image at a time.

    (TensorFlow's CPU Conv2D sums in another order for batches of several images, so
    the model is its own reference only image by image.)
    """
    return np.stack(
        [
            np.asarray(model(image[None, :, :, None].astype("float32")))[0, :, :, 0]
            for image in images
        ]
    )


def _engine_edges(model, images):
    """The engine's edge map of a `(N, H, W)` batch."""
    plan = canny.plan(model)
    assert plan is not None
    return canny.run(plan, images[..., None])


def _uint8_model(operator, options, **changes):
    """The config's model with thresholds in 0..255 units (for uint8 pixels)."""
    options = {**options, **changes}
    if not options.get("use_quantiles"):
        options.update(low=options["low"] * 255, high=options["high"] * 255)
    return build_canny_model(operator, **options)


def _assert_same(model, images):
    """Engine and model agree on every pixel, and the edge map is not trivial."""
    images = np.asarray(images)
    expected = _model_edges(model, images)
    np.testing.assert_array_equal(_engine_edges(model, images), expected)
    return expected


@pytest.fixture(scope="module")
def grey_photos():
    """The sample photos in grey, as uint8."""
    return {path.name: load_image(path, mode="L") for path in SAMPLE_PHOTOS}


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("dtype", ["uint8", "float32"])
def test_every_sample_photo_matches_the_model(grey_photos, config, dtype):
    """On every photo in img/, uint8 and float, the engine's edge map is the model's."""
    operator, options = CONFIGS[config]
    if dtype == "uint8":
        model = _uint8_model(operator, options)
    else:
        model = build_canny_model(operator, **options)
    for name, photo in grey_photos.items():
        image = photo if dtype == "uint8" else photo.astype("float32") / 255
        expected = _assert_same(model, image[None])
        assert expected.sum() > 500, name


@pytest.mark.parametrize(
    "operator, options",
    [
        ("scharr", dict(padding="zeros", magnitude="l1")),
        ("prewitt", dict(padding="symmetric", interpolate=False, sigma=2.0)),
        ("roberts", dict(padding="replicate", magnitude="l2")),
        ("farid", dict(padding="reflect", sigma=0.6)),
        ("sobel", dict(ksize=5, padding="zeros", interpolate=False, sigma=0.0)),
        ("sobel", dict(ksize=7, padding="symmetric", magnitude="l1")),
    ],
)
def test_operators_borders_and_suppression_kinds_match(grey_photos, operator, options):
    """Every operator, border rule, norm and suppression kind: the model's edges."""
    photo = grey_photos["coins.png"][:120, :150]
    for image, scale in ((photo, 255), (photo.astype("float32") / 255, 1)):
        model = build_canny_model(
            operator, low=0.04 * scale, high=0.1 * scale, **options
        )
        assert _assert_same(model, image[None]).sum() > 100


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (23, 1), (2, 3), (3, 40)])
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_one_pixel_wide_and_tall_images_match(shape, config):
    """Images 1 pixel wide or tall (and other tiny ones): the model's edges, uint8 and float."""
    operator, options = CONFIGS[config]
    image = np.random.default_rng(3).integers(0, 256, shape).astype("uint8")
    _assert_same(_uint8_model(operator, options, padding="reflect"), image[None])
    model = build_canny_model(operator, **{**options, "padding": "symmetric"})
    _assert_same(model, image[None].astype("float32") / 255)


def _chain_image(mask, seed):
    """`mask` drawn 3 pixels wide (a dim path with 3-pixel gaps), bright only at `seed`.

    Its edges are two long weak chains along the sides of the path, with one strong
    spot at the seed's end.
    """
    image = np.kron(np.where(mask, 60, 0), np.ones((3, 3))).astype("uint8")
    row, column = seed
    image[3 * row : 3 * row + 3, 3 * column : 3 * column + 3] = 255
    return image


def _worst_cases():
    """A serpentine and a square spiral, each one long weak chain with a strong seed."""
    spiral, path = _square_spiral(23)
    return _chain_image(_serpentine(22, 22), (0, 0)), _chain_image(spiral, path[-1])


@pytest.mark.parametrize("interpolate", [True, False])
def test_serpentine_and_spiral_worst_cases_match(interpolate):
    """A serpentine and a spiral, each one weak chain with one strong seed: the model's edges."""
    model = build_canny_model(sigma=0.0, low=40, high=200, interpolate=interpolate)
    for image in _worst_cases():
        expected = _assert_same(model, image[None])
        # the chain is followed from its one seed all along the path
        assert expected.sum() > 0.5 * (image > 0).sum()


@pytest.fixture
def small_tiles(monkeypatch):
    """Make the engine tile anything above 24 x 24 pixels into 16 x 16 tiles."""
    monkeypatch.setattr(canny, "_TILE", 16)
    monkeypatch.setattr(canny, "_MAX_CALL_PIXELS", 24 * 24)
    canny._layout.cache_clear()
    yield
    canny._layout.cache_clear()


@pytest.mark.parametrize("padding", ["reflect", "symmetric", "replicate", "zeros"])
def test_chains_across_many_tiles_are_exact(small_tiles, grey_photos, padding):
    """With 16 x 16 tiles, a spiral crossing every tile and a photo give the model's edges."""
    spiral = _worst_cases()[1]
    model = build_canny_model(sigma=0.8, low=10, high=100, padding=padding)
    layout = canny._layout(canny.plan(model), 1, *spiral.shape)
    assert len(layout[2]) > 4 and len(layout[3]) > 4  # really tiled
    expected = _assert_same(model, spiral[None])
    assert expected.sum() > 0.5 * (spiral > 0).sum()  # the chain survives every seam
    photo = grey_photos["camera.png"][100:170, 200:290]
    _assert_same(model, np.stack([photo, photo[::-1]]))
    quantiles = build_canny_model(
        low=0.8, high=0.95, use_quantiles=True, padding=padding
    )
    _assert_same(quantiles, photo[None].astype("float32"))


def test_batches_and_lists_give_each_image_its_own_edges(grey_photos):
    """A batch of 5 (chunked 4 + 1) and a list of sizes: each image's single-image edges."""
    photo = grey_photos["astronaut.jpg"][:100, :100]
    batch = np.stack([photo, photo[::-1], photo[:, ::-1], photo.T, photo // 2])
    model = build_canny_model(low=20, high=50)
    np.testing.assert_array_equal(
        detect_edges(batch[..., None], model=model),
        _model_edges(model, batch)[..., None],
    )
    images = [photo, photo[:37, :61], grey_photos["coins.png"]]
    edges = detect_edges(images, method="canny", low=20, high=50)
    for image, found in zip(images, edges):
        reference = detect_edges(image, method="canny", low=20, high=50, engine="model")
        np.testing.assert_array_equal(found, reference)


def test_detect_edges_uses_the_engine_for_a_users_model(grey_photos, monkeypatch):
    """A user's build_canny_model goes through the engine, colour and float inputs too."""
    model = build_canny_model("scharr", sigma=1.2, low=30, high=90, interpolate=False)
    calls = []
    run = canny.run
    monkeypatch.setattr(canny, "run", lambda *args: calls.append(1) or run(*args))
    colour = load_image(SAMPLE_PHOTOS[1])
    fast = detect_edges(colour, method="canny", model=model)
    assert calls and fast.dtype == np.bool_ and fast.shape == colour.shape[:2]
    np.testing.assert_array_equal(
        fast, detect_edges(colour, method="canny", model=model, engine="model")
    )


def test_other_models_run_as_the_model():
    """Models the engine cannot read (valid padding, colour, other layers) have no plan."""
    assert canny.plan(build_canny_model(padding="valid")) is None
    assert canny.plan(build_canny_model(channels=3)) is None
    assert canny.plan(build_edge_model()) is None
    image = np.random.default_rng(0).integers(0, 256, (20, 30)).astype("uint8")
    valid = build_canny_model(padding="valid", low=20, high=40)
    np.testing.assert_array_equal(
        detect_edges(image, method="canny", model=valid),
        np.asarray(valid(image[None, :, :, None].astype("float32")))[0, :, :, 0],
    )


def test_a_new_size_within_a_bucket_compiles_nothing():
    """A second image size in the same bucket reuses the compiled stages."""
    detect_edges(np.zeros((100, 140), np.uint8), method="canny")
    misses = canny._function.cache_info().misses
    detect_edges(np.full((97, 130), 9, np.uint8), method="canny")
    assert canny._function.cache_info().misses == misses


def test_quantiles_are_keras_quantiles():
    """The host-side quantile is keras.ops.quantile's value, bit for bit."""
    rng = np.random.default_rng(7)
    for size in (1, 2, 5, 1000, 4097):
        values = rng.uniform(0, 3, size).astype("float32")
        values[: size // 3] = 0  # ties, as a magnitude map has
        for q in (0.0, 0.1, 0.5, 0.7, 0.95, 1.0):
            expected = np.asarray(keras.ops.quantile(values, q))
            assert canny._quantiles(values, (q,))[0] == expected, (size, q)


# Four models compiled once; hypothesis draws images and picks one of them.
PROPERTY_MODELS = [
    build_canny_model(sigma=1.0, low=20, high=60),
    build_canny_model(sigma=0.0, low=30, high=90, magnitude="l1", interpolate=False),
    build_canny_model("scharr", sigma=0.7, low=0.5, high=0.8, use_quantiles=True),
    build_canny_model("roberts", sigma=1.5, low=5, high=15, padding="zeros"),
]


@settings(max_examples=40, deadline=None)
@given(
    image=arrays(
        np.uint8,
        st.tuples(st.integers(1, 16), st.integers(1, 16)),
        elements=st.integers(0, 255),
    ),
    which=st.integers(0, len(PROPERTY_MODELS) - 1),
    as_float=st.booleans(),
)
def test_random_images_match_the_model(image, which, as_float):
    """Property: on any small image, uint8 or float, the engine's edges are the model's."""
    model = PROPERTY_MODELS[which]
    _assert_same(model, (image.astype("float32") / 7 if as_float else image)[None])


MEMORY_SCRIPT = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
import numpy as np
from keras_edges import detect_edges

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

detect_edges(np.zeros((2049, 2049), np.uint8), method="canny")  # compiles the tile shape
rows, columns = np.mgrid[:{size}, :{size}]
image = (128 + 60 * np.sin(rows / 9.0) * np.cos(columns / 13.0)).astype(np.uint8)
del rows, columns
with open("/proc/self/clear_refs", "w") as file:  # resets VmHWM to the current RSS
    file.write("5")
before = status("VmRSS")
edges = detect_edges(image, method="canny")
print(edges.mean(), (status("VmHWM") - before - edges.nbytes) / 2**20)
"""


@pytest.mark.slow
def test_peak_memory_of_a_large_canny_is_bounded(tmp_path):
    """An 8192 x 8192 uint8 Canny adds < 1 GB beyond input and output: tiles plus labels."""
    script = tmp_path / "memory.py"
    script.write_text(textwrap.dedent(MEMORY_SCRIPT.format(size=8192)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if "clear_refs" in done.stderr:
        pytest.skip("this kernel cannot reset the peak RSS (/proc/self/clear_refs)")
    assert done.returncode == 0, done.stderr[-2000:]
    edge_fraction, extra_mb = map(float, done.stdout.split()[-2:])
    assert edge_fraction > 0.01  # the pattern has edges all over
    # Measured: 323 MB (the class map, 64 MB, and scipy's int32 labels, 256 MB, of the
    # whole image, which keep hysteresis exact across tile seams; one tile's working set).
    assert extra_mb < 1024, extra_mb
