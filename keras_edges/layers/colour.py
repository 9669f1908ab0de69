"""Colour edges: one magnitude from the gradients of every channel."""

from __future__ import annotations

import keras
from keras import ops

from keras_edges.kernels import MAGNITUDES
from keras_edges.layers._common import _check_data_format, _positive
from keras_edges.validation import check_choice

__all__ = ["COLOUR_MODES", "ColourMagnitude"]

# How a colour image's edge strength is found: from its luminance (one gradient), the
# largest channel gradient, or Di Zenzo's structure tensor of all channels.
COLOUR_MODES = ("luminance", "max", "di_zenzo")


def _root(squared):
    """`sqrt(squared)` with a finite (zero) gradient where `squared` is 0."""
    positive = _positive(squared)
    return ops.sqrt(squared + (1.0 - positive)) * positive


@keras.saving.register_keras_serializable(package="keras_edges")
class ColourMagnitude(keras.layers.Layer):
    """Combine per-channel gradients `[grad_x, grad_y]` of shape `(..., C)` into one edge map.

    - `"max"`: each channel's magnitude (`norm`: `"l1"` or `"l2"`), then the largest
      over the channels (the colour-edge literature's "maximum gradient").
    - `"di_zenzo"`: the square root of the largest eigenvalue of the colour structure
      tensor `[[sum gx**2, sum gx*gy], [sum gx*gy, sum gy**2]]` (sums over channels):
      the largest rate of change of the colour vector over directions, `sqrt((a + c +
      sqrt((a - c)**2 + 4 b**2)) / 2)`. For one channel it is the L2 magnitude. It
      ignores `norm`.

    A boundary between two colours of equal luminance has no luminance gradient but a
    gradient in the channels: both modes see it.

    Reference:
        Di Zenzo, S. (1986). A note on the gradient of a multi-image. Computer Vision,
        Graphics, and Image Processing 33(1), 116-125.

    Args:
        mode: `"max"` or `"di_zenzo"`.
        norm: Each channel's magnitude for `"max"`: `"l1"` or `"l2"`.
        data_format: `"channels_last"` or `"channels_first"`; None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: List `[grad_x, grad_y]` of equal-shape tensors `(batch, H, W, C)`.

    Output shape:
        `(batch, H, W, 1)` (channels_first: `(batch, 1, H, W)`).

    Example:
    >>> grad_x = np.array([3.0, 0.0, 0.0]).reshape(1, 1, 1, 3)
    >>> grad_y = np.array([0.0, 4.0, 0.0]).reshape(1, 1, 1, 3)
    >>> np.asarray(ColourMagnitude("max", "l2")([grad_x, grad_y])).ravel()
    array([4.], dtype=float32)
    >>> np.asarray(ColourMagnitude("di_zenzo")([grad_x, grad_y])).ravel()
    array([4.], dtype=float32)
    """

    def __init__(self, mode="di_zenzo", norm="l2", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [keras.layers.InputSpec(ndim=4)] * 2
        self.mode = check_choice("mode", mode, COLOUR_MODES[1:])
        self.norm = check_choice("norm", norm, MAGNITUDES)
        self.data_format = _check_data_format(data_format)

    def call(self, inputs):
        grad_x, grad_y = inputs
        axis = 1 if self.data_format == "channels_first" else -1
        if self.mode == "max":
            if self.norm == "l1":
                each = ops.abs(grad_x) + ops.abs(grad_y)
            else:
                each = _root(ops.square(grad_x) + ops.square(grad_y))
            return ops.max(each, axis=axis, keepdims=True)
        a = ops.sum(ops.square(grad_x), axis=axis, keepdims=True)
        b = ops.sum(grad_x * grad_y, axis=axis, keepdims=True)
        c = ops.sum(ops.square(grad_y), axis=axis, keepdims=True)
        spread = _root(ops.square(a - c) + 4.0 * ops.square(b))
        return _root(ops.relu(0.5 * (a + c + spread)))

    def compute_output_shape(self, input_shape):
        shape = list(input_shape[0])
        shape[1 if self.data_format == "channels_first" else -1] = 1
        return tuple(shape)

    def get_config(self):
        config = dict(mode=self.mode, norm=self.norm, data_format=self.data_format)
        return {**super().get_config(), **config}
