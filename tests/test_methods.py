"""Tests for the per-method functions (keras_edges.methods) and detect_edges' dispatch."""

import inspect

import numpy as np
import pytest

import keras_edges
from keras_edges import (
    build_canny_model,
    build_edge_model,
    canny_edges,
    detect_edges,
    gradient_edges,
    learned_boundaries,
)
from keras_edges.methods import METHODS

from conftest import SAMPLE_PHOTOS

RNG = np.random.default_rng(23)
PHOTO = keras_edges.load_image(SAMPLE_PHOTOS[1], mode="RGB")[100:148, 100:164]  # uint8
GREY = RNG.uniform(size=(24, 32)).astype("float32")

# Each method's options, as the issue lists them (plus `padding` and `engine` for
# Canny, which detect_edges took for it before the split).
OPTIONS = {
    "gradient": (
        "operator",
        "ksize",
        "padding",
        "magnitude",
        "normalize",
        "threshold",
        "output",
        "model",
        "engine",
        "mask",
        "colour",
        "axis",
    ),
    "canny": (
        "sigma",
        "low",
        "high",
        "use_quantiles",
        "operator",
        "ksize",
        "padding",
        "magnitude",
        "model",
        "engine",
        "mask",
        "output",
        "blur_ksize",
    ),
    "learned": ("nms", "threshold", "scales", "flip", "model", "version"),
    "laplacian": ("ksize", "variant", "padding"),
    "log": ("sigma", "padding"),
    "dog": ("low_sigma", "high_sigma", "padding"),
    "xdog": ("sigma", "k", "sharpness", "epsilon", "phi", "padding"),
    "marr_hildreth": ("sigma", "threshold", "padding"),
}


def test_each_function_takes_exactly_its_methods_options():
    """The public functions' keyword options are the documented sets, nothing more."""
    assert {name: function.__name__ for name, function in METHODS.items()} == {
        "gradient": "gradient_edges",
        "canny": "canny_edges",
        "learned": "learned_boundaries",
        "laplacian": "laplacian",
        "log": "laplacian_of_gaussian",
        "dog": "difference_of_gaussians",
        "xdog": "xdog",
        "marr_hildreth": "marr_hildreth",
    }
    for name, function in METHODS.items():
        parameters = list(inspect.signature(function).parameters.values())[1:]
        keywords = {p.name for p in parameters}
        assert keywords == set(OPTIONS[name]), name


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(sigma=3, nms=True, low=0.5, scales=(0.5, 1)),
            r"Invalid arguments `sigma`, `nms`, `low`, `scales` with method='gradient': "
            r"`sigma` is an option of method='canny' and method='log' and "
            r"method='xdog' and method='marr_hildreth'; `nms` is an option of "
            r"method='learned'; `low` is an option of method='canny'; `scales` is an "
            r"option of method='learned'\. method='gradient' takes `operator`, .*"
            r"Received: sigma=3, nms=True, low=0\.5, scales=\(0\.5, 1\)$",
        ),
        (
            dict(method="learned", operator="scharr", sigma=5),
            r"Invalid arguments `operator`, `sigma` with method='learned': `operator` is "
            r"an option of method='gradient' and method='canny'; `sigma` is an option of "
            r"method='canny' and method='log' and method='xdog' and "
            r"method='marr_hildreth'\. method='learned' takes `nms`, `threshold`, `scales`, "
            r"`flip`, `model`, `version`\. Received: operator='scharr', sigma=5$",
        ),
        (
            dict(method="canny", nms=True, scales=(2,)),
            r"`nms` is an option of method='learned'; `scales` is an option of "
            r"method='learned'",
        ),
        (
            dict(method="learned", operator="scharr"),
            r"^Invalid argument `operator` with method='learned': it is an option of "
            r"method='gradient' and method='canny'\.",
        ),
        (
            dict(sigma=1.0),
            r"`sigma` with method='gradient': it is an option of method='canny'",
        ),
        (
            dict(method="canny", threshold=0.5),
            r"`threshold` with method='canny': it is an option of method='gradient' and method='learned'",
        ),
        (dict(method="learned", engine="model"), r"`engine` with method='learned'"),
        (dict(method="learned", output="magnitude"), r"`output` with method='learned'"),
        (dict(method="canny", normalize=False), r"`normalize` with method='canny'"),
        (
            dict(thresold=0.5),
            r"`thresold` with method='gradient': it is an option of no method",
        ),
    ],
)
def test_foreign_options_are_refused(kwargs, message):
    """An option the method does not take, even at a default value, is a TypeError naming it and its methods."""
    with pytest.raises(TypeError, match=message) as caught:
        detect_edges(GREY, **kwargs)
    assert isinstance(caught.value, ValueError)  # as these refusals were before


