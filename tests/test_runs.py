"""Tests for run folders (keras_edges.train.runs) as fit_boundary_model uses them."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from keras_edges.datasets import synthetic_shapes
from keras_edges.models import build_boundary_model
from keras_edges.train import runs
from keras_edges.train.boundaries import fit_boundary_model
from keras_edges.train.runs import RunFolderError

# A tiny net and a tiny run: two epochs of two batches of two 16x16 crops.
TINY = dict(
    architecture={"widths": (4, 4, 8, 8), "blocks": 1},
    epochs=2,
    steps_per_epoch=2,
    batch_size=2,
    crop_size=16,
    learning_rate=5e-3,
    thresholds=3,
    verbose=0,
)


def _pairs(n: int, seed: int) -> list:
    """`(uint8 RGB image, bool boundaries)` pairs of generated 24x24 shapes."""
    images, truths = synthetic_shapes(n, size=(24, 24), seed=seed)
    rgb = np.repeat(np.rint(images * 255).astype(np.uint8)[..., None], 3, axis=-1)
    return list(zip(rgb, truths))


TRAIN, OTHER, VALIDATION = _pairs(3, 0), _pairs(3, 1), _pairs(1, 2)


def _files(folder) -> dict:
    """Every file of a folder by name, with its bytes."""
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def _assert_same_weights(model, other):
    for received, expected in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_allclose(received, expected, rtol=1e-5, atol=1e-6)


def _differs(model, other) -> bool:
    return any(
        not np.allclose(a, b, atol=1e-6)
        for a, b in zip(model.get_weights(), other.get_weights())
    )


@pytest.fixture(scope="module")
def whole(tmp_path_factory):
    """An uninterrupted two-epoch run with validation, kept in a folder."""
    folder = tmp_path_factory.mktemp("whole")
    model, state = fit_boundary_model(
        TRAIN, validation=VALIDATION, folder=folder, **TINY
    )
    return folder, model, state


def test_state_records_options_and_data(whole):
    """state.json records the options and data fingerprints and names existing files."""
    folder, _, state = whole
    saved = json.loads((folder / "state.json").read_text())
    assert saved["options"]["crop_size"] == 16 and saved["options"]["seed"] == 0
    assert saved["options"]["train"] == runs.fingerprint(TRAIN)
    assert saved["options"]["validation"] == runs.fingerprint(VALIDATION)
    assert saved["weights"] == "epoch-0002.weights.h5"
    names = {path.name for path in folder.iterdir()}
    assert names == {
        "state.json",
        "run.lock",
        "epoch-0002.weights.h5",
        saved["best"]["weights"],
    }
    assert saved == json.loads(json.dumps(state))


@pytest.mark.parametrize(
    "change, differences",
    [
        (dict(train=OTHER), ["train: '"]),
        (dict(crop_size=24, seed=9), ["crop_size: 16 -> 24", "seed: 0 -> 9"]),
        (dict(validation=None), ["validation: '", "' -> None"]),
        (dict(epochs=3), ["epochs: 2 -> 3"]),
    ],
)
def test_resume_with_other_data_or_options_is_refused(
    whole, tmp_path, change, differences
):
    """Another call on a run folder with other data or options is refused, naming what
    differs and both ways out, and changes no file (finding 1)."""
    folder = tmp_path / "run"
    shutil.copytree(whole[0], folder)
    before = _files(folder)
    arguments = {"train": TRAIN, "validation": VALIDATION, **TINY, **change}
    with pytest.raises(RunFolderError, match="holds another run") as error:
        fit_boundary_model(arguments.pop("train"), folder=folder, **arguments)
    message = str(error.value)
    assert all(difference in message for difference in differences), message
    assert "another folder" in message and "force_resume=True" in message
    assert _files(folder) == before


@pytest.mark.slow
def test_force_resume_records_the_changes_and_restarts_best(whole, tmp_path):
    """force_resume trains on with the new options, records the change, and with the
    validation gone returns the last weights, not the earlier best (finding 2)."""
    folder = tmp_path / "run"
    shutil.copytree(whole[0], folder)
    model, state = fit_boundary_model(
        TRAIN, folder=folder, force_resume=True, **{**TINY, "epochs": 3}
    )
    assert state["epoch"] == 3 and [e["step"] for e in state["history"]] == [2, 4, 6]
    assert state["changes"][0]["epoch"] == 2
    assert "epochs: 2 -> 3" in state["changes"][0]["changed"]
    assert state["best"] == {} and state["options"]["validation"] is None
    last = build_boundary_model(**TINY["architecture"], side_outputs=True)
    last.load_weights(folder / state["weights"])
    for layer in [layer for layer in model.layers if layer.weights]:
        for received, expected in zip(
            layer.get_weights(), last.get_layer(layer.name).get_weights()
        ):
            np.testing.assert_array_equal(received, expected)
    assert not list(folder.glob("best-*"))


@pytest.mark.slow
def test_a_fresh_start_never_returns_an_earlier_runs_best(whole, tmp_path):
    """With state.json deleted the folder starts anew: without validation the result is
    this run's last weights, equal to a run kept in memory (finding 2)."""
    folder = tmp_path / "run"
    shutil.copytree(whole[0], folder)
    (folder / "state.json").unlink()
    model, state = fit_boundary_model(TRAIN, folder=folder, **TINY)
    in_memory, _ = fit_boundary_model(TRAIN, **TINY)
    _assert_same_weights(model, in_memory)
    assert _differs(model, whole[1])  # the earlier run's best
    assert state["best"] == {} and not list(folder.glob("best-*"))


