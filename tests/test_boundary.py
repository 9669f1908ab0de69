"""Tests for the learned boundary detector (layers, model, loss, data, training, detection)."""

import hashlib
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
from test_export import run_tflite

from keras_edges import detect_edges, export_model, save_image
from keras_edges.datasets import (
    boundary_consensus,
    load_edge_pairs,
    synthetic_shapes,
)
from keras_edges.engine import learned as learned_engine
from keras_edges.layers import (
    BilinearUpsampling,
    CropToReference,
    DilatedDepthwiseConv2D,
    PadToMultiple,
    PixelDifferenceConv2D,
    pixel_difference_matrix,
)
from keras_edges.metrics import evaluate_boundaries, suppress_nonmaxima
from keras_edges.models import (
    build_boundary_model,
    build_edge_model,
    pretrained_weights,
)
from keras_edges.train import boundaries as boundaries_module
from keras_edges.train.boundaries import boundary_scores, fit_boundary_model
from keras_edges.train.data import _pack_pairs, _rotate_crop, boundary_dataset
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


@pytest.mark.parametrize("dilation", [2, 3, 5])
def test_dilated_depthwise_equals_keras_and_has_its_gradient(dilation):
    """Output and gradients (input and kernel) equal keras.layers.DepthwiseConv2D's:
    TensorFlow's native dilated kernel has a wrong CPU gradient of its own, so the fast
    path must take the emulation's."""
    rng = np.random.default_rng(dilation)
    image = tf.constant(rng.normal(size=(2, 13, 17, 4)).astype(np.float32))
    fast = DilatedDepthwiseConv2D(3, padding="same", dilation_rate=dilation)
    plain = keras.layers.DepthwiseConv2D(3, padding="same", dilation_rate=dilation)
    fast.build(image.shape)
    plain.build(image.shape)
    weights = [rng.normal(size=w.shape).astype(np.float32) for w in fast.get_weights()]
    fast.set_weights(weights)
    plain.set_weights(weights)
    results = []
    for layer in (fast, plain):
        with tf.GradientTape() as tape:
            tape.watch(image)
            output = layer(image)
            loss = tf.reduce_sum(output * output)
        results.append(
            [output, *tape.gradient(loss, [image, *layer.trainable_variables])]
        )
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-4)


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
        DilatedDepthwiseConv2D(3, padding="same", dilation_rate=5, name="context"),
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
        (dict(pretrained=True, blocks=2), "exist only for its own architecture"),
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


@pytest.mark.slow
def test_tflite_export_gives_equal_outputs(tmp_path, random_model):
    """The TFLite export, resized to two other image sizes, gives the Keras probabilities."""
    target = export_model(random_model, tmp_path / "boundaries.tflite", format="tflite")
    for shape in [(1, 37, 53, 3), (2, 20, 31, 3)]:
        batch = RNG.uniform(size=shape).astype(np.float32)
        np.testing.assert_allclose(
            run_tflite(target, batch),
            np.asarray(random_model(batch)),
            rtol=1e-4,
            atol=1e-5,
        )


def test_onnx_export_runs_in_onnxruntime_as_detect_edges(tmp_path):
    """The shipped learned model exported to ONNX has one input and gives detect_edges'
    output at odd sizes, in onnxruntime (finding 10)."""
    import onnxruntime

    model = build_boundary_model(pretrained=True)
    target = export_model(model, tmp_path / "boundaries.onnx", format="onnx")
    session = onnxruntime.InferenceSession(str(target))
    (image_input,) = session.get_inputs()
    rng = np.random.default_rng(0)
    for shape in [(2, 37, 53), (1, 21, 30), (1, 1, 1), (1, 1, 9)]:
        batch = rng.uniform(size=(*shape, 3)).astype(np.float32)
        (result,) = session.run(None, {image_input.name: batch})
        expected = detect_edges(batch, method="learned", model=model)
        np.testing.assert_allclose(result, expected, atol=1e-5)


