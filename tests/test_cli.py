"""Tests for the keras-edges command line (keras_edges.cli)."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import IMG, ROOT
from keras_edges import detect_edges, load_image, save_image
from keras_edges.cli import main


def test_detect_writes_edges(tmp_path, capsys):
    """detect writes <stem>_edges.png equal to the library's result and reports the count."""
    assert main(["detect", str(IMG / "coins.png"), str(IMG / "arrows.png"), "-o", str(tmp_path)]) == 0
    np.testing.assert_array_equal(load_image(tmp_path / "coins_edges.png"), detect_edges(IMG / "coins.png"))
    assert "2 done, 0 failed" in capsys.readouterr().out


def test_detect_threshold_and_folder(tmp_path):
    """A folder input with --threshold writes binary 0/255 maps for every image in it."""
    images = tmp_path / "in"
    images.mkdir()
    save_image(images / "a.png", load_image(IMG / "camera.png")[:64, :64])
    assert main(["detect", str(images), "-o", str(tmp_path / "out"), "--threshold", "0.2"]) == 0
    written = load_image(tmp_path / "out" / "a_edges.png")
    np.testing.assert_array_equal(written, detect_edges(images / "a.png", threshold=0.2) * 255)


def test_one_bad_file_does_not_stop_the_batch(tmp_path, capsys):
    """A broken file is reported by name, the others are written, and the exit code is 1."""
    images = tmp_path / "in"
    images.mkdir()
    (images / "broken.png").write_text("not a png")
    save_image(images / "good.png", np.eye(8, dtype=np.uint8) * 200)
    assert main(["detect", str(images), "-o", str(tmp_path / "out")]) == 1
    assert (tmp_path / "out" / "good_edges.png").exists()
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "1 done, 1 failed" in captured.out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["detect", "x.png", "--threshold", "7"], "--threshold must be in [0, 1], got 7.0"),
        (["detect", "x.png", "--ksize", "4"], "Expected one of [3, 5, 7]. Received: ksize=4"),
        (["detect", str(IMG / "coins.png"), "--operator", "canny"], "invalid choice: 'canny'"),
        (["detect", "no/such/input.png"], "input 'no/such/input.png' does not exist"),
        (["demo", "--images", "no/such/folder"], "is not a folder"),
    ],
)
def test_usage_errors_exit_2_without_traceback(argv, message, capsys):
    """Bad values are usage errors: exit code 2, a one-line message, no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_demo_writes_every_sample(tmp_path):
    """demo writes an edge map and a side-by-side figure for each sample image."""
    assert main(["demo", "--images", str(IMG), "-o", str(tmp_path)]) == 0
    samples = sorted(p.stem for p in IMG.iterdir() if p.suffix in (".png", ".jpg"))
    assert sorted(p.name for p in tmp_path.glob("*_edges.png")) == [f"{s}_edges.png" for s in samples]
    side = load_image(tmp_path / "camera_side_by_side.png")
    assert side.shape == (512, 512 * 2 + 8)
    np.testing.assert_array_equal(side[:, 520:], detect_edges(IMG / "camera.png", normalize=True))


def test_version_and_help_without_tensorflow():
    """`keras-edges --help` and `--version` answer without importing TensorFlow."""
    code = (
        "import sys; sys.argv = ['keras-edges', '--version']\n"
        "from keras_edges.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip().splitlines() == ["keras-edges 0.1.0", "False"]


# --- evaluate ------------------------------------------------------------------------
def _scores_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("ODS="))


def test_evaluate_synthetic_prints_scores_and_plots(tmp_path, capsys):
    """evaluate --synthetic prints ODS/OIS/AP equal to the library's and writes the PR curve."""
    from keras_edges.datasets import synthetic_shapes
    from keras_edges.metrics import evaluate_boundaries

    plot = tmp_path / "pr.png"
    argv = ["evaluate", "--synthetic", "2", "--size", "48", "64", "--workers", "1", "--plot", str(plot)]
    assert main(argv) == 0
    images, truths = synthetic_shapes(2, size=(48, 64), noise=0.1, seed=0)
    scores = evaluate_boundaries([detect_edges(image, normalize=True) for image in images], truths, workers=1)
    assert f"ODS={scores.ods:.3f} OIS={scores.ois:.3f} AP={scores.ap:.3f}" in _scores_line(capsys.readouterr().out)
    assert load_image(plot).shape[0] > 100


def test_evaluate_model_matches_operator(tmp_path, capsys):
    """A saved Sobel model scores exactly as --operator sobel, with --nms too."""
    from keras_edges import build_edge_model

    build_edge_model("sobel").save(tmp_path / "sobel.keras")
    common = ["evaluate", "--synthetic", "2", "--size", "40", "48", "--workers", "1", "--nms"]
    assert main(common + ["--model", str(tmp_path / "sobel.keras")]) == 0
    from_model = _scores_line(capsys.readouterr().out)
    assert main(common + ["--operator", "sobel"]) == 0
    assert _scores_line(capsys.readouterr().out) == from_model


def test_evaluate_bsds_layout(tmp_path, capsys):
    """evaluate --bsds reads a BSDS500-layout folder written with scipy.io.savemat."""
    from scipy.io import savemat

    from keras_edges.datasets import boundaries_from_labels

    for folder in ("images/val", "groundTruth/val"):
        (tmp_path / folder).mkdir(parents=True)
    labels = np.zeros((40, 60), np.uint16)
    labels[:, 30:] = 1
    image = np.where(labels == 1, 200, 40).astype(np.uint8)
    save_image(tmp_path / "images/val/1.jpg", np.repeat(image[:, :, None], 3, axis=2))
    cells = np.empty((1, 2), dtype=object)
    for k in range(2):
        cells[0, k] = {"Segmentation": labels + 1, "Boundaries": boundaries_from_labels(labels).astype(np.uint8)}
    savemat(tmp_path / "groundTruth/val/1.mat", {"groundTruth": cells})
    assert main(["evaluate", "--bsds", str(tmp_path), "--split", "val", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "BSDS500 val (1 images)" in out
    assert float(_scores_line(out).split()[0][4:]) >= 0.95  # one straight step: all but the ends


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", "--bsds", "no/such/bsds"], "no such folder"),
        (["evaluate", "--synthetic", "0"], "--synthetic must be a positive number"),
        (["evaluate", "--synthetic", "1", "--plot", "pr.txt"], "--plot must name a .png"),
        (["evaluate", "--synthetic", "1", "--thresholds", "0"], "--thresholds must be at least 1"),
        (["evaluate", "--operator", "sobel"], "one of the arguments --bsds --synthetic is required"),
    ],
)
def test_evaluate_usage_errors(argv, message, capsys):
    """Bad evaluate arguments are usage errors: exit 2, a message, no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_evaluate_canny_names_the_missing_feature(capsys):
    """Without detect_edges(method='canny'), --method canny is a usage error that says so."""
    import inspect

    if "method" in inspect.signature(detect_edges).parameters:
        pytest.skip("Canny is available in this version")
    with pytest.raises(SystemExit):
        main(["evaluate", "--synthetic", "1", "--method", "canny"])
    assert "detect_edges(..., method='canny')" in capsys.readouterr().err
