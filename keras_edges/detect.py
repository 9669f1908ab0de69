"""`detect_edges`: the library call that runs the edge model on images of any common kind."""

from __future__ import annotations

import functools
import os
import weakref
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from keras_edges.io import load_image
from keras_edges.kernels import _check_choice, max_response
from keras_edges.layers import BorderPadding, GradientMagnitude
from keras_edges.models import (
    OUTPUTS,
    _output_head,
    build_canny_model,
    build_edge_model,
)

__all__ = ["detect_edges"]

# Pillow's "L" conversion in 16-bit fixed point (ITU-R 601-2), so uint8 colour arrays
# give exactly the luminance that `load_image(..., mode="L")` gives for the same pixels.
_LUMA_FIXED = np.array([19595, 38470, 7471], np.uint32)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Larger pixels could overflow float32 inside a convolution (kernel weights reach ~1e3).
_MAX_PIXEL = 1e30


def _as_array(image) -> np.ndarray:
    """Turn one image of any accepted kind into an ndarray."""
    if isinstance(image, (str, os.PathLike, bytes, bytearray, Image.Image)):
        return load_image(image)
    if isinstance(image, np.ndarray):
        return image
    if tf.is_tensor(image) or hasattr(image, "__array__"):
        return np.asarray(image)
    raise TypeError(
        "Invalid type for argument `image`. Expected a path, a PIL image, bytes, a NumPy "
        "array, a tf.Tensor or a list of those. Received: image of type "
        f"{type(image).__name__}"
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
        array = array.astype(np.float32) / np.float32(65535)
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


@functools.lru_cache(maxsize=32)
def _cached_model(
    operator: str, ksize: int, padding: str, magnitude: str
) -> keras.Model:
    return build_edge_model(operator, ksize=ksize, padding=padding, magnitude=magnitude)


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
        and inputs[0].shape[-1] is not None
    ):
        raise ValueError(
            "Invalid value for argument `model`. Expected an edge model: one image input "
            "(batch, height, width, channels) and one edge map output (batch, height, "
            "width, 1), as build_edge_model(), build_boundary_model() and `keras-edges "
            f"train` make. Received: model {model.name!r} with inputs "
            f"{[tuple(t.shape) for t in inputs]} and outputs "
            f"{[tuple(t.shape) for t in outputs]}"
        )


def _compiled(model: keras.Model):
    """Return the model's forward pass as one traced `tf.function` for any image size."""
    if model not in _COMPILED:
        channels = model.input_shape[-1]
        signature = [tf.TensorSpec((None, None, None, channels), tf.float32)]
        _COMPILED[model] = tf.function(
            lambda batch: model(batch, training=False), input_signature=signature
        )
    return _COMPILED[model]


def _full_scale(model: keras.Model) -> float:
    """The largest magnitude that `model` gives on images with values in [0, 1]."""
    try:
        kernel_x = model.get_layer("grad_x").get_weights()[0]
        kernel_y = model.get_layer("grad_y").get_weights()[0]
        norm = model.get_layer("magnitude").norm
    except (ValueError, AttributeError, IndexError):
        raise ValueError(
            "`normalize` and `threshold` need a model with layers 'grad_x', 'grad_y' and "
            "'magnitude', as build_edge_model() makes. Received a model with layers "
            f"{[layer.name for layer in model.layers]}"
        ) from None
    return max_response(kernel_x, kernel_y, norm)


METHODS = ("gradient", "canny")


@functools.lru_cache(maxsize=32)
def _cached_canny(
    operator, ksize, padding, magnitude, sigma, low, high, use_quantiles
) -> keras.Model:
    options = dict(ksize=ksize, padding=padding, magnitude=magnitude, sigma=sigma)
    return build_canny_model(
        operator, low=low, high=high, use_quantiles=use_quantiles, **options
    )


_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_head(model: keras.Model, output: str) -> keras.Model:
    """`_output_head(model, output)`, built once per model and output (so traced once)."""
    heads = _HEADS.setdefault(model, {})
    if output not in heads:
        heads[output] = _output_head(model, output)
    return heads[output]


