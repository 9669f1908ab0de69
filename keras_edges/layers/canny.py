"""Canny's layers: Gaussian blur, gradient orientation, non-maximum suppression, hysteresis."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_edges.layers._common import (
    _check_data_format,
    _choose,
    _positive,
    _spatial_axes,
)
from keras_edges.validation import check_number, check_positive_int

__all__ = [
    "DoubleThreshold",
    "GaussianBlur",
    "GradientOrientation",
    "Hysteresis",
    "NonMaxSuppression",
    "gaussian_radius",
]


def gaussian_radius(sigma: float) -> int:
    """Half-width of the Gaussian kernel: `int(4 * sigma + 0.5)`, as scipy's `gaussian_filter`.

    Example:
    >>> gaussian_radius(1.0), gaussian_radius(1.4), gaussian_radius(0.0)
    (4, 6, 0)
    """
    return int(4.0 * float(sigma) + 0.5)


def _pair(name, value, check):
    """`value` as a `(rows, columns)` pair of checked numbers: one number is both."""
    values = value if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a number or a pair "
            f"(rows, columns). Received: {name}={value!r}"
        )
    return tuple(check(name, v) for v in values)


def _radius_of_size(name, size):
    """The radius `(size - 1) // 2` of an odd kernel size >= 1."""
    size = check_positive_int(name, size)
    if size % 2 == 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected an odd kernel size. "
            f"Received: {name}={size!r}"
        )
    return (size - 1) // 2


@keras.saving.register_keras_serializable(package="keras_edges")
class GaussianBlur(keras.layers.Layer):
    """Smooth every channel with a Gaussian of standard deviation `sigma`, without padding.

    The kernel is scipy's `gaussian_filter` kernel (and so scikit-image's `gaussian`):
    `exp(-x**2 / (2 * sigma**2))` for `|x| <= gaussian_radius(sigma)`, normalised to sum
    1, applied separably (rows, then columns). With `ksize` the kernel has that many
    taps instead (kornia's `gaussian_blur2d(kernel_size, sigma)`, same formula). The
    layer convolves in `valid` mode: put a `BorderPadding` of `radii()` in front of it
    to keep the size, as `build_canny_model` does. `sigma=0` is the identity.

    Args:
        sigma: Standard deviation in pixels, >= 0, or a pair `(sigma_rows,
            sigma_columns)` (along the height, along the width).
        ksize: None (truncate at `gaussian_radius(sigma)`), or an odd kernel size, or
            a pair of them `(rows, columns)`.
        data_format: `"channels_last"` or `"channels_first"`; None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A tensor of shape `(batch, height, width, channels)` (channels_first:
            `(batch, channels, height, width)`).

    Output shape:
        `(batch, height - 2 * radius_rows, width - 2 * radius_columns, channels)`.

    Example:
    >>> impulse = np.zeros((1, 9, 9, 1), "float32"); impulse[0, 4, 4] = 1
    >>> blurred = np.asarray(GaussianBlur(1.0)(impulse))
    >>> blurred.shape, round(float(blurred.sum()), 6)
    ((1, 1, 1, 1), 0.159156)
    >>> GaussianBlur((1.0, 2.0), ksize=5).radii()
    (2, 2)
    """

    def __init__(self, sigma=1.0, ksize=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        sigmas = _pair("sigma", sigma, lambda n, v: check_number(n, v, low=0.0))
        self.sigma = sigmas[0] if sigmas[0] == sigmas[1] else sigmas
        if ksize is not None:
            sizes = _pair("ksize", ksize, check_positive_int)
            ksize = sizes[0] if sizes[0] == sizes[1] else sizes
            for size in sizes:
                _radius_of_size("ksize", size)
            if any(s == 0 and size != 1 for s, size in zip(sigmas, sizes)):
                raise ValueError(
                    "Invalid value for argument `ksize` with sigma=0. Expected None or 1 "
                    f"(no blur) along that axis. Received: ksize={ksize!r}"
                )
        self.ksize = ksize
        self.data_format = _check_data_format(data_format)

    def sigmas(self):
        """The standard deviations `(rows, columns)`."""
        return _pair("sigma", self.sigma, lambda n, v: float(v))

    def radii(self):
        """The kernel's half-widths `(rows, columns)`."""
        if self.ksize is None:
            return tuple(gaussian_radius(s) for s in self.sigmas())
        return _pair("ksize", self.ksize, _radius_of_size)

    def _kernel(self, axis=0):
        """The 1-D float32 taps along `axis` (0: down the rows, 1: along the columns)."""
        sigma, radius = self.sigmas()[axis], self.radii()[axis]
        if radius == 0:
            return np.ones(1, "float32")
        x = np.arange(-radius, radius + 1, dtype="float64")
        phi = np.exp(-0.5 * (x / sigma) ** 2)
        return (phi / phi.sum()).astype("float32")

    def call(self, inputs):
        first = self.data_format == "channels_first"
        channels = inputs.shape[1 if first else -1]
        options = dict(padding="valid", data_format=self.data_format)
        smoothed = inputs
        for axis in (0, 1):
            kernel = self._kernel(axis)
            if kernel.size == 1:
                continue
            shape = (-1, 1) if axis == 0 else (1, -1)
            kernel = np.tile(
                kernel.reshape(shape)[:, :, None, None], (1, 1, channels, 1)
            )
            kernel = ops.convert_to_tensor(kernel, self.compute_dtype)
            smoothed = ops.depthwise_conv(smoothed, kernel, **options)
        return smoothed

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, radius in zip(_spatial_axes(self.data_format), self.radii()):
            shape[axis] = None if shape[axis] is None else shape[axis] - 2 * radius
        return tuple(shape)

    def get_config(self):
        config = {"sigma": self.sigma, "ksize": self.ksize}
        return {**super().get_config(), **config, "data_format": self.data_format}


def _shifted(padded, d_row, d_column, data_format="channels_last"):
    """The view of a 1-pixel padded map moved so that pixel (i, j) holds (i + d_row, j + d_column)."""
    rows = slice(1 + d_row, (d_row - 1) or None)
    columns = slice(1 + d_column, (d_column - 1) or None)
    if data_format == "channels_first":
        return padded[:, :, rows, columns]
    return padded[:, rows, columns, :]


def _check_frame(frame):
    try:
        frame = tuple(
            tuple(float(v) for v in row)
            for row in np.asarray(frame, "float64").tolist()
        )
    except (TypeError, ValueError):
        frame = None
    if frame is None or len(frame) != 2 or any(len(row) != 2 for row in frame):
        raise ValueError(
            f"Invalid value for argument `frame`. Expected a 2x2 matrix. Received: frame={frame!r}"
        )
    return frame


@keras.saving.register_keras_serializable(package="keras_edges")
class GradientOrientation(keras.layers.Layer):
    """The gradient's angle `atan2(grad_y, grad_x)` in radians, in (-pi, pi].

    Angles follow the image axes: 0 points right (a dark-to-bright step from left to
    right), pi/2 points down. `frame` (see `gradient_frame`) first turns the responses of
    a rotated operator such as Roberts' cross into the image gradient.

    Args:
        frame: 2x2 matrix applied to `(grad_x, grad_y)`; the identity by default.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: List `[grad_x, grad_y]` of equal-shape tensors.

    Example:
    >>> grad_x, grad_y = np.full((1, 1, 1, 1), 0.0), np.full((1, 1, 1, 1), 2.0)
    >>> np.asarray(GradientOrientation()([grad_x, grad_y])).ravel()
    array([1.5707964], dtype=float32)
    """

    def __init__(self, frame=((1.0, 0.0), (0.0, 1.0)), **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [keras.layers.InputSpec(ndim=4)] * 2
        self.frame = _check_frame(frame)

    def call(self, inputs):
        (a, b), (c, d) = self.frame
        grad_x, grad_y = inputs
        y = c * grad_x + d * grad_y
        # atan2(-0, x < 0) is -pi: a zero y of either sign becomes +0, so the angle is pi.
        y = ops.where(y == 0, ops.zeros_like(y), y)
        return ops.arctan2(y, a * grad_x + b * grad_y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "frame": self.frame}


# tan(22.5 degrees): OpenCV's Canny sector boundary (tan(67.5) = it + 2).
_TAN_22_5 = 0.4142135623730950488


@keras.saving.register_keras_serializable(package="keras_edges")
class NonMaxSuppression(keras.layers.Layer):
    """Keep the edge magnitude only where it is a maximum along the gradient direction.

    With `interpolate=True` (scikit-image's `canny`), the magnitude is compared with
    the two points one ring step forward and back along the gradient, linearly
    interpolated between the axis neighbour and the diagonal neighbour, and the pixel is
    kept where it is `>=` both. With `interpolate=False` (OpenCV's `Canny`) the
    direction is quantised to 4 sectors of 45 degrees (horizontal, vertical, two
    diagonals) and the pixel is kept where it is `>` the neighbour behind and, along
    the axes, `>=` the one ahead (`>` both along the diagonals), as OpenCV does, which
    keeps plateaus one pixel thick. Outside the image the magnitude counts as 0. Pixels
    of magnitude 0 are never kept.

    Args:
        interpolate: Interpolated (scikit-image) or quantised (OpenCV) directions.
        frame: 2x2 matrix turning `(grad_x, grad_y)` into the image gradient (see
            `gradient_frame`); the identity for axis-aligned operators.
        data_format: `"channels_last"` or `"channels_first"`; None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: List `[grad_x, grad_y, magnitude]` of tensors `(batch, H, W, 1)`
            (channels_first: `(batch, 1, H, W)`).

    Output shape:
        The shape of `magnitude`: the magnitude where kept, 0 elsewhere.

    Example:
    >>> ramp = np.array([[0.0, 1.0, 3.0, 1.0, 0.0]] * 3)[None, :, :, None]
    >>> np.asarray(NonMaxSuppression()([ramp, 0 * ramp, ramp]))[0, 1, :, 0]
    array([0., 0., 3., 0., 0.], dtype=float32)
    """

    def __init__(
        self,
        interpolate=True,
        frame=((1.0, 0.0), (0.0, 1.0)),
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.data_format = _check_data_format(data_format)
        self.input_spec = [keras.layers.InputSpec(ndim=4)] * 3
        if not isinstance(interpolate, bool):
            raise TypeError(
                f"Invalid type for argument `interpolate`. Expected a bool. Received: interpolate={interpolate!r}"
            )
        self.interpolate = interpolate
        self.frame = _check_frame(frame)

    def call(self, inputs):
        (a, b), (c, d) = self.frame
        grad_x, grad_y, magnitude = inputs
        grad_x, grad_y = a * grad_x + b * grad_y, c * grad_x + d * grad_y
        pads = [(0, 0)] * 4
        for axis in _spatial_axes(self.data_format):
            pads[axis] = (1, 1)
        padded = ops.pad(magnitude, pads)
        near = {
            (i, j): _shifted(padded, i, j, self.data_format)
            for i in (-1, 0, 1)
            for j in (-1, 0, 1)
        }
        # Comparisons and selects as float32 arithmetic on 0/1 masks (`_positive`,
        # `_choose`): the same values, and several times faster in TFLite.
        abs_x, abs_y = ops.abs(grad_x), ops.abs(grad_y)
        down, right = 1.0 - _positive(-grad_y), 1.0 - _positive(-grad_x)  # >= 0
        if self.interpolate:
            steep = _positive(abs_y - abs_x)
            largest = ops.maximum(abs_x, abs_y)
            positive = _positive(largest)
            weight = ops.minimum(abs_x, abs_y) / (largest + (1.0 - positive)) * positive
            keep = _positive(magnitude)
            for sign in (1, -1):  # forward, then backward along the gradient
                vertical = _choose(down, near[(sign, 0)], near[(-sign, 0)])
                horizontal = _choose(right, near[(0, sign)], near[(0, -sign)])
                diagonal = _choose(
                    down,
                    _choose(right, near[(sign, sign)], near[(sign, -sign)]),
                    _choose(right, near[(-sign, sign)], near[(-sign, -sign)]),
                )
                axis = _choose(steep, vertical, horizontal)
                between = axis * (1.0 - weight) + diagonal * weight
                keep = keep * (1.0 - _positive(between - magnitude))  # m >= between
        else:
            flat = _positive(_TAN_22_5 * abs_x - abs_y)
            steep = _positive(abs_y - (_TAN_22_5 + 2.0) * abs_x)

            def beats(i, j, ties=False):
                """Whether the magnitude is > its neighbour (i, j) (>= with `ties`)."""
                if ties:
                    return 1.0 - _positive(near[(i, j)] - magnitude)
                return _positive(magnitude - near[(i, j)])

            along_x = beats(0, -1) * beats(0, 1, ties=True)
            along_y = beats(-1, 0) * beats(1, 0, ties=True)
            falling = beats(-1, -1) * beats(1, 1)
            rising = beats(-1, 1) * beats(1, -1)
            # OpenCV: s = -1 where the signs of gx and gy differ
            same_sign = _choose(down, right, 1.0 - right)
            diagonal = _choose(same_sign, falling, rising)
            keep = _choose(flat, along_x, _choose(steep, along_y, diagonal))
            keep = keep * _positive(magnitude)
        return magnitude * keep

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[2])

    def get_config(self):
        return {
            **super().get_config(),
            "interpolate": self.interpolate,
            "frame": self.frame,
            "data_format": self.data_format,
        }


# float32 holds every integer up to 2**24: up to there, block labels are compared as
# float32 keys (the arithmetic every runtime vectorises, TFLite's included).
_FLOAT_EXACT = 2**24


def _blocks(mask):
    """The 2x2 blocks of pixels of a `(N, H, W)` map, framed by empty blocks.

    The map is padded with 2 zero pixels before and 2 or 3 after each axis (to an even
    size); returns the `(N, h, w)` maps of each block's top-left, top-right, bottom-left
    and bottom-right pixel: block `(i, j)` holds pixels `2i - 2 .. 2i - 1` and
    `2j - 2 .. 2j - 1`, and the first and last row and column of blocks are empty.
    """
    shape = ops.shape(mask)
    padded = ops.pad(mask, ((0, 0), (2, 3), (2, 3)))
    padded = padded[:, : (shape[1] + 5) // 2 * 2, : (shape[2] + 5) // 2 * 2]
    return tuple(padded[:, i::2, j::2] for i in (0, 1) for j in (0, 1))


def _components(corners, steps=1):
    """Label the 8-connected components of a weak map, given as its `_blocks` `corners`.

    `corners` are the four float32 maps of `_blocks` (1.0 where weak, else 0.0). The
    labels live on these 2x2 blocks (the weak pixels of one block touch each other), a
    quarter as many as pixels; two neighbouring blocks are joined when a weak pixel of
    one touches a weak pixel of the other. Returns `(pointers, rounds)`:
    `pointers` is the flat int32 vector of length `N * h * w + 1` (blocks in row-major
    order, then a sentinel) in which each block holding a weak pixel holds the smallest
    flat index of its component and every other entry holds the sentinel `N * h * w`;
    `rounds` counts the hooking rounds that changed something. See `Hysteresis`.
    """
    a, b, c, d = corners
    width = ops.shape(a)[2]
    left, right, top, bottom = (
        ops.maximum(*pair) for pair in ((a, c), (b, d), (a, b), (c, d))
    )
    occupied = ops.reshape(ops.maximum(left, right), (-1,))
    count = ops.shape(occupied)[0]  # a Python int where shapes are static: jax.jit
    size = ops.cast(count, "int32")
    sentinel = ops.reshape(size, (1,))

    def shifted(vector, offset):
        """`vector[i + offset]` at each i, zero past the ends (`|offset| <= width + 1`).

        The frame of empty blocks makes this the block `offset` away in the grid, in the
        same image, for every block that holds a weak pixel.
        """
        edge = ops.zeros_like(vector[: width + 1])
        padded = ops.concatenate([edge, vector, edge], axis=0)
        return padded[width + 1 + offset : width + 1 + offset + count]

    # (offset, joined): the block at i is joined to the block at i + offset where
    # `joined[i]` is 1: the facing columns, rows or corners both hold a weak pixel.
    flat = lambda x: ops.reshape(x, (-1,))  # noqa: E731
    joins = [
        (offset, flat(near) * shifted(flat(far), offset))
        for offset, near, far in (
            (1, right, left),
            (width, bottom, top),
            (width + 1, d, a),
            (width - 1, c, b),
        )
    ]
    joins += [(-offset, shifted(joined, -offset)) for offset, joined in joins]

    def shorten(pointers):
        def body(pointers, changed):
            jumped = pointers
            for _ in range(steps):
                jumped = ops.take(jumped, jumped)
            return jumped, ops.any(jumped != pointers)

        pointers, _ = ops.while_loop(
            lambda pointers, changed: changed,
            body,
            (pointers, ops.convert_to_tensor(True)),
            maximum_iterations=size,
        )
        return pointers

    def largest_near(keys, dtype):
        """The largest key among each block's own and its joined neighbours' keys."""
        keys = ops.cast(keys, dtype)
        best = keys
        for offset, joined in joins:
            best = ops.maximum(best, shifted(keys, offset) * ops.cast(joined, dtype))
        return ops.cast(best, "int32")

    def body(pointers, rounds, changed):
        # Pointers are roots here: labels. A label's key `size - label` is >= 1 on a
        # weak block and 0 elsewhere (the sentinel), so the largest key is the
        # smallest label, and an empty neighbour never wins.
        keys = size - pointers[:-1]
        near = ops.cond(
            size <= _FLOAT_EXACT,
            lambda: largest_near(keys, "float32"),
            lambda: largest_near(keys, "int32"),
        )
        # The largest `near` key of each tree (>= 0): an empty segment (a non-root) is
        # then 0 on every backend once clipped, where `segment_max` fills it with
        # int32's min (TensorFlow, JAX) or max (PyTorch).
        # num_segments from the static shape: JAX needs a concrete number there.
        segments = ops.shape(pointers)[0]
        keys = ops.segment_max(near, pointers[:-1], num_segments=segments)
        hooked = ops.minimum(pointers, size - ops.maximum(keys, 0))
        return shorten(hooked), rounds + 1, ops.any(hooked != pointers)

    pointers = ops.concatenate(
        [ops.where(occupied > 0, ops.arange(count, dtype="int32"), size), sentinel],
        axis=0,
    )
    pointers, rounds, _ = ops.while_loop(
        lambda pointers, rounds, changed: changed,
        body,
        (pointers, ops.convert_to_tensor(0, "int32"), ops.convert_to_tensor(True)),
        maximum_iterations=size,
    )
    return pointers, rounds - 1


def _above(suppressed, threshold):
    """1.0 where `suppressed > 0 and suppressed >= threshold`, else 0.0 (float32)."""
    at_least = 1.0 - _positive(threshold - suppressed)
    if isinstance(threshold, float) and threshold > 0:
        return at_least
    return _positive(suppressed) * at_least


def _connected_to(weak, strong, steps=1):
    """The weak pixels whose 8-connected component of `weak` holds a `strong` pixel.

    `weak` and `strong` are float32 maps of 0.0 and 1.0, `strong` within `weak`. The
    arithmetic is on their sum (0, 1 weak, 2 strong), cheaper than comparisons and bool
    logic in some runtimes (TFLite).
    """
    classes = weak[..., 0] + strong[..., 0]
    corners = _blocks(classes)
    pointers, _ = _components([ops.minimum(x, 1.0) for x in corners], steps)
    seeds = ops.reshape(ops.relu(ops.max(ops.stack(corners), axis=0) - 1.0), (-1,))
    kept = ops.segment_max(seeds, pointers[:-1], num_segments=ops.shape(pointers)[0])
    # Each pixel takes its block's answer (a block is 2x2 pixels, the first ring of
    # blocks is the frame of `_blocks`), where it is weak itself.
    shape = ops.shape(classes)
    rows, columns = (shape[1] + 5) // 2, (shape[2] + 5) // 2
    edges = ops.reshape(ops.take(kept, pointers[:-1]), (-1, rows, 1, columns, 1))
    edges = ops.reshape(
        ops.broadcast_to(edges, (shape[0], rows, 2, columns, 2)),
        (shape[0], 2 * rows, 2 * columns),
    )
    edges = edges[:, 2 : shape[1] + 2, 2 : shape[2] + 2] * ops.minimum(classes, 1.0)
    return ops.expand_dims(ops.cast(edges, "bool"), -1)


@keras.saving.register_keras_serializable(package="keras_edges")
class Hysteresis(keras.layers.Layer):
    """Canny's double threshold and edge tracking, inside the graph.

    Strong pixels (`suppressed >= high`) are edges; weak pixels (`suppressed >= low`)
    are edges when 8-connected to a strong pixel through weak pixels. The connected
    components of the weak map are found inside the graph on 2x2 blocks of pixels (the
    weak pixels of a block touch each other; two blocks are joined where their weak
    pixels touch), a quarter as many labels, by label propagation with pointer
    jumping (Shiloach and Vishkin, 1982): every weak block points to a block of its
    component, at first itself; each round, every tree of pointers is hooked
    onto the smallest root seen next to any of its pixels, and then the pointers are
    shortened (`p = p[p]`) until each points to its root. Every round merges each tree
    that has a smaller neighbour, so a chain of length L is one tree after O(log L)
    rounds (not L, as a loop of dilations needs). A round that changes nothing ends
    the loop, each changing round merges at least two trees, and both loops also get
    that bound, so they terminate on any input. A component is kept when it holds a
    strong pixel. The smallest root nearby is found with float32 keys where they are
    exact (up to 2**24 blocks; int32 beyond): TFLite vectorises float32 arithmetic only.

    Thresholds are absolute (in the magnitude's units) or, with `use_quantiles=True`,
    quantiles in [0, 1] of each image's gradient magnitude before suppression, as
    scikit-image's `canny(use_quantiles=True)`.

    Args:
        low: Weak threshold.
        high: Strong threshold, `>= low`.
        use_quantiles: Whether `low` and `high` are quantiles.
        steps: Pointer jumps per convergence check of the shortening loop, >= 1.
        data_format: `"channels_last"` or `"channels_first"`; None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: List `[suppressed, magnitude]` of tensors `(batch, H, W, 1)`: the output
            of `NonMaxSuppression` and the magnitude it suppressed (used for quantiles).

    Output shape:
        The shape of `suppressed`, dtype bool.

    Example:
    >>> line = np.array([[0.0, 0.5, 0.5, 0.5, 2.0, 0.0, 0.5, 0.5]])[None, :, :, None]
    >>> np.asarray(Hysteresis(low=0.4, high=1.0)([line, line])).ravel().astype(int)
    array([0, 1, 1, 1, 1, 0, 0, 0])
    """

    def __init__(
        self,
        low=0.1,
        high=0.2,
        use_quantiles=False,
        steps=1,
        data_format=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.data_format = _check_data_format(data_format)
        self.input_spec = [keras.layers.InputSpec(ndim=4)] * 2
        if not isinstance(use_quantiles, bool):
            raise TypeError(
                f"Invalid type for argument `use_quantiles`. Expected a bool. Received: use_quantiles={use_quantiles!r}"
            )
        bound = 1.0 if use_quantiles else None
        self.low = check_number("low", low, low=0.0, high=bound)
        self.high = check_number("high", high, low=0.0, high=bound)
        if self.high < self.low:
            raise ValueError(
                "Invalid value for argument `high`. Expected high >= low. "
                f"Received: low={self.low!r}, high={self.high!r}"
            )
        self.use_quantiles = use_quantiles
        self.steps = check_positive_int("steps", steps)

    def _weak_and_strong(self, inputs):
        """The float 0/1 maps of `suppressed >= low` and `>= high` (and > 0)."""
        suppressed, magnitude = inputs
        if self.use_quantiles:
            low = ops.quantile(magnitude, self.low, axis=(1, 2, 3), keepdims=True)
            high = ops.quantile(magnitude, self.high, axis=(1, 2, 3), keepdims=True)
        else:
            low, high = self.low, self.high
        return _above(suppressed, low), _above(suppressed, high)

    def call(self, inputs):
        weak, strong = self._weak_and_strong(inputs)
        if self.data_format == "channels_first":  # (N, 1, H, W): label as (N, H, W, 1)
            weak, strong = ops.moveaxis(weak, 1, -1), ops.moveaxis(strong, 1, -1)
            return ops.moveaxis(_connected_to(weak, strong, self.steps), -1, 1)
        return _connected_to(weak, strong, self.steps)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs[0].shape, dtype="bool")

    def get_config(self):
        return {
            **super().get_config(),
            "low": self.low,
            "high": self.high,
            "use_quantiles": self.use_quantiles,
            "steps": self.steps,
            "data_format": self.data_format,
        }


@keras.saving.register_keras_serializable(package="keras_edges")
class DoubleThreshold(Hysteresis):
    """Canny's double threshold without the edge tracking: 0, 0.5 (weak) or 1 (strong).

    The map that kornia's `canny(hysteresis=False)` returns: `0.5 * (suppressed >= low)
    + 0.5 * (suppressed >= high)`, for pixels with a non-zero suppressed magnitude.
    (kornia's comparisons are strict, `>`; ours are `>=`, as scikit-image's and
    `Hysteresis`.) Same arguments as `Hysteresis` (`steps` is unused).

    Call arguments:
        inputs: List `[suppressed, magnitude]`, as `Hysteresis`.

    Output shape:
        The shape of `suppressed`, float.

    Example:
    >>> line = np.array([[0.0, 0.5, 0.5, 0.5, 2.0, 0.0, 0.5, 0.5]])[None, :, :, None]
    >>> np.asarray(DoubleThreshold(low=0.4, high=1.0)([line, line])).ravel()
    array([0. , 0.5, 0.5, 0.5, 1. , 0. , 0.5, 0.5], dtype=float32)
    """

    def call(self, inputs):
        weak, strong = self._weak_and_strong(inputs)
        return 0.5 * (weak + strong)

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs[0].shape, dtype=self.compute_dtype)