def test_savedmodel_export_gives_equal_outputs(tmp_path, random_model):
    """The SavedModel's `serve` signature gives the Keras probabilities at other sizes."""
    target = export_model(random_model, tmp_path / "boundaries", format="savedmodel")
    served = tf.saved_model.load(str(target))  # keep a reference: it owns the variables
    for shape in [(1, 37, 53, 3), (2, 20, 31, 3)]:
        batch = RNG.uniform(size=shape).astype(np.float32)
        np.testing.assert_allclose(
            served.serve(tf.constant(batch)).numpy(),
            np.asarray(random_model(batch)),
            rtol=1e-5,
            atol=1e-6,
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


def test_packed_pairs_take_their_own_pixels_only():
    """A 1x12000 strip beside 80x96 photos costs its pixels, not 80x12000 per pair, and
    its crops come from its one row (finding 14)."""
    rng = np.random.default_rng(0)
    strip = (rng.integers(0, 256, (1, 12000, 3), np.uint8), np.ones((1, 12000)))
    photos = [
        (rng.integers(0, 256, (80, 96, 3), np.uint8), np.zeros((80, 96)))
        for _ in range(3)
    ]
    images, targets, offsets, sizes = _pack_pairs([strip, *photos])
    pixels = 12000 + 3 * 80 * 96
    assert images.nbytes == 3 * pixels and targets.nbytes == 4 * pixels
    assert offsets.tolist() == [0, 12000, 12000 + 7680, 12000 + 2 * 7680]
    assert sizes.tolist() == [[1, 12000], *[[80, 96]] * 3]
    dataset = boundary_dataset(
        [strip], crop_size=16, batch_size=4, seed=0, scales=(1.0, 1.0)
    )
    crops, crop_targets = _batches(dataset, 1)[0]
    for crop, target in zip(crops, crop_targets):
        kept = target[..., 0] >= 0  # one row or column of 16 pixels, the rest padding
        assert kept.sum() == 16 and np.all(target[kept] == 1.0)
        assert np.all(crop[~kept] == 0.0)
        row = np.rint(crop[kept] * 255).astype(np.uint8)  # (16, 3)
        strip_row = strip[0][0]
        starts = [
            i for i in range(12000 - 15) if np.array_equal(strip_row[i : i + 16], row)
        ] + [
            i
            for i in range(12000 - 15)
            if np.array_equal(strip_row[i : i + 16][::-1], row)
        ]
        assert starts, "a crop that is not a piece of the strip"


def test_rotate_crop_by_right_angles_and_zero():
    """0 is the identity; a quarter turn is `np.rot90`, padding (-1) turning with it."""
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(16, 16, 3)).astype(np.float32)
    target = rng.uniform(size=(16, 16, 1)).astype(np.float32)
    target[:, 12:] = -1.0  # padding at the right
    same_image, same_target = _rotate_crop(image, target, tf.constant(0.0))
    np.testing.assert_array_equal(same_image, image)
    np.testing.assert_array_equal(same_target, target)
    turned_image, turned_target = _rotate_crop(
        image, target, tf.constant(np.pi / 2, tf.float32)
    )
    np.testing.assert_allclose(turned_image, np.rot90(image), atol=1e-5)
    np.testing.assert_allclose(turned_target, np.rot90(target), atol=1e-5)
    assert (np.asarray(turned_target)[:4] == -1.0).all()  # the padding is on top now


