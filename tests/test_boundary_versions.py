"""Tests for the learned detector's versions: architectures and shipped weights by name."""

import hashlib
import json

import keras
import numpy as np
import pytest
from test_export import run_tflite

from keras_edges import export_model
from keras_edges.cli import main
from keras_edges.models import (
    BOUNDARY_VERSIONS,
    DEFAULT_BOUNDARY_VERSION,
    PRETRAINED_WEIGHTS,
    build_boundary_model,
    pretrained_weights,
)

RNG = np.random.default_rng(0)

# The versions whose weights are installed (v1 always is; v2 once a run has shipped them).
SHIPPED = [
    version for version in BOUNDARY_VERSIONS if pretrained_weights(version).is_file()
]


def _stage4_parameters(width: int, inputs: int = 64) -> int:
    """Parameters that depend on the last stage's width (hand count of the graph).

    The 1x1 expansion (kernel and bias), three blocks of a bias-free 3x3 pixel-difference
    depthwise convolution and a 1x1 pointwise one (kernel and bias), and the side output's
    1x1 reduction to 8 channels (its kernel only: its bias does not depend on the width).
    """
    expand = inputs * width + width
    blocks = 3 * (9 * width + width * width + width)
    return expand + blocks + 8 * width


def test_versions_differ_only_in_the_last_stage():
    """v2 widens only the 1/8-resolution stage (64 -> 128): the hand count of the change."""
    v1 = build_boundary_model(version="v1").count_params()
    v2 = build_boundary_model(version="v2").count_params()
    assert v1 == 43_401
    assert v2 - v1 == _stage4_parameters(128) - _stage4_parameters(64)
    assert v2 < 100_000


def test_default_is_v1_and_pinning_it_loads_the_same_weights():
    """`version="v1"` is today's default model with today's weights, file and all."""
    assert DEFAULT_BOUNDARY_VERSION == "v1"
    assert pretrained_weights("v1") == PRETRAINED_WEIGHTS
    default = build_boundary_model(pretrained=True)
    pinned = build_boundary_model(version="v1", pretrained=True)
    for a, b in zip(default.get_weights(), pinned.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(version="v9"), ValueError, "version"),
        (dict(version="v2", pretrained=True, blocks=2), ValueError, "of version 'v2'"),
        (
            dict(version="v1", pretrained=True, widths=(16, 32, 64, 128)),
            ValueError,
            "v1",
        ),
    ],
)
def test_bad_versions_are_reported(options, error, message):
    """An unknown version, or pretrained weights with another architecture, is refused."""
    with pytest.raises(error, match=message):
        build_boundary_model(**options)


def test_missing_weights_name_the_file_and_the_versions_that_have_them(
    tmp_path, monkeypatch
):
    """Pretrained weights that are not installed raise FileNotFoundError naming the file."""
    from keras_edges import models

    monkeypatch.setattr(models, "_WEIGHTS", tmp_path)
    with pytest.raises(
        FileNotFoundError,
        match="boundaries_v2.weights.h5.*versions with weights: \\[\\]",
    ):
        build_boundary_model(version="v2", pretrained=True)


def test_learn_refuses_an_unknown_version(tmp_path, capsys):
    """`keras-edges learn --model-version v9` stops before reading any data."""
    with pytest.raises(SystemExit):
        main(
            [
                "learn",
                "--bsds",
                str(tmp_path),
                "--model-version",
                "v9",
                "-o",
                str(tmp_path / "run"),
            ]
        )
    assert "--model-version must be one of v1, v2, got 'v9'" in capsys.readouterr().err


