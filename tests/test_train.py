"""Tests for keras_edges.train: the pipeline, fit_edge_model, learned_kernels, kernel_error."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_edges import (
    ZeroSum,
    build_edge_model,
    detect_edges,
    fit_edge_model,
    get_kernels,
    kernel_error,
    learned_kernels,
    load_image,
    save_image,
)
from keras_edges.datasets import synthetic_images
from keras_edges.train.data import make_dataset

from conftest import IMG, ROOT, SAMPLE_PHOTOS

SOBEL_X = get_kernels("sobel")[0][:, :, 0, 0].astype("float64")
QUICK = dict(epochs=1, steps_per_epoch=3, batch_size=4, crop_size=8, verbose=0)


def _noise(count=8, size=24, seed=0):
    return np.random.default_rng(seed).random((count, size, size)).astype("float32")


# --------------------------------------------------------------------------- kernel_error
@pytest.mark.parametrize("sign_x, sign_y", [(1, 1), (1, -1), (-1, 1), (-1, -1)])
@pytest.mark.parametrize("swap", [False, True])
def test_kernel_error_ignores_signs_and_swap(sign_x, sign_y, swap):
    """The 8 signed permutations of (kernel_x, kernel_y) leave |gx|+|gy| and the error at 0."""
    pair = (sign_x * SOBEL_X, sign_y * SOBEL_X.T)
    assert kernel_error(pair[::-1] if swap else pair) == 0.0


def test_kernel_error_sees_rotation_and_scale_under_l1():
    """A 45-degree mix or a rescaling changes |gx|+|gy|, so the L1 error sees it."""
    mixed = ((SOBEL_X + SOBEL_X.T) / np.sqrt(2), (SOBEL_X - SOBEL_X.T) / np.sqrt(2))
    image = np.random.default_rng(0).random((16, 16))
    model = build_edge_model("sobel")
    # The magnitude really does change: the mixed pair is not an invisible symmetry.
    rotated = build_edge_model("sobel")
    rotated.get_layer("grad_x").set_weights([mixed[0][:, :, None, None]])
    rotated.get_layer("grad_y").set_weights([mixed[1][:, :, None, None]])
    assert (
        np.abs(
            detect_edges(image, model=rotated) - detect_edges(image, model=model)
        ).max()
        > 0.1
    )
    assert kernel_error(mixed) > 0.5
    assert kernel_error((1.01 * SOBEL_X, 1.01 * SOBEL_X.T)) == pytest.approx(0.02)


def test_kernel_error_l2_ignores_rotation():
    """Under the L2 magnitude any rotation of (gx, gy) is invisible, and the error is ~0."""
    angle = 0.7
    pair = (
        np.cos(angle) * SOBEL_X - np.sin(angle) * SOBEL_X.T,
        np.sin(angle) * SOBEL_X + np.cos(angle) * SOBEL_X.T,
    )
    assert kernel_error(pair, magnitude="l2") < 1e-3
    assert kernel_error(pair, magnitude="l1") > 0.5


def test_kernel_error_against_hand_computed_values():
    """Prewitt differs from Sobel by 1 (centre row), from Scharr by 9."""
    assert kernel_error(build_edge_model("prewitt"), "sobel") == 1.0
    assert kernel_error(build_edge_model("prewitt"), "scharr") == 9.0
    assert kernel_error(build_edge_model("sobel", ksize=5), "sobel", ksize=5) == 0.0


def test_kernel_error_rejects_mismatched_shapes():
    """A 5x5 learned pair cannot be compared with the 3x3 Sobel."""
    with pytest.raises(
        ValueError, match=r"Expected kernels of the learned shape \(5, 5\)"
    ):
        kernel_error(build_edge_model("sobel", ksize=5), "sobel")


def test_learned_kernels_reads_the_table():
    """learned_kernels returns the (k, k) kernels the builder injected."""
    kernel_x, kernel_y = learned_kernels(build_edge_model("scharr"))
    np.testing.assert_array_equal(kernel_x, [[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]])
    np.testing.assert_array_equal(kernel_y, kernel_x.T)


# --------------------------------------------------------------------------- builder
def test_seeded_initializer_gives_two_different_reproducible_kernels():
    """A seeded initializer replaces the table, differs between x and y, and repeats."""
    make = lambda: build_edge_model(
        "sobel",
        trainable=True,
        kernel_initializer=keras.initializers.RandomNormal(seed=3),
    )
    first, second = learned_kernels(make()), learned_kernels(make())
    np.testing.assert_array_equal(first[0], second[0])
    assert np.abs(first[0] - first[1]).max() > 0.1
    assert np.abs(first[0] - SOBEL_X).max() > 0.1
    assert len(make().trainable_weights) == 2


def test_default_builder_is_unchanged():
    """Without an initializer the kernels are the table's, trainable or not."""
    np.testing.assert_array_equal(
        learned_kernels(build_edge_model("sobel", trainable=True))[0], SOBEL_X
    )


