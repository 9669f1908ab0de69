"""Tests for the learned boundary detector (layers, model, loss, data, training, detection)."""

import json
import math
import shutil
import subprocess
import sys
import warnings
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_edges import detect_edges, export_model, save_image
from keras_edges.datasets import (
    boundary_consensus,
    load_edge_pairs,
    synthetic_shapes,
)
from keras_edges.layers import (
    BilinearUpsampling,
    CropToReference,
    PadToMultiple,
    PixelDifferenceConv2D,
    pixel_difference_matrix,
)
from keras_edges.metrics import evaluate_boundaries, suppress_nonmaxima
from keras_edges.models import build_boundary_model, build_edge_model
from keras_edges.train import boundaries as boundaries_module
from keras_edges.train.boundaries import fit_boundary_model
from keras_edges.train.data import boundary_dataset
from keras_edges.train.losses import ConsensusBalancedCrossEntropy

from conftest import IMG, ROOT

RNG = np.random.default_rng(0)

# The 8-neighbour ring of a 3x3 kernel, clockwise from the top-left, as (row, column).
RING = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]


def _rgb(images: np.ndarray) -> list[np.ndarray]:
    """Grey float images in [0, 1] as uint8 RGB images."""
    return [
        np.repeat(np.rint(image * 255).astype(np.uint8)[..., None], 3, axis=-1)
        for image in images
    ]


def _shape_pairs(n: int, *, size=(64, 64), seed: int = 0) -> list:
    """`(uint8 RGB image, bool boundaries)` pairs of generated shapes."""
    images, truths = synthetic_shapes(n, size=size, seed=seed)
    return list(zip(_rgb(images), truths))


# ------------------------------------------------------------------------------ layers
def _neighbour(padded: np.ndarray, row: int, column: int, dilation: int, shape):
    """The (zero-padded) neighbour at kernel position (row, column) of every pixel."""
    height, width = shape
    top, left = row * dilation, column * dilation
    return padded[:, top : top + height, left : left + width, :]


def _pixel_difference_reference(x, kernel, kind, dilation):
    """PiDiNet's pixel-difference convolution, summed explicitly over pixel differences."""
    pad = dilation
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    shape = x.shape[1:3]
    weights = kernel[:, :, :, 0]  # (3, 3, C)
    out = np.zeros_like(x, dtype=np.float64)
    centre = _neighbour(padded, 1, 1, dilation, shape)
    for row in range(3):
        for column in range(3):
            pixel = _neighbour(padded, row, column, dilation, shape)
            if kind == "cv":
                difference = pixel
            elif kind == "cd":
                difference = pixel - centre
            else:  # "ad": the pixel minus its clockwise neighbour on the ring
                if (row, column) == (1, 1):
                    continue
                following = RING[(RING.index((row, column)) + 1) % 8]
                difference = pixel - _neighbour(padded, *following, dilation, shape)
            out += weights[row, column] * difference
    return out


@pytest.mark.parametrize("dilation", [1, 2])
@pytest.mark.parametrize("kind", ["cv", "cd", "ad"])
def test_pixel_difference_conv_equals_explicit_differences(kind, dilation):
    """The folded kernel gives the explicit sum of weighted pixel differences, borders included."""
    x = RNG.normal(size=(2, 9, 11, 4)).astype(np.float32)
    layer = PixelDifferenceConv2D(kind, dilation)
    layer.build(x.shape)
    kernel = RNG.normal(size=(3, 3, 4, 1)).astype(np.float32)
    layer.set_weights([kernel])
    np.testing.assert_allclose(
        np.asarray(layer(x)),
        _pixel_difference_reference(x, kernel, kind, dilation),
        rtol=1e-5,
        atol=1e-5,
    )


