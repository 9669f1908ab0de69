"""Tests for `keras-edges learn` and `keras-edges finetune` (keras_edges.cli.learn)."""

import json

import keras
import numpy as np
import pytest
from scipy.io import savemat

from keras_edges import save_image
from keras_edges.cli import main
from keras_edges.datasets import boundaries_from_labels, synthetic_shapes
from keras_edges.models import build_boundary_model

# A tiny run: one epoch of two batches of two 32x32 crops, five validation thresholds.
TINY = [
    "--epochs",
    "1",
    "--steps-per-epoch",
    "2",
    "--batch-size",
    "2",
    "--crop-size",
    "32",
    "--thresholds",
    "5",
]


def _write_bsds(root, splits=("train", "val"), count=2):
    """A BSDS500-layout folder: JPEG images and two annotators per .mat (scipy.io.savemat)."""
    for split in splits:
        for folder in ("images", "groundTruth"):
            (root / folder / split).mkdir(parents=True)
        for index in range(count):
            labels = np.zeros((40, 48), np.uint16)
            labels[8 + index : 30, 10 : 36 - index] = 1
            image = np.where(labels == 1, 190, 50).astype(np.uint8)
            save_image(
                root / "images" / split / f"{index}.jpg",
                np.repeat(image[:, :, None], 3, axis=2),
            )
            cells = np.empty((1, 2), dtype=object)
            for annotator in range(2):
                cells[0, annotator] = {
                    "Segmentation": labels + 1,
                    "Boundaries": boundaries_from_labels(labels).astype(np.uint8),
                }
            savemat(
                root / "groundTruth" / split / f"{index}.mat", {"groundTruth": cells}
            )


def _write_pairs(root, count=5):
    """A pair folder of generated shapes: images/<i>.png with edges/<i>.png (0/255)."""
    images, truths = synthetic_shapes(count, size=(40, 40), seed=0)
    for folder in ("images", "edges"):
        (root / folder).mkdir(parents=True)
    for index, (image, truth) in enumerate(zip(images, truths)):
        save_image(
            root / "images" / f"{index}.png", np.rint(image * 255).astype(np.uint8)
        )
        save_image(root / "edges" / f"{index}.png", truth.astype(np.uint8) * 255)


def _check_results(folder):
    """The three results exist; the .keras model loads in safe mode and equals the weights."""
    assert {"boundaries.weights.h5", "boundaries.keras", "provenance.json"} <= {
        path.name for path in folder.iterdir()
    }
    assert not [path for path in folder.iterdir() if ".part" in path.name]
    loaded = keras.saving.load_model(folder / "boundaries.keras", safe_mode=True)
    model = build_boundary_model()
    model.load_weights(folder / "boundaries.weights.h5")
    image = np.random.default_rng(0).uniform(size=(1, 21, 34, 3)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(loaded(image)), np.asarray(model(image)), atol=1e-6
    )
    return json.loads((folder / "provenance.json").read_text())


@pytest.mark.slow
def test_learn_writes_results_and_resumes(tmp_path, capsys):
    """learn trains on a BSDS layout, writes weights, model and provenance; a rerun resumes."""
    _write_bsds(tmp_path / "bsds")
    run = tmp_path / "run"
    argv = [
        "learn",
        "--bsds",
        str(tmp_path / "bsds"),
        "--val-images",
        "1",
        "-o",
        str(run),
    ]
    assert main(argv + TINY) == 0
    out = capsys.readouterr().out
    assert "BSDS500 train (2 images, all annotators)" in out and "ods=" in out
    provenance = _check_results(run)
    assert provenance["epochs"] == 1 and provenance["seed"] == 0
    assert provenance["parameters"] == build_boundary_model().count_params()
    assert provenance["command"].startswith("keras-edges learn --batch-size 2")
    assert provenance["start"] == "random initialisation"
    assert [entry["step"] for entry in provenance["history"]] == [2]
    assert 0.0 <= provenance["best_validation"]["ods"] <= 1.0
    state = (run / "state.json").read_bytes()
    checkpoint = (run / "state.weights.h5").read_bytes()

    assert main(argv + TINY) == 0
    assert "already trained for 1 epochs" in capsys.readouterr().out
    assert (run / "state.json").read_bytes() == state
    assert (run / "state.weights.h5").read_bytes() == checkpoint
    assert _check_results(run)["history"] == provenance["history"]


