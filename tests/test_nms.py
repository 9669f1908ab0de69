"""Tests for the edge non-maximum suppression (keras_edges.nms)."""

import numpy as np
import pytest
from scipy import ndimage

import keras_edges
from keras_edges import metrics
from keras_edges.nms import _triangle_smooth, suppress_nonmaxima


def test_public_where_it_was():
    """`suppress_nonmaxima` is public at the top level and still importable from metrics."""
    assert keras_edges.suppress_nonmaxima is suppress_nonmaxima
    assert metrics.suppress_nonmaxima is suppress_nonmaxima
    assert "suppress_nonmaxima" in keras_edges.__all__


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, 100.0])
def test_nms_keeps_the_ridge_of_a_blurred_line(angle):
    """A blurred line becomes a ridge within one pixel of the true line (values >= 0.01, the lowest threshold)."""
    rows, cols = np.mgrid[0:64, 0:64].astype(float)
    theta = np.deg2rad(angle)
    distance = (cols - 32) * np.sin(theta) - (rows - 32) * np.cos(theta)
    soft = np.exp(-(distance**2) / (2 * 2.0**2)).astype("float32")
    kept = suppress_nonmaxima(soft) >= 0.01
    inner = np.zeros_like(kept)
    inner[8:-8, 8:-8] = True
    assert np.abs(distance[kept & inner]).max() <= 1.0
    # One or two pixels in every column (a flat line) or row (a steep one) it crosses.
    axis = 0 if abs(np.cos(theta)) >= abs(np.sin(theta)) else 1
    per_line = (kept & inner).sum(axis=axis)[8:-8]
    assert per_line.min() >= 1 and per_line.max() <= 2


def _toolbox_nms(edges, normal, radius, border, margin):
    """A line-by-line port of the toolbox's `edgesNmsMex` loops (the reference)."""
    height, width = edges.shape

    def interp(x, y):
        x = min(max(x, 0.0), width - 1.001)
        y = min(max(y, 0.0), height - 1.001)
        x0, y0 = int(x), int(y)
        dx, dy = x - x0, y - y0
        return (
            edges[y0, x0] * (1 - dx) * (1 - dy)
            + edges[y0, x0 + 1] * dx * (1 - dy)
            + edges[y0 + 1, x0] * (1 - dx) * dy
            + edges[y0 + 1, x0 + 1] * dx * dy
        )

    out = edges.astype(np.float64).copy()
    for y in range(height):
        for x in range(width):
            e = edges[y, x] * margin
            if not e:
                continue
            c, s = np.cos(normal[y, x]), np.sin(normal[y, x])
            for d in range(-radius, radius + 1):
                if d and e < interp(x + d * c, y + d * s):
                    out[y, x] = 0
                    break
    frame = min(border, width // 2, height // 2)
    for i in range(frame):
        out[:, [i, width - 1 - i]] *= i / frame
        out[[i, height - 1 - i], :] *= i / frame
    return out


@pytest.mark.parametrize(
    "options", [{}, {"radius": 2, "border": 3, "margin": 1.0}, {"border": 0}]
)
def test_nms_equals_the_toolbox_loops(options):
    """suppress_nonmaxima equals a plain port of edgesNmsMex on random smooth maps, with
    the orientation computed as the toolbox does (convTri, gradient2 twice)."""
    rng = np.random.default_rng(len(options))
    edges = ndimage.gaussian_filter(rng.uniform(size=(17, 23)), 1.5).astype("float32")
    edges[edges < np.quantile(edges, 0.3)] = 0  # zeros stay zeros
    smooth = _triangle_smooth(edges.astype(np.float64), 4)
    d_y, d_x = np.gradient(smooth)
    _, d_xx = np.gradient(d_x)
    d_yy, d_xy = np.gradient(d_y)
    sign = np.where(d_xy > 0, -1.0, 1.0)  # sign(-Oxy), +1 at 0 (see the docstring)
    normal = np.mod(np.arctan(d_yy * sign / (d_xx + 1e-5)), np.pi)
    settings = {"radius": 1, "border": 5, "margin": 1.01, **options}
    expected = _toolbox_nms(edges, normal, **settings)
    np.testing.assert_allclose(
        suppress_nonmaxima(edges, **settings), expected, rtol=1e-6, atol=1e-7
    )


def test_nms_attenuates_the_frame_linearly():
    """A constant map (no pixel beats its neighbours by the margin) keeps its interior;
    the frame of width 5 is scaled by 0, 1/5, ..., 4/5 from the outside in."""
    flat = np.ones((20, 30), np.float32)
    kept = suppress_nonmaxima(flat)
    np.testing.assert_allclose(kept[10, :6], [0, 0.2, 0.4, 0.6, 0.8, 1.0], atol=1e-6)
    np.testing.assert_allclose(kept[:6, 15], [0, 0.2, 0.4, 0.6, 0.8, 1.0], atol=1e-6)
    assert kept[1, 1] == pytest.approx(0.04)
    np.testing.assert_array_equal(suppress_nonmaxima(flat, border=0), flat)
