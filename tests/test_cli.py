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


def test_train_synthetic_writes_a_loadable_model(tmp_path, capsys):
    """train --synthetic saves a .keras model atomically and prints the kernels and their error."""
    import keras

    from keras_edges import kernel_error

    output = tmp_path / "learned.keras"
    argv = ["train", "--synthetic", "8", "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "4",
            "--crop-size", "16", "--seed", "0", "-o", str(output)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "learned kernel_x:" in out and "kernel error vs sobel" in out
    assert [p.name for p in tmp_path.iterdir()] == ["learned.keras"]  # no temporary left behind
    model = keras.saving.load_model(output, safe_mode=True)
    assert f"{kernel_error(model, 'sobel'):.4g}" in out


def test_train_folder_with_targets(tmp_path):
    """train IMAGES --targets FOLDER pairs the edge maps by file name."""
    for folder in ("images", "targets"):
        (tmp_path / folder).mkdir()
    for name in ("a", "b"):
        save_image(tmp_path / "images" / f"{name}.png", np.random.default_rng(1).integers(0, 255, (20, 20), np.uint8))
        save_image(tmp_path / "targets" / f"{name}.tif", np.zeros((20, 20), np.float32))
    argv = [
        "train", str(tmp_path / "images"), "--targets", str(tmp_path / "targets"), "--epochs", "1",
        "--steps-per-epoch", "2", "--crop-size", "8", "-o", str(tmp_path / "m.keras"),
    ]
    assert main(argv) == 0
    assert (tmp_path / "m.keras").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "-o", "m.keras"], "give either an IMAGES folder or --synthetic N"),
        (["train", str(IMG), "--synthetic", "4"], "give either an IMAGES folder or --synthetic N"),
        (["train", "no/such/folder"], "'no/such/folder' is not a folder"),
        (["train", "--synthetic", "4", "--epochs", "0"], "--epochs must be a positive integer, got 0"),
        (["train", "--synthetic", "4", "-o", "model.h5"], "-o/--output must end in .keras"),
        (["train", "--synthetic", "4", "--targets", str(IMG)], "--targets needs an IMAGES folder"),
        (["train", "--synthetic", "4", "--crop-size", "100"], "Expected at most the smallest image side"),
    ],
)
def test_train_usage_errors_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    """Bad train arguments are usage errors (exit 2), with nothing trained or written."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
