"""The learned boundary detector: a tiny Keras net trained on human-drawn boundaries."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

# ------------------------------------------------------------------------------ layers

PIXEL_DIFFERENCES = ("cv", "cd", "ad")

# The 8-neighbour ring of a 3x3 kernel, clockwise from the top-left corner, as flat indices.
_RING = (0, 1, 2, 5, 8, 7, 6, 3)


def pixel_difference_matrix(kind: str) -> np.ndarray:
    """The 9x9 linear map from a 3x3 kernel's weights to its equivalent plain kernel.

    A pixel-difference convolution (Su et al., ICCV 2021) multiplies its weights with
    differences of pixels instead of pixels. Each kind is a fixed linear map of the
    (flattened, row-major) kernel, so it folds into a plain convolution:

    - ``"cv"``: plain convolution, ``sum_i w_i x_i``;
    - ``"cd"``: central differences, ``sum_i w_i (x_i - x_c)``: the centre weight
      becomes ``w_c - sum_i w_i``;
    - ``"ad"``: angular differences around the ring, ``sum_i w_i (x_i - x_cw(i))``,
      ``cw(i)`` the clockwise neighbour of ``i``; the centre weight is unused.

    Example:
    >>> weights = np.arange(9, dtype="float32")
    >>> (pixel_difference_matrix("cd") @ weights).reshape(3, 3)[1, 1]
    np.float32(-32.0)
    """
    matrix = np.eye(9, dtype=np.float32)
    if kind == "cd":
        matrix[4] -= 1.0
    elif kind == "ad":
        matrix[4, 4] = 0.0
        for position, index in enumerate(_RING):
            matrix[_RING[(position + 1) % 8], index] -= 1.0  # w_i multiplies -x_cw(i)
    elif kind != "cv":
        raise ValueError(
            "Invalid value for argument `kind`. Expected one of "
            f"{list(PIXEL_DIFFERENCES)}. Received: kind={kind!r}"
        )
    return matrix


@keras.saving.register_keras_serializable(package="keras_edges")
class PixelDifferenceConv2D(keras.layers.Layer):
    """A 3x3 depthwise convolution over pixel differences (PiDiNet's PDC).

    The weights are stored as learned; the call folds them into the equivalent plain
    kernel with `pixel_difference_matrix(kind)` (a 9x9 constant), so inference and
    export run one ordinary depthwise convolution.

    Reference:
        Z. Su et al., "Pixel Difference Networks for Efficient Edge Detection",
        ICCV 2021.

    Args:
        kind: `"cv"` (plain), `"cd"` (central) or `"ad"` (angular differences).
        dilation_rate: Dilation of the 3x3 kernel.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A tensor `(batch, height, width, channels)`; the output has its shape
            (zero padding, `"same"`).
    """

    def __init__(self, kind="cv", dilation_rate=1, **kwargs):
        super().__init__(**kwargs)
        pixel_difference_matrix(kind)  # validates
        self.kind = kind
        self.dilation_rate = int(dilation_rate)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(3, 3, channels, 1),
            initializer="he_normal",
        )
        self._fold = ops.convert_to_tensor(
            pixel_difference_matrix(self.kind), dtype=self.compute_dtype
        )

    def call(self, inputs):
        channels = ops.shape(self.kernel)[2]
        flat = ops.reshape(ops.cast(self.kernel, self.compute_dtype), (9, -1))
        kernel = ops.reshape(ops.matmul(self._fold, flat), (3, 3, channels, 1))
        return ops.depthwise_conv(
            inputs, kernel, padding="same", dilation_rate=self.dilation_rate
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "dilation_rate": self.dilation_rate}


@keras.saving.register_keras_serializable(package="keras_edges")
class PadToMultiple(keras.layers.Layer):
    """Pad height and width at the bottom and right, by edge replication, to a multiple.

    Args:
        multiple: The size that height and width are rounded up to.
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: A tensor `(batch, height, width, channels)`, any height and width >= 1.
    """

    def __init__(self, multiple=8, **kwargs):
        super().__init__(**kwargs)
        self.multiple = int(multiple)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        shape = ops.shape(inputs)
        for axis in (1, 2):
            size = shape[axis]
            padded = ((size + self.multiple - 1) // self.multiple) * self.multiple
            index = ops.minimum(ops.arange(padded), size - 1)
            inputs = ops.take(inputs, index, axis=axis)
        return inputs

    def compute_output_shape(self, input_shape):
        def rounded(size):
            return None if size is None else -(-size // self.multiple) * self.multiple

        return (input_shape[0], rounded(input_shape[1]), rounded(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="keras_edges")
class CropToReference(keras.layers.Layer):
    """Crop a tensor's height and width (from the top-left) to those of a reference tensor.

    Call arguments:
        inputs: `[tensor, reference]`, both `(batch, height, width, channels)`.
    """

    def call(self, inputs):
        tensor, reference = inputs
        shape = ops.shape(reference)
        return tensor[:, : shape[1], : shape[2], :]

    def compute_output_shape(self, input_shape):
        tensor, reference = input_shape
        return (tensor[0], reference[1], reference[2], tensor[3])


def _upsample_axis(x, scale: int, axis: int):
    """Bilinear (half-pixel centres, clamped) upsampling of one axis by an integer factor."""
    size = ops.shape(x)[axis]
    index = ops.arange(size)
    following = ops.take(x, ops.minimum(index + 1, size - 1), axis=axis)
    preceding = ops.take(x, ops.maximum(index - 1, 0), axis=axis)
    phases = []
    for phase in range(scale):
        offset = (phase + 0.5) / scale - 0.5  # where output `scale*j + phase` samples
        neighbour = following if offset >= 0 else preceding
        phases.append((1.0 - abs(offset)) * x + abs(offset) * neighbour)
    stacked = ops.stack(phases, axis=axis + 1)
    shape = ops.shape(x)
    new_shape = [shape[i] for i in range(4)]
    new_shape[axis] = size * scale
    return ops.reshape(stacked, new_shape)


@keras.saving.register_keras_serializable(package="keras_edges")
class BilinearUpsampling(keras.layers.Layer):
    """Upsample height and width by an integer factor, bilinearly, for any input size.

    Equal to `keras.layers.UpSampling2D(scale, interpolation="bilinear")` (half-pixel
    centres, edge values clamped), but written with index arithmetic so that it also
    works when the height and width are unknown until run time (dynamic shapes in
    `tf.function`, SavedModel and TFLite exports).

    Args:
        scale: The integer factor.
        **kwargs: Base layer arguments.

    Call arguments:
        inputs: A tensor `(batch, height, width, channels)`.
    """

    def __init__(self, scale=2, **kwargs):
        super().__init__(**kwargs)
        self.scale = int(scale)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        return _upsample_axis(_upsample_axis(inputs, self.scale, 1), self.scale, 2)

    def compute_output_shape(self, input_shape):
        def scaled(size):
            return None if size is None else size * self.scale

        return (input_shape[0], scaled(input_shape[1]), scaled(input_shape[2]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


# ------------------------------------------------------------------------------ model

# ImageNet statistics of RGB in [0, 1], as most edge nets normalise their input.
_RGB_MEAN = (0.485, 0.456, 0.406)
_RGB_STD = (0.229, 0.224, 0.225)
_STRIDE = 8


def _block(x, kind: str, dilation_rate: int, name: str):
    """PiDiNet's residual block: x + pointwise(relu(pixel-difference depthwise(x)))."""
    y = PixelDifferenceConv2D(kind, dilation_rate, name=f"{name}_pdc")(x)
    y = keras.layers.ReLU(name=f"{name}_relu")(y)
    y = keras.layers.Conv2D(x.shape[-1], 1, name=f"{name}_pw")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def _side(x, scale: int, name: str):
    """A side output: a compact multi-dilation context module, then one logit map."""
    y = keras.layers.Conv2D(8, 1, activation="relu", name=f"{name}_reduce")(x)
    context = [
        keras.layers.DepthwiseConv2D(
            3, padding="same", dilation_rate=d, name=f"{name}_dilated{d}"
        )(y)
        for d in (1, 3, 5)
    ]
    y = keras.layers.Add(name=f"{name}_context")(context)
    y = keras.layers.ReLU(name=f"{name}_context_relu")(y)
    y = keras.layers.Conv2D(1, 1, name=f"{name}_logits")(y)
    if scale > 1:
        y = BilinearUpsampling(scale, name=f"{name}_up")(y)
    return y


def build_boundary_model(
    *,
    widths=(16, 32, 64, 64),
    blocks: int = 3,
    pixel_difference: bool = True,
    side_outputs: bool = False,
    name: str = "boundaries",
) -> keras.Model:
    """Build the learned boundary detector: RGB in, a boundary probability map out."""
    image = keras.Input(shape=(None, None, 3), name="image")
    x = PadToMultiple(_STRIDE, name="pad")(image)
    x = keras.layers.Normalization(
        mean=_RGB_MEAN, variance=[s * s for s in _RGB_STD], name="normalize"
    )(x)
    x = keras.layers.Conv2D(widths[0], 3, padding="same", name="stem")(x)
    kinds = ("cd", "ad", "cv") if pixel_difference else ("cv",)
    sides = []
    for stage, width in enumerate(widths):
        prefix = f"stage{stage + 1}"
        if stage:
            x = keras.layers.MaxPooling2D(2, name=f"{prefix}_pool")(x)
            x = keras.layers.Conv2D(width, 1, name=f"{prefix}_expand")(x)
        for block in range(blocks):
            dilation = 2 if stage == len(widths) - 1 and block else 1
            x = _block(x, kinds[block % len(kinds)], dilation, f"{prefix}_block{block + 1}")
        sides.append(_side(x, 2**stage, f"side{stage + 1}"))
    fused = keras.layers.Concatenate(name="sides")(sides)
    fused = keras.layers.Conv2D(
        1,
        1,
        kernel_initializer=keras.initializers.Constant(1.0 / len(sides)),
        name="fuse",
    )(fused)
    names = ["fuse", *(f"side{stage + 1}" for stage in range(len(sides)))]
    logits = [
        CropToReference(name=f"{name}_crop")([tensor, image])
        for name, tensor in zip(names, [fused, *sides])
    ]
    if side_outputs:
        return keras.Model(image, logits, name=f"{name}_training")
    edges = keras.layers.Activation("sigmoid", name="edges", dtype="float32")(logits[0])
    return keras.Model(image, edges, name=name)


# ------------------------------------------------------------------------------ loss


@keras.saving.register_keras_serializable(package="keras_edges")
class ConsensusBalancedCrossEntropy(keras.losses.Loss):
    """Class-balanced cross-entropy against the annotators' consensus (HED/RCF).

    The target is the fraction of annotators who drew a boundary at each pixel. A pixel
    is a positive where at least `threshold` of them agree, a negative where none did,
    and ignored in between (and where the target is negative: padding). Positives are
    weighted by the negatives' share of the image, negatives by `negative_weight` times
    the positives' share, so the rare boundary pixels count as much as the background.

    References:
        1. S. Xie and Z. Tu, "Holistically-Nested Edge Detection", ICCV 2015.
        2. Y. Liu et al., "Richer Convolutional Features for Edge Detection", CVPR 2017
           (the consensus threshold and the ignored band).

    Args:
        threshold: The annotator fraction from which a pixel is a positive.
        negative_weight: RCF's lambda, the extra weight of the negatives (1.1).
    """

    def __init__(self, threshold=0.3, negative_weight=1.1, name="consensus_bce", **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = float(threshold)
        self.negative_weight = float(negative_weight)

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        positive = ops.cast(y_true >= self.threshold, y_pred.dtype)
        negative = ops.cast(ops.equal(y_true, 0.0), y_pred.dtype)
        axes = (1, 2, 3)
        count_positive = ops.sum(positive, axis=axes, keepdims=True)
        count_negative = ops.sum(negative, axis=axes, keepdims=True)
        total = ops.maximum(count_positive + count_negative, 1.0)
        weight = (
            positive * count_negative / total
            + negative * self.negative_weight * count_positive / total
        )
        # stable log(1 + exp(-|z|)) form of the cross-entropy with logits
        cross_entropy = (
            ops.maximum(y_pred, 0.0) - y_pred * positive + ops.log1p(ops.exp(-ops.abs(y_pred)))
        )
        pixels = ops.cast(ops.prod(ops.shape(y_pred)[1:]), y_pred.dtype)
        return ops.sum(weight * cross_entropy, axis=axes) / pixels

    def get_config(self):
        return {
            **super().get_config(),
            "threshold": self.threshold,
            "negative_weight": self.negative_weight,
        }


# ------------------------------------------------------------------------------ data


def consensus(boundaries) -> np.ndarray:
    """The fraction of annotators who drew a boundary at each pixel, float32 in [0, 1]."""
    if isinstance(boundaries, np.ndarray) and boundaries.ndim == 2:
        boundaries = [boundaries]
    stack = np.stack([np.asarray(b, np.float32) for b in boundaries])
    if stack.max(initial=0) > 1.0:
        stack = stack / 255.0
    return stack.mean(axis=0)


def _stack_pairs(pairs):
    """Pad (image, consensus) pairs into two arrays plus their true sizes."""
    height = max(image.shape[0] for image, _ in pairs)
    width = max(image.shape[1] for image, _ in pairs)
    images = np.zeros((len(pairs), height, width, 3), np.uint8)
    targets = np.zeros((len(pairs), height, width, 1), np.float32)
    sizes = np.zeros((len(pairs), 2), np.int32)
    for i, (image, target) in enumerate(pairs):
        h, w = image.shape[:2]
        images[i, :h, :w] = image
        targets[i, :h, :w, 0] = target
        sizes[i] = (h, w)
    return images, targets, sizes


def boundary_dataset(pairs, *, crop_size=256, batch_size=8, seed=0, start=0, scales=(0.5, 1.5)):
    """An endless, seeded `tf.data` stream of augmented training crops.

    Each sample `i` (counted from `start`, so a resumed run continues the same stream)
    draws with stateless random ops: an image, a scale log-uniform in `scales`, a crop,
    a left-right flip and a 90-degree rotation. Crops smaller than `crop_size` (small
    images at small scales) are padded; the padding's target is -1, which the loss
    ignores.
    """
    import tensorflow as tf

    images, targets, sizes = _stack_pairs(pairs)
    images, targets, sizes = tf.constant(images), tf.constant(targets), tf.constant(sizes)
    count = len(pairs)
    log_low, log_high = float(np.log(scales[0])), float(np.log(scales[1]))

    def sample(index):
        key = tf.stack([tf.cast(seed, tf.int64), index])
        draws = tf.random.stateless_uniform([6], key, dtype=tf.float32)
        k = tf.minimum(tf.cast(draws[0] * count, tf.int32), count - 1)
        height, width = sizes[k][0], sizes[k][1]
        scale = tf.exp(log_low + (log_high - log_low) * draws[1])
        region = tf.cast(tf.round(crop_size / scale), tf.int32)
        region_h, region_w = tf.minimum(region, height), tf.minimum(region, width)
        top = tf.cast(draws[2] * tf.cast(height - region_h + 1, tf.float32), tf.int32)
        left = tf.cast(draws[3] * tf.cast(width - region_w + 1, tf.float32), tf.int32)
        top, left = tf.minimum(top, height - region_h), tf.minimum(left, width - region_w)
        image = tf.cast(images[k, top : top + region_h, left : left + region_w], tf.float32)
        target = targets[k, top : top + region_h, left : left + region_w]
        out_h = tf.minimum(tf.cast(tf.round(tf.cast(region_h, tf.float32) * scale), tf.int32), crop_size)
        out_w = tf.minimum(tf.cast(tf.round(tf.cast(region_w, tf.float32) * scale), tf.int32), crop_size)
        out_h, out_w = tf.maximum(out_h, 1), tf.maximum(out_w, 1)
        image = tf.image.resize(image, (out_h, out_w), antialias=True) / 255.0
        # Thin boundaries would fade when shrunk: widen them by one pixel first.
        target = tf.cond(
            scale < 0.9,
            lambda: tf.nn.max_pool2d(target[None], 2, 1, "SAME")[0],
            lambda: target,
        )
        target = tf.clip_by_value(tf.image.resize(target, (out_h, out_w)), 0.0, 1.0)
        pad = [[0, crop_size - out_h], [0, crop_size - out_w], [0, 0]]
        image = tf.pad(image, pad)
        target = tf.pad(target, pad, constant_values=-1.0)
        if_flip = draws[4] < 0.5
        image = tf.cond(if_flip, lambda: tf.reverse(image, [1]), lambda: image)
        target = tf.cond(if_flip, lambda: tf.reverse(target, [1]), lambda: target)
        turns = tf.cast(draws[5] * 4, tf.int32)
        image, target = tf.image.rot90(image, turns), tf.image.rot90(target, turns)
        image = tf.ensure_shape(tf.clip_by_value(image, 0.0, 1.0), (crop_size, crop_size, 3))
        target = tf.ensure_shape(target, (crop_size, crop_size, 1))
        return image, target

    dataset = tf.data.Dataset.range(start * batch_size, 2**62)
    dataset = dataset.map(sample, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------------------------ fitting


def _atomic_save_weights(model, path):
    import os
    from pathlib import Path

    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part.weights.h5")
    model.save_weights(temporary)
    os.replace(temporary, path)


def _atomic_write_json(path, data):
    import json
    import os
    from pathlib import Path

    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    temporary.write_text(json.dumps(data, indent=2))
    os.replace(temporary, path)


def predict_boundaries(model, image):
    """The model's probability map `(H, W)` for one RGB float image in [0, 1]."""
    return np.asarray(model(image[None].astype(np.float32), training=False))[0, ..., 0]


def validation_scores(model, validation, *, thresholds=33, workers=1):
    """ODS/OIS/AP of `model` on `(image uint8, boundaries)` pairs, with edge NMS."""
    import tensorflow as tf

    from keras_edges.metrics import evaluate_boundaries

    infer = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    edges = [
        np.asarray(infer(tf.constant(image[None], tf.float32) / 255.0))[0, ..., 0]
        for image, _ in validation
    ]
    truths = [boundaries for _, boundaries in validation]
    return evaluate_boundaries(
        edges, truths, thresholds=thresholds, nms=True, workers=workers, progress=False
    )


class _TrainingState(keras.callbacks.Callback):
    """Checkpoints, validation ODS, best weights and a history that survive restarts."""

    def __init__(self, folder, inference, validation, state, validate_every, thresholds):
        super().__init__()
        import time

        self.folder = folder
        self.inference = inference
        self.validation = validation
        self.state = state
        self.validate_every = validate_every
        self.thresholds = thresholds
        self._clock = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import time

        now = time.perf_counter()
        self.state["seconds"] += now - self._clock
        entry = {
            "epoch": epoch + 1,
            "step": int(self.model.optimizer.iterations.numpy()),
            "seconds": round(self.state["seconds"], 1),
            "loss": float(logs.get("loss", float("nan"))),
        }
        if self.validation and (epoch + 1) % self.validate_every == 0:
            scores = validation_scores(self.inference, self.validation, thresholds=self.thresholds)
            entry.update(ods=scores.ods, ois=scores.ois, ap=scores.ap)
            if scores.ods > self.state.get("best_ods", -1.0):
                self.state["best_ods"] = scores.ods
                self.state["best_epoch"] = epoch + 1
                _atomic_save_weights(self.inference, self.folder / "best.weights.h5")
        self.state["epoch"] = epoch + 1
        self.state["history"].append(entry)
        _atomic_save_weights(self.model, self.folder / "state.weights.h5")
        _atomic_write_json(self.folder / "state.json", self.state)
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in entry.items()), flush=True)
        self._clock = time.perf_counter()


def fit_boundary_model(
    train,
    *,
    validation=None,
    model=None,
    folder="boundary_training",
    epochs=40,
    steps_per_epoch=250,
    batch_size=8,
    crop_size=256,
    learning_rate=2e-3,
    seed=0,
    validate_every=1,
    thresholds=33,
    scales=(0.5, 1.5),
):
    """Train (or fine-tune) the boundary model on `(image, boundaries)` pairs; resumable."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    training = build_boundary_model(side_outputs=True)
    inference = keras.Model(
        training.input,
        keras.layers.Activation("sigmoid", name="edges", dtype="float32")(training.outputs[0]),
        name="boundaries",
    )
    if model is not None:
        for layer in model.layers:
            if layer.weights:
                training.get_layer(layer.name).set_weights(layer.get_weights())
    total = epochs * steps_per_epoch
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate * 0.1,
        decay_steps=max(total - total // 20, 1),
        warmup_target=learning_rate,
        warmup_steps=total // 20,
        alpha=0.01,
    )
    training.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=[ConsensusBalancedCrossEntropy()] * len(training.outputs),
        jit_compile=False,
    )
    import json

    state = {"epoch": 0, "seconds": 0.0, "history": [], "seed": seed}
    state_file = folder / "state.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        training.optimizer.build(training.trainable_variables)
        training.load_weights(folder / "state.weights.h5")
        print(f"resumed at epoch {state['epoch']}, step {int(training.optimizer.iterations.numpy())}", flush=True)
    pairs = [(image, consensus(boundaries)) for image, boundaries in train]
    start = state["epoch"] * steps_per_epoch
    dataset = boundary_dataset(pairs, crop_size=crop_size, batch_size=batch_size, seed=seed, start=start, scales=scales)
    outputs = len(training.outputs)
    dataset = dataset.map(lambda x, y: (x, (y,) * outputs))
    callback = _TrainingState(folder, inference, validation, state, validate_every, thresholds)
    history = training.fit(
        dataset,
        epochs=epochs,
        initial_epoch=state["epoch"],
        steps_per_epoch=steps_per_epoch,
        callbacks=[callback],
        verbose=2,
    )
    best = folder / "best.weights.h5"
    if best.exists():
        inference.load_weights(best)
    return inference, state


def _main(argv=None):
    import argparse
    import itertools

    from keras_edges.datasets import load_bsds500

    parser = argparse.ArgumentParser()
    parser.add_argument("--bsds", required=True)
    parser.add_argument("--train-splits", default="train")
    parser.add_argument("--val-split", default="val")
    parser.add_argument("--val-images", type=int, default=25)
    parser.add_argument("--folder", default="boundary_training")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--steps-per-epoch", type=int, default=250)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train = []
    for split in args.train_splits.split("+"):
        train += list(load_bsds500(args.bsds, split))
    validation = list(itertools.islice(load_bsds500(args.bsds, args.val_split), args.val_images))
    fit_boundary_model(
        train,
        validation=validation,
        folder=args.folder,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )


if __name__ == "__main__":
    _main()