def _detect_canny_or_direction(
    image, method, output, low, high, sigma, use_quantiles, **options
):
    """`detect_edges` for `method="canny"` or `output` other than the magnitude."""
    _check_choice("method", method, METHODS)
    _check_choice("output", output, OUTPUTS)
    if options["threshold"] is not None or options["normalize"]:
        raise ValueError(
            "Invalid value for argument `threshold`/`normalize`. They apply to the gradient "
            f"magnitude only. Received: method={method!r}, output={output!r}, "
            f"threshold={options['threshold']!r}, normalize={options['normalize']!r}"
        )
    if method == "canny" and output != "magnitude":
        raise ValueError(
            f"Invalid value for argument `output` with method='canny'. Expected 'magnitude' "
            f"(Canny returns an edge map). Received: output={output!r}"
        )
    model = options["model"]
    if model is not None:
        _check_model(model)
    if isinstance(image, (list, tuple)):
        return [
            _detect_canny_or_direction(
                each, method, output, low, high, sigma, use_quantiles, **options
            )
            for each in image
        ]
    array = _as_array(image)
    rank = array.ndim
    channels = 1 if model is None else model.input_shape[-1]
    batch, value_range, _ = _standardize(array, channels)
    if model is None:
        key = (options["operator"], options["ksize"], options["padding"])
        if method == "canny":
            scale = 1.0 if use_quantiles else value_range
            low = 0.1 * scale if low is None else low
            high = 0.2 * scale if high is None else high
            magnitude = options["magnitude"] or "l2"
            model = _cached_canny(
                *key, magnitude, float(sigma), float(low), float(high), use_quantiles
            )
        else:
            model = _cached_head(
                _cached_model(*key, options["magnitude"] or "l1"), output
            )
    elif method == "gradient":
        model = _cached_head(model, output)
    result = _compiled(model)(tf.constant(batch)).numpy()
    if rank == 2:
        return result[0, :, :, 0] if result.shape[-1] == 1 else result[0]
    return result[0] if rank == 3 else result


# --------------------------------------------------------------------------------------
# The fast engine: the model's own arithmetic as one XLA-compiled stencil.
#
# `detect_edges(..., engine="fast")` reads the kernels of the model's `grad_x`/`grad_y`
# layers, its `pad` layer's border rule and its `magnitude` layer's norm, and computes the
# same thing as shifted slices and adds under `tf.function(jit_compile=True)` (XLA's CPU
# convolution is slow for one-channel 3x3 kernels; a fused stencil is memory bound).
# - Borders are filled on the host into a buffer whose height and width are rounded up to
#   a size bucket, so a new image size within a bucket reuses the compiled graph; the
#   output is cropped back (the slack never reaches the kept pixels). An image that fills
#   its bucket exactly is handed over without a copy (DLPack) and bordered in the graph.
# - uint8 crosses memory as bytes: the cast to numbers, the magnitude, `normalize`, the
#   threshold and the saturating cast back to uint8 all run inside the graph. Integer
#   kernels on uint8 run in exact int16/int32 arithmetic, bit-identical to the model.
# - Rank-1 kernels (Sobel, Scharr, Prewitt) run as two 1-D passes when the factors
#   reproduce the kernel exactly; other kernels (trained ones) run as a general stencil.
# - Large inputs are cut into overlapping tiles (halo = the kernel's reach), so memory
#   stays bounded and the output equals the untiled result.
# --------------------------------------------------------------------------------------

_ENGINES = ("fast", "model")
_TILE = 2048  # tiles are _TILE x _TILE output pixels
_MAX_CALL_PIXELS = _TILE * _TILE  # above this an image is tiled, a batch is chunked
_MAX_BATCH_CHUNK = 64


class _Plan(NamedTuple):
    """What the fast engine needs from an edge model (all hashable)."""

    kernels: tuple  # ((kernel_x bytes, kernel_y bytes), shape (k, k, C))
    pad_width: tuple  # ((top, bottom), (left, right))
    mode: str  # border mode of the pad layer
    norm: str  # "l1" or "l2"