# --------------------------------------------------------------------------- pipeline
def test_pipeline_targets_are_the_operator_on_each_crop():
    """With targets=None each batch pairs zero-mean crops with the fixed operator's output."""
    fixed = build_edge_model("sobel")
    images = [image[:, :, None] for image in _noise(3, 20)]
    dataset = make_dataset(
        images,
        None,
        crop_size=12,
        batch_size=5,
        noise=0.0,
        zero_mean=True,
        seed=0,
        fixed=fixed,
        ksize=3,
        channels=1,
    )
    crops, targets = next(iter(dataset))
    assert crops.shape == (5, 12, 12, 1)
    np.testing.assert_allclose(np.asarray(crops).mean(axis=(1, 2, 3)), 0.0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(targets), np.asarray(fixed(crops)), atol=1e-6)


def test_pipeline_crops_image_and_target_together():
    """Given targets stay aligned with their crops through crop and flips; the border is masked."""
    image = _noise(1, 40)[0]
    target = build_edge_model("scharr")(image[None, :, :, None])[0].numpy()
    dataset = make_dataset(
        [image[:, :, None]],
        [target],
        crop_size=16,
        batch_size=8,
        noise=0.0,
        zero_mean=True,
        seed=1,
        fixed=None,
        ksize=3,
        channels=1,
    )
    crops, targets, weights = next(iter(dataset))
    recomputed = np.asarray(build_edge_model("scharr")(crops))
    inner = np.asarray(weights) > 0
    assert inner.sum() == 8 * 14 * 14
    np.testing.assert_allclose(
        recomputed[..., 0][inner], np.asarray(targets)[..., 0][inner], atol=1e-4
    )


def test_synthetic_images_are_in_unit_range():
    """Generated images have the requested shape and span [0, 1]."""
    images = synthetic_images(3, size=32, seed=0)
    assert images.shape == (3, 32, 32) and images.dtype == np.float32
    np.testing.assert_allclose(images.min(axis=(1, 2)), 0.0)
    np.testing.assert_allclose(images.max(axis=(1, 2)), 1.0)


# --------------------------------------------------------------------------- training
@pytest.mark.slow
def test_recovers_sobel_from_a_random_start_on_img():
    """One seed of the benchmark: from a random start, img/ crops recover Sobel within 0.02."""
    model, history = fit_edge_model(str(IMG), seed=0, verbose=0)
    assert kernel_error(model, "sobel") <= 0.02
    assert history.history["loss"][-1] < 1e-3 * history.history["loss"][0]


@pytest.mark.slow
def test_learns_scharr_from_given_targets():
    """Scharr edge maps given as targets make the filters Scharr (within 0.02), not Sobel."""
    images = _noise(16, 64, seed=5)
    scharr = build_edge_model("scharr")
    targets = np.asarray(scharr(images[..., None]))
    model, _ = fit_edge_model(images, targets, seed=0, verbose=0)
    assert kernel_error(model, "scharr") <= 0.02
    assert kernel_error(model, "sobel") > 1.0


def test_folder_images_and_targets_paired_by_name(tmp_path):
    """A folder of images of any size (recursive) pairs with float-TIFF edge maps by name."""
    (tmp_path / "images" / "sub").mkdir(parents=True)
    (tmp_path / "targets" / "sub").mkdir(parents=True)
    scharr = build_edge_model("scharr")
    for name, shape in [("a", (20, 30)), ("sub/b", (24, 18))]:
        image = (np.random.default_rng(len(name)).random(shape) * 255).astype(np.uint8)
        save_image(tmp_path / "images" / f"{name}.png", image)
        edges = np.asarray(scharr(image[None, :, :, None] / np.float32(255)))[
            0, :, :, 0
        ]
        save_image(tmp_path / "targets" / f"{name}.tif", edges)
    _, history = fit_edge_model(
        tmp_path / "images", tmp_path / "targets", seed=0, **QUICK
    )
    assert np.isfinite(history.history["loss"]).all()


def test_tf_data_dataset_input():
    """An existing tf.data.Dataset of single images (any size) trains too."""
    dataset = tf.data.Dataset.from_tensor_slices(_noise(4, 16))
    _, history = fit_edge_model(dataset, seed=0, **QUICK)
    assert len(history.history["loss"]) == 1


def test_dataset_of_pairs_and_colour_arrays():
    """A Dataset of (image, target) pairs and (N, H, W, 3) arrays train; kernels keep C."""
    images = _noise(4, 16)
    targets = np.asarray(build_edge_model("scharr")(images[..., None]))
    _, history = fit_edge_model(
        tf.data.Dataset.from_tensor_slices((images, targets)), seed=0, **QUICK
    )
    assert np.isfinite(history.history["loss"]).all()
    model, _ = fit_edge_model(np.stack([images] * 3, axis=-1), seed=0, **QUICK)
    assert learned_kernels(model)[0].shape == (3, 3, 3)
    assert detect_edges(images[0][..., None].repeat(3, axis=-1), model=model).shape == (
        16,
        16,
        1,
    )


