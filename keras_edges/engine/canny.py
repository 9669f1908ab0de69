"""The Canny engine: what a `build_canny_model` model computes, at stencil speed.

`plan(model)` reads everything from the model's own layers (the Gaussian's sigma and
truncation, both border rules, the gradient kernels, the norm, the suppression kind and
frame, the thresholds or quantiles) and returns a hashable `Plan`, or None when the model
is not shaped like `build_canny_model`'s; `run(plan, batch)` computes its edge map:

- Blur, gradient, magnitude and non-maximum suppression run as four XLA-compiled stencil
  stages that end in a one-byte class map (0 none, 1 weak, 2 strong). Sizes are rounded
  up to buckets and large images are cut into tiles whose halo covers the blur, the
  gradient and the suppression; the gradient's border rule (applied to the *blurred*
  image, as the model does) is a row and column gather driven by index vectors, so one
  set of compiled stages serves every tile and every size within a bucket.
- The arithmetic is the model's, to the last bit: TensorFlow's CPU convolutions sum their
  taps in row-major order with fused multiply-adds (the depthwise blur and a single
  image's Conv2D); XLA fuses `acc + x * w` into the same FMA, and `_rounded` stops it
  from fusing where the model rounds a product on its own (the L2 squares, the
  interpolated suppression, the frame). uint8 pixels cross memory as bytes; without a
  blur, integer kernels run in exact int16/int32 arithmetic.
- Hysteresis is linear in the number of pixels: connected components of the weak map
  (`scipy.ndimage.label`, 8-connected) on the whole image after all tiles are done, so it
  is exact across tile seams and its cost does not depend on the length of an edge chain;
  a component is kept when it holds a strong pixel.

TensorFlow's CPU Conv2D sums the taps in another order for batches of more than one
image, so the Keras model's own output can change in the last bit with the batch size;
the engine gives every image of a batch its single-image result.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import keras
import numpy as np
import scipy.ndimage
import tensorflow as tf
from tensorflow.compiler.tf2xla.python import xla

from keras_edges.engine.stencil import (
    _aligned_empty,
    _as_tensor,
    _border_index,
    _call,
    _fill,
    _integer_dtype,
    _segments,
    _tiles,
    _tiling,
)
from keras_edges.layers import (
    BorderPadding,
    GaussianBlur,
    GradientMagnitude,
    Hysteresis,
    NonMaxSuppression,
    gaussian_radius,
)
from keras_edges.layers.canny import _TAN_22_5

__all__ = ["Plan", "plan", "run"]

_TILE = 1024  # tiles are _TILE x _TILE output pixels
_MAX_CALL_PIXELS = 2048 * 2048  # above this an image is tiled, a batch is chunked
_LAYERS = (
    "image",
    "blur_pad",
    "blur",
    "pad",
    "grad_x",
    "grad_y",
    "magnitude",
    "suppress",
    "hysteresis",
)
_EIGHT = np.ones((3, 3), bool)  # 8-connectivity
_IDENTITY = ((1.0, 0.0), (0.0, 1.0))


class Plan(NamedTuple):
    """What the Canny engine needs from a Canny model (all hashable)."""

    blur: bytes  # the Gaussian's 1-D float32 taps (length 2 * radius + 1)
    blur_mode: str  # border rule before the blur
    kernels: tuple  # ((kernel_x bytes, kernel_y bytes), shape (k_y, k_x))
    pad_width: tuple  # ((top, bottom), (left, right)) of the gradient's border
    mode: str  # border rule of the blurred image before the gradient
    norm: str  # "l1" or "l2"
    interpolate: bool  # interpolated (scikit-image) or 4-sector (OpenCV) suppression
    frame: tuple  # 2x2 matrix from the kernels' responses to the image gradient
    low: float
    high: float
    use_quantiles: bool


def plan(model: keras.Model) -> Plan | None:
    """Read the engine's plan from `model`, or None if it is not a Canny model.

    The model must have `build_canny_model`'s layers (one input channel, float32, a
    border mode other than `"valid"`); the plan holds copies of the kernels. None too
    under a Keras backend other than TensorFlow (the engine's stages are `tf.function`s).
    """
    if not isinstance(model, keras.Model) or keras.backend.backend() != "tensorflow":
        return None
    layers = {layer.name: layer for layer in model.layers}
    if sorted(layers) != sorted(_LAYERS) or len(model.layers) != len(_LAYERS):
        return None
    blur_pad, pad = layers["blur_pad"], layers["pad"]
    convs = layers["grad_x"], layers["grad_y"]
    kinds = {
        "blur_pad": BorderPadding,
        "blur": GaussianBlur,
        "pad": BorderPadding,
        "magnitude": GradientMagnitude,
        "suppress": NonMaxSuppression,
        "hysteresis": Hysteresis,
        "grad_x": keras.layers.Conv2D,
        "grad_y": keras.layers.Conv2D,
    }
    if (
        any(not isinstance(layers[name], kind) for name, kind in kinds.items())
        or model.input_shape[-1] != 1
        or any(layers[name].compute_dtype != "float32" for name in kinds)
        or any(
            conv.use_bias
            or conv.filters != 1
            or tuple(conv.strides) != (1, 1)
            or tuple(conv.dilation_rate) != (1, 1)
            or conv.padding != "valid"
            or conv.activation is not keras.activations.linear
            or conv.groups != 1
            for conv in convs
        )
        or "valid" in (blur_pad.mode, pad.mode)
    ):
        return None
    kernel_x, kernel_y = (
        np.asarray(conv.kernel.numpy(), np.float32)[:, :, 0, 0] for conv in convs
    )
    blur = layers["blur"]
    radius = gaussian_radius(blur.sigma) if isinstance(blur.sigma, float) else -1
    (top, bottom), (left, right) = pad.pad_width
    if (
        blur.radii() != (radius, radius)  # one sigma, scipy's truncation
        or kernel_x.shape != kernel_y.shape
        or blur_pad.pad_width != ((radius, radius), (radius, radius))
        or (top + bottom + 1, left + right + 1) != kernel_x.shape
    ):
        return None
    suppress, hysteresis = layers["suppress"], layers["hysteresis"]
    return Plan(
        blur=np.asarray(layers["blur"]._kernel(), np.float32).tobytes(),
        blur_mode=blur_pad.mode,
        kernels=((kernel_x.tobytes(), kernel_y.tobytes()), kernel_x.shape),
        pad_width=pad.pad_width,
        mode=pad.mode,
        norm=layers["magnitude"].norm,
        interpolate=suppress.interpolate,
        frame=suppress.frame,
        low=hysteresis.low,
        high=hysteresis.high,
        use_quantiles=hysteresis.use_quantiles,
    )


# --------------------------------------------------------------------------------------
# The compiled graph: (buffer, gather indices, masks, thresholds) -> class map.
# --------------------------------------------------------------------------------------


def _rounded(value, zero):
    """`value` itself, but XLA can no longer fuse the product that made it into an FMA.

    `zero` is a run-time int32 zero: or-ing it into the bits is free, and the compiler
    cannot see through it.
    """
    return tf.bitcast(
        tf.bitwise.bitwise_or(tf.bitcast(value, tf.int32), zero), tf.float32
    )


def _fused_sum(terms, zero):
    """`sum(weight * tensor)` in order, rounded as TensorFlow's CPU convolutions round it.

    The first product is rounded on its own, each later term is one fused multiply-add
    (XLA contracts `total + tensor * weight`); weights 0 and +-1 need no multiplication.
    """
    total = None
    for weight, tensor in terms:
        weight = float(weight)
        if weight == 0:
            continue
        if weight in (1.0, -1.0):
            term = None
        elif tensor.dtype.is_integer:  # exact integer arithmetic: no rounding at all
            term = tensor * tf.constant(int(weight), tensor.dtype)
        else:
            term = tensor * tf.constant(weight, tensor.dtype)
        if total is None:
            if term is None:
                total = tensor if weight == 1 else -tensor
            else:
                total = term if tensor.dtype.is_integer else _rounded(term, zero)
        elif term is None:
            total = total + tensor if weight == 1 else total - tensor
        else:
            total = total + term
    if total is None:
        total = tf.zeros_like(terms[0][1])
    return total


def _fill_border(image, axis, border, before, after, zeros):
    """Apply the gradient's border rule along `axis` of a window, in place.

    `border` is `[left start, right start, left sources..., right sources...]`: the two
    runs of `before` and `after` positions that take the values of other positions of
    the window (-1: zero, only with `zeros`); every other position keeps its own value.
    Written as two small in-place updates: a gather of the whole window would pull the
    stencil that made `image` into an unvectorised per-element loop (2-4x slower).
    """
    runs = ((border[0], border[2 : 2 + before]), (border[1], border[2 + before :]))
    for start, sources in runs:
        if sources.shape[0] == 0:
            continue
        values = tf.gather(image, tf.maximum(sources, 0), axis=axis)
        if zeros:
            shape = [1, 1, 1]
            shape[axis] = -1
            inside = tf.reshape(sources >= 0, shape)
            values = tf.where(inside, values, tf.zeros_like(values))
        corner = [0, 0, 0]
        corner[axis] = start
        image = xla.dynamic_update_slice(image, values, tf.stack(corner))
    return image


def _suppress(plan: Plan, grad_x, grad_y, magnitude, zero):
    """`NonMaxSuppression.call` on the interior of a magnitude window with a 1-pixel halo.

    `grad_x`/`grad_y` are the interior's gradients (float32), `magnitude` the window with
    zeros outside the image; returns the suppressed interior.
    """
    height, width = magnitude.shape[1] - 2, magnitude.shape[2] - 2
    near = {
        (i, j): magnitude[:, 1 + i : 1 + i + height, 1 + j : 1 + j + width]
        for i in (-1, 0, 1)
        for j in (-1, 0, 1)
    }
    center = near[(0, 0)]
    if plan.frame != _IDENTITY:
        (a, b), (c, d) = plan.frame
        grad_x, grad_y = (
            _rounded(grad_x * a, zero) + _rounded(grad_y * b, zero),
            _rounded(grad_x * c, zero) + _rounded(grad_y * d, zero),
        )
    abs_x, abs_y = tf.abs(grad_x), tf.abs(grad_y)
    down, right = grad_y >= 0, grad_x >= 0
    if plan.interpolate:
        steep = abs_y > abs_x
        largest = tf.maximum(abs_x, abs_y)
        positive = largest > 0
        weight = tf.where(
            positive,
            tf.minimum(abs_x, abs_y) / tf.where(positive, largest, 1.0),
            0.0,
        )
        keep = center > 0
        for sign in (1, -1):  # forward, then backward along the gradient
            vertical = tf.where(down, near[(sign, 0)], near[(-sign, 0)])
            horizontal = tf.where(right, near[(0, sign)], near[(0, -sign)])
            diagonal = tf.where(
                down,
                tf.where(right, near[(sign, sign)], near[(sign, -sign)]),
                tf.where(right, near[(-sign, sign)], near[(-sign, -sign)]),
            )
            axis = tf.where(steep, vertical, horizontal)
            between = _rounded(axis * (1.0 - weight), zero) + _rounded(
                diagonal * weight, zero
            )
            keep = tf.logical_and(keep, center >= between)
    else:
        flat = abs_y < _TAN_22_5 * abs_x
        steep = abs_y > (_TAN_22_5 + 2.0) * abs_x
        along_x = tf.logical_and(center > near[(0, -1)], center >= near[(0, 1)])
        along_y = tf.logical_and(center > near[(-1, 0)], center >= near[(1, 0)])
        falling = tf.logical_and(center > near[(-1, -1)], center > near[(1, 1)])
        rising = tf.logical_and(center > near[(-1, 1)], center > near[(1, -1)])
        diagonal = tf.where(down == right, falling, rising)
        keep = tf.where(flat, along_x, tf.where(steep, along_y, diagonal))
        keep = tf.logical_and(keep, center > 0)
    return tf.where(keep, center, 0.0)


def _jit(function):
    return tf.function(
        function, jit_compile=True, reduce_retracing=False, autograph=False
    )


@functools.lru_cache(maxsize=64)
def _stages(plan: Plan, integer: bool):
    """The engine's compiled stages for `plan`, each an XLA `tf.function`.

    Each stage's output is stored before the next one reads it at every tap of its
    stencil (within one XLA graph, a cheap producer is recomputed for each consumer):
    `smooth` (cast, Gaussian column pass, the gradient border's rows), `blur` (row
    pass, the border's columns), `gradient` (the magnitude, zero outside the image) and
    `classify` (the gradients again, suppression and thresholds: the class map) or
    `crop` (the magnitude, for quantiles). With `integer` (uint8 pixels, no blur, integer kernels)
    the gradients are exact int16/int32 sums.
    """
    blur = np.frombuffer(plan.blur, np.float32)
    (bytes_x, bytes_y), shape = plan.kernels
    kernel_x = np.frombuffer(bytes_x, np.float32).reshape(shape)
    kernel_y = np.frombuffer(bytes_y, np.float32).reshape(shape)
    size_y, size_x = shape
    radius = len(blur) // 2
    zeros = plan.mode == "zeros"
    (top, bottom), (left, right) = plan.pad_width
    work = _integer_dtype(kernel_x, kernel_y) if integer else tf.float32

    def smooth(buffer, rows, zero):
        image = tf.cast(buffer, work)
        if radius:  # GaussianBlur's column pass
            height = image.shape[1] - 2 * radius
            image = _fused_sum(
                [(w, image[:, i : i + height, :]) for i, w in enumerate(blur)], zero
            )
        return _fill_border(image, 1, rows, top, bottom, zeros)

    def blur_rows(image, columns, zero):
        if radius:  # GaussianBlur's row pass
            width = image.shape[2] - 2 * radius
            image = _fused_sum(
                [(w, image[:, :, j : j + width]) for j, w in enumerate(blur)], zero
            )
        return _fill_border(image, 2, columns, left, right, zeros)

    def gradients(image, zero, margin=0):
        """Both gradients of the blurred window, `margin` positions in from each side."""
        height = image.shape[1] - size_y + 1 - 2 * margin
        width = image.shape[2] - size_x + 1 - 2 * margin

        def tap(i, j, copy=False):
            i, j = i + margin, j + margin
            tensor = image[:, i : i + height, j : j + width]
            return _rounded(tensor, zero) if copy else tensor

        # A product that both sums share (same tap, same weight up to its sign) would be
        # computed once, and a product with two uses is never fused into an FMA: grad_y
        # reads its own copy of those taps.
        weights = np.abs(kernel_x)
        shared = (weights == np.abs(kernel_y)) & (weights != 1) & (not integer)
        return [
            _fused_sum(
                [
                    (kernel[i, j], tap(i, j, copy and shared[i, j]))
                    for i in range(size_y)
                    for j in range(size_x)
                ],
                zero,
            )
            for kernel, copy in ((kernel_x, False), (kernel_y, True))
        ]

    def gradient(image, row_inside, column_inside, zero):
        grads = gradients(image, zero)
        if plan.norm == "l1":
            magnitude = tf.cast(tf.abs(grads[0]) + tf.abs(grads[1]), tf.float32)
        else:
            grads = [tf.cast(grad, tf.float32) for grad in grads]
            squared = _rounded(grads[0] * grads[0], zero) + _rounded(
                grads[1] * grads[1], zero
            )
            magnitude = tf.where(squared > 0, tf.sqrt(squared), 0.0)
        inside = tf.logical_and(row_inside[:, None], column_inside[None, :])
        return tf.where(inside[None], magnitude, 0.0)

    def classify(magnitude, image, low, high, zero):
        # The suppression's gradients are computed again from the blurred window: that
        # is cheaper than storing both and reading them back.
        grad_x, grad_y = (
            tf.cast(grad, tf.float32) for grad in gradients(image, zero, margin=1)
        )
        suppressed = _suppress(plan, grad_x, grad_y, magnitude, zero)
        present = suppressed > 0
        weak = tf.logical_and(present, suppressed >= low[:, None, None])
        strong = tf.logical_and(present, suppressed >= high[:, None, None])
        return tf.cast(weak, tf.uint8) + tf.cast(strong, tf.uint8)

    def crop(magnitude):
        return magnitude[:, 1:-1, 1:-1]

    return tuple(map(_jit, (smooth, blur_rows, gradient, classify, crop)))


@functools.lru_cache(maxsize=256)
def _function(plan: Plan, output: str, shape: tuple, dtype: str, window: tuple):
    """The engine for one buffer shape: `(buffer, rows, columns, row_inside,
    column_inside, low, high) -> output` (`"classes"` uint8 or `"magnitude"` float32).

    `rows`/`columns` place the gradient's border in the blurred window (`_fill_border`),
    `row_inside`/`column_inside` say which magnitude-window positions lie in the image,
    `low`/`high` are `(N,)` thresholds. `window` is `(gradient window height, width,
    magnitude window height, width)`.
    """
    count = shape[0]
    integer = (
        dtype == "uint8"
        and _radius(plan) == 0
        and _integer_dtype(*(np.frombuffer(b, np.float32) for b in plan.kernels[0]))
    )
    smooth, blur_rows, gradient, classify, crop = _stages(plan, bool(integer))
    zero = tf.TensorSpec((), tf.int32)
    rows, columns = (tf.TensorSpec((2 + sum(pad),), tf.int32) for pad in plan.pad_width)
    smooth = smooth.get_concrete_function(tf.TensorSpec(shape, dtype), rows, zero)
    spec = tf.TensorSpec.from_tensor
    blur_rows = blur_rows.get_concrete_function(
        spec(smooth.structured_outputs), columns, zero
    )
    blurred = spec(blur_rows.structured_outputs)
    gradient = gradient.get_concrete_function(
        blurred,
        tf.TensorSpec((window[2],), tf.bool),
        tf.TensorSpec((window[3],), tf.bool),
        zero,
    )
    magnitude = spec(gradient.structured_outputs)
    if output == "magnitude":
        last = crop.get_concrete_function(magnitude)
    else:
        threshold = tf.TensorSpec((count,), tf.float32)
        last = classify.get_concrete_function(
            magnitude, blurred, threshold, threshold, zero
        )
    zero = tf.constant(0, tf.int32)

    def run(buffer, rows, columns, row_inside, column_inside, low, high):
        image = _call(smooth, buffer, rows, zero)
        image = _call(blur_rows, image, columns, zero)
        magnitude = _call(gradient, image, row_inside, column_inside, zero)
        if output == "magnitude":
            return _call(last, magnitude)
        return _call(last, magnitude, image, low, high, zero)

    return run


# --------------------------------------------------------------------------------------
# Layout: buckets, tiles with a halo, batch chunks.
# --------------------------------------------------------------------------------------


def _radius(plan: Plan) -> int:
    """The Gaussian's reach in pixels (0 without a blur)."""
    return len(plan.blur) // np.dtype(np.float32).itemsize // 2


def _rule(size: int, start: int, stop: int, mode: str) -> np.ndarray:
    """Source index of positions `start..stop-1` of an axis of length `size` under `mode`."""
    before, after = max(0, -start), max(0, stop - size)
    return _border_index(size, before, after, mode)[start + before : stop + before]


def _axis_tiles(plan: Plan, axis: int, size: int, tile: int):
    """Per tile along one axis: `(start, stop, fill runs, border placement, inside mask)`.

    A tile of `tile` output positions starting at `start` reads the magnitude at
    `start - 1 .. start + tile` (the suppression's halo), the blurred image at the
    gradient's reach around that, and the image at the blur's reach around that.
    """
    before, after = plan.pad_width[axis]
    radius = _radius(plan)
    gradient_window = tile + 2 + before + after
    tiles = []
    for start, stop in _tiles(size, tile):
        # image position of the gradient window's first entry
        first = start - 1 - before
        fill = _rule(
            size, first - radius, first + gradient_window + radius, plan.blur_mode
        )
        positions = np.arange(first, first + gradient_window)
        border = ((positions >= -before) & (positions < 0)) | (
            (positions >= size) & (positions < size + after)
        )
        rule = _rule(size, first, first + gradient_window, plan.mode)
        source = np.where(rule >= 0, rule - first, -1)
        runs = []
        for side, length, spare in (
            (positions < 0, before, 0),
            (positions >= size, after, gradient_window - after),
        ):
            run = np.flatnonzero(border & side)
            at = run[0] if len(run) else spare  # no border on this side: identity
            part = np.arange(at, at + length)
            assert np.array_equal(run, part) if len(run) else not border[part].any()
            runs.append((at, source[part] if len(run) else part))
        (left, left_sources), (right, right_sources) = runs
        placement = np.concatenate([[left, right], left_sources, right_sources])
        inside = (positions[before : before + tile + 2] >= 0) & (
            positions[before : before + tile + 2] < size
        )
        tiles.append(
            (
                start,
                stop,
                _segments(fill, 0, len(fill)),
                tf.constant(placement.astype(np.int32)),
                tf.constant(inside),
            )
        )
    return tiles


@functools.lru_cache(maxsize=256)
def _layout(plan: Plan, count: int, height: int, width: int):
    """How `run` cuts an `(N, H, W)` batch into compiled calls.

    Returns `(buffer shape, window, row tiles, column tiles, chunks)`; `chunks` are
    `(first, size)` batch slices of powers of two, so few batch sizes are compiled.
    """
    tile_height, tile_width, chunks = _tiling(
        count, height, width, _TILE, _MAX_CALL_PIXELS
    )
    row_tiles = _axis_tiles(plan, 0, height, tile_height)
    column_tiles = _axis_tiles(plan, 1, width, tile_width)
    radius = _radius(plan)
    (top, bottom), (left, right) = plan.pad_width
    window = (
        tile_height + 2 + top + bottom,
        tile_width + 2 + left + right,
        tile_height + 2,
        tile_width + 2,
    )
    shape = (window[0] + 2 * radius, window[1] + 2 * radius)
    return shape, window, row_tiles, column_tiles, chunks


def _sweep(plan: Plan, images: np.ndarray, output: str, low, high) -> np.ndarray:
    """Run `_graph(plan, output)` over every tile and chunk of the `(N, H, W)` images."""
    count, height, width = images.shape
    shape, window, row_tiles, column_tiles, chunks = _layout(plan, *images.shape)
    dtype = np.uint8 if output == "classes" else np.float32
    result = np.empty((count, height, width), dtype)
    buffers = {}
    compiled = plan._replace(
        low=0.0, high=0.0, use_quantiles=False
    )  # run-time arguments:
    # one set of compiled stages serves every threshold pair (a sweep compiles once)
    for first, size in chunks:
        if size not in buffers:
            buffers[size] = _aligned_empty((size, *shape), images.dtype)
        buffer = buffers[size]
        function = _function(compiled, output, buffer.shape, buffer.dtype.name, window)
        thresholds = [
            tf.constant(values[first : first + size], tf.float32)
            for values in (low, high)
        ]
        for y0, y1, fill_rows, rows, row_inside in row_tiles:
            for x0, x1, fill_columns, columns, column_inside in column_tiles:
                _fill(buffer, images[first : first + size], fill_rows, fill_columns)
                tensors = (rows, columns, row_inside, column_inside, *thresholds)
                part = function(_as_tensor(buffer), *tensors)
                result[first : first + size, y0:y1, x0:x1] = np.asarray(part)[
                    :, : y1 - y0, : x1 - x0
                ]
    return result


# --------------------------------------------------------------------------------------
# Thresholds and hysteresis on the host.
# --------------------------------------------------------------------------------------


def _quantiles(magnitude: np.ndarray, quantiles: tuple) -> list:
    """`keras.ops.quantile(magnitude, q)` (TensorFlow backend, "linear") for each q, exactly.

    The same order statistics (by partial sorting) and the same float64 index and
    float32 interpolation as the backend's implementation.
    """
    values = magnitude.ravel()
    last = values.size - 1
    picks = []
    for q in quantiles:
        exact = np.float64(last) * np.float64(np.float32(q))
        larger = min(max(int(np.ceil(exact)), 0), last)
        smaller = max(larger - 1, 0)
        larger = min(smaller + 1, last)
        picks.append((smaller, larger, np.float32(np.float64(larger) - exact)))
    ordered = np.partition(values, sorted({k for pick in picks for k in pick[:2]}))
    return [
        ordered[larger] * (np.float32(1) - fraction) + ordered[smaller] * fraction
        for smaller, larger, fraction in picks
    ]


def _hysteresis(classes: np.ndarray) -> np.ndarray:
    """Keep the 8-connected components of `classes > 0` that hold a 2, per image.

    Linear time (`scipy.ndimage.label`), whatever the length of an edge chain. The
    lookups touch only the weak pixels (a few percent of a photo after suppression), in
    bands of rows so that their int64 indices stay small on any input.
    """
    edges = np.zeros(classes.shape, bool)
    labels = np.empty(classes.shape[1:], np.int32)
    band = max(1, _TILE * _TILE // classes.shape[2])
    bands = [slice(row, row + band) for row in range(0, classes.shape[1], band)]
    for image, out in zip(classes, edges):
        count = scipy.ndimage.label(image, _EIGHT, output=labels)
        # One band (most images): its lookup serves both passes.
        once = _weak_labels(image, labels, bands[0]) if len(bands) == 1 else None
        keep = np.zeros(count + 1, bool)
        for rows in bands:
            where, found = once or _weak_labels(image, labels, rows)
            keep[found[image[rows].reshape(-1)[where] == 2]] = True
        for rows in bands:
            where, found = once or _weak_labels(image, labels, rows)
            out[rows].reshape(-1)[where] = keep[found]
    return edges


def _weak_labels(classes: np.ndarray, labels: np.ndarray, rows: slice):
    """The flat positions of the weak pixels in `rows` and their labels."""
    where = np.flatnonzero(classes[rows].astype(bool))  # faster on bool
    return where, labels[rows].reshape(-1)[where]


def run(plan: Plan, batch: np.ndarray) -> np.ndarray:
    """Run `plan` on an `(N, H, W, 1)` uint8 or float32 batch; returns `(N, H, W)` bool."""
    images = batch[..., 0]
    count = images.shape[0]
    if plan.use_quantiles:
        magnitude = _sweep(
            plan, images, "magnitude", *[np.zeros(count, np.float32)] * 2
        )
        low, high = np.array(
            [_quantiles(each, (plan.low, plan.high)) for each in magnitude], np.float32
        ).T
        del magnitude
    else:
        low = np.full(count, plan.low, np.float32)
        high = np.full(count, plan.high, np.float32)
    return _hysteresis(_sweep(plan, images, "classes", low, high))
