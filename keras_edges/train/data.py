"""Training data: images and targets read from arrays or folders, and the tf.data pipeline.

`load_arrays` reads and checks what `fit_edge_model` is given; `make_dataset` turns it
into an endless stream of augmented `(crops, targets[, weights])` batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_edges.io import (
    IMAGE_SUFFIXES,
    image_files,
    load_image,
    pixel_range,
    to_float,
)

__all__ = ["boundary_dataset", "dataset_channels", "load_arrays", "make_dataset"]


# --------------------------------------------------------------------------- loading
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
        files = image_files(folder)
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
    return to_float(array)


def _pair_targets(
    images: list[Path], images_root: Path, targets_root: Path
) -> list[Path]:
    """Match every image file with the target file of the same relative name (any suffix)."""
    key = lambda path, root: path.relative_to(root).with_suffix("").as_posix()
    target_files = image_files(targets_root)
    if not target_files:
        raise ValueError(
            "Invalid value for argument `targets`. Expected a folder containing edge maps "
            f"named like the images. Received: targets={str(targets_root)!r} (no image files found)"
        )
    by_key = {key(path, targets_root): path for path in target_files}
    image_keys = {key(path, images_root) for path in images}
    for path in target_files:
        if key(path, targets_root) not in image_keys:
            raise ValueError(
                f"Invalid value for argument `targets`. Expected every target to have an image of "
                f"the same name in {str(images_root)!r}. Received: unmatched target file "
                f"{str(path)!r}"
            )
    for path in images:
        if key(path, images_root) not in by_key:
            raise ValueError(
                f"Invalid value for argument `targets`. Expected an edge map for every image. "
                f"Received: no target for image file {str(path)!r} in {str(targets_root)!r}"
            )
    return [by_key[key(path, images_root)] for path in images]


def load_arrays(images, targets, crop_size: int):
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


def make_dataset(
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
    """`to_float` for a tensor in a tf.data pipeline."""
    return tf.cast(tensor, tf.float32) / pixel_range(tensor.dtype.as_numpy_dtype)


def dataset_channels(
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


# --------------------------------------------------------------------------- boundaries
def _pack_pairs(pairs):
    """Flatten `(image, consensus)` pairs into two 1-D buffers, with offsets and sizes.

    Memory follows the pixels: one long strip beside small photos costs its own pixels,
    not the largest height times the largest width for every pair.
    """
    sizes = np.array([image.shape[:2] for image, _ in pairs], np.int64)
    areas = sizes[:, 0] * sizes[:, 1]
    offsets = np.concatenate([[0], np.cumsum(areas)[:-1]]).astype(np.int64)
    images = np.concatenate([np.asarray(image, np.uint8).ravel() for image, _ in pairs])
    targets = np.concatenate(
        [np.asarray(target, np.float32).ravel() for _, target in pairs]
    )
    return images, targets, offsets, sizes


def _rotate_crop(image, target, angle):
    """Turn a square crop and its target by `angle` radians about the centre.

    The image is reflected into the corners; the target is -1 (ignored) wherever the
    turned crop takes anything from outside the original one or from its padding.
    """
    size = tf.cast(tf.shape(image)[0], tf.float32)
    centre = (size - 1.0) / 2.0
    cos, sin = tf.cos(angle), tf.sin(angle)
    # output (x, y) reads input (cos*(x-c) - sin*(y-c) + c, sin*(x-c) + cos*(y-c) + c)
    transform = tf.stack(
        [
            cos,
            -sin,
            centre - cos * centre + sin * centre,
            sin,
            cos,
            centre - sin * centre - cos * centre,
            0.0,
            0.0,
        ]
    )[None]
    shape = tf.shape(image)[:2]

    def turn(tensor, fill_mode):
        return tf.raw_ops.ImageProjectiveTransformV3(
            images=tensor[None],
            transforms=transform,
            output_shape=shape,
            fill_value=0.0,
            interpolation="BILINEAR",
            fill_mode=fill_mode,
        )[0]

    image = turn(image, "REFLECT")
    valid = tf.cast(target >= 0.0, tf.float32)
    turned = turn(tf.concat([tf.maximum(target, 0.0), valid], axis=-1), "CONSTANT")
    target = tf.where(turned[..., 1:] > 0.999, turned[..., :1], -1.0)
    return image, target


def boundary_dataset(
    pairs,
    *,
    crop_size: int = 256,
    batch_size: int = 8,
    seed: int = 0,
    start: int = 0,
    scales=(0.5, 1.5),
    rotate: bool = False,
) -> tf.data.Dataset:
    """An endless, seeded `tf.data` stream of augmented `(crops, consensus)` batches.

    The augmentation is the field's (HED, RCF, PiDiNet): each sample draws, with
    stateless random ops keyed on `(seed, sample index)`, an image, a scale
    log-uniform in `scales`, a crop, a left-right flip and a 90-degree rotation. Because
    sample `i` depends on nothing else, a run resumed at batch `start` sees exactly the
    batches that the uninterrupted run would have seen. Boundaries are widened by one
    pixel before they are shrunk (below 0.9x), so thin lines do not fade away. Crops
    smaller than `crop_size` (small images, small scales) are padded; the padding's
    target is -1, which `ConsensusBalancedCrossEntropy` ignores. With `rotate`, each crop
    is also turned by an angle uniform in [0, 360) degrees (the rotations of HED's and
    PiDiNet's augmented BSDS), its image reflected into the corners and its target
    ignored there.

    Args:
        pairs: `(image, consensus)` pairs: uint8 `(H, W, 3)` images and float
            `(H, W)` maps in [0, 1] (see `keras_edges.datasets.boundary_consensus`).
        crop_size: Side of the square crops.
        batch_size: Crops per batch.
        seed: The stream's seed.
        start: The first batch (to resume a run).
        scales: The range of scale factors.
        rotate: Turn each crop by a random angle as well.

    Returns:
        A `tf.data.Dataset` of float32 `(batch, crop, crop, 3)` images in [0, 1] and
        `(batch, crop, crop, 1)` targets.
    """
    images, targets, offsets, sizes = (
        tf.constant(array) for array in _pack_pairs(pairs)
    )
    count = len(pairs)
    log_low, log_high = float(np.log(scales[0])), float(np.log(scales[1]))

    def sample(index):
        key = tf.stack([tf.cast(seed, tf.int64), index])
        draws = tf.random.stateless_uniform([6], key, dtype=tf.float32)
        k = tf.minimum(tf.cast(draws[0] * count, tf.int32), count - 1)
        height, width = (tf.cast(size, tf.int32) for size in (sizes[k][0], sizes[k][1]))
        scale = tf.exp(log_low + (log_high - log_low) * draws[1])
        region = tf.cast(tf.round(crop_size / scale), tf.int32)
        region_h, region_w = tf.minimum(region, height), tf.minimum(region, width)
        top = tf.cast(draws[2] * tf.cast(height - region_h + 1, tf.float32), tf.int32)
        left = tf.cast(draws[3] * tf.cast(width - region_w + 1, tf.float32), tf.int32)
        top, left = (
            tf.minimum(top, height - region_h),
            tf.minimum(left, width - region_w),
        )
        # the region's rows of pair k, read from the flat buffers
        first = offsets[k] + tf.cast(top * width, tf.int64)
        length = tf.cast(region_h * width, tf.int64)
        image = tf.reshape(
            images[first * 3 : (first + length) * 3], (region_h, width, 3)
        )
        target = tf.reshape(targets[first : first + length], (region_h, width, 1))
        image = tf.cast(image[:, left : left + region_w], tf.float32)
        target = target[:, left : left + region_w]
        out_h = tf.minimum(
            tf.cast(tf.round(tf.cast(region_h, tf.float32) * scale), tf.int32),
            crop_size,
        )
        out_w = tf.minimum(
            tf.cast(tf.round(tf.cast(region_w, tf.float32) * scale), tf.int32),
            crop_size,
        )
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
        image = tf.ensure_shape(
            tf.clip_by_value(image, 0.0, 1.0), (crop_size, crop_size, 3)
        )
        if rotate:
            angle_key = key + tf.constant([1 << 32, 0], tf.int64)
            angle = tf.random.stateless_uniform([], angle_key, maxval=2 * np.pi)
            image, target = _rotate_crop(image, target, angle)
        target = tf.ensure_shape(target, (crop_size, crop_size, 1))
        return image, target

    dataset = tf.data.Dataset.range(start * batch_size, 2**62)
    dataset = dataset.map(
        sample, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
