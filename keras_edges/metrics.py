"""Boundary precision, recall and F-measure; ODS, OIS and AP as the BSDS benchmark defines them.

The protocol is that of the Berkeley Segmentation Data Set benchmark (Martin et al. 2004;
Arbeláez et al. 2011, the `boundaryBench` code of BSDS500). For each of `thresholds`
(99 by default, `1/100 ... 99/100`) a soft edge map is

1. binarised (`edges >= threshold`),
2. thinned to one pixel (`thin_edges`, the same parallel thinning as MATLAB's
   `bwmorph(bmap, 'thin', inf)`),
3. matched, separately against each annotator, one-to-one to that annotator's boundary
   pixels within `max_dist` times the image diagonal (0.0075 by default: 4.3 pixels on a
   481 x 321 image),

and the counts are accumulated as the benchmark does: recall counts the matched
ground-truth pixels of *every* annotator over all their boundary pixels, precision counts
the predicted pixels matched to *any* annotator over all predicted pixels. Then

* ODS (optimal dataset scale): the best F of the dataset-wide precision and recall at a
  single threshold (interpolated linearly between neighbouring thresholds, as the
  benchmark's `maxF` does);
* OIS (optimal image scale): the F of the counts summed over images, each taken at its
  own best threshold;
* AP: the area under the precision-recall curve, precision interpolated linearly at
  recall 0, 0.01, ..., 1 within the recall range that the curve covers.

Matching: the benchmark's `correspondPixels` solves a min-cost assignment in which every
unmatched pixel costs far more than any match, so it finds a largest one-to-one matching
and, among the largest, the one with the shortest total distance. Here a largest
one-to-one matching (a maximum bipartite matching) over all pairs within the radius is
found by a greedy nearest-first pass and then augmenting paths, which gives the same
counts, since the distances do not enter them. (The benchmark's solver is approximate
for speed, so its counts can be lower by a few pixels; ours are exact maxima.
`scipy.sparse.csgraph.maximum_bipartite_matching` computes the same maxima, and is the
reference in the tests, but takes minutes on some of these graphs.)

References:
    1. Martin, D., Fowlkes, C. and Malik, J. (2004). Learning to detect natural image
       boundaries using local brightness, color, and texture cues. IEEE TPAMI 26(5).
    2. Arbeláez, P., Maire, M., Fowlkes, C. and Malik, J. (2011). Contour detection and
       hierarchical image segmentation. IEEE TPAMI 33(5), 898-916.
    3. Guo, Z. and Hall, R. W. (1989). Parallel thinning with two-subiteration
       algorithms. Communications of the ACM 32(3), 359-373.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import sys

import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix

from keras_edges.nms import suppress_nonmaxima
from keras_edges.validation import check_number

__all__ = [
    "BoundaryScores",
    "count_boundary_matches",
    "evaluate_boundaries",
    "match_boundaries",
    "summarize_counts",
    "thin_edges",
]

MAX_DIST = (
    0.0075  # the benchmark's matching radius, as a fraction of the image diagonal
)


# --------------------------------------------------------------------------- thinning
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


# ------------------------------------------------------------------------------ matching
def _disk(radius: float) -> np.ndarray:
    """A boolean disk footprint: the offsets within `radius`."""
    d_y, d_x = _offsets(radius)
    reach = int(np.floor(radius + 1e-9))
    footprint = np.zeros((2 * reach + 1, 2 * reach + 1), bool)
    footprint[d_y + reach, d_x + reach] = True
    return footprint


def _offsets(radius: float) -> tuple[np.ndarray, np.ndarray]:
    """All integer (dy, dx) with dy**2 + dx**2 <= radius**2."""
    reach = int(np.floor(radius + 1e-9))
    d_y, d_x = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    inside = d_y**2 + d_x**2 <= radius**2 + 1e-9
    d_y, d_x = d_y[inside], d_x[inside]
    order = np.argsort(d_y**2 + d_x**2, kind="stable")  # nearest first
    return d_y[order], d_x[order]


def _check_map(name: str, value, shape=None) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(
            f"Invalid shape for argument `{name}`. Expected a non-empty 2-D (H, W) map. "
            f"Received: {name}.shape={array.shape}"
        )
    if shape is not None and array.shape != shape:
        raise ValueError(
            f"Invalid shape for argument `{name}`. Expected the shape of the edge map, "
            f"{shape}. Received: {name}.shape={array.shape}"
        )
    return array


class _Truth:
    """One annotator's boundary pixels, indexed for fast matching."""

    def __init__(self, boundary: np.ndarray, radius: float):
        reach = int(np.floor(radius + 1e-9))
        boundary = boundary.astype(bool)
        self.count = int(boundary.sum())
        self.index = np.full(
            (boundary.shape[0] + 2 * reach, boundary.shape[1] + 2 * reach), -1, np.int32
        )
        rows, cols = np.nonzero(boundary)
        self.index[rows + reach, cols + reach] = np.arange(rows.size, dtype=np.int32)
        # Pixels within the radius of some boundary pixel: the only ones worth a look-up.
        self.near = (
            ndimage.binary_dilation(boundary, structure=_disk(radius))
            if self.count
            else boundary
        )