def _plan(model: keras.Model) -> _Plan | None:
    """Read the fast engine's plan from `model`, or None if it is not an edge model."""
    layers = {layer.name: layer for layer in model.layers}
    try:
        pad, magnitude = layers["pad"], layers["magnitude"]
        convs = layers["grad_x"], layers["grad_y"]
    except KeyError:
        return None
    if (
        len(model.layers) != 5
        or not isinstance(pad, BorderPadding)
        or not isinstance(magnitude, GradientMagnitude)
        or any(
            not isinstance(conv, keras.layers.Conv2D)
            or conv.use_bias
            or conv.filters != 1
            or tuple(conv.strides) != (1, 1)
            or tuple(conv.dilation_rate) != (1, 1)
            or conv.padding != "valid"
            or conv.activation is not keras.activations.linear
            or conv.compute_dtype != "float32"
            or conv.groups != 1
            for conv in convs
        )
        or any(layer.compute_dtype != "float32" for layer in (pad, magnitude))
    ):
        return None
    kernel_x, kernel_y = (
        np.asarray(conv.kernel.numpy(), np.float32)[..., 0] for conv in convs
    )
    if kernel_x.shape != kernel_y.shape:
        return None
    kernels = (kernel_x.tobytes(), kernel_y.tobytes()), kernel_x.shape
    return _Plan(kernels, tuple(map(tuple, pad.pad_width)), pad.mode, magnitude.norm)


def _factors(kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Return `(column, row)` with `outer(column, row) == kernel` exactly, or None.

    The column is one of the kernel's columns (divided by the gcd of its entries when
    they are integers), so integer kernels get integer factors and stay exact in float32.
    """
    kernel = kernel.astype(np.float64)
    if not kernel.any():
        return None
    i, j = np.unravel_index(np.argmax(np.abs(kernel)), kernel.shape)
    column = kernel[:, j].copy()
    if np.array_equal(column, np.round(column)):
        column /= np.gcd.reduce(np.abs(column).astype(np.int64))
    row = kernel[i] / column[i]
    exact = (
        np.array_equal(np.outer(column, row), kernel)
        and np.array_equal(column.astype(np.float32), column)
        and np.array_equal(row.astype(np.float32), row)
    )
    return (column, row) if exact else None


def _weighted_sum(terms):
    """Sum `weight * tensor` over `terms`, skipping zero weights and multiplying by +-1 never."""
    total = None
    for weight, tensor in terms:
        if weight == 0:
            continue
        term = (
            tensor if weight in (1, -1) else tensor * tf.constant(weight, tensor.dtype)
        )
        if total is None:
            total = -term if weight == -1 else term
        else:
            total = total - term if weight == -1 else total + term
    return total


def _integer_dtype(kernel_x: np.ndarray, kernel_y: np.ndarray):
    """`tf.int16`/`tf.int32` if integer arithmetic on uint8 pixels is exact, else None.

    With integer kernels every partial sum is an integer of at most `255 * (sum |kx| +
    sum |ky|)`; below 2**24 the model's float32 arithmetic is exact too, so both agree.
    """
    if not all(
        np.array_equal(kernel, np.round(kernel)) for kernel in (kernel_x, kernel_y)
    ):
        return None
    bound = 255 * (np.abs(kernel_x).sum() + np.abs(kernel_y).sum())
    if bound <= np.iinfo(np.int16).max:
        return tf.int16
    return tf.int32 if bound < 2**24 else None


def _stencil(image, kernel, height, width):
    """Cross-correlate `image` (N, H+k-1, W+k-1, C) with `kernel` (k, k, C) -> (N, H, W)."""
    size = kernel.shape[0]
    separable = kernel.shape[2] == 1 and _factors(kernel[:, :, 0])
    if separable:
        column, row = separable
        plane = image[..., 0]
        rows = _weighted_sum(
            (column[i], plane[:, i : i + height, :]) for i in range(size)
        )
        total = _weighted_sum(
            (row[j], rows[:, :, j : j + width]) for j in range(len(row))
        )
    else:
        total = _weighted_sum(
            (kernel[i, j, c], image[:, i : i + height, j : j + width, c])
            for i in range(size)
            for j in range(kernel.shape[1])
            for c in range(kernel.shape[2])
        )
    if total is None:  # an all-zero kernel
        total = tf.zeros_like(image[:, :height, :width, 0])
    return total


@functools.lru_cache(maxsize=256)
def _fast_function(
    plan: _Plan, output: str, shape: tuple, dtype: str, pad: bool = False
):
    """The compiled graph `(buffer, divisor, cut) -> edges` for one buffer shape.

    A concrete function is called directly: a `tf.function`'s own dispatch costs more
    than the stencil on small images. With `pad`, the buffer is the image itself and
    the graph adds the border.
    """
    function = _fast_graph(plan, output, pad)
    specs = [
        tf.TensorSpec(shape, dtype),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
    ]
    return function.get_concrete_function(*specs)


@functools.lru_cache(maxsize=64)
def _scalar(value: float) -> tf.Tensor:
    """A cached float32 scalar tensor (converting one per call costs more than it should)."""
    return tf.constant(value, tf.float32)


def _pad_in_graph(image, plan: _Plan):
    """Add `plan`'s border to a static-shape `(N, H, W, C)` tensor with slices and concats."""
    (top, bottom), (left, right) = plan.pad_width
    if plan.mode == "valid":
        return image
    for axis, (before, after) in ((1, (top, bottom)), (2, (left, right))):
        size = image.shape[axis]
        pieces = []
        for _, source in _segments(
            _border_index(size, before, after, plan.mode), 0, size + before + after
        ):
            indices = (
                [source]
                if isinstance(source, slice)
                else [slice(i, i + 1) if i >= 0 else None for i in source]
            )
            for index in indices:
                if index is None:
                    piece = tf.zeros_like(tf.gather(image, [0], axis=axis))
                else:
                    piece = image[:, index] if axis == 1 else image[:, :, index]
                pieces.append(piece)
        image = tf.concat(pieces, axis=axis) if len(pieces) > 1 else pieces[0]
    return image