def test_rotate_crop_ignores_the_corners_it_invents():
    """At 45 degrees the corners come from outside the crop: target -1 there, and only
    there; inside, values stay in [0, 1] (padding never blends into a kept pixel)."""
    size = 33
    target = np.zeros((size, size, 1), np.float32)
    target[size // 2] = 1.0  # a horizontal line through the centre
    target[:, :3] = -1.0  # and a padded strip on the left
    image = np.full((size, size, 3), 0.5, np.float32)
    turned_image, turned_target = _rotate_crop(
        image, target, tf.constant(np.pi / 4, tf.float32)
    )
    turned_target = np.asarray(turned_target)[..., 0]
    np.testing.assert_allclose(turned_image, 0.5, atol=1e-6)  # reflected, not black
    assert turned_target[0, 0] == turned_target[-1, -1] == -1.0
    kept = turned_target >= 0
    assert np.all(turned_target[~kept] == -1.0) and turned_target.max() <= 1.0
    # Where the turned crop reads from: outside the square or the padded strip, ignored.
    rows, columns = np.mgrid[:size, :size] - (size - 1) / 2
    source_x = np.cos(np.pi / 4) * columns - np.sin(np.pi / 4) * rows + (size - 1) / 2
    source_y = np.sin(np.pi / 4) * columns + np.cos(np.pi / 4) * rows + (size - 1) / 2
    inside = (source_x >= 4) & (source_x <= size - 2) & (source_y >= 1)
    inside &= source_y <= size - 2
    assert kept[inside].all()
    assert not kept[(source_x < 2) | (source_x > size) | (source_y < -1)].any()
    # The line turns by 45 degrees: the diagonal from bottom-left to top-right.
    diagonal = [turned_target[size - 1 - i, i] for i in range(8, size - 8)]
    assert min(diagonal) > 0.9


def test_boundary_dataset_rotate_is_seeded_and_resumable(small_pairs):
    """Rotated streams are as deterministic as plain ones, and differ from them."""
    options = dict(crop_size=24, batch_size=2, seed=5, rotate=True)
    full = _batches(boundary_dataset(small_pairs, **options), 4)
    tail = _batches(boundary_dataset(small_pairs, start=2, **options), 2)
    plain = _batches(
        boundary_dataset(small_pairs, crop_size=24, batch_size=2, seed=5), 1
    )
    for (images, targets), (images_tail, targets_tail) in zip(full[2:], tail):
        np.testing.assert_array_equal(images, images_tail)
        np.testing.assert_array_equal(targets, targets_tail)
    assert not np.array_equal(full[0][1], plain[0][1])
    for images, targets in full:
        assert 0.0 <= images.min() and images.max() <= 1.0
        assert np.all((targets == -1.0) | ((targets >= 0.0) & (targets <= 1.0)))
        assert (targets > 0).any()


# ------------------------------------------------------------------------------ training
def _logits_model(model: keras.Model) -> keras.Model:
    """The fused logits of an inference model (before its sigmoid)."""
    return keras.Model(model.input, model.get_layer("fuse_crop").output)


def _ods(edges, truths) -> float:
    """ODS with the settings used for every method here: edge NMS, 33 thresholds."""
    return evaluate_boundaries(edges, truths, thresholds=33, nms=True, workers=1).ods


@pytest.fixture(scope="module")
def trained():
    """A boundary model trained for 200 steps (64x64 crops, batch 4) on 8 generated shapes."""
    pairs = _shape_pairs(8, size=(96, 96), seed=1)
    model, state = fit_boundary_model(
        pairs,
        epochs=2,
        steps_per_epoch=100,
        batch_size=4,
        crop_size=64,
        learning_rate=5e-3,
        verbose=0,
    )
    return model, state


@pytest.mark.slow
def test_short_training_lowers_the_loss(trained):
    """On held-out crops the trained model's loss is under half of an untrained one's."""
    held_out = [
        (image, boundary_consensus(truth))
        for image, truth in _shape_pairs(4, size=(96, 96), seed=100)
    ]
    images, targets = _batches(
        boundary_dataset(held_out, crop_size=64, batch_size=8, seed=7), 1
    )[0]
    loss = ConsensusBalancedCrossEntropy()
    keras.utils.set_random_seed(0)
    untrained = build_boundary_model()
    before = float(loss(targets, _logits_model(untrained)(images)))
    after = float(loss(targets, _logits_model(trained[0])(images)))
    assert after < 0.5 * before, (before, after)
    assert trained[1]["epoch"] == 2


@pytest.mark.slow
def test_short_training_beats_sobel_on_held_out_shapes(trained):
    """After 200 steps the learned map's ODS beats Sobel's on new shapes, by a margin."""
    images, truths = synthetic_shapes(6, size=(96, 96), seed=100)
    learned = detect_edges(
        np.stack(_rgb(images)).astype(np.float32) / 255,
        method="learned",
        model=trained[0],
    )
    sobel = [detect_edges(image, normalize=True) for image in images]
    learned_ods = _ods(list(learned[..., 0]), list(truths))
    sobel_ods = _ods(sobel, list(truths))
    assert learned_ods > sobel_ods + 0.05, (learned_ods, sobel_ods)


_RUN = dict(
    epochs=2,
    steps_per_epoch=3,
    batch_size=2,
    crop_size=32,
    learning_rate=5e-3,
    thresholds=5,
    verbose=0,
)


def _h5_arrays(path) -> dict:
    """Every dataset of a .weights.h5 file (model and optimizer variables) by its path."""
    import h5py

    arrays = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """One run of 2 epochs, and the same run interrupted after epoch 1 and resumed."""
    pairs = _shape_pairs(4, size=(48, 48), seed=2)
    validation = _shape_pairs(1, size=(48, 48), seed=3)
    whole, resumed = (
        tmp_path_factory.mktemp("whole"),
        tmp_path_factory.mktemp("resumed"),
    )
    fit_boundary_model(
        pairs, folder=whole, **_RUN
    )  # validation does not change training
    original = boundaries_module._RunState.on_epoch_end

    def interrupted(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch == 0:
            raise KeyboardInterrupt  # as a Ctrl-C right after the checkpoint

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(boundaries_module._RunState, "on_epoch_end", interrupted)
        with pytest.raises(KeyboardInterrupt):
            fit_boundary_model(pairs, validation=validation, folder=resumed, **_RUN)
    halfway = json.loads((resumed / "state.json").read_text())
    fit_boundary_model(pairs, validation=validation, folder=resumed, **_RUN)
    return dict(
        pairs=pairs,
        validation=validation,
        whole=whole,
        resumed=resumed,
        halfway=halfway,
    )


@pytest.mark.slow
def test_resumed_run_equals_the_uninterrupted_run(runs):
    """Interrupted after epoch 1 and resumed: same step, optimizer state and weights."""
    assert runs["halfway"]["epoch"] == 1 and runs["halfway"]["history"][0]["step"] == 3
    whole = json.loads((runs["whole"] / "state.json").read_text())
    resumed = json.loads((runs["resumed"] / "state.json").read_text())
    assert whole["epoch"] == resumed["epoch"] == 2
    assert [entry["step"] for entry in resumed["history"]] == [3, 6]
    np.testing.assert_allclose(
        [entry["loss"] for entry in resumed["history"]],
        [entry["loss"] for entry in whole["history"]],
        rtol=1e-4,
    )
    assert [entry["epoch"] for entry in resumed["history"] if "ods" in entry] == [1, 2]
    assert whole["weights"] == resumed["weights"] == "epoch-0002.weights.h5"
    expected = _h5_arrays(runs["whole"] / whole["weights"])
    received = _h5_arrays(runs["resumed"] / resumed["weights"])
    assert sorted(received) == sorted(expected)
    assert any("optimizer" in name for name in expected)
    for name, array in expected.items():
        np.testing.assert_allclose(received[name], array, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_finished_run_is_not_retrained(runs, capsys):
    """Calling again with a finished folder trains nothing and returns the best weights."""
    checkpoint = runs["resumed"] / "epoch-0002.weights.h5"
    before = checkpoint.read_bytes()
    model, state = fit_boundary_model(
        runs["pairs"],
        validation=runs["validation"],
        folder=runs["resumed"],
        **{**_RUN, "verbose": 1},
    )
    assert "already trained for 2 epochs" in capsys.readouterr().out
    assert checkpoint.read_bytes() == before
    best = build_boundary_model()
    best.load_weights(runs["resumed"] / state["best"]["weights"])
    for received, expected in zip(model.get_weights(), best.get_weights()):
        np.testing.assert_array_equal(received, expected)
    assert state["epoch"] == 2


@pytest.mark.slow
def test_nan_loss_raises_and_keeps_the_good_files(runs, tmp_path, monkeypatch):
    """A run whose loss becomes NaN raises FloatingPointError and changes no file of the
    folder (resumed on purpose: its epochs and loss differ from the recorded run's)."""
    folder = tmp_path / "run"
    shutil.copytree(runs["resumed"], folder)
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    class DivergingLoss(ConsensusBalancedCrossEntropy):
        def call(self, y_true, y_pred):
            return super().call(y_true, y_pred) * float("nan")

    monkeypatch.setattr(
        boundaries_module, "ConsensusBalancedCrossEntropy", DivergingLoss
    )
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 3 \(loss=nan\)"):
        fit_boundary_model(
            runs["pairs"],
            validation=runs["validation"],
            folder=folder,
            force_resume=True,
            **{**_RUN, "epochs": 3},
        )
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(epochs=0), "Received: epochs=0"),
        (dict(learning_rate=2.0), "Received: learning_rate=2.0"),
        (dict(scales=(1.5, 0.5)), "Received: scales=\\(1.5, 0.5\\)"),
        (dict(model="sobel"), "Received: model='sobel'"),
        (dict(thresholds=0), "Received: thresholds=0"),
        (dict(architecture={"side_outputs": True}), "other than `pretrained`"),
        (
            dict(architecture={"blocks": 2}, model="pretrained"),
            "exist only for its own architecture",
        ),
    ],
)
def test_bad_training_options_are_reported(options, message):
    """Bad options of fit_boundary_model raise a ValueError before any work."""
    with pytest.raises(ValueError, match=message):
        fit_boundary_model(_shape_pairs(1, size=(16, 16)), **options)


