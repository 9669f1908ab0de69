"""What the detection methods share: reading any image, standardizing it, running a model.

Every method (`gradient_edges`, `canny_edges`, `learned_boundaries`) reads its input
with `_as_array` and `_standardize`, checks a model passed in with `_check_model`, and
runs a Keras model with `_run_model` (compiled once per model, held weakly).
"""

from __future__ import annotations

import os
import warnings
import weakref

import keras
import numpy as np
from PIL import Image

from keras_edges.io import load_image, to_float
from keras_edges.kernels import LUMA

# The engines a method may use: the fast paths of `keras_edges.engine`, or the model.
_ENGINES = ("fast", "model")
# Pillow's "L" conversion in 16-bit fixed point (ITU-R 601-2), so uint8 colour arrays
# give exactly the luminance that `load_image(..., mode="L")` gives for the same pixels.
_LUMA_FIXED = np.array([19595, 38470, 7471], np.uint32)
_LUMA = np.array(LUMA, np.float32)  # the one colour rule (kernels.LUMA)
# Larger pixels could overflow float32 inside a convolution (kernel weights reach ~1e3).
_MAX_PIXEL = 1e30


def _as_array(image) -> np.ndarray:
    """Turn one image of any accepted kind into an ndarray."""
    if isinstance(image, (str, os.PathLike, bytes, bytearray, Image.Image)):
        return load_image(image)
    if isinstance(image, np.ndarray):
        return image
    if keras.ops.is_tensor(image):  # a tensor of the Keras backend
        return keras.ops.convert_to_numpy(image)
    if hasattr(image, "__array__"):
        return np.asarray(image)
    raise TypeError(
        "Invalid type for argument `image`. Expected a path, a PIL image, bytes, a NumPy "
        "array, a tensor of the Keras backend or a list of those. Received: image of type "
        f"{type(image).__name__}"
    )


def _warn_if_channels_first(shape) -> None:
    """Warn when an NHWC colour image could also be NCHW, e.g. `(2, 3, 4, 4)`.

    Arrays are read as NHWC, as Keras' `channels_last`: nothing is guessed. A shape
    whose last axis is 3 or 4 (RGB or RGBA) and whose channel axis under NCHW (axis 1,
    or axis 0 of a single image) is 1, 3 or 4 reads both ways: say which was chosen.
    """
    first = {4: 1, 3: 0}.get(len(shape))
    if first is not None and shape[first] in (1, 3, 4) and shape[-1] in (3, 4):
        if len(shape) == 3 and shape[0] == 1:
            return  # a one-row colour image: (1, W, C) is no image under CHW
        warnings.warn(
            f"image.shape={tuple(shape)} is read as channels_last (NHWC): "
            f"{shape[-1]} channels of {shape[first]}x{shape[first + 1]} pixels. If it "
            "is channels_first (NCHW), pass np.moveaxis(image, "
            f"{first}, -1) instead.",
            stacklevel=4,
        )


def _standardize(
    array: np.ndarray, channels: int, keep_uint8: bool = False
) -> tuple[np.ndarray, float, bool]:
    """Return `(batch, value_range, uint8_out)`: a float32 `(N, H, W, channels)` batch.

    uint8 keeps its 0..255 values (value range 255, uint8 out); uint16 is scaled to
    [0, 1]; bool, floats and other integers keep their values (float32 out). With
    `keep_uint8`, a uint8 image stays uint8 (the fast engine converts it in its graph).
    """
    if array.dtype.kind not in "biuf":
        raise TypeError(
            "Invalid dtype for argument `image`. Expected bool, integer or float pixels. "
            f"Received: image.dtype={array.dtype}"
        )
    _warn_if_channels_first(array.shape)
    if array.ndim == 2:
        array = array[None, :, :, None]
    elif array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "Invalid shape for argument `image`. Expected (H, W), (H, W, C) or (N, H, W, C) "
            "with C in {1, 3, 4} (grey, RGB, RGBA). Received: image.shape="
            f"{array.shape[1:] if array.ndim == 4 and array.shape[0] == 1 else array.shape}. "
            "For a batch of grey images, add a channel axis: image[..., None]."
        )
    if 0 in array.shape:
        raise ValueError(
            f"Invalid value for argument `image`: it is empty. Received: image.shape={array.shape}"
        )
    uint8_in = array.dtype == np.uint8
    value_range = 255.0 if uint8_in else 1.0
    if array.shape[-1] == 4:
        array = array[..., :3]  # alpha is dropped
    if array.dtype == np.uint16:
        array = to_float(array)
    if array.shape[-1] == 3 and channels == 1:
        if uint8_in:
            array = ((array.astype(np.uint32) @ _LUMA_FIXED + 0x8000) >> 16)[..., None]
            array = array.astype(np.uint8) if keep_uint8 else array
        else:
            array = (array.astype(np.float32) @ _LUMA)[..., None]
    if keep_uint8 and uint8_in:
        batch = (
            array
            if array.shape[-1] == channels
            else np.repeat(array, channels, axis=-1)
        )
        return batch, value_range, uint8_in
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
        batch = array.astype(np.float32, copy=False)
    lowest, highest = float(batch.min()), float(batch.max())  # NaN and inf propagate
    if not (np.isfinite(lowest) and np.isfinite(highest)):
        raise ValueError(
            "Invalid value for argument `image`. Expected finite pixel values. Received an "
            f"image with {int(np.isnan(batch).sum())} NaN and {int(np.isinf(batch).sum())} "
            "infinite values (after conversion to float32). Replace them, e.g. with "
            "np.nan_to_num(image)."
        )
    if max(-lowest, highest) > _MAX_PIXEL:
        raise ValueError(
            f"Invalid value for argument `image`. Expected pixel values within +-{_MAX_PIXEL:g}, "
            "so that weighted sums of them fit in float32. Received values in "
            f"[{lowest:g}, {highest:g}]. Rescale the image, e.g. image / np.abs(image).max()."
        )
    if batch.shape[-1] != channels:
        batch = np.repeat(batch, channels, axis=-1)
    return batch, value_range, uint8_in


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _check_model(model) -> None:
    """Raise unless `model` maps images `(N, H, W, C)` to edge maps `(N, H, W, K)`."""
    if not isinstance(model, keras.Model):
        raise TypeError(
            "Invalid type for argument `model`. Expected a keras.Model. Received: "
            f"{type(model).__name__}"
        )
    inputs = getattr(model, "inputs", None) or []
    outputs = getattr(model, "outputs", None) or []
    if not (
        len(inputs) == len(outputs) == 1
        and len(inputs[0].shape) == len(outputs[0].shape) == 4
        and inputs[0].shape[1 if _channels_first(model) else -1] is not None
    ):
        raise ValueError(
            "Invalid value for argument `model`. Expected an edge model: one image input "
            "(batch, height, width, channels) and one edge map output (batch, height, "
            "width, 1), as build_edge_model(), build_boundary_model() and `keras-edges "
            f"train` make. Received: model {model.name!r} with inputs "
            f"{[tuple(t.shape) for t in inputs]} and outputs "
            f"{[tuple(t.shape) for t in outputs]}"
        )