def test_a_misspelled_method_lists_the_methods():
    """An unknown method is a ValueError listing the methods, before any option is read."""
    with pytest.raises(
        ValueError,
        match=r"Expected one of \['gradient', 'canny', 'learned', 'laplacian', 'log', 'dog', 'xdog', 'marr_hildreth'\]\. Received: method='cany'",
    ):
        detect_edges(GREY, method="cany", sigma=2)


def test_the_functions_refuse_foreign_options_themselves():
    """Called directly, a function refuses another method's option (Python's TypeError)."""
    for function, name in [
        (gradient_edges, "sigma"),
        (canny_edges, "nms"),
        (learned_boundaries, "operator"),
    ]:
        with pytest.raises(TypeError, match=f"unexpected keyword argument '{name}'"):
            function(GREY, **{name: 1})


# Valid calls: the function and the dispatcher give the same output, bit for bit,
# on the same input (the values themselves are pinned in test_detect, test_canny and
# test_boundary, which call detect_edges as before the split).
GRADIENT_CALLS = [
    {},
    dict(operator="scharr", magnitude="l2"),
    dict(operator="sobel", ksize=5, padding="zeros"),
    dict(magnitude=None),
    dict(normalize=True),
    dict(threshold=0.25),
    dict(output="gradients"),
    dict(output="orientation", operator="roberts"),
    dict(engine="model", padding="valid"),
    dict(model=build_edge_model("prewitt", magnitude="l2")),
]
CANNY_CALLS = [
    {},
    dict(sigma=2.0, low=10, high=30),
    dict(use_quantiles=True, low=0.7, high=0.9, operator="scharr"),
    dict(magnitude="l1", padding="replicate", sigma=0),
    dict(engine="model"),
    dict(model=build_canny_model("sobel", low=20, high=40)),
]
LEARNED_CALLS = [
    {},
    dict(nms=True),
    dict(threshold=0.3),
    dict(scales=(0.5, 1.0)),
    dict(flip=True, version="v1"),
]


@pytest.mark.parametrize(
    "image",
    [PHOTO, PHOTO / 255.0, [GREY, PHOTO[:20, :30, 0]]],
    ids=["uint8", "float", "list"],
)
@pytest.mark.parametrize(
    "method, options",
    [("gradient", options) for options in GRADIENT_CALLS]
    + [("canny", options) for options in CANNY_CALLS],
)
def test_dispatch_equals_the_function(method, options, image):
    """detect_edges(image, method=m, **options) is METHODS[m](image, **options), dtype and shape included."""
    expected = METHODS[method](image, **options)
    result = detect_edges(image, method=method, **options)
    for got, want in zip(
        *(r if isinstance(r, list) else [r] for r in (result, expected))
    ):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("options", LEARNED_CALLS, ids=str)
def test_learned_dispatch_equals_the_function(options):
    """detect_edges(image, method="learned", **options) is learned_boundaries(image, **options)."""
    expected = learned_boundaries(PHOTO, **options)
    result = detect_edges(PHOTO, method="learned", **options)
    assert result.dtype == expected.dtype and result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)


def test_gradient_edges_value_on_a_step():
    """A vertical 0 -> 1 step gives the Sobel value 4 on both sides of it and 0 elsewhere."""
    step = np.zeros((6, 6), "float32")
    step[:, 3:] = 1
    edges = gradient_edges(step)
    np.testing.assert_array_equal(edges[:, 2:4], 4)
    np.testing.assert_array_equal(edges[:, [0, 1, 4, 5]], 0)


def test_canny_edges_default_thresholds_follow_the_dtype():
    """Canny's default thresholds are 10%/20% of the pixel range: 25.5/51 for uint8, 0.1/0.2 for floats."""
    photo = PHOTO[..., 0]
    edges = canny_edges(photo)
    assert 0 < edges.mean() < 0.5
    np.testing.assert_array_equal(edges, canny_edges(photo, low=25.5, high=51))
    scaled = photo / 255.0
    np.testing.assert_array_equal(
        canny_edges(scaled), canny_edges(scaled, low=0.1, high=0.2)
    )