def test_maps_without_a_positive_pixel_are_refused_before_training():
    """All-zero or faint maps (under the loss's 0.3) are an error before any training;
    a few empty maps among good ones are a warning (finding 9)."""
    pairs = _shape_pairs(2, size=(16, 16))
    faint = [(image, np.full(image.shape[:2], 76, np.uint8)) for image, _ in pairs]
    with pytest.raises(ValueError, match=r"none of its 2 maps.*largest value 0.298"):
        fit_boundary_model(faint, epochs=1, steps_per_epoch=1, verbose=0)
    empty = [(image, np.zeros(image.shape[:2], bool)) for image, _ in pairs]
    with pytest.raises(ValueError, match="none of its 2 maps"):
        fit_boundary_model(empty, epochs=1, steps_per_epoch=1, verbose=0)
    with pytest.warns(UserWarning, match=r"1 of 2 training edge maps .*items 1\)"):
        with pytest.raises(ValueError, match="argument `validation`"):  # stops here
            fit_boundary_model([pairs[0], empty[1]], validation=[None])


def test_soft_maps_without_background_at_zero_are_warned_about():
    """A detector's probabilities as targets (never exactly 0) would teach only edges:
    warned before training, naming the maps; sparse maps with a 0 background are not."""
    pairs = _shape_pairs(3, size=(16, 16))
    soft = [
        (image, np.clip(truth.astype(np.float32) + 0.01, 0, 1))
        for image, truth in pairs
    ]
    mixed = [pairs[0], soft[1], soft[2]]
    with pytest.warns(
        UserWarning, match=r"2 of 3 training edge maps are 0 .*items 1, 2\)"
    ):
        with pytest.raises(ValueError, match="argument `validation`"):  # stops here
            fit_boundary_model(mixed, validation=[None])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="argument `validation`"):
            fit_boundary_model(pairs, validation=[None])