def test_angular_difference_matrix_matches_pidinet():
    """ "ad" folds like PiDiNet's code: w - w[[3, 0, 1, 6, 4, 2, 7, 8, 5]]."""
    weights = RNG.normal(size=9).astype(np.float32)
    expected = weights - weights[[3, 0, 1, 6, 4, 2, 7, 8, 5]]
    np.testing.assert_allclose(
        pixel_difference_matrix("ad") @ weights, expected, atol=1e-6
    )
    with pytest.raises(ValueError, match=r"Expected one of \['cv', 'cd', 'ad'\]"):
        pixel_difference_matrix("rd")


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_bilinear_upsampling_equals_keras_upsampling(scale):
    """BilinearUpsampling gives UpSampling2D(interpolation='bilinear')'s output."""
    x = RNG.normal(size=(2, 5, 7, 3)).astype(np.float32)
    expected = keras.layers.UpSampling2D(scale, interpolation="bilinear")(x)
    np.testing.assert_allclose(
        np.asarray(BilinearUpsampling(scale)(x)), np.asarray(expected), atol=1e-5
    )


def test_bilinear_upsampling_with_unknown_size_in_tf_function():
    """Traced once with unknown height and width, the layer upsamples any size correctly."""
    layer = BilinearUpsampling(4)
    reference = keras.layers.UpSampling2D(4, interpolation="bilinear")
    upsample = tf.function(
        layer, input_signature=[tf.TensorSpec((None, None, None, 2), tf.float32)]
    )
    for shape in [(1, 1, 1, 2), (1, 3, 6, 2), (2, 9, 4, 2)]:
        x = RNG.normal(size=shape).astype(np.float32)
        result = upsample(tf.constant(x)).numpy()
        assert result.shape == (shape[0], 4 * shape[1], 4 * shape[2], 2)
        np.testing.assert_allclose(result, np.asarray(reference(x)), atol=1e-5)
    assert upsample.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("size", [(1, 1), (7, 13), (8, 16), (9, 17)])
def test_pad_to_multiple_replicates_the_edge(size):
    """PadToMultiple(8) equals np.pad(mode='edge') at the bottom and right to a multiple of 8."""
    x = RNG.normal(size=(2, *size, 3)).astype(np.float32)
    rows, columns = (-size[0]) % 8, (-size[1]) % 8
    expected = np.pad(x, ((0, 0), (0, rows), (0, columns), (0, 0)), mode="edge")
    np.testing.assert_array_equal(np.asarray(PadToMultiple(8)(x)), expected)


def test_crop_to_reference_keeps_the_top_left():
    """CropToReference keeps the top-left (H, W) of the reference and the tensor's channels."""
    x = RNG.normal(size=(2, 16, 24, 5)).astype(np.float32)
    reference = np.zeros((2, 9, 13, 3), np.float32)
    np.testing.assert_array_equal(
        np.asarray(CropToReference()([x, reference])), x[:, :9, :13, :]
    )


@pytest.mark.parametrize(
    "layer",
    [
        PixelDifferenceConv2D("ad", 2, name="pdc"),
        PadToMultiple(4, name="pad"),
        CropToReference(name="crop"),
        BilinearUpsampling(4, name="up"),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_layer_config_round_trips(layer):
    """get_config -> from_config is JSON-equal, and the layer is registered under keras_edges."""
    config = layer.get_config()
    rebuilt = type(layer).from_config(config)
    assert json.dumps(rebuilt.get_config(), sort_keys=True) == json.dumps(
        config, sort_keys=True
    )
    assert (
        keras.saving.get_registered_name(type(layer))
        == f"keras_edges>{type(layer).__name__}"
    )


def test_loss_config_round_trips():
    """The loss's settings survive get_config -> from_config."""
    loss = ConsensusBalancedCrossEntropy(threshold=0.5, negative_weight=1.3)
    rebuilt = ConsensusBalancedCrossEntropy.from_config(loss.get_config())
    assert (rebuilt.threshold, rebuilt.negative_weight) == (0.5, 1.3)


# ------------------------------------------------------------------------------ model
def test_model_has_fewer_than_100k_parameters():
    """The default model is tiny (< 100k parameters); the training graph has five outputs."""
    assert build_boundary_model().count_params() < 100_000
    assert len(build_boundary_model(side_outputs=True).outputs) == 5


@pytest.mark.parametrize("size", [(1, 1), (7, 13), (33, 65), (481, 321)])
def test_any_input_size_gives_the_same_size_out(size):
    """Every image size comes back at its size, as probabilities in [0, 1]."""
    model = build_boundary_model()
    image = RNG.uniform(size=(1, *size, 3)).astype(np.float32)
    edges = np.asarray(model(image))
    assert edges.shape == (1, *size, 1)
    assert 0.0 <= edges.min() <= edges.max() <= 1.0


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(widths=(16, 32, 64)), "Expected four positive ints"),
        (dict(blocks=0), "Expected an int >= 1"),
        (dict(pretrained=True, blocks=2), "only for the default architecture"),
    ],
)
def test_bad_model_options_are_reported(options, message):
    """Bad architecture options raise a ValueError that names them."""
    with pytest.raises(ValueError, match=message):
        build_boundary_model(**options)


