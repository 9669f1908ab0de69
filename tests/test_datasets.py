"""Tests for synthetic ground truth and the BSDS500 reader (keras_edges.datasets)."""

import numpy as np
import pytest
from scipy import ndimage
from scipy.io import savemat

from keras_edges import save_image
from keras_edges.datasets import (
    boundaries_from_labels,
    boundary_consensus,
    load_bsds500,
    load_edge_pairs,
    synthetic_dataset,
    synthetic_shapes,
)
from keras_edges.metrics import thin_edges


def test_boundary_of_a_square_is_hand_computed():
    """A 4x4 square: the one-sided label changes, with the three removable corners thinned away."""
    labels = np.zeros((8, 8), int)
    labels[2:6, 2:6] = 1
    expected = np.zeros((8, 8), int)
    for row, col in [
        (1, 2),
        (1, 3),
        (1, 4),
        (2, 5),
        (3, 5),
        (4, 5),
        (5, 4),
        (5, 3),
        (5, 2),
        (4, 1),
        (3, 1),
        (2, 1),
    ]:
        expected[row, col] = 1
    np.testing.assert_array_equal(boundaries_from_labels(labels).astype(int), expected)


def test_synthetic_shapes_shapes_and_determinism():
    """Same seed, same images; image i does not depend on n; another seed differs."""
    images, boundaries = synthetic_shapes(3, size=(40, 56), seed=7)
    assert images.shape == boundaries.shape == (3, 40, 56)
    assert images.dtype == np.float32 and boundaries.dtype == np.bool_
    assert 0.0 <= images.min() and images.max() <= 1.0
    again, again_boundaries = synthetic_shapes(2, size=(40, 56), seed=7)
    np.testing.assert_array_equal(again, images[:2])
    np.testing.assert_array_equal(again_boundaries, boundaries[:2])
    assert not np.array_equal(synthetic_shapes(1, size=(40, 56), seed=8)[0], images[:1])


def test_boundaries_are_thin_and_follow_the_label_changes():
    """Every map is a fixed point of the benchmark's thinning and lies where the sharp image changes."""
    images, boundaries = synthetic_shapes(
        6, size=(64, 80), noise=0, blur=0, texture=0, seed=1
    )
    for image, boundary in zip(images, boundaries):
        assert boundary.any()
        np.testing.assert_array_equal(thin_edges(boundary), boundary)
        # Each pixel whose right or lower neighbour differs by more than the shading is
        # within one pixel of a boundary pixel, and each boundary pixel is next to such a step.
        step = np.zeros_like(boundary)
        step[:, :-1] |= np.abs(np.diff(image, axis=1)) > 0.04
        step[:-1, :] |= np.abs(np.diff(image, axis=0)) > 0.04
        near_boundary = ndimage.binary_dilation(boundary, np.ones((3, 3), bool))
        near_step = ndimage.binary_dilation(step, np.ones((3, 3), bool))
        assert (step <= near_boundary).all() and (boundary <= near_step).all()


def test_noise_and_blur_change_the_image_not_the_truth():
    """Noise and blur leave the boundaries of a seed unchanged and add the asked-for spread."""
    clean, truth = synthetic_shapes(
        2, size=(64, 64), noise=0, blur=0, texture=0, seed=4
    )
    noisy, noisy_truth = synthetic_shapes(
        2, size=(64, 64), noise=0.1, blur=0, texture=0, seed=4
    )
    np.testing.assert_array_equal(truth, noisy_truth)
    inside = (clean > 0.2) & (clean < 0.8)  # away from clipping
    assert np.std((noisy - clean)[inside]) == pytest.approx(0.1, rel=0.1)


