"""The second-derivative family's layers: Laplacian of Gaussian, XDoG's threshold, zero crossings.

The plain Laplacian is a bias-free `Conv2D` with a kernel of `LAPLACIANS` and the
difference of Gaussians two `GaussianBlur` branches and a `Subtract`: they need no layer
of their own (see `build_laplacian_model`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_edges.layers._common import _check_data_format, _positive, _spatial_axes
from keras_edges.layers.canny import _shifted, gaussian_radius
from keras_edges.validation import check_number

__all__ = ["LaplacianOfGaussian", "XDoGThreshold", "ZeroCrossings"]


def _gaussian_taps(sigma: float, order: int = 0) -> np.ndarray:
    """scipy's `_gaussian_kernel1d(sigma, order, radius=int(4 * sigma + 0.5))`, float64.

    Order 0 is the normalised Gaussian `phi`; order 2 is `phi * (x**2 / sigma**4 - 1 /
    sigma**2)`, its second derivative (symmetric, so correlation and convolution agree).
    """
    radius = gaussian_radius(sigma)
    x = np.arange(-radius, radius + 1, dtype="float64")
    phi = np.exp(-0.5 * (x / sigma) ** 2)
    phi /= phi.sum()
    if order == 0:
        return phi
    return phi * (x**2 / sigma**4 - 1.0 / sigma**2)


@keras.saving.register_keras_serializable(package="keras_edges")
class LaplacianOfGaussian(keras.layers.Layer):
    """The Laplacian of the Gaussian-smoothed image, per channel, without padding.

    Computes what `scipy.ndimage.gaussian_laplace` computes (and scikit-image's
    `blob_log` uses): `d2/dy2 + d2/dx2` of the image convolved with a Gaussian of
    standard deviation `sigma`, each term separable (the Gaussian's sampled second
    derivative along one axis, the normalised Gaussian along the other, truncated at
    `gaussian_radius(sigma)`). Negative on a bright blob. As scipy's, the truncated
    kernel sums to a small negative number (-1.4e-4 for sigma=1), not 0: a flat
    image of value v gives that times v.
    The layer convolves in `valid` mode: put a `BorderPadding(gaussian_radius(sigma))`
    in front of it (scipy's default border, `"reflect"`, is our `"symmetric"`).

    Reference:
        Marr, D. and Hildreth, E. (1980). Theory of edge detection. Proc. R. Soc. Lond.
        B 207, 187-217.

    Args:
        sigma: Standard deviation in pixels, > 0.
        data_format: `"channels_last"` or `"channels_first"`; None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A 4-D tensor in `data_format`.

    Output shape:
        `(batch, height - 2 * radius, width - 2 * radius, channels)`.

    Example:
    >>> dot = np.zeros((1, 9, 9, 1), "float32"); dot[0, 4, 4] = 1
    >>> response = np.asarray(LaplacianOfGaussian(1.0)(dot))
    >>> response.shape, round(float(response[0, 0, 0, 0]), 6)
    ((1, 1, 1, 1), -0.318312)
    """

    def __init__(self, sigma=1.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        self.sigma = check_number("sigma", sigma, low=0.0, low_open=True)
        self.data_format = _check_data_format(data_format)

    def call(self, inputs):
        first = self.data_format == "channels_first"
        channels = inputs.shape[1 if first else -1]
        options = dict(padding="valid", data_format=self.data_format)

        def conv(image, taps, axis):
            shape = (-1, 1) if axis == 0 else (1, -1)
            kernel = np.tile(taps.reshape(shape)[:, :, None, None], (1, 1, channels, 1))
            kernel = ops.convert_to_tensor(kernel.astype("float32"), self.compute_dtype)
            return ops.depthwise_conv(image, kernel, **options)

        smooth, second = _gaussian_taps(self.sigma), _gaussian_taps(self.sigma, 2)
        along_rows = conv(conv(inputs, second, 0), smooth, 1)
        along_columns = conv(conv(inputs, smooth, 0), second, 1)
        return along_rows + along_columns

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shrink = 2 * gaussian_radius(self.sigma)
        for axis in _spatial_axes(self.data_format):
            shape[axis] = None if shape[axis] is None else shape[axis] - shrink
        return tuple(shape)

    def get_config(self):
        config = {"sigma": self.sigma, "data_format": self.data_format}
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="keras_edges")
class XDoGThreshold(keras.layers.Layer):
    """XDoG: sharpen with a difference of Gaussians, then threshold softly.

    Winnemöller's extended difference of Gaussians (2012, eq. 5 and 7): from the two
    blurred images `[g_small, g_large]` (standard deviations sigma and k * sigma), the
    sharpened image `s = (1 + p) * g_small - p * g_large`, then `1` where `s >=
    epsilon` and `1 + tanh(phi * (s - epsilon))` below: white paper with soft dark
    lines, the look of a pen sketch. Large `phi` makes the lines hard-edged.

    Reference:
        Winnemöller, H., Kyprianidis, J. E. and Olsen, S. C. (2012). XDoG: An eXtended
        difference-of-Gaussians compendium including advanced image stylization.
        Computers & Graphics 36(6), 740-753.

    Args:
        sharpness: `p`, the weight of the difference, >= 0.
        epsilon: The threshold, in the image's value units.
        phi: The steepness of the soft threshold, > 0.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: List `[g_small, g_large]` of equal-shape tensors.

    Output shape:
        The shape of `g_small`, values in [0, 1] (0 where tanh saturates in float32).

    Example:
    >>> small, large = np.full((1, 1, 2, 1), 0.5), np.array([0.5, 0.6]).reshape(1, 1, 2, 1)
    >>> np.round(np.asarray(XDoGThreshold(20, 0.2, 1.0)([small, large])).ravel(), 4)
    array([1.    , 0.0646], dtype=float32)
    """

    def __init__(self, sharpness=20.0, epsilon=0.2, phi=1.0, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = [keras.layers.InputSpec(ndim=4)] * 2
        self.sharpness = check_number("sharpness", sharpness, low=0.0)
        self.epsilon = check_number("epsilon", epsilon)
        self.phi = check_number("phi", phi, low=0.0, low_open=True)

    def call(self, inputs):
        small, large = inputs
        sharpened = (1.0 + self.sharpness) * small - self.sharpness * large
        below = ops.minimum(sharpened - self.epsilon, 0.0)
        return 1.0 + ops.tanh(self.phi * below)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = dict(sharpness=self.sharpness, epsilon=self.epsilon, phi=self.phi)
        return {**super().get_config(), **config}


@keras.saving.register_keras_serializable(package="keras_edges")
class ZeroCrossings(keras.layers.Layer):
    """Marr and Hildreth's edges: where a second-derivative map changes sign.

    A pixel is an edge where, for at least one of the four pairs of opposite neighbours
    (left/right, up/down and the two diagonals), the two neighbours have strictly
    opposite signs and differ by more than `threshold` (Gonzalez and Woods' rule for
    the Marr-Hildreth detector). Outside the image the map counts as 0, which never
    makes a crossing. Use it on `LaplacianOfGaussian`'s output or a difference of
    Gaussians.

    Reference:
        Gonzalez, R. C. and Woods, R. E. (2018). Digital Image Processing, 4th ed.,
        section 10.2 (the Marr-Hildreth edge detector).

    Args:
        threshold: The smallest difference `|a - b|` across a crossing, >= 0.
        data_format: `"channels_last"` or `"channels_first"`; None is
            `keras.config.image_data_format()`.
        **kwargs: Base layer arguments, such as `name`.

    Call arguments:
        inputs: A 4-D tensor in `data_format`.

    Output shape:
        The input's shape, dtype bool.

    Example:
    >>> row = np.array([[2.0, 1.0, -1.0, -2.0]])[None, :, :, None]
    >>> np.asarray(ZeroCrossings()(row)).ravel().tolist()
    [False, True, True, False]
    """

    def __init__(self, threshold=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=4)
        self.threshold = check_number("threshold", threshold, low=0.0)
        self.data_format = _check_data_format(data_format)

    def call(self, inputs):
        pads = [(0, 0)] * 4
        for axis in _spatial_axes(self.data_format):
            pads[axis] = (1, 1)
        padded = ops.pad(inputs, pads)
        found = ops.zeros_like(inputs)
        for i, j in ((0, 1), (1, 0), (1, 1), (1, -1)):
            a = _shifted(padded, i, j, self.data_format)
            b = _shifted(padded, -i, -j, self.data_format)
            crossing = _positive(-a * b) * _positive(ops.abs(a - b) - self.threshold)
            found = ops.maximum(found, crossing)
        return ops.cast(found, "bool")

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs.shape, dtype="bool")

    def get_config(self):
        config = {"threshold": self.threshold, "data_format": self.data_format}
        return {**super().get_config(), **config}