@pytest.fixture(scope="module")
def random_model():
    """A boundary model with random weights (biases too, so nothing is trivially zero)."""
    keras.utils.set_random_seed(1)
    model = build_boundary_model()
    for variable in model.trainable_variables:
        if "bias" in variable.path:
            variable.assign(RNG.normal(scale=0.1, size=variable.shape))
    return model


def test_save_and_load_in_safe_mode_give_equal_outputs(tmp_path, random_model):
    """A saved .keras boundary model loads in safe mode, without custom_objects, unchanged."""
    random_model.save(tmp_path / "boundaries.keras")
    loaded = keras.saving.load_model(tmp_path / "boundaries.keras", safe_mode=True)
    image = RNG.uniform(size=(2, 37, 53, 3)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(loaded(image)), np.asarray(random_model(image)), rtol=1e-6, atol=1e-6
    )


def _run_tflite(path, batch: np.ndarray) -> np.ndarray:
    """Run a .tflite file on a float32 batch of any size with the TFLite interpreter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(model_path=str(path))
    (source,), (result,) = (
        interpreter.get_input_details(),
        interpreter.get_output_details(),
    )
    interpreter.resize_tensor_input(source["index"], batch.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], batch)
    interpreter.invoke()
    return interpreter.get_tensor(result["index"])


@pytest.mark.slow
def test_tflite_export_gives_equal_outputs(tmp_path, random_model):
    """The TFLite export, resized to two other image sizes, gives the Keras probabilities."""
    target = export_model(random_model, tmp_path / "boundaries.tflite", format="tflite")
    for shape in [(1, 37, 53, 3), (2, 20, 31, 3)]:
        batch = RNG.uniform(size=shape).astype(np.float32)
        np.testing.assert_allclose(
            _run_tflite(target, batch),
            np.asarray(random_model(batch)),
            rtol=1e-4,
            atol=1e-5,
        )


# ------------------------------------------------------------------------------ loss
def test_consensus_loss_is_hand_computed():
    """Positives, negatives, the ignored band and -1 padding, weighted as HED/RCF do."""
    y_true = np.array([[1.0, 0.5, 0.0], [0.1, -1.0, 0.0]], np.float32)
    logits = np.array([[2.0, -1.0, 0.5], [3.0, 5.0, -2.0]], np.float32)

    def softplus(z):
        return math.log(1.0 + math.exp(z))

    # 2 positives (>= 0.3: 1.0 and 0.5), 2 negatives (0.0 twice); 0.1 and -1 ignored.
    positive_weight, negative_weight = 2 / 4, 1.1 * 2 / 4
    expected = (
        positive_weight * (softplus(-2.0) + softplus(1.0))
        + negative_weight * (softplus(0.5) + softplus(-2.0))
    ) / 6  # averaged over all six pixels
    loss = ConsensusBalancedCrossEntropy(reduction=None)
    result = np.asarray(loss(y_true[None, :, :, None], logits[None, :, :, None]))
    np.testing.assert_allclose(result, [expected], rtol=1e-6)
    # The logits of ignored pixels do not matter.
    changed = logits.copy()
    changed[1, :2] = [-7.0, 9.0]
    np.testing.assert_allclose(
        np.asarray(loss(y_true[None, :, :, None], changed[None, :, :, None])),
        [expected],
        rtol=1e-6,
    )


def test_consensus_loss_is_per_image():
    """Each image of a batch is balanced on its own; one without boundaries costs nothing."""
    y_true = np.zeros((2, 4, 4, 1), np.float32)
    y_true[0, 1, :] = 1.0
    logits = RNG.normal(size=(2, 4, 4, 1)).astype(np.float32)
    loss = ConsensusBalancedCrossEntropy(reduction=None)
    both = np.asarray(loss(y_true, logits))
    alone = np.asarray(loss(y_true[:1], logits[:1]))
    np.testing.assert_allclose(both[:1], alone, rtol=1e-6)
    assert both[0] > 0 and both[1] == 0.0


# ------------------------------------------------------------------------------ data
@pytest.fixture(scope="module")
def small_pairs():
    """Three `(uint8 RGB image, consensus)` pairs of generated shapes, 40x56."""
    return [
        (image, boundary_consensus(truth))
        for image, truth in _shape_pairs(3, size=(40, 56), seed=3)
    ]


def _batches(dataset, count):
    return [
        (images.numpy(), targets.numpy()) for images, targets in dataset.take(count)
    ]


def test_boundary_dataset_shapes_and_ranges(small_pairs):
    """Batches are float32 crops in [0, 1] and targets in [0, 1] or -1 (padding)."""
    for images, targets in _batches(
        boundary_dataset(small_pairs, crop_size=32, batch_size=4, seed=0), 3
    ):
        assert images.shape == (4, 32, 32, 3) and images.dtype == np.float32
        assert targets.shape == (4, 32, 32, 1) and targets.dtype == np.float32
        assert 0.0 <= images.min() and images.max() <= 1.0
        assert np.all((targets == -1.0) | ((targets >= 0.0) & (targets <= 1.0)))
        assert (targets > 0).any()


def test_boundary_dataset_pads_small_crops_with_minus_one(small_pairs):
    """At scale 1 a 64-pixel crop of a 40x56 image has 64*64 - 40*56 ignored pixels."""
    images, targets = _batches(
        boundary_dataset(
            small_pairs, crop_size=64, batch_size=3, seed=1, scales=(1.0, 1.0)
        ),
        1,
    )[0]
    for image, target in zip(images, targets):
        assert (target == -1.0).sum() == 64 * 64 - 40 * 56
        assert (image[target[..., 0] == -1.0] == 0.0).all()
    # Scale 1, flips and turns keep every boundary pixel of the image drawn.
    sums = [float(consensus.sum()) for _, consensus in small_pairs]
    for target in targets:
        total = float(target[target >= 0].sum())
        assert any(math.isclose(total, each, rel_tol=1e-5) for each in sums)


def test_boundary_dataset_is_deterministic_and_resumable(small_pairs):
    """One seed gives one stream; a stream started at batch 3 is the tail of the full one."""
    options = dict(crop_size=24, batch_size=2)
    full = _batches(boundary_dataset(small_pairs, seed=5, **options), 5)
    again = _batches(boundary_dataset(small_pairs, seed=5, **options), 5)
    tail = _batches(boundary_dataset(small_pairs, seed=5, start=3, **options), 2)
    other = _batches(boundary_dataset(small_pairs, seed=6, **options), 1)
    for (images, targets), (images_again, targets_again) in zip(full, again):
        np.testing.assert_array_equal(images, images_again)
        np.testing.assert_array_equal(targets, targets_again)
    for (images, targets), (images_tail, targets_tail) in zip(full[3:], tail):
        np.testing.assert_array_equal(images, images_tail)
        np.testing.assert_array_equal(targets, targets_tail)
    assert not np.array_equal(full[0][0], other[0][0])
