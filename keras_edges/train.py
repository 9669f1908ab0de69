"""Learn the edge filters from data: a `tf.data` pipeline, `fit_edge_model`, `kernel_error`.

The learned variant is the same graph as the classical detector (`build_edge_model`)
with trainable kernels started from random values. With `targets=None` the targets are
the fixed operator's output on the same (augmented) crops, so the model recovers that
operator; with targets given, it learns the filters that best reproduce them.

The default recipe is built so that recovery is reliable. Under an `|gx| + |gy|` target,
raw natural-image crops are ill-conditioned (the 3x3 patch covariance has a condition
number near 1e3, dominated by the mean brightness): the loss falls, but the kernels stall
0.05-0.36 away from Sobel, and with non-zero-mean inputs a filter collapses into a
constant (DC) kernel. Two measures remove the DC direction from the problem:

1. every crop has its mean subtracted (`zero_mean=True`), and
2. both kernels are projected onto zero-sum kernels after each step (`zero_sum=True`,
   the registered `ZeroSum` constraint). A gradient operator sums to zero (Sobel,
   Scharr and Prewitt do), and a zero-sum model is blind to the crop mean, so (1)
   changes the conditioning of the optimisation and nothing else.

Adam then runs with a cosine-decayed learning rate, so the kernels settle to well within
0.02 of the target values (see `benchmarks/README.md`, "Learning the filters").
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_edges.io import IMAGE_SUFFIXES, load_image
from keras_edges.kernels import MAGNITUDES, _check_choice, _check_operator, get_kernels
from keras_edges.layers import ZeroSum
from keras_edges.models import build_edge_model

__all__ = ["fit_edge_model", "kernel_error", "learned_kernels"]


# --------------------------------------------------------------------------- validation
def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a positive integer. "
            f"Received: {name}={value!r}"
        )
    return int(value)


def _check_number(
    name: str, value, low: float, high: float | None, expected: str
) -> float:
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.number))
    if (
        not ok
        or not math.isfinite(value)
        or value < low
        or (high is not None and value >= high)
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected {expected}. Received: {name}={value!r}"
        )
    return float(value)


# --------------------------------------------------------------------------- loading
def _as_float(array: np.ndarray) -> np.ndarray:
    """uint8 -> /255, uint16 -> /65535, floats as they are (the package's value ranges)."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / 255.0
    if array.dtype == np.uint16:
        return array.astype(np.float32) / 65535.0
    if array.dtype == np.bool_ or array.dtype.kind in "iuf":
        return array.astype(np.float32)
    raise TypeError(
        f"Invalid dtype for an image: expected bool, integer or float. Received: dtype={array.dtype}"
    )


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _read_source(source, name: str):
    """Return `(arrays, labels)` for a folder path, an array or a list of arrays."""
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected an array, a list of arrays, "
                f"a tf.data.Dataset or a folder of images. Received: {name}={str(source)!r} "
                "(not a folder)"
            )
        files = _image_files(folder)
        if not files:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a folder containing image files "
                f"({', '.join(IMAGE_SUFFIXES)}), searched recursively. Received: "
                f"{name}={str(source)!r} (no image files found)"
            )
        return [load_image(path) for path in files], files
    if isinstance(source, np.ndarray):
        if source.ndim not in (3, 4):
            raise ValueError(
                f"Invalid shape for argument `{name}`. Expected a batch (N, H, W) or "
                f"(N, H, W, C), or a list of (H, W) / (H, W, C) arrays. Received: "
                f"{name}.shape={source.shape}"
            )
        arrays = list(source)
    elif isinstance(source, (list, tuple)) and source:
        arrays = [np.asarray(each) for each in source]
    else:
        raise TypeError(
            f"Invalid type for argument `{name}`. Expected a NumPy array, a non-empty list of "
            f"arrays, a tf.data.Dataset or a folder path. Received: {name} of type "
            f"{type(source).__name__}"
        )
    if not arrays:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected at least one image. Received: 0 images"
        )
    return arrays, [f"{name}[{index}]" for index in range(len(arrays))]


def _to_hwc(array: np.ndarray, label, name: str) -> np.ndarray:
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(
            f"Invalid shape for argument `{name}`. Expected each image to be (H, W) or "
            f"(H, W, C). Received: {label} of shape {array.shape}"
        )
    return _as_float(array)


