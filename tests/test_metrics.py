"""Tests for the boundary benchmark (keras_edges.metrics)."""

import numpy as np
import pytest
from scipy import ndimage

from keras_edges.metrics import (
    count_boundary_matches,
    evaluate_boundaries,
    match_boundaries,
    summarize_counts,
    thin_edges,
)


def _square_ring(size=100, top=30, bottom=70):
    """A one-pixel square outline, a fixed point of thinning once its corners are cut."""
    labels = np.zeros((size, size), int)
    labels[top:bottom, top:bottom] = 1
    from keras_edges.datasets import boundaries_from_labels

    return boundaries_from_labels(labels)


def test_perfect_prediction_scores_one():
    """A prediction equal to the ground truth has precision, recall, ODS and OIS 1."""
    truth = _square_ring()
    scores = evaluate_boundaries([truth.astype("float32")], [truth], workers=1)
    assert scores.ods == pytest.approx(1.0) and scores.ois == pytest.approx(1.0)
    np.testing.assert_allclose(scores.recall, 1.0)
    np.testing.assert_allclose(scores.precision, 1.0)


@pytest.mark.parametrize("axis", [0, 1])
def test_one_pixel_shift_within_and_beyond_tolerance(axis):
    """A 1-pixel shift scores 1 with radius 1.06 px (100x100) and 0 with radius 0.71 px."""
    truth = np.zeros((100, 100), bool)
    truth[20:80, 50] = True
    truth[50, 20:80] = True
    shifted = np.roll(truth, 1, axis=axis)
    within = evaluate_boundaries([shifted], [truth], thresholds=1, workers=1)
    beyond = evaluate_boundaries(
        [shifted], [truth], thresholds=1, max_dist=0.005, workers=1
    )
    assert within.ods == pytest.approx(1.0)
    # Along the shift direction, the line parallel to it still overlaps except one pixel.
    overlap = (shifted & truth).sum()
    assert beyond.ods == pytest.approx(overlap / truth.sum())


def test_shifted_line_matches_nothing_below_one_pixel():
    """A single line moved by one pixel has F = 0 when the radius is below one pixel."""
    truth = np.zeros((100, 100), bool)
    truth[50, 10:90] = True
    shifted = np.roll(truth, 1, axis=0)
    assert (
        evaluate_boundaries(
            [shifted], [truth], thresholds=1, max_dist=0.007, workers=1
        ).ods
        == 0.0
    )
    assert (
        evaluate_boundaries(
            [shifted], [truth], thresholds=1, max_dist=0.0075, workers=1
        ).ods
        == 1.0
    )


def test_empty_prediction_has_recall_zero():
    """No predicted pixels: recall 0 and the counts [0, |truth|, 0, 0] at every threshold."""
    truth = _square_ring()
    counts = count_boundary_matches(
        np.zeros((100, 100), "float32"), [truth], thresholds=5
    )
    np.testing.assert_array_equal(counts, [[0, truth.sum(), 0, 0]] * 5)
    scores = evaluate_boundaries([np.zeros((100, 100))], [truth], workers=1)
    np.testing.assert_array_equal(scores.recall, 0.0)
    assert scores.ods == 0.0 and scores.ap == 0.0


def test_matching_is_one_to_one():
    """Three predicted pixels around one true pixel: only one of them is matched."""
    truth = np.zeros((50, 50), bool)
    truth[25, 25] = True
    predicted = np.zeros((50, 50), bool)
    predicted[24:27, 25] = True
    matched_predicted, matched_truth = match_boundaries(predicted, truth)
    assert matched_predicted.sum() == 1 and matched_truth.sum() == 1
    np.testing.assert_array_equal(
        count_boundary_matches(predicted, truth, thresholds=1), [[1, 1, 1, 3]]
    )


def test_matching_is_maximal():
    """A greedy nearest-first match would leave one pair out; the bipartite matching finds both."""
    truth = np.zeros((50, 50), bool)
    predicted = np.zeros((50, 50), bool)
    truth[[20, 20], [20, 21]] = (
        True  # radius 0.53 px on 50x50 is too small: use max_dist
    )
    predicted[[20, 21], [21, 21]] = (
        True  # (20,21) is nearest to (20,21); (21,21) only reaches (20,20)
    )
    _, matched_truth = match_boundaries(
        predicted, truth, max_dist=1.5 / np.hypot(50, 50)
    )
    assert matched_truth.sum() == 2