def test_synthetic_dataset_matches_the_arrays():
    """The tf.data form yields the same images and boundaries as float32 (H, W, 1) batches."""
    images, boundaries = synthetic_shapes(3, size=(24, 32), seed=5)
    batches = list(synthetic_dataset(3, batch_size=2, size=(24, 32), seed=5))
    assert [tuple(b[0].shape) for b in batches] == [(2, 24, 32, 1), (1, 24, 32, 1)]
    np.testing.assert_array_equal(
        np.concatenate([np.asarray(b[0]) for b in batches])[..., 0], images
    )
    np.testing.assert_array_equal(
        np.concatenate([np.asarray(b[1]) for b in batches])[..., 0], boundaries
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n=-1), "argument `n`"),
        (dict(n=1, size=(4, 4)), "argument `size`"),
        (dict(n=1, noise=-0.1), "argument `noise`"),
        (dict(n=1, shapes=(0, 3)), "argument `shapes`"),
    ],
)
def test_bad_synthetic_arguments(kwargs, message):
    """Bad arguments raise a ValueError naming the argument."""
    with pytest.raises(ValueError, match=message):
        synthetic_shapes(**kwargs)


def _write_bsds(root, split="test", annotators=(3, 1), size=(12, 16)):
    """Write a tiny BSDS500-layout dataset: .jpg images and groundTruth .mat cell arrays."""
    (root / "images" / split).mkdir(parents=True)
    (root / "groundTruth" / split).mkdir(parents=True)
    expected = {}
    rng = np.random.default_rng(0)
    for number, count in enumerate(annotators):
        stem = f"{100 + number}"
        save_image(
            root / "images" / split / f"{stem}.jpg",
            rng.integers(0, 255, (*size, 3), dtype=np.uint8),
        )
        cells = np.empty((1, count), dtype=object)
        maps = []
        for k in range(count):
            segmentation = np.ones(size, np.uint16)
            segmentation[:, k + 3 :] = 2
            boundary = boundaries_from_labels(segmentation)
            cells[0, k] = {
                "Segmentation": segmentation,
                "Boundaries": boundary.astype(np.uint8),
            }
            maps.append(boundary)
        savemat(root / "groundTruth" / split / f"{stem}.mat", {"groundTruth": cells})
        expected[stem] = maps
    return expected


def test_load_bsds500_reads_images_and_annotators(tmp_path):
    """Each image comes with all its annotators' boundaries, in file-name order."""
    expected = _write_bsds(tmp_path)
    pairs = list(load_bsds500(tmp_path, "test"))
    assert len(pairs) == 2
    for (image, boundaries), maps in zip(pairs, expected.values()):
        assert image.shape == (12, 16, 3) and image.dtype == np.uint8
        assert len(boundaries) == len(maps)
        for boundary, truth in zip(boundaries, maps):
            assert boundary.dtype == np.bool_
            np.testing.assert_array_equal(boundary, truth)


def test_load_bsds500_errors(tmp_path):
    """A missing root, a missing split, unmatched files and a bad split are reported clearly."""
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_bsds500(tmp_path / "missing")
    _write_bsds(tmp_path, split="val")
    with pytest.raises(FileNotFoundError, match=r"split 'test'.*does not exist"):
        load_bsds500(tmp_path, "test")
    with pytest.raises(ValueError, match=r"Expected one of \['train', 'val', 'test'\]"):
        load_bsds500(tmp_path, "testing")
    (tmp_path / "groundTruth" / "val" / "100.mat").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 images have no counterpart.*: 100"):
        load_bsds500(tmp_path, "val")


def test_load_bsds500_rejects_a_foreign_mat_file(tmp_path):
    """A .mat file without a `groundTruth` cell array raises a ValueError naming the file."""
    _write_bsds(tmp_path, annotators=(1,))
    savemat(tmp_path / "groundTruth" / "test" / "100.mat", {"something": np.zeros(3)})
    with pytest.raises(ValueError, match=r"100.mat.*no `groundTruth`"):
        list(load_bsds500(tmp_path))


def test_an_empty_mat_file_is_named(tmp_path):
    """A zero-byte .mat file is a ValueError naming the file (finding 13)."""
    _write_bsds(tmp_path, annotators=(1,))
    (tmp_path / "groundTruth" / "test" / "100.mat").write_bytes(b"")
    with pytest.raises(ValueError, match=r"Cannot read ground truth '.*100.mat': \w"):
        list(load_bsds500(tmp_path))