def _pair_targets(
    image_files: list[Path], images_root: Path, targets_root: Path
) -> list[Path]:
    """Match every image file with the target file of the same relative name (any suffix)."""
    key = lambda path, root: path.relative_to(root).with_suffix("").as_posix()
    target_files = _image_files(targets_root)
    if not target_files:
        raise ValueError(
            "Invalid value for argument `targets`. Expected a folder containing edge maps "
            f"named like the images. Received: targets={str(targets_root)!r} (no image files found)"
        )
    by_key = {key(path, targets_root): path for path in target_files}
    image_keys = {key(path, images_root) for path in image_files}
    for path in target_files:
        if key(path, targets_root) not in image_keys:
            raise ValueError(
                f"Invalid value for argument `targets`. Expected every target to have an image of "
                f"the same name in {str(images_root)!r}. Received: unmatched target file "
                f"{str(path)!r}"
            )
    for path in image_files:
        if key(path, images_root) not in by_key:
            raise ValueError(
                f"Invalid value for argument `targets`. Expected an edge map for every image. "
                f"Received: no target for image file {str(path)!r} in {str(targets_root)!r}"
            )
    return [by_key[key(path, images_root)] for path in image_files]


def _load_arrays(images, targets, crop_size: int):
    """Load and check images (and targets): lists of float32 (H, W, C) arrays."""
    raw_images, labels = _read_source(images, "images")
    image_list = [
        _to_hwc(array, label, "images") for array, label in zip(raw_images, labels)
    ]
    channels = {array.shape[2] for array in image_list}
    if len(channels) > 1:
        raise ValueError(
            "Invalid value for argument `images`. Expected images with the same number of "
            f"channels. Received: channel counts {sorted(channels)}"
        )
    target_list = None
    if targets is not None:
        if isinstance(targets, (str, Path)) and isinstance(images, (str, Path)):
            paths = _pair_targets(labels, Path(images), Path(targets))
            raw_targets, target_labels = [load_image(path) for path in paths], paths
        elif isinstance(targets, (str, Path)):
            raise ValueError(
                "Invalid value for argument `targets`. Expected arrays when `images` are arrays "
                "(a targets folder is paired by file name with an images folder). Received: "
                f"targets={str(targets)!r}"
            )
        else:
            raw_targets, target_labels = _read_source(targets, "targets")
        if len(raw_targets) != len(image_list):
            raise ValueError(
                "Invalid value for argument `targets`. Expected one target per image. Received: "
                f"{len(raw_targets)} targets for {len(image_list)} images"
            )
        target_list = [
            _to_hwc(array, label, "targets")
            for array, label in zip(raw_targets, target_labels)
        ]
        for image, target, label, target_label in zip(
            image_list, target_list, labels, target_labels
        ):
            if target.shape != image.shape[:2] + (1,):
                raise ValueError(
                    "Invalid shape for argument `targets`. Expected each target to be (H, W) or "
                    f"(H, W, 1) with the size of its image. Received: {target_label} of shape "
                    f"{target.shape} for {label} of shape {image.shape}"
                )
    for image, label in zip(image_list, labels):
        if min(image.shape[:2]) < crop_size:
            raise ValueError(
                f"Invalid value for argument `crop_size`. Expected at most the smallest image "
                f"side. Received: crop_size={crop_size} for {label} of shape {image.shape}"
            )
    return image_list, target_list