def _match_one(pred_rows, pred_cols, truth: _Truth, offsets, reach) -> np.ndarray:
    """For each predicted pixel, the index of its matched truth pixel, or -1."""
    partner = np.full(pred_rows.size, -1, np.int64)
    if pred_rows.size == 0 or truth.count == 0:
        return partner
    d_y, d_x = offsets
    where = np.flatnonzero(truth.near[pred_rows, pred_cols])
    if where.size == 0:
        return partner
    # candidates[i, k]: the truth pixel at the k-th nearest offset from predicted pixel i.
    candidates = truth.index[
        (pred_rows[where] + reach)[:, None] + d_y,
        (pred_cols[where] + reach)[:, None] + d_x,
    ]
    partner[where] = _maximum_matching(candidates, truth.count)
    return partner


def _maximum_matching(candidates: np.ndarray, right_count: int) -> np.ndarray:
    """A largest matching of rows to the non-negative entries of `candidates`; -1 if unmatched.

    A greedy pass matches nearest pairs first (columns are in order of distance), then
    augmenting paths (Berge) grow it to a maximum, searched from whichever side has fewer
    free vertices. (`scipy.sparse.csgraph.maximum_bipartite_matching` gives the same
    cardinality but is pathologically slow on these dense local graphs.)
    """
    left_count = candidates.shape[0]
    match_left = np.full(left_count, -1, np.int64)
    match_right = np.full(right_count, -1, np.int64)
    for column in candidates.T:  # greedy, nearest offsets first
        rows = np.flatnonzero((match_left < 0) & (column >= 0))
        rights = column[rows]
        free = match_right[rights] < 0
        rows, rights = rows[free], rights[free]
        rights, first = np.unique(rights, return_index=True)
        match_left[rows[first]] = rights
        match_right[rights] = rows[first]
    row, col = np.nonzero(candidates >= 0)
    right_of = candidates[row, col]
    has_left = np.zeros(left_count, bool)
    has_left[row] = True
    has_right = np.zeros(right_count, bool)
    has_right[right_of] = True
    free_left = np.flatnonzero(has_left & (match_left < 0))
    free_right = np.flatnonzero(has_right & (match_right < 0))
    if free_left.size == 0 or free_right.size == 0:
        return match_left  # an augmenting path would need a free vertex on each side
    graph = csr_matrix(
        (np.ones(row.size, np.int8), (row, right_of)), shape=(left_count, right_count)
    )
    if free_left.size <= free_right.size:
        _augment(graph.indptr, graph.indices, free_left, match_left, match_right)
    else:
        graph = graph.tocsc()
        _augment(graph.indptr, graph.indices, free_right, match_right, match_left)
    return match_left