# ------------------------------------------------------------------------ edge-map pairs
def _write_pair(root, name, edge_map, *, images="images", edges="edges", suffix=".png"):
    """One pair: a grey RGB image of the map's size and the map, as `suffix` files."""
    for folder in (images, edges):
        (root / folder).mkdir(parents=True, exist_ok=True)
    image = np.full((*np.shape(edge_map)[:2], 3), 128, np.uint8)
    save_image(root / images / f"{name}.png", image)
    save_image(root / edges / f"{name}{suffix}", edge_map)


def test_16_bit_edge_maps_are_read_at_their_own_scale(tmp_path):
    """A 16-bit map's 32768 is half an edge and 1 is almost none (finding 6)."""
    edge_map = np.array([[0, 1, 32768, 65535]], np.uint16)
    _write_pair(tmp_path, "p0", edge_map)
    ((_, (read,)),) = load_edge_pairs(tmp_path)
    assert read.dtype == np.float32
    np.testing.assert_allclose(read, edge_map / 65535.0, rtol=1e-7)
    np.testing.assert_allclose(
        boundary_consensus(edge_map), [[0, 1 / 65535, 32768 / 65535, 1]], rtol=1e-6
    )
    np.testing.assert_allclose(
        boundary_consensus(np.array([[0, 1, 255]], np.uint8)), [[0, 1 / 255, 1]]
    )


def test_colour_edge_maps_are_read_by_their_brightest_channel(tmp_path):
    """A pure red line on black is a full edge (not luminance 76); grey maps are kept."""
    edge_map = np.zeros((4, 5, 3), np.uint8)
    edge_map[2, :, 0] = 255
    _write_pair(tmp_path, "red", edge_map)
    _write_pair(tmp_path, "grey", np.array([[0, 76, 255]], np.uint8))
    (_, (grey,)), (_, (red,)) = load_edge_pairs(tmp_path)
    np.testing.assert_array_equal(red, edge_map[..., 0])
    np.testing.assert_array_equal(grey, [[0, 76, 255]])


@pytest.mark.parametrize("half", ["images", "edges"])
def test_two_files_of_one_name_are_an_error_naming_both(tmp_path, half):
    """p0.png beside p0.tif in either half is an error naming both (finding 7)."""
    _write_pair(tmp_path, "p0", np.full((3, 3), 255, np.uint8))
    save_image(tmp_path / half / "p0.tif", np.zeros((3, 3), np.uint8))
    with pytest.raises(
        ValueError, match=rf"{half}/p0.png' and '.*{half}/p0.tif' have one name"
    ):
        load_edge_pairs(tmp_path)


def test_an_edge_map_without_its_image_is_an_error(tmp_path):
    """An edge map without an image is named, as an image without a map is (finding 15)."""
    _write_pair(tmp_path, "a", np.full((3, 3), 255, np.uint8))
    save_image(tmp_path / "edges" / "b.png", np.zeros((3, 3), np.uint8))
    with pytest.raises(
        FileNotFoundError,
        match=r"1 edge maps have no image in '.*images', e.g. '.*b.png'",
    ):
        load_edge_pairs(tmp_path)


def test_float_edge_maps_outside_0_1_are_refused(tmp_path):
    """A float TIFF map with values over 1 is named rather than clipped."""
    _write_pair(tmp_path, "f", np.array([[0.0, 255.0]], np.float32), suffix=".tif")
    with pytest.raises(
        ValueError, match=r"f.tif' holds float values in \[0.0, 255.0\]"
    ):
        load_edge_pairs(tmp_path)


def test_biped_layout_reads_train_unless_a_split_is_chosen(tmp_path):
    """BIPED's layout is read at train by default, at another split on request, and an
    unknown split lists the ones there are (finding 4)."""
    for split, names in (("train", ["a", "b"]), ("test", ["c"])):
        for name in names:
            _write_pair(
                tmp_path,
                name,
                np.full((3, 3), 255, np.uint8),
                images=f"imgs/{split}/rgbr/real",
                edges=f"edge_maps/{split}/rgbr/real",
            )
    assert len(load_edge_pairs(tmp_path)) == 2
    assert len(load_edge_pairs(tmp_path, split="test")) == 1
    with pytest.raises(
        FileNotFoundError,
        match=r"no split 'val'.*Received the splits \['test', 'train'\]",
    ):
        load_edge_pairs(tmp_path, split="val")