# --------------------------------------------------------------------------- pipeline
def _stack(arrays: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-pad a list of (H, W, C) arrays into one (N, Hmax, Wmax, C) array, with sizes."""
    sizes = np.array([array.shape[:2] for array in arrays], np.int32)
    stack = np.zeros((len(arrays), *sizes.max(axis=0), arrays[0].shape[2]), np.float32)
    for index, array in enumerate(arrays):
        stack[index, : array.shape[0], : array.shape[1]] = array
    return stack, sizes


def _seed(draw, k: int):
    return tf.stack([draw, tf.constant(k, tf.int64)])


def _augment(crop, channels: int, draw, noise: float, zero_mean: bool):
    """Random flips (image and target together), noise, mean subtraction (one crop)."""
    flips = tf.random.stateless_uniform([2], _seed(draw, 3))
    crop = tf.cond(flips[0] < 0.5, lambda: tf.reverse(crop, [1]), lambda: crop)
    crop = tf.cond(flips[1] < 0.5, lambda: tf.reverse(crop, [0]), lambda: crop)
    image, target = crop[:, :, :channels], crop[:, :, channels:]
    if noise:
        image = image + noise * tf.random.stateless_normal(
            tf.shape(image), _seed(draw, 4)
        )
    if zero_mean:
        image = image - tf.reduce_mean(image)
    return image, target


def _offsets(height, width, draw, crop_size: int):
    top = tf.random.stateless_uniform(
        [], _seed(draw, 1), 0, height - crop_size + 1, tf.int32
    )
    left = tf.random.stateless_uniform(
        [], _seed(draw, 2), 0, width - crop_size + 1, tf.int32
    )
    return top, left


def _make_dataset(
    images,
    targets,
    *,
    crop_size,
    batch_size,
    noise,
    zero_mean,
    seed,
    fixed,
    ksize,
    channels,
):
    """An endless dataset of `(crops, targets)` batches, or `(crops, targets, weights)`.

    Given targets were computed on the whole image, so along a crop's border (the
    `ksize // 2` outer pixels) they see pixels the model, padding the crop, does not:
    those pixels get weight 0 in the loss.
    """
    draws = tf.data.Dataset.random(seed=seed)
    if isinstance(images, tf.data.Dataset):

        def element(item, draw):
            parts = item if isinstance(item, tuple) else (item,)
            parts = [_tf_float(part) for part in parts]
            parts = [
                part[:, :, None] if part.shape.rank == 2 else part for part in parts
            ]
            both = tf.concat(parts, axis=2)
            top, left = _offsets(tf.shape(both)[0], tf.shape(both)[1], draw, crop_size)
            crop = both[top : top + crop_size, left : left + crop_size]
            return _augment(crop, channels, draw, noise, zero_mean)

        dataset = tf.data.Dataset.zip((images.repeat(), draws))
        dataset = dataset.map(
            element, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
        dataset = dataset.batch(batch_size, drop_remainder=True)
    else:
        arrays = (
            images
            if targets is None
            else [np.concatenate(pair, axis=2) for pair in zip(images, targets)]
        )
        stack, sizes = _stack(arrays)
        stack, sizes = tf.constant(stack), tf.constant(sizes)
        grid = tf.range(crop_size)

        def batch(draw):  # one vectorised gather per batch: fast on small crops
            seeds = [_seed(draw, k) for k in range(5)]
            pick = tf.random.stateless_uniform(
                [batch_size], seeds[0], 0, len(arrays), tf.int32
            )
            room = tf.gather(sizes, pick) - crop_size + 1
            top, left = (
                tf.cast(
                    tf.random.stateless_uniform([batch_size], seeds[k])
                    * tf.cast(room[:, k - 1], tf.float32),
                    tf.int32,
                )
                for k in (1, 2)
            )
            flips = tf.random.stateless_uniform([2, batch_size], seeds[3]) < 0.5
            rows = top[:, None] + tf.where(
                flips[1][:, None], crop_size - 1 - grid, grid
            )
            cols = left[:, None] + tf.where(
                flips[0][:, None], crop_size - 1 - grid, grid
            )
            shape = [batch_size, crop_size, crop_size]
            index = tf.stack(
                [
                    tf.broadcast_to(pick[:, None, None], shape),
                    tf.broadcast_to(rows[:, :, None], shape),
                    tf.broadcast_to(cols[:, None, :], shape),
                ],
                axis=-1,
            )
            crops = tf.gather_nd(stack, index)
            image, target = crops[..., :channels], crops[..., channels:]
            if noise:
                image = image + noise * tf.random.stateless_normal(
                    tf.shape(image), seeds[4]
                )
            if zero_mean:
                image = image - tf.reduce_mean(image, axis=(1, 2, 3), keepdims=True)
            return image, target

        dataset = draws.map(
            batch, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
        )
    if fixed is not None:
        dataset = dataset.map(lambda crops, _: (crops, fixed(crops)))
    else:
        before, after = ksize // 2, (ksize - 1) // 2
        inner = np.zeros((batch_size, crop_size, crop_size), np.float32)
        inner[:, before : crop_size - after, before : crop_size - after] = 1.0
        dataset = dataset.map(
            lambda crops, targets: (crops, targets, tf.constant(inner))
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def _tf_float(tensor):
    if tensor.dtype == tf.uint8:
        return tf.cast(tensor, tf.float32) / 255.0
    if tensor.dtype == tf.uint16:
        return tf.cast(tensor, tf.float32) / 65535.0
    return tf.cast(tensor, tf.float32)


def _dataset_channels(
    dataset: tf.data.Dataset, crop_size: int, has_targets: bool
) -> int:
    spec = dataset.element_spec
    image_spec = spec[0] if isinstance(spec, tuple) else spec
    if isinstance(spec, tuple) != has_targets or image_spec.shape.rank not in (2, 3):
        raise ValueError(
            "Invalid value for argument `images`. Expected a tf.data.Dataset of single images "
            "(H, W) or (H, W, C), or of (image, target) pairs when it carries its own targets. "
            f"Received: element_spec={spec}"
        )
    for size in image_spec.shape[:2]:
        if size is not None and size < crop_size:
            raise ValueError(
                "Invalid value for argument `crop_size`. Expected at most the smallest image "
                f"side. Received: crop_size={crop_size} for dataset images of shape "
                f"{tuple(image_spec.shape)}"
            )
    return 1 if image_spec.shape.rank == 2 else int(image_spec.shape[2])


def _synthetic_images(
    count: int, *, size: int = 64, seed: int | None = None
) -> np.ndarray:
    """Random images with a natural-looking 1/f amplitude spectrum, values in [0, 1].

    Used by `keras-edges train --synthetic N` and the benchmark; `(count, size, size)`
    float32.
    """
    rng = np.random.default_rng(seed)
    frequency = np.hypot(
        *np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
    )
    amplitude = 1.0 / np.maximum(frequency, 1.0 / size)
    spectrum = np.fft.fft2(rng.standard_normal((count, size, size))) * amplitude
    fields = np.fft.ifft2(spectrum).real
    low = fields.min(axis=(1, 2), keepdims=True)
    high = fields.max(axis=(1, 2), keepdims=True)
    return ((fields - low) / (high - low)).astype(np.float32)


# --------------------------------------------------------------------------- training
def fit_edge_model(
    images,
    targets=None,
    *,
    operator: str = "sobel",
    ksize: int = 3,
    magnitude: str = "l1",
    epochs: int = 15,
    batch_size: int = 32,
    crop_size: int = 32,
    steps_per_epoch: int = 100,
    validation_split: float = 0.0,
    learning_rate=0.25,
    noise: float = 0.0,
    zero_mean: bool = True,
    zero_sum: bool = True,
    kernel_initializer=None,
    callbacks=None,
    strategy=None,
    seed: int | None = None,
    verbose="auto",
) -> tuple[keras.Model, keras.callbacks.History]:
    """Learn the two edge kernels from images, starting from random values.

    Builds `build_edge_model(operator, ksize=ksize, magnitude=magnitude, trainable=True,
    channels=C)` with both kernels drawn from `kernel_initializer`, and trains it with
    Adam on the mean squared error between its output and the targets. The data are
    random `crop_size` crops of the images, flipped at random, with optional Gaussian
    noise, mean-subtracted, batched and prefetched by `tf.data`; the stream is endless
    and an epoch is `steps_per_epoch` batches. See the module docstring for why the
    default recipe (`zero_mean`, `zero_sum`, a cosine-decayed learning rate) recovers
    the operator reliably.

    Args:
        images: The training images: an array `(N, H, W)` or `(N, H, W, C)`; a list of
            `(H, W)` / `(H, W, C)` arrays of any sizes; a folder searched recursively
            for image files (read as grey with `load_image`); or a `tf.data.Dataset` of
            single images, or of `(image, target)` pairs (then `targets` must be None).
            uint8 images are divided by 255, uint16 by 65535, floats are used as given.
        targets: None: the targets are the fixed `operator`'s edge magnitude on the
            same augmented crops (the model recovers the operator). Otherwise edge
            maps `(H, W)` / `(H, W, 1)`, one per image and of its size (same rules as
            `images`), or a folder of edge maps paired by relative file name (any
            suffix) with an `images` folder. Float TIFFs keep their values.
        operator: The operator whose table size and name the model takes, and the one
            that makes the targets when `targets` is None.
        ksize: Kernel size.
        magnitude: `"l1"` or `"l2"`.
        epochs: Number of epochs (positive).
        batch_size: Crops per batch (positive); the global batch under a strategy.
        crop_size: Side of the square training crops; at most the smallest image side.
        steps_per_epoch: Batches per epoch (positive).
        validation_split: Fraction of the images (arrays and folders only) held out
            for validation, in [0, 1); the last ones, as Keras does.
        learning_rate: Adam's initial learning rate, decayed to 1% of it along a
            cosine over the run; or a `keras.optimizers.schedules.LearningRateSchedule`
            used as it is.
        noise: Standard deviation of zero-mean Gaussian noise added to the crops
            (before the targets are computed when `targets` is None).
        zero_mean: Subtract each crop's mean.
        zero_sum: Constrain both kernels to sum to zero (the `ZeroSum` constraint).
            Both suit gradient-like targets, which ignore the brightness; for given
            targets that depend on it, pass `zero_mean=False, zero_sum=False`.
        kernel_initializer: Keras initializer (or its name) for the kernels; default
            `keras.initializers.RandomNormal(stddev=0.1, seed=seed)`.
        callbacks: Keras callbacks passed to `fit`.
        strategy: A `tf.distribute.Strategy`; the model and optimizer are created in
            its scope. Default: the current (default) strategy.
        seed: Seeds the initializer and the data pipeline (crops, flips, noise).
        verbose: Passed to `keras.Model.fit` (`"auto"`, 0, 1 or 2).

    Returns:
        `(model, history)`: the trained model (trainable kernels, layers named as in
        `build_edge_model`; it runs in `detect_edges(image, model=model)`) and the
        Keras `History`.

    Raises:
        ValueError: On bad input, before any training: images and targets of
            different counts or sizes, an empty folder, an unmatched target file, a
            crop larger than an image, a non-positive count, an unknown operator.
        TypeError: If `images` or `targets` is of an unsupported type.

    Example:
    >>> rng = np.random.default_rng(0)
    >>> model, history = fit_edge_model(rng.random((4, 24, 24)), crop_size=16,
    ...                                 epochs=1, steps_per_epoch=5, seed=0, verbose=0)
    >>> len(history.history["loss"]), [w.shape for w in learned_kernels(model)]
    (1, [(3, 3), (3, 3)])
    """
    _check_operator(operator, ksize)
    _check_choice("magnitude", magnitude, MAGNITUDES)
    epochs = _check_positive_int("epochs", epochs)
    batch_size = _check_positive_int("batch_size", batch_size)
    crop_size = _check_positive_int("crop_size", crop_size)
    steps_per_epoch = _check_positive_int("steps_per_epoch", steps_per_epoch)
    validation_split = _check_number(
        "validation_split", validation_split, 0.0, 1.0, "a number in [0, 1)"
    )
    noise = _check_number("noise", noise, 0.0, None, "a non-negative number")
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = _check_number(
            "learning_rate", learning_rate, 0.0, None, "a positive number or a schedule"
        )
        if learning_rate == 0:
            raise ValueError(
                "Invalid value for argument `learning_rate`. Expected a positive number or a schedule. Received: learning_rate=0.0"
            )
    if crop_size < ksize:
        raise ValueError(
            f"Invalid value for argument `crop_size`. Expected at least ksize={ksize}. "
            f"Received: crop_size={crop_size}"
        )
    if strategy is not None and not isinstance(strategy, tf.distribute.Strategy):
        raise TypeError(
            "Invalid type for argument `strategy`. Expected a tf.distribute.Strategy or None. "
            f"Received: strategy of type {type(strategy).__name__}"
        )

    if isinstance(images, tf.data.Dataset):
        if targets is not None:
            raise ValueError(
                "Invalid value for argument `targets`. Expected None when `images` is a "
                "tf.data.Dataset (give it (image, target) pairs instead). Received: targets "
                f"of type {type(targets).__name__}"
            )
        if validation_split:
            raise ValueError(
                "Invalid value for argument `validation_split`. Expected 0 when `images` is a "
                f"tf.data.Dataset. Received: validation_split={validation_split}"
            )
        has_targets = isinstance(images.element_spec, tuple)
        channels = _dataset_channels(images, crop_size, has_targets)
        train_images, train_targets, val_images, val_targets = images, None, None, None
    else:
        has_targets = targets is not None
        image_list, target_list = _load_arrays(images, targets, crop_size)
        channels = image_list[0].shape[2]
        n_val = (
            0
            if not validation_split
            else max(1, round(validation_split * len(image_list)))
        )
        if n_val >= len(image_list):
            raise ValueError(
                "Invalid value for argument `validation_split`. Expected a split that leaves at "
                f"least one training image. Received: validation_split={validation_split} with "
                f"{len(image_list)} images"
            )
        cut = len(image_list) - n_val
        train_images, val_images = image_list[:cut], image_list[cut:] or None
        train_targets = None if target_list is None else target_list[:cut]
        val_targets = None if target_list is None or not n_val else target_list[cut:]

    fixed = None
    if not has_targets:
        fixed = build_edge_model(
            operator, ksize=ksize, magnitude=magnitude, channels=channels
        )
    options = dict(
        crop_size=crop_size,
        batch_size=batch_size,
        noise=noise,
        zero_mean=zero_mean,
        fixed=fixed,
        ksize=ksize,
        channels=channels,
    )
    train_data = _make_dataset(train_images, train_targets, seed=seed, **options)
    val_data = None
    if val_images is not None:
        val_seed = None if seed is None else seed + 1
        val_data = _make_dataset(val_images, val_targets, seed=val_seed, **options)

    if kernel_initializer is None:
        kernel_initializer = keras.initializers.RandomNormal(stddev=0.1, seed=seed)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = keras.optimizers.schedules.CosineDecay(
            learning_rate, decay_steps=epochs * steps_per_epoch, alpha=0.01
        )
    with (strategy or tf.distribute.get_strategy()).scope():
        model = build_edge_model(
            operator,
            ksize=ksize,
            magnitude=magnitude,
            channels=channels,
            trainable=True,
            kernel_initializer=kernel_initializer,
            kernel_constraint=ZeroSum() if zero_sum else None,
            name=f"learned_{operator}_edges" if not has_targets else "learned_edges",
        )
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    history = model.fit(
        train_data,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=val_data,
        validation_steps=None if val_data is None else max(1, steps_per_epoch // 10),
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # the pipeline draws random crops already
    )
    return model, history


# --------------------------------------------------------------------------- inspection
def learned_kernels(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """Return the model's `(kernel_x, kernel_y)` as float64 arrays.

    Args:
        model: A model from `build_edge_model` or `fit_edge_model` (layers `"grad_x"`
            and `"grad_y"`).

    Returns:
        Two arrays of shape `(k, k)` for one input channel, `(k, k, C)` for C channels.

    Raises:
        ValueError: If the model has no `"grad_x"` / `"grad_y"` layers.

    Example:
    >>> kernel_x, kernel_y = learned_kernels(build_edge_model("sobel"))
    >>> kernel_x.tolist()[0]
    [-1.0, 0.0, 1.0]
    """
    try:
        weights = [
            model.get_layer(name).get_weights()[0] for name in ("grad_x", "grad_y")
        ]
    except (ValueError, AttributeError, IndexError):
        names = [layer.name for layer in getattr(model, "layers", [])]
        raise ValueError(
            "Invalid value for argument `model`. Expected a model with layers 'grad_x' and "
            f"'grad_y', as build_edge_model() makes. Received: a model with layers {names}"
        ) from None
    squeeze = lambda w: w[:, :, 0, 0] if w.shape[2] == 1 else w[:, :, :, 0]
    return tuple(squeeze(np.asarray(w, np.float64)) for w in weights)


def _as_pair(kernels, name: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(kernels, keras.Model):
        kernels = learned_kernels(kernels)
    if isinstance(kernels, (tuple, list)) and len(kernels) == 2:
        pair = [np.asarray(k, np.float64) for k in kernels]
    else:
        kernel = np.asarray(kernels, np.float64)
        pair = [kernel, np.swapaxes(kernel, 0, 1) if kernel.ndim >= 2 else kernel]
    # Sum over input channels: the response to a grey image repeated over the channels.
    pair = [
        k.reshape(k.shape[:2] + (-1,)).sum(axis=2) if k.ndim > 2 else k for k in pair
    ]
    if (
        pair[0].ndim != 2
        or pair[0].shape != pair[1].shape
        or pair[0].shape[0] != pair[0].shape[1]
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a model, a kernel (k, k) or a pair "
            f"(kernel_x, kernel_y) of equal square shapes. Received: shapes "
            f"{[k.shape for k in pair]}"
        )
    return pair[0], pair[1]


def kernel_error(
    model_or_kernels, reference="sobel", *, ksize: int = 3, magnitude: str | None = None
) -> float:
    """Return the max abs error of learned kernels, after the best invisible alignment.

    The edge magnitude cannot tell some kernel pairs apart, so the learned pair is
    compared with the reference after the best of these transformations of
    `(kernel_x, kernel_y)`:

    - `"l1"` (`|gx| + |gy|`): the sign of each kernel and the swap of x and y, 8 maps
      in all. Nothing else is invisible: a linear mix of `(gx, gy)` keeps `|gx| + |gy|`
      for every image only if it maps the L1 unit diamond onto itself, and the
      diamond's symmetries are exactly these 8 signed permutations (a 45-degree
      rotation, for instance, turns `|gx| + |gy|` into `2 max(|gx|, |gy|)`). The scale
      is visible too; so is the kernels' sum (DC), unless the data never excite it,
      which is why training constrains it to zero rather than leaving it free.
    - `"l2"` (`sqrt(gx**2 + gy**2)`): any rotation or reflection of `(gx, gy)`, a
      continuous family; the best one is found by a dense search over the angle.

    Kernels with C input channels are compared through their sum over the channels
    (their response to a grey image repeated over the channels).

    Args:
        model_or_kernels: A model from `build_edge_model` / `fit_edge_model`, or a pair
            `(kernel_x, kernel_y)` of `(k, k)` (or `(k, k, C[, 1])`) arrays.
        reference: An operator name (a key of `KERNELS`), or a kernel or pair as above.
        ksize: The reference operator's size.
        magnitude: `"l1"` or `"l2"`; default: the model's, or `"l1"` for arrays.

    Returns:
        The smallest max abs difference over the invisible alignments, as a float.

    Raises:
        ValueError: If the shapes differ or an argument is not a valid choice.

    Example:
    >>> sobel_x, sobel_y = get_kernels("sobel")
    >>> kernel_error((-sobel_y, sobel_x))  # swapped, one sign flipped: invisible
    0.0
    >>> kernel_error(build_edge_model("prewitt"), "sobel")
    1.0
    """
    if magnitude is None:
        magnitude = "l1"
        if isinstance(model_or_kernels, keras.Model):
            try:
                magnitude = model_or_kernels.get_layer("magnitude").norm
            except (ValueError, AttributeError):
                pass
    _check_choice("magnitude", magnitude, MAGNITUDES)
    learned = _as_pair(model_or_kernels, "model_or_kernels")
    if isinstance(reference, str):
        _check_operator(reference, ksize)
        kernel_x, kernel_y = get_kernels(reference, ksize=ksize)
        target = (
            kernel_x[:, :, 0, 0].astype(np.float64),
            kernel_y[:, :, 0, 0].astype(np.float64),
        )
    else:
        target = _as_pair(reference, "reference")
    if learned[0].shape != target[0].shape:
        raise ValueError(
            "Invalid value for argument `reference`. Expected kernels of the learned shape "
            f"{learned[0].shape}. Received: reference kernels of shape {target[0].shape}"
        )
    a, b = learned
    if magnitude == "l1":
        errors = [
            max(
                np.abs(sign_x * first - target[0]).max(),
                np.abs(sign_y * second - target[1]).max(),
            )
            for first, second in ((a, b), (b, a))
            for sign_x, sign_y in itertools.product((1, -1), repeat=2)
        ]
        return float(min(errors))

    # l2: (gx, gy) -> Q (gx, gy) with Q orthogonal; coarse grid, then a fine one.
    def error(angle, reflect):
        c, s = np.cos(angle), np.sin(angle)
        second = -b if reflect else b
        return max(
            np.abs(c * a - s * second - target[0]).max(),
            np.abs(s * a + c * second - target[1]).max(),
        )

    best = float("inf")
    for reflect in (False, True):
        angles = np.linspace(-np.pi, np.pi, 3601)
        values = [error(t, reflect) for t in angles]
        centre = angles[int(np.argmin(values))]
        fine = np.linspace(centre - 2 * np.pi / 3600, centre + 2 * np.pi / 3600, 2001)
        best = min(best, min(error(t, reflect) for t in fine))
    return float(best)