def test_validation_split_reports_val_loss():
    """validation_split holds out the last images and Keras logs val_loss."""
    _, history = fit_edge_model(_noise(5), validation_split=0.2, seed=0, **QUICK)
    assert "val_loss" in history.history


def test_trained_model_saves_loads_safely_and_detects(tmp_path):
    """The learned model (with its ZeroSum constraint) round-trips through .keras in safe mode."""
    model, _ = fit_edge_model(_noise(), seed=0, **QUICK)
    path = tmp_path / "learned.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.get_layer("grad_x").kernel_constraint, ZeroSum)
    camera = load_image(SAMPLE_PHOTOS[0])[:64, :64]
    expected = np.asarray(model(camera[None, :, :, None].astype("float32") / 255))[
        0, :, :, 0
    ]
    np.testing.assert_allclose(
        detect_edges(camera.astype("float32") / 255, model=loaded), expected, atol=1e-5
    )
    np.testing.assert_allclose(learned_kernels(loaded)[0].sum(), 0.0, atol=1e-6)


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus():
    """Training under MirroredStrategy over two logical CPU devices works (own process)."""
    script = textwrap.dedent(
        """
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import numpy as np
        from keras_edges import fit_edge_model, kernel_error
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        images = np.random.default_rng(0).random((8, 24, 24)).astype("float32")
        model, history = fit_edge_model(images, strategy=strategy, epochs=1, steps_per_epoch=10,
                                        batch_size=8, crop_size=16, seed=0, verbose=0)
        assert strategy.num_replicas_in_sync == 2
        assert model.get_layer("grad_x").kernel.value.device.endswith("CPU:0"), model.get_layer("grad_x").kernel.value.device
        print("replicas", strategy.num_replicas_in_sync, "loss", history.history["loss"][-1])
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas 2" in result.stdout


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(epochs=0),
            r"argument `epochs`. Expected a positive integer. Received: epochs=0",
        ),
        (
            dict(batch_size=-1),
            r"argument `batch_size`. Expected a positive integer. Received: batch_size=-1",
        ),
        (
            dict(crop_size=100),
            r"argument `crop_size`. Expected at most the smallest image side. Received: crop_size=100 for images\[0\]",
        ),
        (
            dict(validation_split=1.0),
            r"argument `validation_split`. Expected a number in \[0, 1\)",
        ),
        (
            dict(operator="canny"),
            r"Expected one of \['diff', 'farid', 'prewitt', 'roberts', 'scharr', 'sobel'\]",
        ),
        (
            dict(targets=np.zeros((3, 24, 24))),
            r"Expected one target per image. Received: 3 targets for 8 images",
        ),
        (
            dict(targets=np.zeros((8, 24, 20))),
            r"Expected each target to be \(H, W\) or \(H, W, 1\) with the size",
        ),
    ],
)
def test_bad_arguments_fail_before_training(kwargs, message):
    """Bad values raise a clear ValueError in the project's format."""
    with pytest.raises(ValueError, match=message):
        fit_edge_model(_noise(), **{"verbose": 0, **kwargs})


def test_empty_folder_is_reported(tmp_path):
    """A folder without image files names itself."""
    with pytest.raises(ValueError, match=r"no image files found"):
        fit_edge_model(tmp_path, verbose=0)


def test_unmatched_target_file_is_named(tmp_path):
    """A target without an image of the same name is reported by its path."""
    for folder in ("images", "targets"):
        (tmp_path / folder).mkdir()
    save_image(tmp_path / "images" / "a.png", np.zeros((16, 16), np.uint8))
    save_image(tmp_path / "targets" / "a.png", np.zeros((16, 16), np.uint8))
    save_image(tmp_path / "targets" / "stray.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(ValueError, match=r"unmatched target file .*stray\.png"):
        fit_edge_model(
            tmp_path / "images", tmp_path / "targets", crop_size=8, verbose=0
        )


def test_images_without_targets_are_named(tmp_path):
    """An image with no edge map of its name is reported by its path."""
    for folder in ("images", "targets"):
        (tmp_path / folder).mkdir()
    save_image(tmp_path / "images" / "a.png", np.zeros((16, 16), np.uint8))
    save_image(tmp_path / "images" / "b.png", np.zeros((16, 16), np.uint8))
    save_image(tmp_path / "targets" / "a.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(ValueError, match=r"no target for image file .*b\.png"):
        fit_edge_model(
            tmp_path / "images", tmp_path / "targets", crop_size=8, verbose=0
        )


def test_wrong_strategy_type():
    """strategy= accepts only tf.distribute strategies."""
    with pytest.raises(TypeError, match=r"Expected a tf.distribute.Strategy or None"):
        fit_edge_model(_noise(), strategy="mirrored", verbose=0)