@pytest.mark.parametrize("version", SHIPPED)
def test_shipped_weights_have_their_provenance(version):
    """Each shipped file is < 1 MB, named by SHA-256 in its JSON, of its architecture."""
    path = pretrained_weights(version)
    provenance = json.loads(
        path.with_name(path.name.replace(".weights.h5", ".json")).read_text()
    )
    assert path.stat().st_size < 1_000_000
    assert provenance["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    model = build_boundary_model(version=version, pretrained=True)
    assert provenance["parameters"] == model.count_params()


@pytest.mark.parametrize("version", SHIPPED)
def test_shipped_versions_load_in_safe_mode(tmp_path, version):
    """Each version with weights saves and loads in safe mode, without custom_objects."""
    model = build_boundary_model(version=version, pretrained=True)
    model.save(tmp_path / "boundaries.keras")
    loaded = keras.saving.load_model(tmp_path / "boundaries.keras", safe_mode=True)
    batch = RNG.uniform(size=(2, 37, 53, 3)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(loaded(batch)), np.asarray(model(batch)), rtol=1e-6, atol=1e-6
    )


@pytest.mark.slow
@pytest.mark.parametrize("version", SHIPPED)
def test_shipped_versions_export_to_tflite(tmp_path, version):
    """Each version with weights exports to TFLite with the Keras probabilities."""
    model = build_boundary_model(version=version, pretrained=True)
    target = export_model(model, tmp_path / "boundaries.tflite", format="tflite")
    batch = RNG.uniform(size=(1, 37, 53, 3)).astype(np.float32)
    np.testing.assert_allclose(
        run_tflite(target, batch), np.asarray(model(batch)), rtol=1e-4, atol=1e-5
    )


def _fake_run(folder, version="v2"):
    """A run folder as `keras-edges learn` leaves it mid-run, with a `run.json` beside."""
    folder.mkdir()
    keras.utils.set_random_seed(3)
    model = build_boundary_model(version=version)
    model.save_weights(folder / "best.weights.h5")
    best = {"epoch": 2, "step": 20, "seconds": 9.0, "loss": 0.2, "ods": 0.61}
    history = [
        {"epoch": 1, "step": 10, "seconds": 4.0, "loss": 0.3, "ods": 0.55},
        best,
        {"epoch": 3, "step": 30, "seconds": 14.5, "loss": 0.1, "ods": 0.6},
    ]
    state = {"epoch": 3, "seconds": 14.5, "history": history, "best": best, "seed": 5}
    (folder / "state.json").write_text(json.dumps(state))
    about = {
        "version": version,
        "command": "keras-edges learn --seed 5",
        "seed": 5,
        "commit": "0" * 40,
        "data": {"train": "BSDS500 train"},
    }
    (folder / "run.json").write_text(json.dumps(about))
    return model


def test_ship_script_copies_the_best_weights_with_their_provenance(tmp_path):
    """benchmarks/ship_boundaries.py writes the run's best weights, unchanged, and a JSON
    that names them by SHA-256 with the run's command, seed, commit, steps and best epoch."""
    import runpy

    from conftest import ROOT

    source = _fake_run(tmp_path / "run")
    script = runpy.run_path(str(ROOT / "benchmarks" / "ship_boundaries.py"))
    out = tmp_path / "weights"
    out.mkdir()
    assert script["main"]([str(tmp_path / "run"), "--to", str(out)]) == 0
    shipped = build_boundary_model(version="v2")
    shipped.load_weights(out / "boundaries_v2.weights.h5")
    for a, b in zip(shipped.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    provenance = json.loads((out / "boundaries_v2.json").read_text())
    digest = hashlib.sha256((out / "boundaries_v2.weights.h5").read_bytes()).hexdigest()
    assert provenance["weights_sha256"] == digest
    assert provenance["parameters"] == 86_857
    assert (provenance["command"], provenance["seed"]) == (
        "keras-edges learn --seed 5",
        5,
    )
    assert (provenance["commit"], provenance["steps"], provenance["epochs"]) == (
        "0" * 40,
        30,
        3,
    )
    assert provenance["best_validation"]["epoch"] == 2
    assert "epoch 2 (step 20) of the 3 finished" in provenance["selection"]


def test_ship_script_ships_a_finished_train_val_run(tmp_path):
    """A finished run of the current `learn` (boundaries.weights.h5 + provenance.json)
    ships its final weights, with the recipe's train-only provenance, scores marked as
    not held out for a run that trained on val, and the tests' reference map."""
    import runpy

    from keras_edges.io import load_image
    from keras_edges.methods import learned_boundaries

    from conftest import IMG, ROOT

    run = tmp_path / "run"
    source = _fake_run(run, version="v1")
    source.save_weights(run / "boundaries.weights.h5")
    record = {
        "command": "keras-edges learn --train-splits train+val --seed 7",
        "commit": "1" * 40,
        "seed": 7,
        "training_seconds": 12.5,
        "epochs": 4,
        "best_validation": None,
        "history": [{"epoch": 4, "step": 40, "loss": 0.1}],
    }
    (run / "provenance.json").write_text(json.dumps(record))
    about = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps(dict(about, train_splits="train+val")))
    (tmp_path / "recipe.json").write_text(json.dumps({"val_scores_held_out": 0.75}))
    script = runpy.run_path(str(ROOT / "benchmarks" / "ship_boundaries.py"))
    argv = [str(run), "--to", str(tmp_path), "--recipe", str(tmp_path / "recipe.json")]
    assert script["main"](argv) == 0
    provenance = json.loads((tmp_path / "boundaries.json").read_text())
    assert (provenance["command"], provenance["seed"], provenance["steps"]) == (
        record["command"],
        7,
        40,
    )
    assert provenance["selection"].startswith(
        "the last epoch (4) of the fixed schedule"
    )
    assert provenance["recipe_validation"] == {"val_scores_held_out": 0.75}
    shipped = build_boundary_model(version="v1")
    shipped.load_weights(tmp_path / "boundaries.weights.h5")
    camera = load_image(IMG / "camera.png").astype(np.float32) / 255
    np.testing.assert_allclose(
        np.load(tmp_path / "learned_camera_every8_v1.npy"),
        learned_boundaries(camera, model=source)[::8, ::8],
        atol=1e-6,
    )