def test_several_annotators_follow_the_bsds_counts():
    """Recall sums matches over annotators; precision counts pixels matched to any (hand-computed)."""
    annotator_a = np.zeros((64, 64), bool)
    annotator_a[10, 10:30] = True  # 20 pixels, all predicted
    annotator_b = np.zeros((64, 64), bool)
    annotator_b[10, 10:20] = True  # 10 pixels predicted
    annotator_b[40, 10:20] = True  # 10 pixels missed
    predicted = np.zeros((64, 64), bool)
    predicted[10, 10:30] = True
    predicted[50, 10:15] = True  # 5 pixels far from any boundary
    counts = count_boundary_matches(predicted, [annotator_a, annotator_b], thresholds=1)
    # cntR = 20 + 10, sumR = 20 + 20, cntP = 20 (matched to A, B or both), sumP = 25.
    np.testing.assert_array_equal(counts, [[30, 40, 20, 25]])
    scores = summarize_counts(counts, thresholds=1)
    assert scores.ods_recall == pytest.approx(
        0.75
    ) and scores.ods_precision == pytest.approx(0.8)
    assert scores.ods == pytest.approx(2 * 0.75 * 0.8 / 1.55)


def _max_f_reference(thresholds, recall, precision):
    """The benchmark's MATLAB maxF loop, transcribed literally."""

    def fmeasure(r, p):
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    best = fmeasure(recall[0], precision[0])
    for i in range(1, len(thresholds)):
        for d in np.linspace(0, 1, 100):
            r = recall[i] * d + recall[i - 1] * (1 - d)
            p = precision[i] * d + precision[i - 1] * (1 - d)
            best = max(best, fmeasure(r, p))
    return best


def test_ods_ois_ap_from_counts():
    """Two images with different best thresholds: OIS 1 > ODS; AP integrates the interpolated curve."""
    counts = np.array(
        [
            [[10, 10, 10, 20], [10, 10, 10, 10]],  # image 1: best at the high threshold
            [[10, 10, 10, 10], [0, 10, 0, 0]],  # image 2: best at the low threshold
        ],
        float,
    )
    scores = summarize_counts(counts, thresholds=[0.25, 0.75])
    np.testing.assert_allclose(scores.recall, [1.0, 0.5])
    np.testing.assert_allclose(scores.precision, [2 / 3, 1.0])
    assert scores.ois == pytest.approx(1.0)
    assert scores.ods == pytest.approx(
        _max_f_reference([0.25, 0.75], [1.0, 0.5], [2 / 3, 1.0])
    )
    assert 0.8 <= scores.ods < 1.0
    # Precision from 1 (recall 0.5) to 2/3 (recall 1) at 51 recall steps, summed / 100.
    assert scores.ap == pytest.approx(
        np.interp(np.linspace(0.5, 1, 51), [0.5, 1], [1, 2 / 3]).sum() / 100
    )


@pytest.mark.parametrize("seed", range(6))
def test_thinning_matches_scikit_image(seed):
    """thin_edges equals skimage.morphology.thin (MATLAB's bwmorph thin) on random shapes."""
    thin = pytest.importorskip("skimage.morphology").thin
    rng = np.random.default_rng(seed)
    mask = rng.random((60, 80)) < 0.3 + 0.1 * seed
    mask = (
        ndimage.binary_dilation(mask, iterations=seed % 3)
        if seed % 2
        else ndimage.binary_opening(mask)
    )
    np.testing.assert_array_equal(thin_edges(mask), thin(mask))


def test_thinning_keeps_thin_curves_and_empties():
    """A diagonal line and an empty map are fixed points; a thick bar becomes one pixel wide."""
    line = np.eye(12, dtype=bool)
    np.testing.assert_array_equal(thin_edges(line), line)
    assert not thin_edges(np.zeros((5, 5))).any()
    bar = np.zeros((20, 30), bool)
    bar[5:12, 3:27] = True
    thinned = thin_edges(bar)
    assert thinned.sum(axis=0)[8:22].tolist() == [1] * 14


def test_workers_give_the_same_counts():
    """Two processes give exactly the counts of one."""
    from keras_edges.datasets import synthetic_shapes

    images, truths = synthetic_shapes(3, size=(48, 64), seed=3)
    edges = [np.clip(np.hypot(*np.gradient(image)) * 2, 0, 1) for image in images]
    one = evaluate_boundaries(edges, truths, thresholds=9, workers=1)
    two = evaluate_boundaries(edges, truths, thresholds=9, workers=2)
    np.testing.assert_array_equal(one.counts, two.counts)


def test_binary_map_at_one_threshold():
    """A bool map evaluated at one threshold gives a single curve point and AP 0 (BSDS)."""
    truth = _square_ring()
    scores = evaluate_boundaries([truth], [truth], thresholds=1, workers=1)
    assert (
        scores.thresholds.tolist() == [0.5]
        and scores.ods == pytest.approx(1.0)
        and scores.ap == 0.0
    )


