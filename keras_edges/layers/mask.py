"""Masks: compute edges only inside a region, as scikit-image does.

scikit-image's rule (`filters.sobel(image, mask)`, `feature.canny(image, mask=...)`):
the mask is eroded by one pixel with a 3x3 square, the image's frame counting as
outside (`binary_erosion(mask, ones((3, 3)), border_value=0)`), so no pixel whose
stencil touches a masked-out pixel (or the frame) gives an edge; outside, the result
is 0. Canny also smooths only the pixels inside the mask (a normalised convolution:
`blur(image * mask) / (blur(mask) + eps)`), so a masked-out region does not bleed in.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_edges.layers._common import _check_data_format, _spatial_axes
from keras_edges.layers.canny import GaussianBlur, _shifted

__all__ = ["MaskErosion", "MaskedGaussianBlur"]


@keras.saving.register_keras_serializable(package="keras_edges")
class MaskErosion(keras.layers.Layer):
    """Erode a 0/1 mask by one pixel with a 3x3 square; the frame counts as outside.

    Computes `scipy.ndimage.binary_erosion(mask, np.ones((3, 3)), border_value=0)` as a
    float 0/1 map: 1 where the pixel and its 8 neighbours are all inside the mask.

    Args:
        data_format: `"channels_last"` or `"channels_first"`; None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A mask tensor `(batch, H, W, 1)`, non-zero inside.

    Example:
    >>> mask = np.ones((1, 4, 5, 1), "float32")
    >>> np.asarray(MaskErosion()(mask))[0, :, :, 0]
    array([[0., 0., 0., 0., 0.],
           [0., 1., 1., 1., 0.],
           [0., 1., 1., 1., 0.],
           [0., 0., 0., 0., 0.]], dtype=float32)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        self.data_format = _check_data_format(data_format)

    def call(self, inputs):
        inside = ops.cast(ops.not_equal(inputs, 0), self.compute_dtype)
        pads = [(0, 0)] * 4
        for axis in _spatial_axes(self.data_format):
            pads[axis] = (1, 1)
        padded = ops.pad(inside, pads)  # the frame is outside
        eroded = inside
        for i in (-1, 0, 1):
            for j in (-1, 0, 1):
                eroded = ops.minimum(eroded, _shifted(padded, i, j, self.data_format))
        return eroded

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


@keras.saving.register_keras_serializable(package="keras_edges")
class MaskedGaussianBlur(GaussianBlur):
    """A Gaussian blur of the pixels inside a mask only (normalised convolution).

    `blur(image * mask) / (blur(mask) + eps)`, with float32's `eps`: inside the mask a
    weighted mean of the masked-in pixels only; 0 where no masked-in pixel is within
    reach. scikit-image's `canny(mask=...)` smoothing. Same arguments as
    `GaussianBlur`; pad both inputs by `radii()` first.

    Call arguments:
        inputs: List `[image, mask]`, the mask `(batch, H, W, 1)` (0/1) broadcast over
            the image's channels.

    Example:
    >>> image = np.array([[1.0, 1.0, 9.0]])[None, :, :, None]
    >>> mask = np.array([[1.0, 1.0, 0.0]])[None, :, :, None]
    >>> blur = MaskedGaussianBlur(sigma=(0.0, 1.0), ksize=(1, 3))
    >>> np.round(np.asarray(blur([image, mask])).ravel(), 6)  # 9 is outside the mask
    array([1.], dtype=float32)
    """

    def __init__(self, sigma=1.0, ksize=None, data_format=None, **kwargs):
        super().__init__(sigma, ksize=ksize, data_format=data_format, **kwargs)
        self.input_spec = [keras.layers.InputSpec(ndim=4)] * 2

    def call(self, inputs):
        image, mask = inputs
        mask = ops.cast(ops.not_equal(mask, 0), self.compute_dtype)
        blurred = super().call(image * mask)
        weight = super().call(mask)
        return blurred / (weight + float(np.finfo(np.float32).eps))

    def compute_output_shape(self, input_shape):
        return super().compute_output_shape(input_shape[0])