def _augment(indptr, indices, free, match_start, match_other) -> None:
    """Grow a matching by augmenting paths from the `free` vertices, in place, to a maximum."""
    indptr, indices = indptr.tolist(), indices.tolist()
    mine, theirs = match_start.tolist(), match_other.tolist()
    free = free.tolist()
    while free:
        visited = bytearray(len(theirs))
        still_free, grown = [], False
        for root in free:
            path, positions, through = [root], [indptr[root]], []
            found = False
            while path:
                vertex, position = path[-1], positions[-1]
                if position == indptr[vertex + 1]:
                    path.pop()
                    positions.pop()
                    if through:
                        through.pop()
                    continue
                positions[-1] = position + 1
                other = indices[position]
                if visited[other]:
                    continue
                visited[other] = 1
                through.append(other)
                if theirs[other] < 0:  # a free vertex: flip the path
                    for start, end in zip(path, through):
                        mine[start], theirs[end] = end, start
                    found = True
                    break
                path.append(theirs[other])
                positions.append(indptr[theirs[other]])
            if found:
                grown = True
            else:
                still_free.append(root)
        if (
            not grown
        ):  # no augmenting path from any free vertex: the matching is maximum
            break
        free = still_free
    match_start[:] = mine
    match_other[:] = theirs


def match_boundaries(
    predicted, truth, *, max_dist: float = MAX_DIST
) -> tuple[np.ndarray, np.ndarray]:
    """Match predicted to true boundary pixels one-to-one within a distance.

    A largest one-to-one matching between the two pixel sets, where a pair may match if
    their Euclidean distance is at most `max_dist` times the image diagonal (the
    benchmark's `correspondPixels`; see the module notes on the difference).

    Args:
        predicted: 2-D binary map of predicted boundary pixels.
        truth: 2-D binary map of true boundary pixels, same shape.
        max_dist: Matching radius as a fraction of the diagonal `sqrt(H**2 + W**2)`.

    Returns:
        Two bool maps `(matched_predicted, matched_truth)` of the matched pixels.

    Example:
    >>> truth = np.zeros((10, 10), bool); truth[5, 2:8] = True
    >>> predicted = np.zeros((10, 10), bool); predicted[4:7, 4] = True  # three pixels, one column
    >>> [int(m.sum()) for m in match_boundaries(predicted, truth, max_dist=0.1)]
    [3, 3]
    >>> [int(m.sum()) for m in match_boundaries(predicted, truth, max_dist=0.05)]
    [1, 1]
    """
    predicted = _check_map("predicted", predicted).astype(bool)
    truth = _check_map("truth", truth, predicted.shape).astype(bool)
    radius = _radius(predicted.shape, max_dist)
    reach = int(np.floor(radius + 1e-9))
    index = _Truth(truth, radius)
    rows, cols = np.nonzero(predicted)
    partner = _match_one(rows, cols, index, _offsets(radius), reach)
    matched_predicted = np.zeros_like(predicted)
    matched_predicted[rows[partner >= 0], cols[partner >= 0]] = True
    truth_rows, truth_cols = np.nonzero(truth)
    matched_truth = np.zeros_like(truth)
    matched_truth[
        truth_rows[partner[partner >= 0]], truth_cols[partner[partner >= 0]]
    ] = True
    return matched_predicted, matched_truth


def _check_max_dist(max_dist) -> float:
    """Return `max_dist` as a float in [0, 1), or raise: 1 already spans the whole image."""
    return check_number(
        "max_dist",
        max_dist,
        low=0,
        high=1,
        high_open=True,
        what="a fraction of the image diagonal, e.g. 0.0075 (the benchmark's),",
    )


def _radius(shape, max_dist) -> float:
    return _check_max_dist(max_dist) * float(np.hypot(*shape))


# ------------------------------------------------------------------------------ counting
def _thresholds(thresholds) -> np.ndarray:
    if isinstance(thresholds, (int, np.integer)) and not isinstance(thresholds, bool):
        if thresholds < 1:
            raise ValueError(
                f"Invalid value for argument `thresholds`. Expected a positive count or a list of values in [0, 1]. Received: thresholds={thresholds!r}"
            )
        return np.linspace(
            1.0 / (thresholds + 1), 1.0 - 1.0 / (thresholds + 1), int(thresholds)
        )
    values = np.asarray(thresholds, np.float64).ravel()
    if (
        values.size == 0
        or not np.all(np.isfinite(values))
        or np.any(np.diff(values) <= 0)
    ):
        raise ValueError(
            "Invalid value for argument `thresholds`. Expected a positive count or an "
            f"increasing list of thresholds. Received: thresholds={thresholds!r}"
        )
    return values


