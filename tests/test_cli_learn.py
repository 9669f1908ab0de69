"""Tests for `keras-edges learn` and `keras-edges finetune` (keras_edges.cli.learn)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from scipy.io import savemat

from keras_edges import load_image, save_image
from keras_edges.cli import main
from keras_edges.datasets import boundaries_from_labels, synthetic_shapes
from keras_edges.models import build_boundary_model

from conftest import ROOT

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
    checkpoint = (run / "epoch-0001.weights.h5").read_bytes()

    assert main(argv + TINY) == 0
    assert "already trained for 1 epochs" in capsys.readouterr().out
    assert (run / "state.json").read_bytes() == state
    assert (run / "epoch-0001.weights.h5").read_bytes() == checkpoint
    assert _check_results(run)["history"] == provenance["history"]


@pytest.mark.slow
def test_finetune_starts_from_the_shipped_weights(tmp_path, capsys):
    """finetune trains on a pair folder, holding out a fifth of the pairs for validation,
    into a folder whose parents it creates (finding 15); a rerun with other options is
    refused and changes nothing (finding 1), unless --force-resume."""
    _write_pairs(tmp_path / "pairs")
    run = tmp_path / "runs" / "mine"
    argv = ["finetune", str(tmp_path / "pairs"), "-o", str(run)]
    assert main(argv + TINY) == 0
    assert "validating on 1 pairs held out" in capsys.readouterr().out
    provenance = _check_results(run)
    assert provenance["start"] == "pretrained"
    assert (
        provenance["data"]["train"] == f"4 pairs from {tmp_path / 'pairs' / 'images'}"
    )
    assert provenance["epochs"] == 1 and "ods" in provenance["best_validation"]
    assert provenance["options"]["crop_size"] == 32
    files = {path.name: path.read_bytes() for path in run.iterdir()}
    with pytest.raises(SystemExit) as exit_info:
        main(argv + TINY + ["--seed", "9", "--holdout", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "holds another run" in err and "seed: 0 -> 9" in err
    assert "validation: '" in err and "--force-resume" in err
    assert {path.name: path.read_bytes() for path in run.iterdir()} == files
    longer = TINY[:1] + ["2"] + TINY[2:]
    assert main(argv + longer + ["--force-resume"]) == 0
    provenance = _check_results(run)
    assert provenance["epochs"] == 2
    assert provenance["changes"] == [{"epoch": 1, "changed": ["epochs: 1 -> 2"]}]


def test_commands_print_no_tensorflow_start_up_lines(tmp_path):
    """finetune and learn are as quiet as detect: a usage error prints its one line and
    nothing of TensorFlow's start-up (finding 12)."""
    _write_pairs(tmp_path / "pairs", count=1)
    (tmp_path / "pairs" / "edges" / "0.png").unlink()
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-m", "keras_edges", "finetune", "pairs", "-o", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("usage: keras-edges finetune")
    assert all(line.startswith(" ") for line in lines[1:-1]), lines  # the usage
    assert lines[-1].startswith("keras-edges finetune: error: Cannot read image")


@pytest.mark.slow
def test_finetune_warns_once_about_soft_maps(tmp_path):
    """`keras-edges finetune` on a detector's probabilities (float TIFF, never exactly 0)
    trains, and says once on stderr that their background is ignored and how to fix it."""
    _write_pairs(tmp_path / "pairs", count=2)
    for path in sorted((tmp_path / "pairs" / "edges").iterdir()):
        edges = load_image(path)
        soft = np.clip(edges / 255.0 + 0.02, 0, 1).astype(np.float32)
        save_image(path.with_suffix(".tif"), soft)
        path.unlink()
    result = subprocess.run(
        [sys.executable, "-m", "keras_edges", "finetune", "pairs", "-o", "run"]
        + ["--holdout", "0", *TINY],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    warning = (
        "2 of 2 training edge maps are 0 (no edge) at fewer than half their pixels"
    )
    assert result.stderr.count(warning) == 1, result.stderr
    assert "Set their background to 0" in result.stderr
    assert (tmp_path / "run" / "boundaries.weights.h5").is_file()


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
    (tmp_path / "bad_state").mkdir()
    (tmp_path / "bad_state" / "state.json").write_bytes(b"\xff\xfe random")
    _write_pairs(tmp_path / "blank", count=2)
    for path in (tmp_path / "blank" / "edges").iterdir():
        save_image(path, np.full((40, 40), 60, np.uint8))  # under the 0.3 consensus
    _write_bsds(tmp_path / "bsds_zero", splits=("train",), count=1)
    (tmp_path / "bsds_zero" / "groundTruth" / "train" / "0.mat").write_bytes(b"")
    for split in ("train", "test"):
        _write_pairs(tmp_path / "biped" / split, count=2)
        for half, name in (("images", "imgs"), ("edges", "edge_maps")):
            (tmp_path / "biped" / name).mkdir(exist_ok=True)
            (tmp_path / "biped" / split / half).rename(
                tmp_path / "biped" / name / split
            )
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
        (
            ["finetune", "pairs", "-o", "taken/run"],
            "-o/--output must be a folder, got the file 'taken'",
        ),
        (
            ["finetune", "pairs", "-o", "bad_state"],
            "'bad_state/state.json' is not a run state",
        ),
        (
            ["finetune", "blank", "-o", "run"],
            "none of its 2 maps has a pixel at or above the loss's positive threshold",
        ),
        (
            ["learn", "--bsds", "bsds_zero", "--val-images", "0", "-o", "run"],
            "Cannot read ground truth 'bsds_zero/groundTruth/train/0.mat'",
        ),
        (
            ["finetune", "pairs", "--validation", "pairs", "-o", "run"],
            "--validation pairs reads the training pairs (pairs/images)",
        ),
        (
            ["finetune", "biped", "--validation", "biped", "-o", "run"],
            "--validation biped reads the training pairs (biped/imgs/train)",
        ),
        (
            ["finetune", "biped", "--split", "val", "-o", "run"],
            "no split 'val'",
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


def test_biped_splits_are_chosen(workspace, capsys, monkeypatch):
    """finetune reads BIPED's train split by default and --validation-split test for
    validation (finding 4); a failure names the pair folder, not --operator (finding 13)."""

    def diverging(train, **options):
        print(f"{len(train)} training pairs, {len(options['validation'])} validation")
        raise FloatingPointError("Training diverged at epoch 1 (loss=nan)")

    monkeypatch.setattr("keras_edges.train.boundaries.fit_boundary_model", diverging)
    argv = ["finetune", "biped", "--validation", "biped", "--validation-split", "test"]
    assert main(argv + ["-o", "run"]) == 1
    captured = capsys.readouterr()
    assert "training on 2 pairs from biped/imgs/train; validating on 2 pairs from " in (
        captured.out
    )
    assert "biped/imgs/test" in captured.out
    assert "failed on biped: FloatingPointError: Training diverged" in captured.err


@pytest.mark.parametrize("command", ["learn", "finetune"])
def test_help_shows_examples(command, capsys):
    """`keras-edges learn --help` and `finetune --help` exit 0 with examples."""
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"examples:\n  keras-edges {command}" in capsys.readouterr().out
