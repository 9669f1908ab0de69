"""The second-derivative family's model: Laplacian, LoG, DoG, XDoG, zero crossings."""

from __future__ import annotations

import keras
import numpy as np

from keras_edges.kernels import PADDING_MODES, laplacian_kernel
from keras_edges.layers import (
    BorderPadding,
    GaussianBlur,
    LaplacianOfGaussian,
    XDoGThreshold,
    ZeroCrossings,
    gaussian_radius,
)
from keras_edges.layers._common import _check_data_format
from keras_edges.models._common import _image_input
from keras_edges.validation import check_choice, check_number, check_positive_int

__all__ = ["LAPLACIAN_METHODS", "build_laplacian_model"]


# The second-derivative family: the Laplacian, the Laplacian of Gaussian, the difference
# of Gaussians and XDoG.
LAPLACIAN_METHODS = ("laplace", "log", "dog", "xdog")


def build_laplacian_model(
    method: str = "laplace",
    *,
    ksize: int | None = None,
    variant: str = "opencv",
    sigma: float = 1.0,
    high_sigma: float | None = None,
    sharpness: float = 20.0,
    epsilon: float = 0.2,
    phi: float = 1.0,
    zero_crossings: float | None = None,
    padding: str = "reflect",
    channels: int = 1,
    name: str | None = None,
    data_format: str | None = None,
) -> keras.Model:
    """Build a second-derivative edge model: Laplacian, LoG, DoG or XDoG.

    Every channel is filtered on its own (as OpenCV, scikit-image and kornia do):

    - `"laplace"`: `image -> pad -> laplacian`, a bias-free `DepthwiseConv2D` with the
      kernel `laplacian_kernel(variant, ksize)` (`cv2.Laplacian(ksize)`, or kornia's
      `laplacian(kernel_size, normalized=False)` with `variant="box"`; scikit-image's
      `filters.laplace` is `-laplace` with `padding="symmetric"`).
    - `"log"`: `image -> pad -> log`, `LaplacianOfGaussian(sigma)`
      (`scipy.ndimage.gaussian_laplace`, whose border is our `"symmetric"`).
    - `"dog"`: `image -> (pad_small -> blur_small, pad_large -> blur_large) -> dog`,
      the Gaussian of `sigma` minus the one of `high_sigma` (scikit-image's
      `filters.difference_of_gaussians`, whose border is our `"replicate"`).
    - `"xdog"`: the same two blurs, then `XDoGThreshold(sharpness, epsilon, phi)`.

    With `zero_crossings` (a threshold >= 0), the first three end in a
    `ZeroCrossings` layer instead: Marr and Hildreth's edges (a boolean map), the
    classic detector being `method="log"`.

    Args:
        method: One of `LAPLACIAN_METHODS`.
        ksize: For `"laplace"`: the kernel size of `variant` (`"opencv"`: 1, 3, 5, 7;
            `"box"`: 3, 5, 7); None is its smallest.
        variant: For `"laplace"`: `"opencv"` or `"box"` (see `LAPLACIANS`).
        sigma: The (smaller) Gaussian's standard deviation, > 0.
        high_sigma: The larger Gaussian's, `>= sigma`; None is `1.6 * sigma`
            (Marr and Hildreth's ratio, as scikit-image).
        sharpness: XDoG's `p`.
        epsilon: XDoG's threshold, in pixel units (images in [0, 1]).
        phi: XDoG's steepness.
        zero_crossings: None, or the threshold of a final `ZeroCrossings` layer.
        padding: Border mode, one of `PADDING_MODES`.
        channels: Input channels, each filtered on its own.
        name: Model name; defaults to `f"{method}_edges"`.
        data_format: `"channels_last"` or `"channels_first"`.

    Returns:
        An uncompiled `keras.Model` mapping `(batch, H, W, channels)` images to
        `(batch, H, W, channels)` float32 responses (bool with `zero_crossings`).

    Raises:
        ValueError: If an argument is not one of its documented choices.

    Example:
    >>> dot = np.zeros((1, 5, 5, 1), "float32"); dot[0, 2, 2] = 1
    >>> np.asarray(build_laplacian_model("laplace", ksize=1)(dot))[0, 1:4, 1:4, 0]
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]], dtype=float32)
    """
    check_choice("method", method, LAPLACIAN_METHODS)
    check_choice("padding", padding, PADDING_MODES)
    channels = check_positive_int("channels", channels)
    sigma = check_number("sigma", sigma, low=0.0, low_open=True)
    if high_sigma is None:
        high_sigma = 1.6 * sigma
    high_sigma = check_number("high_sigma", high_sigma, low=sigma)
    if zero_crossings is not None and method == "xdog":
        raise ValueError(
            "Invalid value for argument `zero_crossings` with method='xdog'. XDoG "
            "returns a thresholded image, not a signed response. Received: "
            f"zero_crossings={zero_crossings!r}"
        )
    layout = dict(data_format=_check_data_format(data_format))
    image = _image_input(channels, layout["data_format"])
    if method == "laplace":
        kernel = laplacian_kernel(variant, ksize)
        size = kernel.shape[0]
        padded = BorderPadding(size // 2, mode=padding, name="pad", **layout)(image)
        conv = keras.layers.DepthwiseConv2D(
            size, use_bias=False, trainable=False, name="laplacian", **layout
        )
        response = conv(padded)
        conv.set_weights([np.repeat(kernel[:, :, None, None], channels, axis=2)])
    elif method == "log":
        padded = BorderPadding(
            gaussian_radius(sigma), mode=padding, name="pad", **layout
        )(image)
        response = LaplacianOfGaussian(sigma, name="log", **layout)(padded)
    else:
        blurred = [
            GaussianBlur(value, name=f"blur_{size}", **layout)(
                BorderPadding(
                    gaussian_radius(value), mode=padding, name=f"pad_{size}", **layout
                )(image)
            )
            for size, value in (("small", sigma), ("large", high_sigma))
        ]
        if method == "xdog":
            response = XDoGThreshold(sharpness, epsilon, phi, name="xdog")(blurred)
        else:
            response = keras.layers.Subtract(name="dog")(blurred)
    if zero_crossings is not None:
        response = ZeroCrossings(zero_crossings, name="zero_crossings", **layout)(
            response
        )
    return keras.Model(image, response, name=name or f"{method}_edges")