def _as_edges(edges) -> np.ndarray:
    edges = _check_map("edges", edges)
    if edges.dtype == np.bool_:
        return edges.astype(np.float32)
    if edges.dtype.kind not in "iuf":
        raise TypeError(
            f"Invalid dtype for argument `edges`. Expected bool or numbers. Received: edges.dtype={edges.dtype}"
        )
    edges = edges.astype(np.float32)
    if not np.all(np.isfinite(edges)) or edges.min() < 0 or edges.max() > 1 + 1e-6:
        raise ValueError(
            "Invalid value for argument `edges`. Expected a soft edge map with values in "
            f"[0, 1]. Received values in [{edges.min()}, {edges.max()}]. Divide by the full "
            "scale, e.g. detect_edges(image, normalize=True), or by edges.max()."
        )
    return np.minimum(edges, 1.0)


def _as_truths(truths, shape) -> list[np.ndarray]:
    if isinstance(truths, np.ndarray) and truths.ndim == 2:
        truths = [truths]
    truths = list(truths)
    if not truths:
        raise ValueError(
            "Invalid value for argument `truths`. Expected at least one ground-truth boundary map. Received: []"
        )
    return [_check_map("truths", truth, shape).astype(bool) for truth in truths]


def count_boundary_matches(
    edges,
    truths,
    *,
    thresholds=99,
    max_dist: float = MAX_DIST,
    thin: bool = True,
    nms: bool = False,
) -> np.ndarray:
    """Count the benchmark's matches of one soft edge map against its annotators.

    Args:
        edges: 2-D soft edge map with values in [0, 1] (bool for a binary map).
        truths: One 2-D binary boundary map, or a list of them (one per annotator), of
            the same shape as `edges`.
        thresholds: Number of thresholds (`k` gives `1/(k+1), ..., k/(k+1)`) or an
            increasing list of them; a pixel is an edge if `edges >= threshold`.
        max_dist: Matching radius as a fraction of the image diagonal.
        thin: Thin each binarised map to one pixel before matching (the benchmark does).
        nms: Apply `suppress_nonmaxima` to the soft map first.

    Returns:
        A float64 array `(len(thresholds), 4)` of `[matched truth pixels (summed over
        annotators), truth pixels (summed over annotators), predicted pixels matched to
        any annotator, predicted pixels]`: the benchmark's `cntR, sumR, cntP, sumP`.

    Example:
    >>> truth = np.zeros((16, 16), bool); truth[8, 2:14] = True
    >>> count_boundary_matches(truth, [truth, np.zeros_like(truth)], thresholds=1)
    array([[12., 12., 12., 12.]])
    """
    edges = _as_edges(edges)
    truths = _as_truths(truths, edges.shape)
    values = _thresholds(thresholds)
    if nms:
        edges = suppress_nonmaxima(edges)
    radius = _radius(edges.shape, max_dist)
    reach = int(np.floor(radius + 1e-9))
    offsets = _offsets(radius)
    indexed = [_Truth(truth, radius) for truth in truths]
    truth_total = sum(truth.count for truth in indexed)
    counts = np.zeros((values.size, 4))
    previous = None
    for i, threshold in enumerate(values):
        binary = edges >= threshold
        if previous is not None and np.array_equal(binary, previous[0]):
            counts[i] = previous[1]  # same map, same counts (binary or quantised maps)
            continue
        thinned = thin_edges(binary) if thin else binary
        rows, cols = np.nonzero(thinned)
        any_match = np.zeros(rows.size, bool)
        truth_matched = 0
        for truth in indexed:
            partner = _match_one(rows, cols, truth, offsets, reach)
            any_match |= partner >= 0
            truth_matched += int((partner >= 0).sum())
        counts[i] = (truth_matched, truth_total, any_match.sum(), rows.size)
        previous = (binary, counts[i].copy())
    return counts


# ------------------------------------------------------------------------------- scores
def _fmeasure(recall, precision):
    recall, precision = np.asarray(recall, float), np.asarray(precision, float)
    total = precision + recall
    return 2 * precision * recall / np.where(total == 0, 1, total)


def _ratio(count, total):
    count, total = np.asarray(count, float), np.asarray(total, float)
    return count / np.where(total == 0, 1, total)