@pytest.mark.slow
def test_finetune_starts_from_the_shipped_weights(tmp_path, capsys):
    """finetune trains on a pair folder, holding out a fifth of the pairs for validation."""
    _write_pairs(tmp_path / "pairs")
    run = tmp_path / "run"
    assert main(["finetune", str(tmp_path / "pairs"), "-o", str(run)] + TINY) == 0
    assert "validating on 1 pairs held out" in capsys.readouterr().out
    provenance = _check_results(run)
    assert provenance["start"] == "pretrained"
    assert provenance["data"]["train"] == f"4 pairs from {tmp_path / 'pairs'}"
    assert provenance["epochs"] == 1 and "ods" in provenance["best_validation"]


@pytest.mark.slow
def test_learn_starts_from_given_weights(tmp_path, capsys):
    """learn --init pretrained|FILE starts from those weights (a tiny learning rate keeps
    them), and the provenance names the start and the --rotate augmentation."""
    _write_bsds(tmp_path / "bsds")
    shipped = build_boundary_model(pretrained=True)
    saved = tmp_path / "start.weights.h5"
    shipped.save_weights(saved)
    for init in ("pretrained", str(saved)):
        run = tmp_path / f"run_{len(init)}"
        argv = ["learn", "--bsds", str(tmp_path / "bsds"), "--val-images", "0"]
        argv += ["--init", init, "--rotate", "--learning-rate", "1e-9", "-o", str(run)]
        assert main(argv + TINY) == 0
        provenance = _check_results(run)
        assert provenance["start"] == init
        assert (
            "--rotate" in provenance["command"]
            and f"--init {init}" in provenance["command"]
        )
        trained = build_boundary_model()
        trained.load_weights(run / "boundaries.weights.h5")
        for before, after in zip(shipped.get_weights(), trained.get_weights()):
            np.testing.assert_allclose(after, before, atol=1e-6)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A BSDS folder, a pair folder, one with a missing edge map, and a file `taken`."""
    _write_bsds(tmp_path / "bsds", count=1)
    _write_pairs(tmp_path / "pairs")
    _write_pairs(tmp_path / "missing", count=2)
    (tmp_path / "missing" / "edges" / "1.png").unlink()
    (tmp_path / "taken").write_text("a file")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "argv, message",
    [
        (["learn", "-o", "run"], "the following arguments are required: --bsds"),
        (
            ["learn", "--bsds", "no/such", "-o", "run"],
            "Cannot read BSDS500 from 'no/such'",
        ),
        (
            ["learn", "--bsds", "bsds", "-o", "run", "--epochs", "0"],
            "--epochs must be a positive integer, got 0",
        ),
        (
            ["learn", "--bsds", "bsds", "-o", "run", "--learning-rate", "2"],
            "--learning-rate must be in (0, 1), got 2.0",
        ),
        (
            ["learn", "--bsds", "bsds", "-o", "run", "--train-splits", "tset"],
            "unknown split 'tset'",
        ),
        (
            ["learn", "--bsds", "bsds", "-o", "run", "--train-splits", "train+val"],
            "--val-split val is also a training split",
        ),
        (["learn", "--bsds", "bsds", "-o", "taken"], "-o/--output must be a folder"),
        (
            ["learn", "--bsds", "bsds", "-o", "run", "--init", "taken"],
            "--init 'taken': expected 'pretrained' or a .weights.h5 file",
        ),
        (
            ["finetune", "no/such", "-o", "run"],
            "Cannot read image / edge-map pairs from 'no/such'",
        ),
        (
            ["finetune", "missing", "-o", "run"],
            "1 images have no edge map in 'missing/edges', e.g. 'missing/images/1.png'",
        ),
        (
            ["finetune", "pairs", "-o", "run", "--holdout", "9"],
            "--holdout must be in [0, 4] for 5 pairs, got 9",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(workspace, argv, message, capsys):
    """Bad learn/finetune arguments and data exit 2 with one line, and train nothing."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    assert not (workspace / "run").exists()


@pytest.mark.parametrize("command", ["learn", "finetune"])
def test_help_shows_examples(command, capsys):
    """`keras-edges learn --help` and `finetune --help` exit 0 with examples."""
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"examples:\n  keras-edges {command}" in capsys.readouterr().out