@pytest.fixture(scope="module")
def scored_pairs():
    """Two 40x48 photo crops with their learned-NMS ridges as ground truth."""
    from keras_edges import load_image

    photos = [
        load_image(IMG / "astronaut.jpg", mode="RGB")[40 * i : 40 * i + 40, :48]
        for i in range(2)
    ]
    truths = [
        detect_edges(photo, method="learned", nms=True)[..., 0] > 60 for photo in photos
    ]
    return photos, truths


@pytest.mark.parametrize(
    "convert",
    [
        lambda photo: photo.astype(np.float32) / 255,
        lambda photo: photo.astype(np.float64) / 255,
        lambda photo: photo.astype(np.uint16) * 257,
        lambda photo: photo[..., 0],  # grey: repeated to RGB, as detect_edges does
    ],
)
def test_boundary_scores_reads_images_as_detect_edges(scored_pairs, convert):
    """uint8, uint16 and float [0, 1] images score alike (finding 8)."""
    model = build_boundary_model(pretrained=True)
    photos, truths = scored_pairs
    expected = boundary_scores(model, list(zip(photos, truths)), thresholds=9)
    received = boundary_scores(
        model, [(convert(p), t) for p, t in zip(photos, truths)], thresholds=9
    )
    if convert(photos[0]).ndim == 2:  # another image, its own score
        grey = [np.repeat(p[..., :1], 3, axis=-1) for p in photos]
        expected = boundary_scores(model, list(zip(grey, truths)), thresholds=9)
    assert expected.ods > 0.5
    np.testing.assert_allclose(
        [received.ods, received.ois, received.ap],
        [expected.ods, expected.ois, expected.ap],
        atol=1e-3,
    )


@pytest.mark.parametrize(
    "image, message",
    [
        (np.full((8, 8, 3), 200.0), r"float values in \[200.0, 200.0\]"),
        (np.zeros((8, 8, 3), np.int32), "dtype=int32"),
        (np.zeros((8, 8, 2), np.uint8), r"image.shape=\(8, 8, 2\)"),
        (np.zeros((0, 8, 3), np.uint8), r"image.shape=\(0, 8, 3\)"),
    ],
)
def test_boundary_scores_refuses_what_it_cannot_read(random_model, image, message):
    """Floats over 1, other integers and odd shapes are refused, naming the item."""
    with pytest.raises(ValueError, match=rf"Received item 0: {message}"):
        boundary_scores(random_model, [(image, np.zeros(image.shape[:2], bool))])


def test_another_architecture_and_loss_are_trained():
    """`architecture` builds the training and returned graphs alike; `loss` replaces
    the consensus loss (here one that sees every annotated pixel as a positive)."""
    pairs = _shape_pairs(2, size=(24, 24))
    model, state = fit_boundary_model(
        pairs,
        architecture={"widths": (4, 4, 8, 8), "blocks": 1, "pixel_difference": False},
        loss=ConsensusBalancedCrossEntropy(threshold=1e-6),
        epochs=1,
        steps_per_epoch=2,
        batch_size=2,
        crop_size=24,
        verbose=0,
    )
    kinds = {
        layer.kind for layer in model.layers if isinstance(layer, PixelDifferenceConv2D)
    }
    assert kinds == {"cv"} and state["history"][0]["step"] == 2
    assert (
        model.count_params()
        == build_boundary_model(
            widths=(4, 4, 8, 8), blocks=1, pixel_difference=False
        ).count_params()
    )
    assert np.isfinite(state["history"][0]["loss"])


def test_pairs_of_different_sizes_are_reported():
    """A pair whose boundaries do not match its image's size names the item."""
    image = np.zeros((16, 20, 3), np.uint8)
    with pytest.raises(
        ValueError, match=r"Item 0: its boundaries have shapes \[\(16, 16\)\]"
    ):
        fit_boundary_model([(image, np.zeros((16, 16), bool))])


# ------------------------------------------------------------------------------ detect_edges
@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A 48x64 uint8 RGB crop of the astronaut photo."""
    from keras_edges import load_image

    return load_image(IMG / "astronaut.jpg", mode="RGB")[:48, :64]


@pytest.mark.parametrize(
    "make, shape, dtype",
    [
        (lambda rgb: rgb[..., 0], (48, 64), np.uint8),
        (lambda rgb: rgb[..., :1], (48, 64, 1), np.uint8),
        (lambda rgb: rgb, (48, 64, 1), np.uint8),
        (lambda rgb: np.stack([rgb, rgb[::-1]]), (2, 48, 64, 1), np.uint8),
        (lambda rgb: rgb / 255.0, (48, 64, 1), np.float32),
        (lambda rgb: rgb.astype(np.uint16) * 257, (48, 64, 1), np.float32),
        (lambda rgb: rgb[:1, :1, 0], (1, 1), np.uint8),
        (lambda rgb: rgb[:1, :1, 0] / 255.0, (1, 1), np.float32),
    ],
    ids=["grey", "grey-hw1", "rgb", "batch", "float", "uint16", "1x1", "1x1-float"],
)
def test_learned_shapes_and_dtypes(photo, make, shape, dtype):
    """The output keeps the input's rank; uint8 in gives uint8, anything else float32 in [0, 1]."""
    edges = detect_edges(make(photo), method="learned")
    assert edges.shape == shape and edges.dtype == dtype
    if dtype == np.float32:
        assert 0.0 <= edges.min() and edges.max() <= 1.0


