"""Tests for `keras-edges detect --runner NAME` (keras_edges.beam, keras_edges.cli.beam).

They run offline on Beam's local FnApiRunner, in-process and with two worker processes,
and need the extra `keras-edges[beam]` (CI: `make test-beam`, in a venv of its own).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "apache_beam",
    reason="apache-beam is not installed (pip install 'keras-edges[beam]'; CI runs "
    "these tests in their own venv: make test-beam)",
)

from keras_edges import detect_edges, load_image, save_image  # noqa: E402
from keras_edges.beam import EdgeModelHandler, Failure  # noqa: E402
from keras_edges.cli import main  # noqa: E402

from conftest import IMG, ROOT  # noqa: E402

LOCAL = ["--runner", "FnApiRunner"]
TWO_WORKERS = [
    *LOCAL,
    "--direct_num_workers",
    "2",
    "--direct_running_mode",
    "multi_processing",
]
BAD = {"broken.png": "not an image file Pillow can identify", "cut.jpg": "truncated"}


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A tree of images: generated ones (two of one size), img/ samples, two bad files."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "sub" / "deeper").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "sub/b.png"):  # the same size: one stacked batch
        save_image(folder / name, rng.integers(0, 256, (40, 48, 3), dtype=np.uint8))
    save_image(
        folder / "sub/deeper/grey.tiff", rng.integers(0, 256, (33, 21), np.uint8)
    )
    save_image(folder / "wide16.png", rng.integers(0, 65536, (24, 64), np.uint16))
    for name in ("camera.png", "coins.png", "chelsea.jpg"):
        (folder / "sub" / name).write_bytes((IMG / name).read_bytes())
    (folder / "broken.png").write_text("not a png")
    (folder / "cut.jpg").write_bytes((IMG / "chelsea.jpg").read_bytes()[:3000])
    (folder / "notes.txt").write_text("not an image, and not an input")
    return folder


def _files(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` that is not hidden: relative path -> bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not any(p.startswith(".") for p in path.relative_to(folder).parts)
    }


def _both(photos, tmp_path, capsys, options, runner) -> tuple[Path, str]:
    """Run the plain command and the pipeline; check exit codes; return the Beam output."""
    plain, piped = tmp_path / "plain", tmp_path / "beam"
    common = ["detect", str(photos), "--recursive", *options]
    assert main([*common, "-o", str(plain)]) == 1
    capsys.readouterr()
    assert main([*common, "-o", str(piped), *runner]) == 1
    captured = capsys.readouterr()
    expected = _files(plain)
    assert len(expected) == 7
    assert _files(piped) == expected  # the same names, byte for byte
    return piped, captured.err + captured.out


@pytest.mark.parametrize(
    "options",
    [
        [],
        ["--method", "canny", "--format", "tiff"],
        ["--method", "learned", "--format", "npy"],
    ],
    ids=["gradient-png", "canny-tiff", "learned-npy"],
)
def test_in_process_runner_writes_the_plain_commands_files(
    photos, tmp_path, capsys, options
):
    """The pipeline writes the plain command's files, names the bad ones and exits 1."""
    piped, printed = _both(photos, tmp_path, capsys, options, LOCAL)
    for name, reason in BAD.items():
        assert f"failed {photos / name}: " in printed
        assert reason in printed
    assert "7 done, 0 skipped, 2 failed" in printed
    report = (piped / ".keras-edges" / "failures.txt").read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in report) == [
        str(photos / name) for name in sorted(BAD)
    ]


def test_two_worker_processes_write_the_plain_commands_files(photos, tmp_path, capsys):
    """Two worker processes give the same files as the plain command (thresholded Scharr)."""
    options = ["--operator", "scharr", "--threshold", "0.2"]
    _, printed = _both(photos, tmp_path, capsys, options, TWO_WORKERS)
    assert "7 done, 0 skipped, 2 failed" in printed


def test_rerun_skips_finished_outputs_and_reports_nothing_left(
    photos, tmp_path, capsys
):
    """A rerun skips every output; with good inputs only, no failure report is left."""
    good = tmp_path / "good"
    good.mkdir()
    for name in ("a.png", "wide16.png"):
        (good / name).write_bytes((photos / name).read_bytes())
    out = tmp_path / "out"
    assert main(["detect", str(good), "-o", str(out), *LOCAL]) == 0
    first = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    assert sorted(p.name for p in first) == ["a_edges.png", "wide16_edges.png"]
    assert "2 done, 0 skipped, 0 failed" in capsys.readouterr().out
    assert main(["detect", str(good), "-o", str(out), *LOCAL]) == 0
    assert "0 done, 2 skipped, 0 failed" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == first
    assert main(["detect", str(good), "-o", str(out), "--overwrite", *LOCAL]) == 0
    assert "2 done, 0 skipped, 0 failed" in capsys.readouterr().out


