"""The second-derivative family as functions, named as the peers name them.

`laplacian` (OpenCV's `Laplacian`, kornia's `laplacian`), `laplacian_of_gaussian`
(scipy's `gaussian_laplace`), `difference_of_gaussians` (scikit-image's), `xdog`
(Winnemöller's XDoG) and `marr_hildreth` (zero crossings of the LoG). Each runs the
model of `build_laplacian_model` on an image of any accepted kind (see `detect_edges`):
colour becomes luminance (ITU-R 601-2), alpha is dropped, and the result is float32 in
the image's own units (0..255 for uint8 pixels), except `xdog`, which reads the image
in [0, 1] (uint8 / 255) and returns a drawing in [0, 1], and `marr_hildreth`, which
returns a boolean map.
"""

from __future__ import annotations

import functools
import os

import keras
import numpy as np
from PIL import Image

from keras_edges.models.laplacian import build_laplacian_model

__all__ = [
    "difference_of_gaussians",
    "laplacian",
    "laplacian_of_gaussian",
    "marr_hildreth",
    "xdog",
]


@functools.lru_cache(maxsize=32)
def _cached(method: str, options: tuple) -> keras.Model:
    return build_laplacian_model(method, data_format="channels_last", **dict(options))


def _apply(image, method, unit_range=False, **options):
    """Run `build_laplacian_model(method, **options)` on `image`; the input's rank out."""
    from keras_edges.methods._common import _as_array, _run_model, _standardize

    if isinstance(image, (list, tuple)):
        return [_apply(each, method, unit_range, **options) for each in image]
    array = _as_array(image)
    rank = array.ndim
    batch, value_range, _ = _standardize(array, 1)
    if unit_range:
        batch = batch / np.float32(value_range)
    model = _cached(method, tuple(sorted(options.items())))
    result = _run_model(model, batch)
    if rank == 2 or isinstance(image, (str, os.PathLike, bytes, Image.Image)):
        return result[0, :, :, 0]  # a path or PIL image gives (H, W), as detect_edges
    return result[0] if rank == 3 else result


def laplacian(
    image, *, ksize: int = 1, variant: str = "opencv", padding: str = "reflect"
):
    """The Laplacian `d2/dx2 + d2/dy2` of an image, as `cv2.Laplacian(image, ksize)`.

    scikit-image's `filters.laplace(image)` is `-laplacian(image,
    padding="symmetric")` (its sign is the opposite, its border scipy's `reflect`);
    kornia's `laplacian(image, kernel_size)` is `laplacian(image, variant="box",
    ksize=kernel_size)` divided by the kernel's L1 norm `2 * (kernel_size**2 - 1)`.

    Args:
        image: See `detect_edges`.
        ksize: OpenCV's aperture: 1 (the 4-neighbour kernel), 3, 5 or 7.
        variant: `"opencv"` or `"box"` (kornia's kernel), see `LAPLACIANS`.
        padding: Border mode, one of `PADDING_MODES` (OpenCV's default is `"reflect"`).

    Returns:
        float32, the input's rank (`(H, W)` for a path).

    Example:
    >>> dot = np.zeros((5, 5), "float32"); dot[2, 2] = 1
    >>> laplacian(dot)[1:4, 1:4]
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]], dtype=float32)
    """
    return _apply(image, "laplace", ksize=ksize, variant=variant, padding=padding)


def laplacian_of_gaussian(image, *, sigma: float = 1.0, padding: str = "symmetric"):
    """The Laplacian of the Gaussian-smoothed image, as `scipy.ndimage.gaussian_laplace`.

    Args:
        image: See `detect_edges`.
        sigma: The Gaussian's standard deviation, > 0.
        padding: Border mode; `"symmetric"` is scipy's default (`reflect`).

    Returns:
        float32, the input's rank.

    Example:
    >>> dot = np.zeros((9, 9), "float32"); dot[4, 4] = 1
    >>> round(float(laplacian_of_gaussian(dot)[4, 4]), 4)
    -0.3183
    """
    return _apply(image, "log", sigma=sigma, padding=padding)


def difference_of_gaussians(
    image,
    low_sigma: float = 1.0,
    high_sigma: float | None = None,
    *,
    padding: str = "replicate",
):
    """The difference of two Gaussian blurs, as scikit-image's `difference_of_gaussians`.

    Args:
        image: See `detect_edges`.
        low_sigma: The smaller Gaussian's standard deviation, > 0.
        high_sigma: The larger one's, `>= low_sigma`; None is `1.6 * low_sigma`.
        padding: Border mode; `"replicate"` is scikit-image's (`nearest`).

    Returns:
        float32, the input's rank. (scikit-image scales uint8 to [0, 1] first; here
        the result is in the image's units: divide by 255 to compare.)

    Example:
    >>> step = np.zeros((3, 8), "float32"); step[:, 4:] = 1
    >>> response = difference_of_gaussians(step, 1.0)[1]
    >>> bool(response[3] < 0 < response[4])
    True
    """
    options = dict(sigma=low_sigma, high_sigma=high_sigma, padding=padding)
    return _apply(image, "dog", **options)


def xdog(
    image,
    *,
    sigma: float = 1.0,
    k: float = 1.6,
    sharpness: float = 20.0,
    epsilon: float = 0.2,
    phi: float = 1.0,
    padding: str = "reflect",
):
    """Winnemöller's XDoG: a pen-and-ink drawing of the image, in [0, 1].

    See `XDoGThreshold`. The image is read in [0, 1] (uint8 / 255).

    Args:
        image: See `detect_edges`.
        sigma: The smaller Gaussian's standard deviation.
        k: The larger Gaussian's is `k * sigma` (1.6, Marr and Hildreth's ratio).
        sharpness: `p`, the weight of the difference of Gaussians.
        epsilon: The threshold below which ink appears, for pixels in [0, 1].
        phi: The steepness of the ink's soft edge.
        padding: Border mode, one of `PADDING_MODES`.

    Returns:
        float32 in [0, 1], 1 for paper, the input's rank.

    Example:
    >>> step = np.zeros((3, 8), "float32"); step[:, 4:] = 1
    >>> drawing = xdog(step, phi=10.0)
    >>> bool(drawing[1, 3] < 0.5 < drawing[1, 7])
    True
    """
    options = dict(sigma=sigma, high_sigma=k * sigma, sharpness=sharpness)
    options.update(epsilon=epsilon, phi=phi, padding=padding)
    return _apply(image, "xdog", unit_range=True, **options)


def marr_hildreth(
    image, *, sigma: float = 2.0, threshold: float = 0.0, padding: str = "reflect"
):
    """Marr and Hildreth's edges: the zero crossings of the Laplacian of Gaussian.

    See `ZeroCrossings` for the rule (opposite neighbours of opposite signs differing
    by more than `threshold`).

    Args:
        image: See `detect_edges`.
        sigma: The Gaussian's standard deviation.
        threshold: The smallest LoG difference across a crossing, in the image's
            units divided by pixels squared (0: every sign change).
        padding: Border mode, one of `PADDING_MODES`.

    Returns:
        A boolean edge map, the input's rank.

    Example:
    >>> step = np.zeros((12, 12), "float32"); step[:, 6:] = 1
    >>> marr_hildreth(step, threshold=0.01)[6].astype(int)
    array([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    """
    options = dict(sigma=sigma, zero_crossings=threshold, padding=padding)
    return _apply(image, "log", **options)
