"""`fit_edge_model`: learn the two edge filters from data.

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

import keras
import tensorflow as tf

from keras_edges.kernels import MAGNITUDES, operator_kernels
from keras_edges.layers import ZeroSum
from keras_edges.models import build_edge_model
from keras_edges.train.data import dataset_channels, load_arrays, make_dataset
from keras_edges.validation import check_choice, check_number, check_positive_int

__all__ = ["fit_edge_model"]


# --------------------------------------------------------------------------- training
def fit_edge_model(
    images,
    targets=None,
    *,
    operator: str = "sobel",
    ksize: int | None = None,
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
        ksize: Kernel size; None is the operator's smallest (3 for Sobel).
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
    ksize = operator_kernels(operator, ksize)[0].shape[0]  # None: the smallest
    check_choice("magnitude", magnitude, MAGNITUDES)
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    crop_size = check_positive_int("crop_size", crop_size)
    steps_per_epoch = check_positive_int("steps_per_epoch", steps_per_epoch)
    validation_split = check_number(
        "validation_split", validation_split, low=0, high=1, high_open=True
    )
    noise = check_number("noise", noise, low=0)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        learning_rate = check_number(
            "learning_rate", learning_rate, low=0, low_open=True
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
        channels = dataset_channels(images, crop_size, has_targets)
        train_images, train_targets, val_images, val_targets = images, None, None, None
    else:
        has_targets = targets is not None
        image_list, target_list = load_arrays(images, targets, crop_size)
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
    train_data = make_dataset(train_images, train_targets, seed=seed, **options)
    val_data = None
    if val_images is not None:
        val_seed = None if seed is None else seed + 1
        val_data = make_dataset(val_images, val_targets, seed=val_seed, **options)

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