@pytest.mark.parametrize(
    "edges, truths, message",
    [
        (
            [np.full((8, 8), 6.0)],
            [np.zeros((8, 8), bool)],
            r"values in \[0, 1\].*normalize=True",
        ),
        (
            [np.zeros((8, 8))],
            [np.zeros((8, 9), bool)],
            r"Expected the shape of the edge map",
        ),
        ([np.zeros((8, 8))], [], r"same, non-zero number"),
        ([np.zeros(8)], [np.zeros(8, bool)], r"Expected a non-empty 2-D"),
    ],
)
def test_bad_input_is_reported(edges, truths, message):
    """Out-of-range maps, shape mismatches and count mismatches raise a ValueError that says why."""
    with pytest.raises(ValueError, match=message):
        evaluate_boundaries(edges, truths, workers=1)


def test_bad_thresholds_are_reported():
    """Zero or unsorted thresholds raise a ValueError."""
    with pytest.raises(ValueError, match="Invalid value for argument `thresholds`"):
        count_boundary_matches(np.zeros((8, 8)), np.zeros((8, 8)), thresholds=0)
    with pytest.raises(ValueError, match="increasing list"):
        count_boundary_matches(
            np.zeros((8, 8)), np.zeros((8, 8)), thresholds=[0.5, 0.2]
        )


@pytest.mark.parametrize("seed", range(4))
def test_matching_size_equals_scipy_maximum(seed):
    """On random pixel clouds the matching is as large as scipy's maximum bipartite matching."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    rng = np.random.default_rng(seed)
    predicted = rng.random((30, 40)) < 0.15
    truth = rng.random((30, 40)) < 0.1
    max_dist = 1.5 / np.hypot(30, 40)
    matched_predicted, matched_truth = match_boundaries(
        predicted, truth, max_dist=max_dist
    )
    pred = np.argwhere(predicted)
    true = np.argwhere(truth)
    close = (
        np.hypot(*(pred[:, None, :] - true[None, :, :]).transpose(2, 0, 1))
        <= 1.5 + 1e-9
    )
    reference = maximum_bipartite_matching(
        csr_matrix(close.astype(np.int8)), perm_type="column"
    )
    assert matched_predicted.sum() == matched_truth.sum() == (reference >= 0).sum()


@pytest.mark.parametrize("max_dist", [1, 1.0, 5, 1e9, -0.1, float("nan")])
def test_max_dist_outside_zero_to_one_is_refused(max_dist):
    """A radius of 1 diagonal or more (or a negative one) is refused before any work."""
    truth = np.zeros((16, 16), bool)
    truth[8, 2:14] = True
    message = r"Expected a fraction of the image diagonal, e.g\. 0\.0075"
    with pytest.raises(ValueError, match=message):
        evaluate_boundaries([truth], [truth], thresholds=1, max_dist=max_dist)
    with pytest.raises(ValueError, match=message):
        match_boundaries(truth, truth, max_dist=max_dist)


def test_max_dist_just_below_one_is_accepted():
    """0.99 of the diagonal matches a one-pixel shift as any large radius would."""
    truth = np.zeros((16, 16), bool)
    truth[8, 2:14] = True
    shifted = np.roll(truth, 3, axis=0)
    scores = evaluate_boundaries(
        [shifted], [truth], thresholds=1, max_dist=0.99, workers=1
    )
    assert scores.ods == pytest.approx(1.0)


def test_workers_after_tensorflow_do_not_fork(tmp_path):
    """With TensorFlow imported (the CLI path), the pool starts clean workers, not forks,
    and two of them give exactly the counts of one."""
    import os
    import subprocess
    import sys

    from conftest import ROOT

    script = tmp_path / "evaluate.py"
    script.write_text(
        "import numpy as np\n"
        "import tensorflow as tf\n"
        "from keras_edges import metrics\n"
        "from keras_edges.datasets import synthetic_shapes\n"
        "if __name__ == '__main__':\n"
        "    tf.constant(1.0) + 1  # TensorFlow's threads are running\n"
        "    pool = metrics._pool(2)\n"
        "    print(pool._mp_context.get_start_method())\n"
        "    pool.shutdown()\n"
        "    images, truths = synthetic_shapes(3, size=(48, 64), seed=3)\n"
        "    edges = [np.clip(np.hypot(*np.gradient(i)) * 2, 0, 1) for i in images]\n"
        "    one = metrics.evaluate_boundaries(edges, truths, thresholds=9, workers=1)\n"
        "    two = metrics.evaluate_boundaries(edges, truths, thresholds=9, workers=2)\n"
        "    print(np.array_equal(one.counts, two.counts))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    method, same = result.stdout.split()[-2:]
    assert method in ("forkserver", "spawn") and same == "True"