@functools.lru_cache(maxsize=64)
def _fast_graph(plan: _Plan, output: str, pad: bool = False):
    """The `tf.function` `(buffer, divisor, cut) -> edges` of `plan` for `output`.

    `output` is `"float"`, `"uint8"` (round, saturate), `"bool"` (`edges >= cut`), each
    optionally with `"/"` (divide by `divisor` first, as `normalize` does).
    """
    (bytes_x, bytes_y), shape = plan.kernels
    kernel_x = np.frombuffer(bytes_x, np.float32).reshape(shape)
    kernel_y = np.frombuffer(bytes_y, np.float32).reshape(shape)
    size_y, size_x = shape[:2]

    def edges(buffer, divisor, cut):
        work = _integer_dtype(kernel_x, kernel_y) if buffer.dtype == tf.uint8 else None
        image = tf.cast(
            _pad_in_graph(buffer, plan) if pad else buffer, work or tf.float32
        )
        height = image.shape[1] - size_y + 1
        width = image.shape[2] - size_x + 1
        grad_x = _stencil(image, kernel_x, height, width)
        grad_y = _stencil(image, kernel_y, height, width)
        if plan.norm == "l1":
            result = tf.abs(grad_x) + tf.abs(grad_y)
            if work is not None and output == "uint8":  # exact integers: saturate only
                return tf.cast(tf.minimum(result, 255), tf.uint8)
            result = tf.cast(result, tf.float32)
        else:
            grad_x, grad_y = tf.cast(grad_x, tf.float32), tf.cast(grad_y, tf.float32)
            result = tf.sqrt(tf.square(grad_x) + tf.square(grad_y))
        if output.endswith("/"):
            result = result / divisor
        kind = output.rstrip("/")
        if kind == "uint8":
            return tf.cast(tf.clip_by_value(tf.round(result), 0.0, 255.0), tf.uint8)
        if kind == "bool":
            return result >= cut
        return result

    return tf.function(edges, jit_compile=True, reduce_retracing=False)