def test_a_second_run_is_refused_while_the_first_holds_the_folder(tmp_path):
    """While another process holds the folder's lock a run is refused at once, naming
    the process; once that process dies (a crash) the lock is free (finding 3)."""
    folder = tmp_path / "run"
    folder.mkdir()
    holder = textwrap.dedent(
        f"""
        import fcntl, os, sys
        handle = open({str(folder / runs.LOCK)!r}, "a+")
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write(str(os.getpid())); handle.flush()
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    if sys.platform == "win32":
        pytest.skip("the holder uses fcntl")
    process = subprocess.Popen(
        [sys.executable, "-c", holder],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "locked"
        with pytest.raises(
            RunFolderError, match=f"in use by another run .process {process.pid}"
        ):
            fit_boundary_model(TRAIN, folder=folder, **TINY)
        assert not (folder / "state.json").exists()
    finally:
        process.kill()  # as a crash: no clean-up
        process.wait()
    with runs.run_lock(folder):
        assert (folder / runs.LOCK).read_text() == str(os.getpid())
        with runs.run_lock(folder):  # the same process may nest
            pass


@pytest.mark.slow
def test_a_crash_between_weights_and_state_resumes_from_one_epoch(
    whole, tmp_path, monkeypatch
):
    """A crash after epoch 2's weights are written but before its state leaves epoch 1
    whole; the resumed run equals the uninterrupted one, no epoch trained twice
    (finding 5)."""
    folder = tmp_path / "run"
    original = runs.atomic_path

    def crashing(path, **options):
        if path.name == "state.json" and (folder / "epoch-0002.weights.h5").exists():
            raise KeyboardInterrupt  # killed between the two writes
        return original(path, **options)

    monkeypatch.setattr(runs, "atomic_path", crashing)
    with pytest.raises(KeyboardInterrupt):
        fit_boundary_model(TRAIN, validation=VALIDATION, folder=folder, **TINY)
    monkeypatch.setattr(runs, "atomic_path", original)
    saved = json.loads((folder / "state.json").read_text())
    assert saved["epoch"] == 1 and saved["weights"] == "epoch-0001.weights.h5"
    model, state = fit_boundary_model(
        TRAIN, validation=VALIDATION, folder=folder, **TINY
    )
    assert [entry["step"] for entry in state["history"]] == [2, 4]
    _assert_same_weights(model, whole[1])
    assert sorted(path.name for path in folder.glob("epoch-*")) == [
        "epoch-0002.weights.h5"
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        (os.urandom(64) + b"\xff", "is not a run state"),
        (b'{"epoch": 1}', "is not a run state"),
        (b'{"epoch": 1, "weights": "epoch-0001.weights.h5"}', "names 'epoch-0001"),
    ],
)
def test_an_unreadable_state_is_named(tmp_path, content, message):
    """A broken state.json is named, with how to start anew (finding 13)."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "state.json").write_bytes(content)
    with pytest.raises(RunFolderError, match=message) as error:
        fit_boundary_model(TRAIN, folder=folder, **TINY)
    assert "state.json" in str(error.value) and "Start anew" in str(error.value)


def test_fingerprint_sees_order_pixels_and_maps():
    """The data fingerprint changes with the order, one pixel, or one map's values."""
    base = runs.fingerprint(TRAIN)
    assert runs.fingerprint(list(TRAIN)) == base
    assert runs.fingerprint(TRAIN[::-1]) != base
    image, truth = TRAIN[0]
    changed = image.copy()
    changed[0, 0, 0] ^= 1
    assert runs.fingerprint([(changed, truth), *TRAIN[1:]]) != base
    assert runs.fingerprint([(image, truth.astype(np.uint8)), *TRAIN[1:]]) != base