def test_learned_reads_colour_as_documented(photo):
    """Grey is repeated to RGB, alpha is dropped, uint8 is the float map x 255, uint16 scales."""
    soft = detect_edges(photo / 255.0, method="learned")
    grey = photo[..., 0]
    np.testing.assert_array_equal(
        detect_edges(grey, method="learned"),
        detect_edges(np.repeat(grey[..., None], 3, axis=-1), method="learned")[..., 0],
    )
    rgba = np.concatenate([photo, np.full((48, 64, 1), 7, np.uint8)], axis=-1)
    np.testing.assert_array_equal(
        detect_edges(rgba, method="learned"), detect_edges(photo, method="learned")
    )
    as_uint8 = detect_edges(photo, method="learned").astype(int)
    assert np.abs(as_uint8 - np.rint(soft * 255)).max() <= 1
    np.testing.assert_allclose(
        detect_edges(photo.astype(np.uint16) * 257, method="learned"), soft, atol=1e-5
    )
    assert soft.std() > 0.01  # the shipped model sees the photo's edges


def test_learned_lists_batches_and_a_given_model(photo, random_model):
    """A list gives a list, a batch the stacked maps, and `model=` runs that model."""
    other = photo[5:30, 10:50]
    one, two = detect_edges([photo, other], method="learned")
    np.testing.assert_array_equal(one, detect_edges(photo, method="learned"))
    np.testing.assert_array_equal(two, detect_edges(other, method="learned"))
    batch = np.stack([photo, photo[::-1, ::-1]])
    np.testing.assert_allclose(
        detect_edges(batch / 255.0, method="learned")[1],
        detect_edges(photo[::-1, ::-1] / 255.0, method="learned"),
        atol=1e-6,
    )
    image = (photo / 255.0).astype(np.float32)
    np.testing.assert_allclose(
        detect_edges(image, method="learned", model=random_model),
        np.asarray(random_model(image[None]))[0],
        atol=1e-6,
    )


def test_learned_nms_threshold_and_scales(photo):
    """nms thins with the evaluator's suppression, threshold gives bool, scales average maps."""
    image = photo / 255.0
    soft = detect_edges(image, method="learned")[..., 0]
    thin = detect_edges(image, method="learned", nms=True)[..., 0]
    np.testing.assert_allclose(thin, suppress_nonmaxima(soft), atol=1e-6)
    assert 0 < np.count_nonzero(thin) < 0.5 * np.count_nonzero(soft > 0.01)
    binary = detect_edges(image, method="learned", threshold=0.3)
    assert binary.dtype == bool
    np.testing.assert_array_equal(binary[..., 0], soft >= np.float32(0.3))
    several = detect_edges(image, method="learned", scales=(0.5, 1, 1.5))
    assert several.shape == (48, 64, 1) and several.dtype == np.float32
    assert 0.0 <= several.min() and several.max() <= 1.0
    assert np.abs(several[..., 0] - soft).max() > 1e-3
    np.testing.assert_allclose(
        detect_edges(image, method="learned", scales=(1, 1))[..., 0], soft, atol=1e-6
    )


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (9, 1), (2, 2)])
def test_learned_nms_and_scores_on_any_size(photo, random_model, shape):
    """NMS and scoring work on 1x1, 1xN and Nx1 images: a one-pixel-thin image keeps
    its peaks along its length (finding 11)."""
    image = photo[: shape[0], : shape[1]]
    soft = detect_edges(image / 255.0, method="learned", model=random_model)[..., 0]
    thin = detect_edges(image / 255.0, method="learned", model=random_model, nms=True)
    np.testing.assert_allclose(thin[..., 0], suppress_nonmaxima(soft), atol=1e-6)
    scores = boundary_scores(
        random_model, [(image, np.ones(shape, bool))], thresholds=3
    )
    assert 0.0 <= scores.ods <= 1.0


@pytest.mark.parametrize(
    "image, options, error, message",
    [
        (
            np.zeros((8, 8, 2)),
            {},
            ValueError,
            r"C in \{1, 3, 4\}.*image.shape=\(8, 8, 2\)",
        ),
        (np.full((8, 8), np.nan), {}, ValueError, "Expected finite pixel values"),
        (np.zeros((8, 8)), dict(threshold=2), ValueError, "Received: threshold=2"),
        (np.zeros((8, 8)), dict(scales=()), ValueError, r"Received: scales=\(\)"),
        (np.zeros((8, 8)), dict(normalize=True), ValueError, "normalize=True"),
    ],
)
def test_learned_bad_input_is_reported(image, options, error, message):
    """Bad images and options raise errors that say what was expected and received."""
    with pytest.raises(error, match=message):
        detect_edges(image, method="learned", **options)


