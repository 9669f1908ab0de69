"""The gradient model's layers: border padding, gradient magnitude, the zero-sum constraint."""

from __future__ import annotations

import keras
from keras import ops

from keras_edges.kernels import MAGNITUDES, PADDING_MODES
from keras_edges.layers._common import _check_data_format, _positive, _spatial_axes
from keras_edges.validation import check_choice

__all__ = ["BorderPadding", "GradientMagnitude", "ZeroSum"]


def _source_indices(size, before, after, mode):
    """Indices into an axis of length `size` that build its padded version."""
    index = ops.arange(-before, size + after)
    last = size - 1
    if mode == "replicate":
        return ops.clip(index, 0, last)
    # `mod` only sees non-negative numbers (index + before * period >= 0): converters
    # disagree on the sign of a negative remainder (tf2onnx's ONNX graph took it from
    # the dividend, which padded the top and left borders with the wrong rows).
    if mode == "symmetric":
        folded = ops.mod(index + before * 2 * size, 2 * size)
        return ops.where(folded < size, folded, 2 * size - 1 - folded)
    # reflect: period 2 * (size - 1); an axis of length 1 can only repeat itself.
    period = ops.maximum(2 * last, 1)
    folded = ops.mod(index + before * period, period)
    return ops.minimum(ops.where(folded < size, folded, period - folded), last)


@keras.saving.register_keras_serializable(package="keras_edges")
class BorderPadding(keras.layers.Layer):
    """Pad the height and width of an image tensor so that a `valid` convolution keeps its size.

    Unlike `Conv2D(padding="same")`, which pads with zeros and so invents edges along the
    frame, the default `"reflect"` mode mirrors the image about its border pixels
    (OpenCV's `BORDER_REFLECT_101`, scipy's `mirror`), so a flat image stays flat up to
    the border. Any image size works, even one smaller than the padding.

    Args:
        pad_width: Pixels added on each side, an int or `((top, bottom), (left, right))`.
        mode: One of `PADDING_MODES`: `"reflect"`, `"symmetric"`, `"replicate"`,
            `"zeros"` or `"valid"` (no padding).
        data_format: `"channels_last"` (`(batch, height, width, channels)`) or
            `"channels_first"` (`(batch, channels, height, width)`); None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A 4-D tensor in `data_format`.

    Input shape:
        `(batch, height, width, channels)` (channels_first: channels before height).

    Output shape:
        `(batch, height + top + bottom, width + left + right, channels)`; unchanged for
        `mode="valid"`.

    Example:
    >>> row = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3, 1)
    >>> np.asarray(BorderPadding(((0, 0), (2, 2)))(row))[0, 0, :, 0]
    array([3., 2., 1., 2., 3., 2., 1.], dtype=float32)
    """

    def __init__(self, pad_width=1, mode="reflect", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        check_choice("mode", mode, PADDING_MODES)
        self.data_format = _check_data_format(data_format)
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
        row_axis, column_axis = _spatial_axes(self.data_format)
        if self.mode == "zeros":
            pads = [(0, 0)] * 4
            pads[row_axis], pads[column_axis] = self.pad_width
            return ops.pad(inputs, pads)
        (top, bottom), (left, right) = self.pad_width
        shape = ops.shape(inputs)
        rows = _source_indices(shape[row_axis], top, bottom, self.mode)
        columns = _source_indices(shape[column_axis], left, right, self.mode)
        rows_taken = ops.take(inputs, rows, axis=row_axis)
        return ops.take(rows_taken, columns, axis=column_axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if self.mode == "valid":
            return tuple(shape)
        for axis, pads in zip(_spatial_axes(self.data_format), self.pad_width):
            shape[axis] = None if shape[axis] is None else shape[axis] + sum(pads)
        return tuple(shape)

    def get_config(self):
        config = {"pad_width": self.pad_width, "mode": self.mode}
        return {**super().get_config(), **config, "data_format": self.data_format}


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
        self.input_spec = [keras.layers.InputSpec(ndim=4)] * 2
        check_choice("norm", norm, MAGNITUDES)
        self.norm = norm

    def call(self, inputs):
        grad_x, grad_y = inputs
        if self.norm == "l1":
            return ops.abs(grad_x) + ops.abs(grad_y)
        squared = ops.square(grad_x) + ops.square(grad_y)
        positive = _positive(squared)
        # sqrt's derivative is infinite at 0: there the root is taken of 1, times 0.
        return ops.sqrt(squared + (1.0 - positive)) * positive

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
        w = ops.convert_to_tensor(w)  # NumPy minus a torch tensor is a TypeError
        return w - ops.mean(w, axis=(0, 1), keepdims=True)

    def get_config(self):
        return {}
