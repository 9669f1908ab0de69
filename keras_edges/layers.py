"""Registered Keras layers of the edge models: border padding and gradient magnitude.

Every layer is registered under the package name ``keras_edges``, so a saved model loads
with ``keras.saving.load_model(path)`` in safe mode once ``keras_edges`` is imported.
"""

from __future__ import annotations

import keras
from keras import ops

from keras_edges.kernels import MAGNITUDES, PADDING_MODES, _check_choice

__all__ = ["BorderPadding", "GradientMagnitude", "ZeroSum"]

def _source_indices(size, before, after, mode):
    """Indices into an axis of length `size` that build its padded version."""
    index = ops.arange(-before, size + after)
    last = size - 1
    if mode == "replicate":
        return ops.clip(index, 0, last)
    if mode == "symmetric":
        folded = ops.mod(index, 2 * size)
        return ops.where(folded < size, folded, 2 * size - 1 - folded)
    # reflect: period 2 * (size - 1); an axis of length 1 can only repeat itself.
    period = ops.maximum(2 * last, 1)
    folded = ops.mod(index, period)
    return ops.minimum(ops.where(folded < size, folded, period - folded), last)


@keras.saving.register_keras_serializable(package="keras_edges")
class BorderPadding(keras.layers.Layer):
    """Pad the height and width of an NHWC tensor so that a `valid` convolution keeps its size.

    Unlike `Conv2D(padding="same")`, which pads with zeros and so invents edges along the
    frame, the default `"reflect"` mode mirrors the image about its border pixels
    (OpenCV's `BORDER_REFLECT_101`, scipy's `mirror`), so a flat image stays flat up to
    the border. Any image size works, even one smaller than the padding.

    Args:
        pad_width: Pixels added on each side, an int or `((top, bottom), (left, right))`.
        mode: One of `PADDING_MODES`: `"reflect"`, `"symmetric"`, `"replicate"`,
            `"zeros"` or `"valid"` (no padding).
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A tensor of shape `(batch, height, width, channels)`.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, height + top + bottom, width + left + right, channels)`; unchanged for
        `mode="valid"`.

    Example:
    >>> row = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3, 1)
    >>> np.asarray(BorderPadding(((0, 0), (2, 2)))(row))[0, 0, :, 0]
    array([3., 2., 1., 2., 3., 2., 1.], dtype=float32)
    """

    def __init__(self, pad_width=1, mode="reflect", **kwargs):
        super().__init__(**kwargs)
        _check_choice("mode", mode, PADDING_MODES)
        if isinstance(pad_width, int):
            pad_width = ((pad_width, pad_width), (pad_width, pad_width))
        try:
            pad_width = tuple(tuple(int(p) for p in pair) for pair in pad_width)
        except (TypeError, ValueError):
            pad_width = None
        if (
            pad_width is None
            or len(pad_width) != 2
            or any(len(pair) != 2 or min(pair) < 0 for pair in pad_width)
        ):
            raise ValueError(
                "Invalid value for argument `pad_width`. Expected a non-negative int or "
                f"((top, bottom), (left, right)). Received: pad_width={pad_width!r}"
            )
        self.pad_width = pad_width
        self.mode = mode

    def call(self, inputs):
        if self.mode == "valid":
            return inputs
        (top, bottom), (left, right) = self.pad_width
        if self.mode == "zeros":
            return ops.pad(inputs, ((0, 0), (top, bottom), (left, right), (0, 0)))
        height, width = ops.shape(inputs)[1], ops.shape(inputs)[2]
        rows = _source_indices(height, top, bottom, self.mode)
        columns = _source_indices(width, left, right, self.mode)
        return ops.take(ops.take(inputs, rows, axis=1), columns, axis=2)

    def compute_output_shape(self, input_shape):
        if self.mode == "valid":
            return tuple(input_shape)
        batch, height, width, channels = input_shape
        (top, bottom), (left, right) = self.pad_width
        height = None if height is None else height + top + bottom
        width = None if width is None else width + left + right
        return (batch, height, width, channels)

    def get_config(self):
        return {**super().get_config(), "pad_width": self.pad_width, "mode": self.mode}


@keras.saving.register_keras_serializable(package="keras_edges")
class GradientMagnitude(keras.layers.Layer):
    """Combine two gradient maps into an edge magnitude.

    `"l1"` is `|grad_x| + |grad_y|` (the seed notebook's); `"l2"` is the Euclidean
    `sqrt(grad_x**2 + grad_y**2)`, written so that its gradient is finite (zero) where
    both inputs are zero, so a trainable model never sees NaN on flat regions.

    Args:
        norm: `"l1"` or `"l2"`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: List `[grad_x, grad_y]` of equal-shape tensors `(batch, H, W, C)`.

    Output shape:
        The shape of `grad_x`.

    Example:
    >>> grad_x, grad_y = np.full((1, 1, 1, 1), 3.0), np.full((1, 1, 1, 1), -4.0)
    >>> np.asarray(GradientMagnitude()([grad_x, grad_y]))
    array([[[[7.]]]], dtype=float32)
    >>> np.asarray(GradientMagnitude(norm="l2")([grad_x, grad_y]))
    array([[[[5.]]]], dtype=float32)
    """

    def __init__(self, norm="l1", **kwargs):
        super().__init__(**kwargs)
        _check_choice("norm", norm, MAGNITUDES)
        self.norm = norm

    def call(self, inputs):
        grad_x, grad_y = inputs
        if self.norm == "l1":
            return ops.abs(grad_x) + ops.abs(grad_y)
        squared = ops.square(grad_x) + ops.square(grad_y)
        positive = squared > 0
        # The inner `where` keeps sqrt's derivative away from 0 (where it is infinite).
        return ops.where(positive, ops.sqrt(ops.where(positive, squared, 1.0)), 0.0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "norm": self.norm}


@keras.saving.register_keras_serializable(package="keras_edges")
class ZeroSum(keras.constraints.Constraint):
    """Constrain a kernel to sum to zero over its spatial axes (no DC component).

    A gradient operator gives zero on a constant image, so its kernel sums to zero
    (Sobel, Scharr and Prewitt all do). After each optimizer step this constraint
    subtracts from every `(input channel, filter)` slice of a `(kh, kw, in, out)`
    kernel its mean over `kh x kw`: the Euclidean projection onto zero-sum kernels. It
    keeps a learned filter from collapsing into a constant (DC) kernel, and makes the
    model blind to the mean of its input, so mean-subtracted training crops change
    nothing but the conditioning. Registered, so saved models load in safe mode.

    Example:
    >>> kernel = np.array([[1.0, 2.0], [3.0, 6.0]], "float32")[:, :, None, None]
    >>> np.asarray(ZeroSum()(kernel))[:, :, 0, 0]
    array([[-2., -1.],
           [ 0.,  3.]], dtype=float32)
    """

    def __call__(self, w):
        return w - ops.mean(w, axis=(0, 1), keepdims=True)

    def get_config(self):
        return {}
