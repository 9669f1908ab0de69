"""The edge non-maximum suppression: thin a soft edge map to its ridges across the edge.

An image operation: the learned detector's `nms=True` (`learned_boundaries`) and the
boundary benchmark (`keras_edges.metrics`, `evaluate_boundaries(..., nms=True)`) both
use it.

References:
    1. Dollár, P. and Zitnick, C. L. (2015). Fast edge detection using structured
       forests. IEEE TPAMI 37(8), 1558-1570 (the toolbox's `edgesNmsMex`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["suppress_nonmaxima"]


def _triangle_smooth(image: np.ndarray, radius: int) -> np.ndarray:
    """Dollár's `convTri`: a separable triangle filter of `radius`, symmetric borders."""
    kernel = np.concatenate([np.arange(1, radius + 2), np.arange(radius, 0, -1)])
    kernel = kernel / kernel.sum()
    for axis in (0, 1):
        image = ndimage.convolve1d(image, kernel, axis=axis, mode="reflect")
    return image


def suppress_nonmaxima(
    edges, *, radius: int = 1, border: int = 5, margin: float = 1.01, smoothing: int = 4
) -> np.ndarray:
    """Keep the pixels of a soft edge map that are maximal across the edge (edge NMS).

    The field's edge NMS, as the BSDS results of HED, RCF and PiDiNet are computed with
    it (`edgesNmsMex` of Dollár and Zitnick's Structured Edge Detection Toolbox): the
    edge normal comes from the second derivatives of the map smoothed by a triangle
    filter of radius `smoothing` (`O = atan(Oyy * sign(-Oxy) / (Oxx + 1e-5)) mod pi`,
    the sign taken as +1 where `Oxy` is exactly 0, so that an axis-aligned edge is
    suppressed across, not along);
    a pixel is dropped when `margin` times its value is below the map, bilinearly
    interpolated, at any distance 1..`radius` along the normal on either side; then
    values within `border` pixels of the image's edge are scaled down linearly (to 0
    on the outermost row and column), where the orientation is least reliable.

    Args:
        edges: A 2-D soft edge map.
        radius: Reach of the suppression along the normal, in pixels.
        border: Width of the attenuated frame (0: none).
        margin: A pixel survives a neighbour up to `margin` times its value (1.01, the
            toolbox's conservative suppression; 1: strict).
        smoothing: Radius of the triangle filter for the orientation only (the kept
            values are the input's).

    Returns:
        A float32 map: the input where it is a local maximum across the edge, else 0.

    Example:
    >>> ramp = np.array([[0, 1, 3, 1, 0]] * 3, "float32")
    >>> suppress_nonmaxima(ramp, border=0)[1]
    array([0., 0., 3., 0., 0.], dtype=float32)
    """
    edges = np.asarray(edges, np.float32)
    if edges.ndim != 2:
        raise ValueError(
            f"Invalid shape for argument `edges`. Expected a 2-D array. Received: edges.shape={edges.shape}"
        )
    smooth = _triangle_smooth(edges.astype(np.float64), smoothing)
    d_y, d_x = np.gradient(smooth)
    _, d_xx = np.gradient(d_x)
    d_yy, d_xy = np.gradient(d_y)
    # sign(-Oxy), but +1 where Oxy is exactly 0 (the toolbox's 0 there turns the normal
    # of an exactly axis-aligned edge along the edge, and nothing is suppressed)
    sign = np.where(d_xy > 0, -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        normal = np.mod(np.arctan(d_yy * sign / (d_xx + 1e-5)), np.pi)
    normal = np.nan_to_num(normal)
    height, width = edges.shape
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    keep = edges > 0
    step_x, step_y = np.cos(normal), np.sin(normal)
    for distance in [d for d in range(-radius, radius + 1) if d]:
        # the toolbox clamps the sampled position inside the image
        x = np.clip(cols + distance * step_x, 0, max(width - 1.001, 0))
        y = np.clip(rows + distance * step_y, 0, max(height - 1.001, 0))
        neighbour = ndimage.map_coordinates(edges, [y, x], order=1, mode="nearest")
        keep &= ~(edges * np.float32(margin) < neighbour)
    result = np.where(keep, edges, np.float32(0))
    frame = min(border, width // 2, height // 2)
    for offset in range(frame):
        weight = np.float32(offset / frame)
        result[:, [offset, width - 1 - offset]] *= weight
        result[[offset, height - 1 - offset], :] *= weight
    return result