def _bucket(size: int) -> int:
    """Round `size` up to `m * 2**e` with m in 8..15 (at most 12.5 % slack; 16 at least)."""
    if size <= 16:
        return 16
    step = 1 << (size.bit_length() - 4)
    return -(-size // step) * step


@functools.lru_cache(maxsize=512)
def _border_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """Source index of each padded position along an axis; -1 where the pad is zero.

    The NumPy twin of `layers._source_indices` (the `pad` layer's rule; eager Keras ops
    would cost milliseconds per new image size); `tests/test_engine.py` checks they agree.
    """
    index = np.arange(-before, size + after)
    last = size - 1
    if mode == "valid":
        return np.arange(size)
    if mode == "zeros":
        return np.where((index >= 0) & (index < size), index, -1)
    if mode == "replicate":
        return np.clip(index, 0, last)
    if mode == "symmetric":
        folded = np.mod(index, 2 * size)
        return np.where(folded < size, folded, 2 * size - 1 - folded)
    period = max(2 * last, 1)  # reflect
    folded = np.mod(index, period)
    return np.minimum(np.where(folded < size, folded, period - folded), last)


@functools.lru_cache(maxsize=32)
def _cached_plan(model: keras.Model) -> _Plan | None:
    """`_plan` of a frozen model from `_cached_model` (its kernels never change)."""
    return _plan(model)


def _segments(index: np.ndarray, start: int, stop: int) -> list:
    """Split `index[start:stop]` into `(dst slice, src)` runs for `_fill`.

    The longest run of consecutive source indices becomes a `slice` (copied as a view);
    the few border positions around it stay index arrays (-1 for a zero pad).
    """
    part = index[start:stop]
    consecutive = (np.diff(part) == 1) & (part[:-1] >= 0)
    breaks = np.flatnonzero(~consecutive) + 1
    bounds = np.concatenate([[0], breaks, [len(part)]])
    longest = int(np.argmax(np.diff(bounds)))
    a, b = int(bounds[longest]), int(bounds[longest + 1])
    runs = [(slice(0, a), part[:a])] if a > 0 else []
    if part[a] >= 0:
        runs.append((slice(a, b), slice(int(part[a]), int(part[a]) + b - a)))
    else:
        runs.append((slice(a, b), part[a:b]))
    if b < len(part):
        runs.append((slice(b, len(part)), part[b:]))
    return runs


def _fill(buffer, image, rows, columns):
    """Copy the padded window `image[rows][:, :, columns]` into `buffer`'s top-left corner.

    `rows`/`columns` are the (dst slice, src) runs of `_segments`; a source index -1
    means a zero pad; the rest of `buffer` is zeroed.
    """
    height = sum(dst.stop - dst.start for dst, _ in rows)
    width = sum(dst.stop - dst.start for dst, _ in columns)
    buffer[:, height:] = 0
    buffer[:, :height, width:] = 0
    for row_dst, row_src in rows:
        if isinstance(row_src, slice):
            band = image[:, row_src]
        else:
            band = np.take(image, np.maximum(row_src, 0), axis=1)
            band[:, row_src < 0] = 0
        for column_dst, column_src in columns:
            if isinstance(column_src, slice):
                block = band[:, :, column_src]
            else:
                block = np.take(band, np.maximum(column_src, 0), axis=2)
                block[:, :, column_src < 0] = 0
            buffer[:, row_dst, column_dst] = block


def _aligned_empty(shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array whose data starts on a 64-byte boundary (as XLA prefers)."""
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.empty(size + 64, np.uint8)
    offset = -raw.ctypes.data % 64
    return raw[offset : offset + size].view(dtype).reshape(shape)


def _as_tensor(buffer: np.ndarray) -> tf.Tensor:
    """Hand `buffer` to TensorFlow without a copy (DLPack), or copy if that fails."""
    try:
        return tf.experimental.dlpack.from_dlpack(buffer.__dlpack__())
    except (BufferError, TypeError, ValueError, AttributeError, tf.errors.OpError):
        return tf.constant(buffer)  # e.g. a read-only array, which DLPack cannot share


def _tiles(length: int, tile: int) -> list[tuple[int, int]]:
    """`[(start, stop), ...]` covering `range(length)` in steps of `tile`."""
    return [(start, min(start + tile, length)) for start in range(0, length, tile)]


@functools.lru_cache(maxsize=256)
def _layout(plan: _Plan, count: int, height: int, width: int, channels: int):
    """How the fast engine cuts an `(N, H, W, C)` batch into compiled calls.

    Returns `(out_height, out_width, buffer_shape, row_tiles, column_tiles, chunks)`:
    each tile is `(start, stop, runs)` in output pixels with the `_segments` runs that
    fill its buffer, and `chunks` the `(first, size)` batch slices (powers of two, so
    few batch sizes are compiled).
    """
    (top, bottom), (left, right) = plan.pad_width
    if plan.mode == "valid":
        top = bottom = left = right = 0
    size_y, size_x = plan.kernels[1][:2]
    rows_index = _border_index(height, top, bottom, plan.mode)
    columns_index = _border_index(width, left, right, plan.mode)
    out_height, out_width = (
        len(rows_index) - size_y + 1,
        len(columns_index) - size_x + 1,
    )
    tile_height, tile_width = _bucket(out_height), _bucket(out_width)
    if tile_height * tile_width > _MAX_CALL_PIXELS:  # tiled: halo = the kernel's reach
        tile_height, tile_width = min(tile_height, _TILE), min(tile_width, _TILE)
    most = max(1, min(_MAX_BATCH_CHUNK, _MAX_CALL_PIXELS // (tile_height * tile_width)))
    chunks, first = [], 0
    while first < count:
        size = 1 << (min(most, count - first).bit_length() - 1)
        chunks.append((first, size))
        first += size
    row_tiles = [
        (y0, y1, _segments(rows_index, y0, y1 + size_y - 1))
        for y0, y1 in _tiles(out_height, tile_height)
    ]
    column_tiles = [
        (x0, x1, _segments(columns_index, x0, x1 + size_x - 1))
        for x0, x1 in _tiles(out_width, tile_width)
    ]
    shape = (tile_height + size_y - 1, tile_width + size_x - 1, channels)
    return out_height, out_width, shape, row_tiles, column_tiles, chunks


def _exact_bucket(plan: _Plan, batch_shape: tuple, buffer_shape: tuple) -> bool:
    """Whether an image of `batch_shape`, once padded, is exactly `buffer_shape`."""
    (top, bottom), (left, right) = plan.pad_width
    if plan.mode == "valid":
        top = bottom = left = right = 0
    return (
        batch_shape[1] + top + bottom,
        batch_shape[2] + left + right,
    ) == buffer_shape[:2]


def _call(function, *tensors):
    """Call a concrete function on tensors, skipping its argument binding where possible."""
    try:
        return function._call_flat(list(tensors), function.captured_inputs)
    except (AttributeError, TypeError):  # pragma: no cover - another TensorFlow version
        return function(*tensors)


def _fast_edges(
    plan: _Plan, batch: np.ndarray, output: str, divisor: float, cut: float
):
    """Run `plan` on the `(N, H, W, C)` batch; returns `(N, H', W')` edges.

    Peak memory beyond input and output is one tile's buffer and edges (a few
    `_TILE**2` arrays), whatever the image size.
    """
    count = batch.shape[0]
    out_height, out_width, shape, row_tiles, column_tiles, chunks = _layout(
        plan, *batch.shape
    )
    divisor, cut = _scalar(float(divisor)), _scalar(float(cut))
    if len(chunks) == len(row_tiles) == len(column_tiles) == 1 and _exact_bucket(
        plan, batch.shape, shape
    ):
        # The image fills its bucket: hand it over as it is and pad inside the graph.
        image = np.ascontiguousarray(batch)
        function = _fast_function(plan, output, image.shape, image.dtype.name, True)
        return np.asarray(_call(function, _as_tensor(image), divisor, cut))
    buffers, result = {}, None
    for y0, y1, rows in row_tiles:
        for x0, x1, columns in column_tiles:
            for first, size in chunks:
                if size not in buffers:
                    buffers[size] = _aligned_empty((size, *shape), batch.dtype)
                buffer = buffers[size]
                _fill(buffer, batch[first : first + size], rows, columns)
                function = _fast_function(plan, output, buffer.shape, buffer.dtype.name)
                edges = np.asarray(_call(function, _as_tensor(buffer), divisor, cut))
                if len(chunks) == len(row_tiles) == len(column_tiles) == 1:  # one call
                    if edges.shape[1:] == (out_height, out_width):
                        return edges
                    return np.ascontiguousarray(edges[:, :out_height, :out_width])
                if result is None:
                    result = np.empty((count, out_height, out_width), edges.dtype)
                result[first : first + size, y0:y1, x0:x1] = edges[
                    :, : y1 - y0, : x1 - x0
                ]
    return result


def _detect_fast(plan, model, batch, value_range, uint8_out, threshold, normalize):
    """The fast engine's `(N, H, W)` edges, with `normalize`/`threshold` as the model path."""
    if threshold is not None:
        cut = np.float32(threshold * value_range * _full_scale(model))
        return _fast_edges(plan, batch, "bool", 1.0, cut)
    output = "uint8" if uint8_out else "float"
    if normalize:
        return _fast_edges(
            plan, batch, output + "/", np.float32(_full_scale(model)), 0.0
        )
    return _fast_edges(plan, batch, output, 1.0, 0.0)


def detect_edges(
    image,
    *,
    operator: str = "sobel",
    ksize: int | None = None,
    padding: str = "reflect",
    magnitude: str | None = None,
    threshold: float | None = None,
    normalize: bool = False,
    model: keras.Model | None = None,
    engine: str = "fast",
    method: str = "gradient",
    output: str = "magnitude",
    low: float | None = None,
    high: float | None = None,
    sigma: float = 1.0,
    use_quantiles: bool = False,
):
    """Detect edges in one image, a batch, or a list of images.

    Computes what the Keras edge model (see `build_edge_model`) computes. The default
    `engine="fast"` reads the model's own kernels, border mode and norm and runs them as
    one XLA-compiled stencil (image sizes are rounded up to size buckets, so a new size
    rarely compiles again; large images are processed in overlapping tiles with bounded
    memory); `engine="model"` runs the literal Keras model as a traced graph, the
    reference. Models are built once per configuration and reused, and `model.predict`
    is never used.

    `method="canny"` runs Canny's detector instead (see `build_canny_model`): Gaussian
    smoothing, gradient, non-maximum suppression and hysteresis, all in one Keras model,
    returning a boolean edge map. Its thresholds `low` and `high` are on the gradient
    magnitude in the image's own units, as scikit-image's `feature.canny` and OpenCV's
    `cv2.Canny`: 0..255 for uint8 pixels (the same numbers that `cv2.Canny` takes, and
    that `skimage.feature.canny` takes for uint8), the pixel values for float images.
    They default to 10% and 20% of the full pixel range (25.5 and 51 for uint8, 0.1 and
    0.2 otherwise), as scikit-image; with `use_quantiles=True` they are quantiles of the
    magnitude.

    Colour images are converted to luminance as Pillow's `"L"` mode does (ITU-R 601-2);
    alpha is dropped. uint8 pixels (0..255) give uint8 edges saturated at 255 (never
    wrapped around); uint16 pixels are scaled to [0, 1]; bool, float and other integer
    pixels are used as they are and give float32 edges.

    Args:
        image: A path (str or `pathlib.Path`), a PIL image, encoded bytes, a NumPy array
            or `tf.Tensor` of shape `(H, W)`, `(H, W, C)` or `(N, H, W, C)` with C in
            {1, 3, 4}, or a list of those (of any sizes).
        operator: A key of `KERNELS`: `"farid"`, `"prewitt"`, `"roberts"`, `"scharr"`,
            `"sobel"`.
        ksize: Kernel size (Sobel: 3, 5 or 7; Roberts 2; Farid 5); None is the
            operator's smallest.
        padding: Border mode, one of `PADDING_MODES`; `"valid"` returns
            `(H - ksize + 1, W - ksize + 1)` edges.
        magnitude: `"l1"` (`|gx| + |gy|`) or `"l2"` (`sqrt(gx**2 + gy**2)`); None is
            `"l1"`, or `"l2"` for Canny (as scikit-image).
        threshold: If given, in [0, 1]: return the boolean map `edges >= threshold *
            full scale`, where full scale is the largest magnitude the operator can give
            (for pixels in [0, 1], or 0..255 for uint8).
        normalize: Divide by the full scale, so float edges are in [0, 1] (for pixels in
            [0, 1]) and uint8 edges span 0..255 without saturating.
        model: A model from `build_edge_model` (e.g. a trained one) to use instead of
            the operator; `operator`, `ksize`, `padding` and `magnitude` are then ignored.
            With `method="canny"`, a model from `build_canny_model`.
        engine: `"fast"` (the default) or `"model"` (run the Keras model layer by layer).
            Both give the same edges: bit for bit for integer kernels on uint8 images,
            within float32 rounding otherwise. A model that is not shaped like
            `build_edge_model`'s (other layers, a bias, a non-float32 dtype policy) always
            runs as `"model"`, and so do `method="canny"` and the directional outputs.
        method: `"gradient"` (the edge magnitude) or `"canny"` (a boolean edge map).
        output: For `method="gradient"`: `"magnitude"`, `"gradients"` (the signed
            `(grad_x, grad_y)` in OpenCV's sign convention, stacked in a last axis of
            size 2) or `"orientation"` (`atan2(grad_y, grad_x)` in radians, in the image
            frame also for Roberts' cross); both are float32 for every input dtype and
            take no `threshold` or `normalize`.
        low: Canny's weak threshold (see above).
        high: Canny's strong threshold, `>= low`.
        sigma: Standard deviation of Canny's Gaussian smoothing; 0 for none.
        use_quantiles: Whether `low` and `high` are quantiles in [0, 1].

    Returns:
        An array with the input's rank: `(H, W)`, `(H, W, 1)` or `(N, H, W, 1)`; a path
        or PIL image gives `(H, W)`. A list gives a list. uint8 for uint8 input, bool
        with `threshold` or `method="canny"`, float32 otherwise. `output="gradients"`
        adds a last axis of size 2 (`(H, W, 2)` for an `(H, W)` image).

    Raises:
        ValueError: For a bad shape, an empty image, NaN or inf pixels (or beyond
            +-1e30, where float32 sums would overflow), an image smaller
            than the kernel with `padding="valid"`, or an unknown option.
        TypeError: For an unsupported object or dtype.
        FileNotFoundError: For a path that does not exist.

    Example:
    >>> image = np.zeros((5, 5), "float32"); image[1:4, 2] = 1; image[2, 1:4] = 1
    >>> detect_edges(image)
    array([[0., 2., 0., 2., 0.],
           [2., 6., 4., 6., 2.],
           [0., 4., 0., 4., 0.],
           [2., 6., 4., 6., 2.],
           [0., 2., 0., 2., 0.]], dtype=float32)
    >>> detect_edges((image * 255).astype("uint8"))[1]
    array([255, 255, 255, 255, 255], dtype=uint8)
    >>> detect_edges(image, threshold=0.5)[1].tolist()
    [False, True, True, True, False]
    >>> detect_edges(image, output="gradients")[1, 2]
    array([0., 4.], dtype=float32)
    >>> square = np.zeros((12, 12), "uint8"); square[3:9, 3:9] = 200
    >>> int(detect_edges(square, method="canny", low=20, high=40).sum())
    20
    """
    if method != "gradient" or output != "magnitude":
        options = dict(
            operator=operator, ksize=ksize, padding=padding, magnitude=magnitude
        )
        options.update(threshold=threshold, normalize=normalize, model=model)
        return _detect_canny_or_direction(
            image, method, output, low, high, sigma, use_quantiles, **options
        )
    magnitude = magnitude or "l1"
    if threshold is not None:
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float, np.number))
            or not 0.0 <= threshold <= 1.0
        ):
            raise ValueError(
                "Invalid value for argument `threshold`. Expected None or a number in [0, 1] "
                f"(a fraction of the full-scale response). Received: threshold={threshold!r}"
            )
    _check_choice("engine", engine, _ENGINES)
    if model is None:
        model = _cached_model(operator, ksize, padding, magnitude)
    else:
        _check_model(model)
    if isinstance(image, (list, tuple)):
        options = dict(
            threshold=threshold, normalize=normalize, model=model, engine=engine
        )
        return [detect_edges(each, **options) for each in image]

    array = _as_array(image)
    rank = array.ndim
    plan = None
    if engine == "fast":
        plan = (
            _cached_plan(model)
            if model is _cached_model(operator, ksize, padding, magnitude)
            else _plan(model)
        )
    batch, value_range, uint8_out = _standardize(
        array, model.input_shape[-1], keep_uint8=plan is not None
    )
    pad_layer = next((layer for layer in model.layers if layer.name == "pad"), None)
    if pad_layer is not None and pad_layer.mode == "valid":
        size = model.get_layer("grad_x").kernel.shape[0]
        if min(batch.shape[1:3]) < size:
            raise ValueError(
                f"Invalid image size for padding='valid': height and width must be at least "
                f"ksize={size}. Received: image.shape={array.shape}"
            )
    if plan is not None:
        edges = _detect_fast(
            plan, model, batch, value_range, uint8_out, threshold, normalize
        )
        return (
            edges[0]
            if rank == 2
            else (edges[0, ..., None] if rank == 3 else edges[..., None])
        )
    edges = _compiled(model)(tf.constant(batch)).numpy()
    if normalize or threshold is not None:
        full_scale = _full_scale(model)
        if threshold is not None:
            edges = edges >= np.float32(threshold * value_range * full_scale)
        else:
            edges = edges / np.float32(full_scale)
    if uint8_out and edges.dtype != np.bool_:
        edges = np.clip(np.rint(edges), 0, 255).astype(np.uint8)
    if rank == 2:
        return edges[0, :, :, 0]
    return edges[0] if rank == 3 else edges