@pytest.mark.parametrize(
    "architecture",
    [
        dict(),
        dict(version="v2"),
        dict(widths=(8, 8, 8, 8), blocks=2, pixel_difference=False),
        dict(blocks=1),
    ],
    ids=["v1", "v2", "plain-2-blocks", "1-block"],
)
def test_folded_graph_equals_the_keras_model(architecture):
    """A build_boundary_model model (any widths, blocks, kinds) runs as the folded graph,
    equal to its Keras model within float32 rounding at odd sizes, batches and 1x1."""
    keras.utils.set_random_seed(2)
    model = build_boundary_model(**architecture)
    for variable in model.trainable_variables:  # biases too: nothing trivially zero
        variable.assign(variable + RNG.normal(scale=0.05, size=variable.shape))
    assert learned_engine._folded_forward(model) is not None
    for shape in [(1, 37, 53, 3), (2, 16, 24, 3), (1, 1, 1, 3)]:
        batch = RNG.uniform(size=shape).astype(np.float32)
        np.testing.assert_allclose(
            learned_engine.run(model, batch),
            np.asarray(model(batch))[..., 0],
            atol=1e-5,
        )


def test_folded_graph_reads_the_weights_at_every_call(tmp_path, random_model):
    """The folded graph follows new weights (validation during training), and a saved
    and loaded model is folded too."""
    model = build_boundary_model()
    model.set_weights(random_model.get_weights())
    batch = RNG.uniform(size=(1, 24, 40, 3)).astype(np.float32)
    before = learned_engine.run(model, batch)
    model.set_weights([w * 1.1 for w in random_model.get_weights()])
    after = learned_engine.run(model, batch)
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, np.asarray(model(batch))[..., 0], atol=1e-5)
    model.save(tmp_path / "boundaries.keras")
    loaded = keras.saving.load_model(tmp_path / "boundaries.keras")
    assert learned_engine._folded_forward(loaded) is not None


def test_another_boundary_model_runs_its_keras_graph(photo):
    """A model that is not build_boundary_model's (RGB in, one map out) is run as it is."""
    image = keras.Input((None, None, 3))
    logits = keras.layers.Conv2D(1, 3, padding="same", name="mine")(image)
    model = keras.Model(image, keras.layers.Activation("sigmoid")(logits))
    assert learned_engine._folded_forward(model) is None
    batch = (photo[None] / 255.0).astype(np.float32)
    np.testing.assert_allclose(
        detect_edges(batch, method="learned", model=model),
        np.asarray(model(batch)),
        atol=1e-6,
    )


def test_learned_flip_averages_the_mirrored_map(photo, random_model):
    """flip=True is the mean of the map and the mirrored image's map mirrored back, so
    it commutes with mirroring; it is not the plain map."""
    image = (photo / 255.0).astype(np.float32)
    plain = detect_edges(image, method="learned", model=random_model)
    mirrored = detect_edges(image[:, ::-1], method="learned", model=random_model)
    flipped = detect_edges(image, method="learned", model=random_model, flip=True)
    np.testing.assert_allclose(flipped, (plain + mirrored[:, ::-1]) / 2, atol=1e-6)
    assert np.abs(flipped - plain).max() > 1e-3
    np.testing.assert_allclose(
        detect_edges(image[:, ::-1], method="learned", model=random_model, flip=True),
        flipped[:, ::-1],
        atol=1e-6,
    )
    both = detect_edges(image, method="learned", flip=True, scales=(0.5, 1))
    assert both.shape == plain.shape and 0 <= both.min() and both.max() <= 1


def test_learned_version_pins_the_shipped_weights(photo):
    """version= runs that version's shipped weights; a bad name or version + model raise."""
    from keras_edges.models import BOUNDARY_VERSIONS, pretrained_weights

    image = photo[:40, :56]
    for version in BOUNDARY_VERSIONS:
        if not pretrained_weights(version).is_file():
            continue
        model = build_boundary_model(version=version, pretrained=True)
        np.testing.assert_allclose(
            detect_edges(image / 255.0, method="learned", version=version),
            np.asarray(model((image[None] / 255.0).astype(np.float32)))[0],
            atol=1e-5,
        )
    with pytest.raises(ValueError, match=r"Expected one of \['v1', 'v2'\]"):
        detect_edges(image, method="learned", version="v0")
    with pytest.raises(ValueError, match="`model` and `version` both choose"):
        detect_edges(image, method="learned", version="v1", model=model)
    with pytest.raises(TypeError, match="Received: flip='yes'"):
        detect_edges(image, method="learned", flip="yes")


def test_learned_refuses_a_model_that_is_not_a_boundary_model():
    """A Sobel model passed as model= is a TypeError naming the model."""
    with pytest.raises(
        TypeError, match=r"Expected a model from build_boundary_model.*'sobel"
    ):
        detect_edges(
            np.zeros((8, 8)), method="learned", model=build_edge_model("sobel")
        )