_DIE_AFTER_TWO = """
import os, signal, sys
import keras_edges.beam as pipeline
from keras_edges.cli import main
written = []
original = pipeline.write_bytes
def write_then_die(path, data):
    if "_edges." not in path:  # the job listing
        return original(path, data)
    if len(written) == 2:  # killed while writing the third: a temporary, cut short
        folder, name = os.path.split(path)
        with open(os.path.join(folder, f".{name}.killed.part"), "wb") as stream:
            stream.write(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    original(path, data)
    written.append(path)
pipeline.write_bytes = write_then_die
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_run_is_completed_by_a_rerun(photos, tmp_path, capsys):
    """A run killed mid-way leaves whole files only; a rerun writes the rest, skips the rest."""
    command = ["detect", str(photos), "--recursive", "-o", str(tmp_path / "beam")]
    killed = subprocess.run(
        [sys.executable, "-c", _DIE_AFTER_TWO, *command, *LOCAL],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=600,
    )
    assert killed.returncode == -9
    left = _files(tmp_path / "beam")
    assert len(left) == 2
    parts = list((tmp_path / "beam").rglob(".*.killed.part"))
    assert len(parts) == 1
    os.utime(parts[0], (1, 1))  # as if killed long ago: the rerun removes it
    assert main([*command, *LOCAL]) == 1
    assert "5 done, 2 skipped, 2 failed" in capsys.readouterr().out
    assert (
        main(["detect", str(photos), "--recursive", "-o", str(tmp_path / "plain")]) == 1
    )
    assert _files(tmp_path / "beam") == _files(tmp_path / "plain")
    assert not parts[0].exists()


def test_handler_stacks_images_of_one_size(monkeypatch):
    """run_inference makes one call per size and dtype, with the edges of each image alone."""
    import keras_edges.beam as pipeline

    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(9, 7)] * 3]
    images.insert(1, rng.integers(0, 256, (6, 8), dtype=np.uint8))
    handler = EdgeModelHandler({"operator": "sobel"}, max_batch_size=4)
    assert handler.batch_elements_kwargs() == {"min_batch_size": 1, "max_batch_size": 4}
    calls = []
    original = pipeline._detect_stacked
    monkeypatch.setattr(
        pipeline,
        "_detect_stacked",
        lambda detector, group: calls.append(len(group)) or original(detector, group),
    )
    results = list(handler.run_inference(images, handler.load_model()))
    assert sorted(calls) == [1, 3]
    for image, result in zip(images, results):
        assert result.example == image.shape
        np.testing.assert_array_equal(result.inference, detect_edges(image))


def test_handler_keeps_the_good_images_of_a_failing_batch():
    """An image the detector rejects is a Failure; the others of its batch get their edges."""
    good = np.linspace(0, 1, 30, dtype=np.float32).reshape(5, 6)
    bad = good.copy()
    bad[2, 3] = np.nan
    handler = EdgeModelHandler({"method": "canny"})
    results = list(handler.run_inference([good, bad, good], handler.load_model()))
    np.testing.assert_array_equal(
        results[0].inference, detect_edges(good, method="canny")
    )
    np.testing.assert_array_equal(results[2].inference, results[0].inference)
    assert isinstance(results[1].inference, Failure)
    assert "1 NaN" in results[1].inference.reason


def test_handler_loads_a_saved_model_on_the_worker(tmp_path):
    """A .keras model travels as bytes and gives what detect_edges gives with it."""
    from keras_edges import build_edge_model

    model = build_edge_model("prewitt", magnitude="l2")
    model.save(tmp_path / "mine.keras")
    handler = EdgeModelHandler(model_file=(tmp_path / "mine.keras").read_bytes())
    image = load_image(IMG / "coins.png")
    (result,) = handler.run_inference([image], handler.load_model())
    np.testing.assert_array_equal(result.inference, detect_edges(image, model=model))


def test_handler_rejects_a_model_object():
    """A model object (not its file's bytes) is refused with a hint."""
    with pytest.raises(ValueError, match="pass a model as `model_file`"):
        EdgeModelHandler({"model": object()})


def test_remote_planning_names_outputs_as_the_plain_command(photos, tmp_path):
    """Listing through Beam's file systems (as for gs://) gives the plain command's jobs."""
    import argparse

    from keras_edges.cli.beam import _plan_remote
    from keras_edges.cli.detect import _collect_images, _plan_outputs

    parser = argparse.ArgumentParser()
    args = argparse.Namespace(recursive=True)
    out = tmp_path / "out"
    for inputs in ([str(photos)], [str(photos / "sub" / "*.png")]):
        found = _collect_images(inputs, parser, recursive=True)
        jobs, left_out = _plan_outputs(found, out, ".png", parser)
        plain = [(str(source), str(target)) for source, target in jobs]
        assert _plan_remote(inputs, str(out), ".png", args, parser) == (plain, left_out)
    # Written into the input folder, earlier outputs are left out as inputs.
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("a.png", "a_edges.png"):
        (mixed / name).write_bytes((photos / "a.png").read_bytes())
    expected = ([(str(mixed / "a.png"), str(mixed / "a_edges.png"))], 1)
    assert _plan_remote([str(mixed)], str(mixed), ".png", args, parser) == expected