def _max_f(thresholds, recall, precision) -> tuple[float, float, float, float]:
    """The benchmark's `maxF`: best F on the curve, linearly interpolated (100 steps) between thresholds."""
    best = (
        float(thresholds[0]),
        float(recall[0]),
        float(precision[0]),
        float(_fmeasure(recall[0], precision[0])),
    )
    if len(thresholds) < 2:
        return best
    weight = np.linspace(0, 1, 100)[None, :]
    t = thresholds[1:, None] * weight + thresholds[:-1, None] * (1 - weight)
    r = recall[1:, None] * weight + recall[:-1, None] * (1 - weight)
    p = precision[1:, None] * weight + precision[:-1, None] * (1 - weight)
    f = _fmeasure(r, p)
    k = int(np.argmax(f))  # first maximum, in the benchmark's loop order
    if f.flat[k] > best[3]:
        best = (float(t.flat[k]), float(r.flat[k]), float(p.flat[k]), float(f.flat[k]))
    return best


@dataclasses.dataclass(frozen=True)
class BoundaryScores:
    """Benchmark scores of an edge detector over a set of images.

    Attributes:
        ods: F-measure at the optimal dataset scale (one threshold for all images).
        ois: F-measure at the optimal image scale (each image's best threshold).
        ap: Average precision: area under the interpolated precision-recall curve.
        ods_threshold: The threshold that gives `ods`.
        ods_recall, ods_precision: Recall and precision at `ods`.
        thresholds: The thresholds, `(T,)`.
        recall, precision: The dataset's precision-recall curve, `(T,)` each.
        counts: Per-image counts `(N, T, 4)` (see `count_boundary_matches`).
    """

    ods: float
    ois: float
    ap: float
    ods_threshold: float
    ods_recall: float
    ods_precision: float
    thresholds: np.ndarray
    recall: np.ndarray
    precision: np.ndarray
    counts: np.ndarray

    def __str__(self) -> str:
        return f"ODS={self.ods:.3f} OIS={self.ois:.3f} AP={self.ap:.3f}"


def summarize_counts(counts, thresholds=99) -> BoundaryScores:
    """Compute ODS, OIS and AP from per-image counts, as the benchmark's `collect_eval_bdry`.

    Args:
        counts: `(N, T, 4)` (or `(T, 4)` for one image) from `count_boundary_matches`.
        thresholds: The thresholds the counts were taken at (a count or the values).

    Returns:
        A `BoundaryScores`.

    Example:
    >>> counts = np.array([[[8, 10, 9, 10], [5, 10, 5, 5]]], float)
    >>> scores = summarize_counts(counts, thresholds=[0.25, 0.75])
    >>> round(scores.ods, 4), round(scores.ois, 4), round(scores.ap, 4)
    (0.8471, 0.8471, 0.2945)
    """
    counts = np.asarray(counts, np.float64)
    if counts.ndim == 2:
        counts = counts[None]
    values = _thresholds(thresholds)
    if counts.ndim != 3 or counts.shape[1:] != (values.size, 4):
        raise ValueError(
            f"Invalid shape for argument `counts`. Expected (N, {values.size}, 4) for "
            f"{values.size} thresholds. Received: counts.shape={counts.shape}"
        )
    # OIS: each image at its best threshold (the last of ties, as the benchmark's find(...)(end)).
    image_f = _fmeasure(
        _ratio(counts[..., 0], counts[..., 1]), _ratio(counts[..., 2], counts[..., 3])
    )
    best = values.size - 1 - np.argmax(image_f[:, ::-1], axis=1)
    at_best = counts[np.arange(counts.shape[0]), best].sum(axis=0)
    ois = float(
        _fmeasure(_ratio(at_best[0], at_best[1]), _ratio(at_best[2], at_best[3]))
    )
    total = counts.sum(axis=0)
    recall, precision = (
        _ratio(total[:, 0], total[:, 1]),
        _ratio(total[:, 2], total[:, 3]),
    )
    ods_threshold, ods_recall, ods_precision, ods = _max_f(values, recall, precision)
    # AP: precision interpolated at recall 0:0.01:1 over the recall range of the curve.
    unique_recall, last = np.unique(recall[::-1], return_index=True)
    ap = 0.0
    if unique_recall.size > 1:
        unique_precision = precision[::-1][last]
        grid = np.linspace(0, 1, 101)
        inside = (grid >= unique_recall[0]) & (grid <= unique_recall[-1])
        ap = float(np.interp(grid[inside], unique_recall, unique_precision).sum() / 100)
    return BoundaryScores(
        ods=ods,
        ois=ois,
        ap=ap,
        ods_threshold=ods_threshold,
        ods_recall=ods_recall,
        ods_precision=ods_precision,
        thresholds=values,
        recall=recall,
        precision=precision,
        counts=counts,
    )