# ------------------------------------------------------------------------------ pair folders
def _write_pairs(root, names, *, size=(20, 30), images="images", edges="edges"):
    """Write RGB PNG images and 0/255 edge maps under root/images and root/edges."""
    rng = np.random.default_rng(4)
    written = {}
    for name in names:
        image = rng.integers(0, 256, (*size, 3), np.uint8)
        edge_map = np.where(rng.uniform(size=size) > 0.8, 255, 0).astype(np.uint8)
        for folder, array in ((images, image), (edges, edge_map)):
            (root / folder).mkdir(parents=True, exist_ok=True)
            save_image(root / folder / f"{name}.png", array)
        written[name] = (image, edge_map)
    return written


def test_load_edge_pairs_plain_layout(tmp_path):
    """images/ + edges/ pairs come back sorted by name, each with a one-map list."""
    written = _write_pairs(tmp_path, ["b", "a"])
    pairs = load_edge_pairs(tmp_path)
    assert len(pairs) == 2
    for (image, maps), name in zip(pairs, ["a", "b"]):
        np.testing.assert_array_equal(image, written[name][0])
        assert len(maps) == 1
        np.testing.assert_array_equal(maps[0], written[name][1])


def test_load_edge_pairs_biped_layout(tmp_path):
    """BIPED's imgs/<split>/rgbr/real with edge_maps/<split>/rgbr/real is read by split."""
    folder = "train/rgbr/real"
    written = _write_pairs(
        tmp_path, ["x"], images=f"imgs/{folder}", edges=f"edge_maps/{folder}"
    )
    _write_pairs(
        tmp_path,
        ["y", "z"],
        images="imgs/test/rgbr/real",
        edges="edge_maps/test/rgbr/real",
    )
    ((image, maps),) = load_edge_pairs(tmp_path, split="train")
    np.testing.assert_array_equal(image, written["x"][0])
    np.testing.assert_array_equal(maps[0], written["x"][1])
    assert len(load_edge_pairs(tmp_path, split="test")) == 2


def test_pair_folder_errors_name_the_file(tmp_path):
    """Empty folders, a missing edge map and a wrong-size edge map are reported by name."""
    (tmp_path / "images").mkdir()
    (tmp_path / "edges").mkdir()
    with pytest.raises(FileNotFoundError, match="no images in"):
        load_edge_pairs(tmp_path)
    with pytest.raises(FileNotFoundError, match="no images in"):
        fit_boundary_model(tmp_path)
    _write_pairs(tmp_path, ["a", "b"])
    (tmp_path / "edges" / "b.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 images have no edge map.*b\.png"):
        load_edge_pairs(tmp_path)
    save_image(tmp_path / "edges" / "b.png", np.zeros((20, 31), np.uint8))
    with pytest.raises(ValueError, match=r"edges/b\.png' has shape \(20, 31\)"):
        load_edge_pairs(tmp_path)
    with pytest.raises(
        FileNotFoundError, match=r"expected the folders.*Received: \['a.png', 'b.png'\]"
    ):
        load_edge_pairs(tmp_path / "images")


# ------------------------------------------------------------------------------ packaging
@pytest.mark.slow
def test_wheel_contains_the_weights_and_their_provenance(tmp_path):
    """A wheel built offline holds the shipped weights, unchanged, and their JSON provenance."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "keras_edges",
        source / "keras_edges",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-q",
        "-w",
        str(tmp_path / "dist"),
        str(source),
    ]
    subprocess.run(command, check=True, capture_output=True, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("keras_edges-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for version in ("v1", "v2"):
            path = pretrained_weights(version)
            name = f"keras_edges/weights/{path.name}"
            weights = archive.read(name)
            provenance = json.loads(archive.read(name.replace(".weights.h5", ".json")))
            assert weights == path.read_bytes()
            assert len(weights) < 1_000_000
            assert provenance["weights_sha256"] == hashlib.sha256(weights).hexdigest()


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_shipped_weights_give_the_stored_reference_output(version):
    """Each version's shipped weights load (no network) and reproduce the stored map of
    img/camera.png.

    `tests/data/learned_camera_every8_<version>.npy` holds every 8th pixel of
    `detect_edges(camera / 255, method="learned", version=version)`, written with the
    weights (`benchmarks/ship_boundaries.py`); the provenance names the same weights by
    their SHA-256.
    """
    import hashlib

    from keras_edges.io import load_image
    from keras_edges.models import pretrained_weights

    reference = np.load(
        ROOT / "tests" / "data" / f"learned_camera_every8_{version}.npy"
    )
    camera = load_image(IMG / "camera.png").astype(np.float32) / 255
    probabilities = detect_edges(camera, method="learned", version=version)
    np.testing.assert_allclose(probabilities[::8, ::8], reference, atol=2e-5)
    weights = pretrained_weights(version)
    provenance = json.loads(
        weights.with_name(weights.name.replace(".weights.h5", ".json")).read_text()
    )
    assert (
        provenance["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    )