def _compile(model: keras.Model):
    """The model's forward pass compiled by the Keras backend: `float32 batch -> array`.

    TensorFlow: one traced `tf.function` for any image size. JAX: `jax.jit` of the
    model's stateless call, given the current weights at each call (a new image size
    traces again). PyTorch: an eager call without autograd. The function reaches the
    model through a weak reference: a value that held the model itself would keep its
    own key of `_COMPILED` alive, and no model would ever be freed.
    """
    reference = weakref.ref(model)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)]
        traced = tf.function(
            lambda batch: reference()(batch, training=False),
            input_signature=signature,
        )
        return lambda batch: traced(tf.constant(batch)).numpy()
    if backend == "jax":
        import jax

        traced = jax.jit(
            lambda trainable, fixed, batch: reference().stateless_call(
                trainable, fixed, batch, training=False
            )[0]
        )

        def run(batch):
            model = reference()
            trainable = [v.value for v in model.trainable_variables]
            fixed = [v.value for v in model.non_trainable_variables]
            return np.asarray(traced(trainable, fixed, batch))

        return run

    def run(batch):
        if backend == "torch":
            import torch

            with torch.no_grad():
                return keras.ops.convert_to_numpy(reference()(batch, training=False))
        return keras.ops.convert_to_numpy(reference()(batch, training=False))

    return run


def _run_model(model: keras.Model, batch: np.ndarray) -> np.ndarray:
    """Run `model` on the NHWC `batch` as float32, compiled once; NHWC out.

    A channels_first model gets the batch as NCHW and its output back as NHWC.
    """
    if model not in _COMPILED:
        _COMPILED[model] = _compile(model)
    first = _channels_first(model)
    batch = batch.astype(np.float32, copy=False)  # uint8 kept for an engine that passed
    batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2) if first else batch)
    result = _COMPILED[model](batch)
    return result.transpose(0, 2, 3, 1) if first else result


def _channels_first(model: keras.Model) -> bool:
    """Whether `model` reads NCHW: its first layer with a `data_format` says so."""
    for layer in model.layers:
        if getattr(layer, "data_format", None) is not None:
            return layer.data_format == "channels_first"
    return False


def _channels(model: keras.Model) -> int:
    """The number of input channels of `model`."""
    return model.input_shape[1 if _channels_first(model) else -1]


def _apply_mask(edges: np.ndarray, mask, rank: int) -> np.ndarray:
    """`edges` (the input's rank, one map per image) kept inside the eroded `mask`.

    scikit-image's rule (`filters.sobel(image, mask)`, see `keras_edges.layers.mask`):
    the mask is eroded by one pixel with a 3x3 square, the frame counting as outside,
    so no false edge appears along its border; outside, the result is 0 (False). The
    mask is `(H, W)`, `(H, W, 1)`, or one per image of a batch `(N, H, W[, 1])`.
    """
    from scipy import ndimage

    mask = np.asarray(mask)
    spatial = edges.shape[:2] if rank == 2 else edges.shape[-3:-1]
    if mask.ndim >= 3 and mask.shape[-1] == 1 and mask.shape[-3:-1] == spatial:
        mask = mask[..., 0]
    if mask.shape[-2:] != spatial or mask.ndim not in (2, 3) or mask.ndim > rank:
        raise ValueError(
            "Invalid shape for argument `mask`. Expected the image's height and width "
            f"{spatial}, as (H, W), (H, W, 1) or one per image of a batch. "
            f"Received: mask.shape={np.asarray(mask).shape}"
        )
    square = np.ones((1,) * (mask.ndim - 2) + (3, 3), bool)
    eroded = ndimage.binary_erosion(mask != 0, square, border_value=0)
    eroded = eroded if rank == 2 else eroded[..., None]
    if edges.dtype == np.bool_:
        return edges & eroded
    return edges * eroded.astype(edges.dtype)
