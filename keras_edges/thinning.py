"""Thin edge maps to one-pixel lines: a soft map's ridges, a binary map's skeleton.

Image operations that detection and evaluation share: `suppress_nonmaxima`, the edge
non-maximum suppression of a soft map (the learned detector's `nms=True` and
`evaluate_boundaries(..., nms=True)`), and `thin_edges`, the morphological thinning of
a binary map (the boundary benchmark's, and `boundaries_from_labels`').

References:
    1. Dollár, P. and Zitnick, C. L. (2015). Fast edge detection using structured
       forests. IEEE TPAMI 37(8), 1558-1570 (the toolbox's `edgesNmsMex`).
    2. Guo, Z. and Hall, R. W. (1989). Parallel thinning with two-subiteration
       algorithms. Communications of the ACM 32(3), 359-373.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

__all__ = ["suppress_nonmaxima", "thin_edges"]


def _triangle_smooth(image: np.ndarray, radius: int) -> np.ndarray:
    """Dollár's `convTri`: a separable triangle filter of `radius`, symmetric borders."""
    kernel = np.concatenate([np.arange(1, radius + 2), np.arange(radius, 0, -1)])
    kernel = kernel / kernel.sum()
    for axis in (0, 1):
        image = ndimage.convolve1d(image, kernel, axis=axis, mode="reflect")
    return image


def _gradient(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.gradient` along rows and columns, zero along an axis of one pixel."""
    return tuple(
        np.gradient(image, axis=axis) if image.shape[axis] > 1 else np.zeros_like(image)
        for axis in (0, 1)
    )


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
    d_y, d_x = _gradient(smooth)
    _, d_xx = _gradient(d_x)
    d_yy, d_xy = _gradient(d_y)
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


def _neighbour_bits(code: int) -> list[bool]:
    """The 8 neighbours of a code, counter-clockwise from east: E, NE, N, NW, W, SW, S, SE."""
    return [bool(code >> i & 1) for i in range(8)]


def _thinning_tables() -> tuple[np.ndarray, np.ndarray]:
    """Deletion tables of Guo and Hall's algorithm A1 (MATLAB's `bwmorph thin`), by neighbour code."""
    first, second = np.zeros(256, bool), np.zeros(256, bool)
    for code in range(256):
        x = _neighbour_bits(code)  # x[0] = x1 (east) ... x[7] = x8 (south-east)
        # G1: exactly one 8-connected run of neighbours (the crossing number is 1).
        crossing = sum(
            (not x[i]) and (x[i + 1] or x[(i + 2) % 8]) for i in (0, 2, 4, 6)
        )
        # G2: 2 <= min(n1, n2) <= 3, so end points and isolated pixels stay.
        n1 = sum(x[k] or x[k - 1] for k in (1, 3, 5, 7))
        n2 = sum(x[k] or x[(k + 1) % 8] for k in (1, 3, 5, 7))
        g12 = crossing == 1 and min(n1, n2) in (2, 3)
        # G3 (odd sub-iteration): (x2 or x3 or not x8) and x1 is false; G3' mirrors it.
        first[code] = g12 and not ((x[1] or x[2] or not x[7]) and x[0])
        second[code] = g12 and not ((x[5] or x[6] or not x[3]) and x[4])
    return first, second


_THIN_FIRST, _THIN_SECOND = _thinning_tables()
# (dy, dx) of neighbour bits 0..7, counter-clockwise from east (y grows downwards).
_NEIGHBOURS = ((0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1))


def _neighbour_codes(padded: np.ndarray) -> np.ndarray:
    """The 8-bit neighbour code of every inner pixel of a zero-padded uint8 {0, 1} image."""
    height, width = padded.shape[0] - 2, padded.shape[1] - 2
    code = np.zeros((height, width), np.uint8)
    for bit, (dy, dx) in enumerate(_NEIGHBOURS):
        code |= padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] << np.uint8(
            bit
        )
    return code


def thin_edges(mask) -> np.ndarray:
    """Thin a binary edge map to one-pixel-wide, 8-connected curves.

    The parallel two-sub-iteration thinning of Guo and Hall (1989, algorithm A1), run
    until nothing changes: what MATLAB's `bwmorph(mask, 'thin', inf)` (used by the BSDS
    benchmark) and `skimage.morphology.thin` compute. It keeps 8-connectivity, end points
    and isolated pixels; a one-pixel-wide 8-connected curve without corners is unchanged.

    Args:
        mask: A 2-D array; non-zero pixels are edge pixels.

    Returns:
        A bool array of the same shape.

    Raises:
        ValueError: If `mask` is not 2-D.

    Example:
    >>> mask = np.zeros((5, 7), bool); mask[1:4, 1:6] = True
    >>> thin_edges(mask).astype(int)
    array([[0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0],
           [0, 0, 1, 1, 1, 0, 0],
           [0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 0, 0]])
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(
            f"Invalid shape for argument `mask`. Expected a 2-D array. Received: mask.shape={mask.shape}"
        )
    result = mask.astype(bool)
    rows, cols = np.nonzero(result)
    if rows.size == 0:
        return result
    # Work on the bounding box plus a one-pixel zero border (thinning never grows a set),
    # flattened, and look only at pixels whose neighbourhood changed since the same
    # sub-iteration last looked at them: the others would get the same answer again.
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    padded = np.zeros((bottom - top + 2, right - left + 2), np.uint8)
    padded[1:-1, 1:-1] = result[top:bottom, left:right]
    stride = padded.shape[1]
    flat = padded.ravel()
    neighbours = np.array([dy * stride + dx for dy, dx in _NEIGHBOURS])
    dirty = [flat.astype(bool), flat.astype(bool)]  # per sub-iteration: look again here
    step, idle = 0, 0
    while idle < 2:  # stop when both sub-iterations have nothing left to look at
        candidates = np.flatnonzero(dirty[step] & (flat == 1))
        dirty[step][:] = False
        if candidates.size == 0:
            idle += 1
            step = 1 - step
            continue
        code = np.zeros(candidates.size, np.uint8)
        for bit, offset in enumerate(neighbours):
            code |= flat[candidates + offset] << np.uint8(bit)
        deleted = candidates[(_THIN_FIRST if step == 0 else _THIN_SECOND)[code]]
        flat[deleted] = 0  # all at once: the decisions above saw the same image
        touched = (deleted[:, None] + neighbours).ravel()
        dirty[0][touched] = True
        dirty[1][touched] = True
        idle = 0 if deleted.size else idle + 1
        step = 1 - step
    inner = padded[1:-1, 1:-1]
    result = np.zeros(mask.shape, bool)
    result[top:bottom, left:right] = inner.astype(bool)
    return result
