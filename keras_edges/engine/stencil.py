"""The stencil engine: an edge model's own arithmetic as one XLA-compiled stencil.

Two calls: `plan(model)` reads what the engine needs from a `build_edge_model` model (the
kernels of its `grad_x`/`grad_y` layers, its `pad` layer's border rule and its
`magnitude` layer's norm), or returns None for any other model; `run(plan, batch)`
computes the same edges as the model, as shifted slices and adds under
`tf.function(jit_compile=True)` (XLA's CPU convolution is slow for one-channel 3x3
kernels; a fused stencil is memory bound).

- Borders are filled on the host into a buffer whose height and width are rounded up to
  a size bucket, so a new image size within a bucket reuses the compiled graph; the
  output is cropped back (the slack never reaches the kept pixels). An image that fills
  its bucket exactly is handed over without a copy (DLPack) and bordered in the graph.
- uint8 crosses memory as bytes: the cast to numbers, the magnitude, `normalize`, the
  threshold and the saturating cast back to uint8 all run inside the graph. Integer
  kernels on uint8 run in exact int16/int32 arithmetic, bit-identical to the model.
- Rank-1 kernels (Sobel, Scharr, Prewitt) run as two 1-D passes when the factors
  reproduce the kernel exactly; other kernels (trained ones) run as a general stencil.
- Large inputs are cut into overlapping tiles (halo = the kernel's reach), so memory
  stays bounded and the output equals the untiled result.

The engine runs under the TensorFlow and JAX backends (under JAX, `_jax_tf` supplies
the graph's few `tf` calls and `jax.jit` compiles it); on other backends `plan` returns
None and `detect_edges` runs the model. Every cache here is keyed by plans and shapes
(plain values), never by a model.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import keras
import numpy as np

if keras.backend.backend() == "jax":  # the same graph, traced by jax.jit
    from keras_edges.engine import _jax_tf as tf
else:
    import tensorflow as tf

from keras_edges.kernels import (
    KERNELS,
    gradient_frame,
    max_response,
    operator_kernels,
)
from keras_edges.layers import BorderPadding, GradientMagnitude

__all__ = ["BACKENDS", "Plan", "plan", "run"]

BACKENDS = ("tensorflow", "jax")  # the Keras backends the engine runs under

_TILE = 2048  # tiles are _TILE x _TILE output pixels
_MAX_CALL_PIXELS = _TILE * _TILE  # above this an image is tiled, a batch is chunked
_MAX_BATCH_CHUNK = 64


class Plan(NamedTuple):
    """What the fast engine needs from an edge model (all hashable)."""

    kernels: tuple  # ((kernel_x bytes, kernel_y bytes), shape (k, k, C))
    pad_width: tuple  # ((top, bottom), (left, right))
    mode: str  # border mode of the pad layer
    norm: str  # "l1" or "l2"


def plan(model: keras.Model) -> Plan | None:
    """Read the engine's plan from `model`, or None if it is not an edge model.

    The plan holds copies of the kernels: a model trained later keeps its old plan.
    None too under a Keras backend not in `BACKENDS`.
    """
    if keras.backend.backend() not in BACKENDS:
        return None
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
        # Variable.numpy(): NumPy 2.4 deprecates the Variable's `__array__` (no `copy`).
        np.asarray(conv.kernel.numpy(), np.float32)[..., 0]
        for conv in convs
    )
    if kernel_x.shape != kernel_y.shape:
        return None
    kernels = (kernel_x.tobytes(), kernel_y.tobytes()), kernel_x.shape
    return Plan(kernels, tuple(map(tuple, pad.pad_width)), pad.mode, magnitude.norm)


def _table_pairs() -> frozenset:
    """The one-channel float32 kernel pairs of the table, as `Plan.kernels` holds them."""
    pairs = set()
    for operator in KERNELS:
        for ksize in KERNELS[operator]:
            kernels = [
                np.asarray(k, np.float32)[..., None]
                for k in operator_kernels(operator, ksize)
            ]
            pairs.add(((kernels[0].tobytes(), kernels[1].tobytes()), kernels[0].shape))
    return frozenset(pairs)


_TABLE_PAIRS = _table_pairs()


@functools.lru_cache(maxsize=64)
def _compiled_form(plan: Plan) -> tuple[Plan, tuple]:
    """`(key, weights)`: the plan the compiled graph is keyed by, and its kernel tensors.

    Integer kernels and the table's kernels (few, and exact integer or separable
    arithmetic pays) are compiled into the graph: `key` is `plan` and `weights` is
    empty. Any others, such as trained kernels, are passed at run time: `key` has no
    kernel values, so one compiled graph serves every such model of a kernel shape
    (XLA keeps every graph it compiles for the life of the process).
    """
    (bytes_x, bytes_y), shape = plan.kernels
    kernels = [np.frombuffer(b, np.float32).reshape(shape) for b in (bytes_x, bytes_y)]
    if plan.kernels in _TABLE_PAIRS or all(
        np.array_equal(k, np.round(k)) for k in kernels
    ):
        return plan, ()
    return plan._replace(kernels=(None, shape)), tuple(map(tf.constant, kernels))


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
    if tf.is_tensor(kernel):  # weights known at run time only: every term
        return tf.add_n(
            [
                kernel[i, j, c] * image[:, i : i + height, j : j + width, c]
                for i in range(size)
                for j in range(kernel.shape[1])
                for c in range(kernel.shape[2])
            ]
        )
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


# atan(a) = a * P(a**2) on [0, 1]: least squares on Chebyshev nodes, reweighted towards
# the smallest largest error (within 1.9 ulp of atan on [0, 1]; the whole `_atan2` is
# within 3 ulp of the exact angle, NumPy's float32 arctan2 within 2.6 on the same test).
_ATAN_COEFFICIENTS = (
    1.0,
    -0.33333104848861694,
    0.19993075728416443,
    -0.14206410944461823,
    0.10649701207876205,
    -0.0751996785402298,
    0.04285082593560219,
    -0.016154561191797256,
    0.0028689969331026077,
)


def _atan2(y, x):
    """float32 `atan2(y, x)` in vectorisable XLA operations, signed zeros as NumPy's.

    XLA's own `atan2` is a scalar loop on the CPU (59 ms on 1920x1080, slower than the
    Keras model); this one vectorises (about 2.5 ms there).
    """
    absolute_x, absolute_y = tf.abs(x), tf.abs(y)
    larger = tf.maximum(absolute_x, absolute_y)
    ratio = tf.minimum(absolute_x, absolute_y) / tf.where(larger > 0, larger, 1.0)
    square = ratio * ratio
    angle = np.float32(_ATAN_COEFFICIENTS[-1])  # Horner's rule
    for coefficient in _ATAN_COEFFICIENTS[-2::-1]:
        angle = angle * square + np.float32(coefficient)
    angle = angle * ratio  # in [0, pi/4]
    angle = tf.where(absolute_y > absolute_x, np.float32(np.pi / 2) - angle, angle)
    angle = tf.where(_sign_bit(x), np.float32(np.pi) - angle, angle)
    return tf.where(_sign_bit(y), -angle, angle)


def _sign_bit(value):
    """Whether float32 `value` is negative, -0.0 included."""
    return tf.bitcast(value, tf.int32) < 0


@functools.lru_cache(maxsize=256)
def _fast_function(
    plan: Plan, output: str, shape: tuple, dtype: str, pad: bool = False
):
    """The compiled graph `(buffer, divisor, cut[, kernel_x, kernel_y]) -> edges`.

    One per buffer shape; `plan` is a key of `_compiled_form` (without kernel values,
    the kernels are arguments). A concrete function is called directly: a
    `tf.function`'s own dispatch costs more than the stencil on small images. With
    `pad`, the buffer is the image itself and the graph adds the border.
    """
    function = _fast_graph(plan, output, pad)
    specs = [
        tf.TensorSpec(shape, dtype),
        tf.TensorSpec((), tf.float32),
        tf.TensorSpec((), tf.float32),
    ]
    if plan.kernels[0] is None:
        specs += [tf.TensorSpec(plan.kernels[1], tf.float32)] * 2
        if output == "orientation":
            specs.append(tf.TensorSpec((2, 2), tf.float32))
    return function.get_concrete_function(*specs)


@functools.lru_cache(maxsize=64)
def _scalar(value: float) -> tf.Tensor:
    """A cached float32 scalar tensor (converting one per call costs more than it should)."""
    return tf.constant(value, tf.float32)


def _pad_in_graph(image, plan: Plan):
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
def _fast_graph(plan: Plan, output: str, pad: bool = False):
    """The `tf.function` `(buffer, divisor, cut[, kernel_x, kernel_y[, frame]]) -> edges`.

    `output` is `"float"`, `"uint8"` (round, saturate), `"bool"` (`edges >= cut`), each
    optionally with `"/"` (divide by `divisor` first, as `normalize` does), or
    `"gradients"` (float32 `(grad_x, grad_y)` pairs as one complex64 per pixel, which
    `_finish` views as a last axis of size 2) or `"orientation"` (the float32 angle of
    the gradient in the image frame, `_atan2`). The kernels are `plan`'s constants or,
    when `plan` has no kernel values, arguments (then `"orientation"` also takes the 2x2
    `gradient_frame` as an argument).
    """
    pair, shape = plan.kernels
    if pair is not None:
        kernel_x, kernel_y = (np.frombuffer(b, np.float32).reshape(shape) for b in pair)
    size_y, size_x = shape[:2]

    def edges(buffer, divisor, cut, *weights):
        kernels = weights[:2] or (kernel_x, kernel_y)
        work = None
        if buffer.dtype == tf.uint8 and not weights:
            work = _integer_dtype(kernel_x, kernel_y)
        image = tf.cast(
            _pad_in_graph(buffer, plan) if pad else buffer, work or tf.float32
        )
        height = image.shape[1] - size_y + 1
        width = image.shape[2] - size_x + 1
        grad_x, grad_y = (_stencil(image, k, height, width) for k in kernels)
        if output in ("gradients", "orientation"):
            grad_x, grad_y = tf.cast(grad_x, tf.float32), tf.cast(grad_y, tf.float32)
            if output == "gradients":
                # XLA writes the pair as one complex64 as fast as two separate arrays,
                # 1.7x faster than a bitcast of the stacked pair and 2.5x faster than
                # a last axis of size 2 (which it writes element by element).
                return tf.complex(grad_x, grad_y)
            if weights:  # a tensor: indexed, not unpacked (no iteration in a graph)
                frame = weights[2]
                (a, b), (c, d) = (frame[0, 0], frame[0, 1]), (frame[1, 0], frame[1, 1])
            else:
                (a, b), (c, d) = gradient_frame(kernel_x, kernel_y).tolist()
            if weights or (a, b, c, d) != (
                1.0,
                0.0,
                0.0,
                1.0,
            ):  # as GradientOrientation
                grad_x, grad_y = a * grad_x + b * grad_y, c * grad_x + d * grad_y
            return _atan2(grad_y, grad_x)
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

    The NumPy twin of `layers.gradient._source_indices` (the `pad` layer's rule; eager Keras ops
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


def _tiling(count: int, height: int, width: int, tile: int, most_pixels: int):
    """`(tile height, tile width, chunks)` for an `(N, H, W)` output.

    One bucketed tile holds the whole image unless it has more than `most_pixels`
    pixels, then `tile x tile` tiles; `chunks` are the `(first, size)` batch slices,
    powers of two (so few batch sizes are compiled) of at most `_MAX_BATCH_CHUNK` and
    `most_pixels` pixels.
    """
    tile_height, tile_width = _bucket(height), _bucket(width)
    if tile_height * tile_width > most_pixels:
        tile_height, tile_width = min(tile_height, tile), min(tile_width, tile)
    most = max(1, min(_MAX_BATCH_CHUNK, most_pixels // (tile_height * tile_width)))
    chunks, first = [], 0
    while first < count:
        size = 1 << (min(most, count - first).bit_length() - 1)
        chunks.append((first, size))
        first += size
    return tile_height, tile_width, chunks


@functools.lru_cache(maxsize=256)
def _layout(plan: Plan, count: int, height: int, width: int, channels: int):
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
    # tiled: halo = the kernel's reach
    tile_height, tile_width, chunks = _tiling(
        count, out_height, out_width, _TILE, _MAX_CALL_PIXELS
    )
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


def _exact_bucket(plan: Plan, batch_shape: tuple, buffer_shape: tuple) -> bool:
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


def _finish(output: str, edges: np.ndarray) -> np.ndarray:
    """The graph's `edges` as `run` returns them: the `(x, y)` pairs of `"gradients"`
    as a last axis."""
    if output == "gradients":  # (x, y) pairs as complex64
        return edges.view(np.float32).reshape(*edges.shape, 2)
    return edges


def _fast_edges(plan: Plan, batch: np.ndarray, output: str, divisor: float, cut: float):
    """Run `plan` on the `(N, H, W, C)` batch; returns `(N, H', W')` edges.

    Peak memory beyond input and output is one tile's buffer and edges (a few
    `_TILE**2` arrays), whatever the image size.
    """
    count = batch.shape[0]
    out_height, out_width, shape, row_tiles, column_tiles, chunks = _layout(
        plan, *batch.shape
    )
    divisor, cut = _scalar(float(divisor)), _scalar(float(cut))
    key, weights = _compiled_form(plan)
    if weights and output == "orientation":
        weights += (tf.constant(gradient_frame(*weights), tf.float32),)
    if len(chunks) == len(row_tiles) == len(column_tiles) == 1 and _exact_bucket(
        plan, batch.shape, shape
    ):
        # The image fills its bucket: hand it over as it is and pad inside the graph.
        image = np.ascontiguousarray(batch)
        function = _fast_function(key, output, image.shape, image.dtype.name, True)
        edges = np.asarray(_call(function, _as_tensor(image), divisor, cut, *weights))
        return _finish(output, edges)
    buffers, result = {}, None
    for y0, y1, rows in row_tiles:
        for x0, x1, columns in column_tiles:
            for first, size in chunks:
                if size not in buffers:
                    buffers[size] = _aligned_empty((size, *shape), batch.dtype)
                buffer = buffers[size]
                _fill(buffer, batch[first : first + size], rows, columns)
                function = _fast_function(key, output, buffer.shape, buffer.dtype.name)
                edges = _finish(
                    output,
                    np.asarray(
                        _call(function, _as_tensor(buffer), divisor, cut, *weights)
                    ),
                )
                if len(chunks) == len(row_tiles) == len(column_tiles) == 1:  # one call
                    if edges.shape[1:] == (out_height, out_width):
                        return edges
                    return np.ascontiguousarray(edges[:, :out_height, :out_width])
                if result is None:
                    result = np.empty(
                        (count, out_height, out_width, *edges.shape[3:]), edges.dtype
                    )
                result[first : first + size, y0:y1, x0:x1] = edges[
                    :, : y1 - y0, : x1 - x0
                ]
    return result


def run(
    plan: Plan,
    batch: np.ndarray,
    *,
    threshold: float | None = None,
    normalize=False,
    output: str = "magnitude",
) -> np.ndarray:
    """Run `plan` on an `(N, H, W, C)` batch; returns the `(N, H', W')` edges.

    A uint8 batch gives uint8 edges (rounded, saturated at 255), any other float32 batch
    float32 edges. `normalize` divides by the full scale (the largest magnitude of the
    plan's kernels on pixels in [0, 1], 0..255 for uint8); `threshold` in [0, 1] returns
    the bool map `edges >= threshold * full scale` instead. `output="gradients"` returns
    the float32 `(N, H', W', 2)` signed gradients, `"orientation"` their float32 angle
    (as `build_edge_model(output=...)`).
    """
    if output != "magnitude":
        return _fast_edges(plan, batch, output, 1.0, 0.0)
    (bytes_x, bytes_y), shape = plan.kernels
    full_scale = np.float32(
        max_response(
            np.frombuffer(bytes_x, np.float32),
            np.frombuffer(bytes_y, np.float32),
            plan.norm,
        )
    )
    if threshold is not None:
        value_range = 255.0 if batch.dtype == np.uint8 else 1.0
        cut = np.float32(threshold * value_range * full_scale)
        return _fast_edges(plan, batch, "bool", 1.0, cut)
    output = "uint8" if batch.dtype == np.uint8 else "float"
    if normalize:
        return _fast_edges(plan, batch, output + "/", full_scale, 0.0)
    return _fast_edges(plan, batch, output, 1.0, 0.0)