def _count_job(job):
    edges, truths, options = job
    return count_boundary_matches(edges, truths, **options)


def _progress(total: int, enabled):
    if enabled is None:
        enabled = total > 1 and sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is not worth failing for
        return None
    return tqdm(total=total, desc="evaluating", unit="image")


def evaluate_boundaries(
    edges,
    truths,
    *,
    thresholds=99,
    max_dist: float = MAX_DIST,
    thin: bool = True,
    nms: bool = False,
    workers: int | None = None,
    progress: bool | None = None,
) -> BoundaryScores:
    """Score soft edge maps against human (or synthetic) boundaries: ODS, OIS and AP.

    Args:
        edges: A sequence of 2-D soft edge maps with values in [0, 1] (bool maps are
            evaluated at one threshold if `thresholds=1`), or an `(N, H, W)` array.
        truths: For each image, one boundary map or a list of them (one per annotator).
        thresholds: Number of thresholds (99, as the benchmark) or their values.
        max_dist: Matching radius as a fraction of the image diagonal (0.0075), in
            [0, 1): 1 would already reach across the whole image.
        thin: Thin the binarised maps to one pixel (as the benchmark).
        nms: Apply `suppress_nonmaxima` to each soft map first.
        workers: Processes to share the images among; default: the CPU count (at most
            the number of images). 1 runs in this process.
        progress: Show a progress bar (tqdm); default: when stderr is a terminal.

    Returns:
        A `BoundaryScores` with `ods`, `ois`, `ap` and the precision-recall curve.

    Raises:
        ValueError: If the numbers of edge maps and truths differ, a map is invalid, or
            `max_dist` is not in [0, 1).

    Example:
    >>> truth = np.zeros((128, 128), bool); truth[64, 8:120] = True
    >>> shifted = np.roll(truth, 1, axis=0)  # one pixel off; the radius is 1.36 pixels
    >>> print(evaluate_boundaries([shifted], [truth], thresholds=1, workers=1))
    ODS=1.000 OIS=1.000 AP=0.000
    >>> print(evaluate_boundaries([shifted], [truth], thresholds=1, max_dist=0.005, workers=1))
    ODS=0.000 OIS=0.000 AP=0.000
    """
    edges = list(edges)
    truths = list(truths)
    if len(edges) != len(truths) or not edges:
        raise ValueError(
            "Invalid value for arguments `edges` and `truths`. Expected the same, non-zero "
            f"number of edge maps and ground truths. Received: {len(edges)} edge maps and "
            f"{len(truths)} ground truths."
        )
    values = _thresholds(thresholds)
    _check_max_dist(max_dist)
    options = dict(thresholds=values, max_dist=max_dist, thin=thin, nms=nms)
    for edge, truth in zip(edges, truths):
        _as_truths(truth, _as_edges(edge).shape)  # validate everything before the work
    if workers is None:
        workers = min(len(edges), os.cpu_count() or 1)
    jobs = [(edge, truth, options) for edge, truth in zip(edges, truths)]
    bar = _progress(len(jobs), progress)
    results = []
    try:
        if workers <= 1:
            for job in jobs:
                results.append(_count_job(job))
                if bar is not None:
                    bar.update()
        else:
            with _pool(workers) as pool:
                for result in pool.map(_count_job, jobs):
                    results.append(result)
                    if bar is not None:
                        bar.update()
    finally:
        if bar is not None:
            bar.close()
    return summarize_counts(np.stack(results), values)


def _pool(workers: int) -> concurrent.futures.Executor:
    """A process pool whose workers import only what `_count_job` needs.

    Forking copies the parent's threads' locks in whatever state they are; once
    TensorFlow (and its thread pools) is loaded that can deadlock a worker, so the pool
    forks only while TensorFlow is not imported, and otherwise starts its workers from a
    clean process (forkserver, or spawn), which import numpy and scipy alone.
    """
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and "tensorflow" not in sys.modules:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context(method)
    )
