"""Tests for the keras-edges command line (keras_edges.cli)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from keras_edges import detect_edges, load_image, save_image
from keras_edges.cli import main
from keras_edges.cli.common import _TF_LOG_LINE

from conftest import IMG, ROOT


def test_detect_writes_edges(tmp_path, capsys):
    """detect writes <stem>_edges.png equal to the library's result and reports the count."""
    assert (
        main(
            [
                "detect",
                str(IMG / "coins.png"),
                str(IMG / "arrows.png"),
                "-o",
                str(tmp_path),
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(
        load_image(tmp_path / "coins_edges.png"), detect_edges(IMG / "coins.png")
    )
    assert "2 done, 0 skipped, 0 failed" in capsys.readouterr().out


def test_detect_threshold_and_folder(tmp_path):
    """A folder input with --threshold writes binary 0/255 maps for every image in it."""
    images = tmp_path / "in"
    images.mkdir()
    save_image(images / "a.png", load_image(IMG / "camera.png")[:64, :64])
    assert (
        main(["detect", str(images), "-o", str(tmp_path / "out"), "--threshold", "0.2"])
        == 0
    )
    written = load_image(tmp_path / "out" / "a_edges.png")
    np.testing.assert_array_equal(
        written, detect_edges(images / "a.png", threshold=0.2) * 255
    )


def test_one_bad_file_does_not_stop_the_batch(tmp_path, capsys):
    """A broken file is reported by name, the others are written, and the exit code is 1."""
    images = tmp_path / "in"
    images.mkdir()
    (images / "broken.png").write_text("not a png")
    save_image(images / "good.png", np.eye(8, dtype=np.uint8) * 200)
    assert main(["detect", str(images), "-o", str(tmp_path / "out")]) == 1
    assert (tmp_path / "out" / "good_edges.png").exists()
    captured = capsys.readouterr()
    assert (
        "broken.png" in captured.err and "1 done, 0 skipped, 1 failed" in captured.out
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["detect", "x.png", "--threshold", "7"],
            "--threshold must be in [0, 1], got 7.0",
        ),
        (
            ["detect", "x.png", "--ksize", "4"],
            "Expected one of [3, 5, 7]. Received: ksize=4",
        ),
        (
            ["detect", str(IMG / "coins.png"), "--operator", "canny"],
            "invalid choice: 'canny'",
        ),
        (["detect", "no/such/input.png"], "input 'no/such/input.png' does not exist"),
        (["demo", "--images", "no/such/folder"], "is not a folder"),
        (
            ["detect", "x.png", "--shard", "3/2"],
            "argument --shard: expected K/N with 1 <= K <= N, got '3/2'",
        ),
        (["detect", "x.png", "--shard", "0/2"], "got '0/2'"),
        (["detect", "x.png", "--shard", "half"], "got 'half'"),
        (["detect", "x.png", "--format", "gif"], "invalid choice: 'gif'"),
        (["detect", "x.png", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (
            ["detect", str(IMG / "coins.png"), "--model", "missing.keras"],
            "--model: Cannot read model 'missing.keras': no such file",
        ),
        (["detect", str(IMG / "no_such_*.png")], "matches no image files"),
        (
            ["detect", str(IMG / "coins.png"), "-o", str(IMG / "coins.png")],
            "is a file; expected a folder",
        ),
        (["export", "-o", "no/such/folder/m.tflite"], "does not exist"),
        (
            ["export", "missing.keras", "-o", "m.tflite"],
            "--model: Cannot read model 'missing.keras': no such file",
        ),
        (["evaluate", "--bsds", "no/such/bsds"], "no such folder"),
        (["evaluate", "--synthetic", "0"], "--synthetic must be a positive number"),
        (
            ["evaluate", "--synthetic", "1", "--plot", "pr.txt"],
            "--plot must name a .png",
        ),
        (
            ["evaluate", "--synthetic", "1", "--thresholds", "0"],
            "--thresholds must be at least 1",
        ),
        (
            ["evaluate", "--operator", "sobel"],
            "one of the arguments --bsds --synthetic is required",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv, message, capsys):
    """Bad options, values and files are usage errors: exit code 2, one line, no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1


def test_demo_writes_every_sample(tmp_path):
    """demo writes an edge map and a side-by-side figure for each sample image."""
    assert main(["demo", "--images", str(IMG), "-o", str(tmp_path)]) == 0
    samples = sorted(p.stem for p in IMG.iterdir() if p.suffix in (".png", ".jpg"))
    assert sorted(p.name for p in tmp_path.glob("*_edges.png")) == [
        f"{s}_edges.png" for s in samples
    ]
    side = load_image(tmp_path / "camera_side_by_side.png")
    assert side.shape == (
        512,
        512 * 4 + 24,
    )  # image | Sobel | Canny | learned, 8-px gaps
    camera = load_image(IMG / "camera.png")
    np.testing.assert_array_equal(side[:, :512], camera)
    sobel = detect_edges(camera, normalize=True).astype("float32")
    stretched = np.clip(sobel / np.percentile(sobel, 99.5), 0, 1)
    np.testing.assert_array_equal(
        side[:, 520:1032], np.rint(stretched * 255).astype("uint8")
    )
    np.testing.assert_array_equal(
        side[:, 1040:1552], detect_edges(camera, method="canny").astype("uint8") * 255
    )
    np.testing.assert_array_equal(
        side[:, 1560:], detect_edges(camera, method="learned", nms=True)
    )
    assert (side[:, 520:1032] > 64).mean() > 2 * (sobel > 64).mean()  # brighter
    colour = load_image(tmp_path / "coffee_side_by_side.png", mode="RGB")
    assert colour.shape[2] == 3 and not (colour[..., :1] == colour).all()


def test_version_and_help_without_tensorflow():
    """`keras-edges --help` and `--version` answer without importing TensorFlow."""
    code = (
        "import sys; sys.argv = ['keras-edges', '--version']\n"
        "from keras_edges.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print('tensorflow' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert result.stdout.strip().splitlines() == ["keras-edges 0.1.0", "False"]


@pytest.mark.parametrize("argv0", ["script.py", "-m", "/usr/bin/keras-edges"])
@pytest.mark.parametrize("keras_first", [False, True])
def test_layers_register_on_every_loading_path(tmp_path, argv0, keras_first):
    """After `import keras_edges`, Keras loads a saved model in safe mode, whatever sys.argv[0]
    is (`python -m keras_edges.cli`, the console script) and whichever is imported first."""
    from keras_edges import build_canny_model

    path = tmp_path / "canny.keras"
    build_canny_model().save(path)
    imports = ["import keras", "import keras_edges"]
    code = "\n".join(
        [
            f"import sys; sys.argv[0] = {argv0!r}",
            *(imports if keras_first else imports[::-1]),
            f"model = keras.saving.load_model({str(path)!r}, safe_mode=True)",
            "print(type(model.get_layer('hysteresis')).__name__)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert result.stdout.strip().splitlines()[-1:] == ["Hysteresis"], result.stderr


def test_import_is_light():
    """`import keras_edges` and its light names (image I/O, metrics) import no TensorFlow."""
    code = (
        "import sys, keras_edges\n"
        "keras_edges.load_image, keras_edges.evaluate_boundaries, keras_edges.KERNELS\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("inherited", [None, "0", "1"])
def test_cli_prints_no_tensorflow_start_up_lines(tmp_path, inherited):
    """A CLI run writes nothing to stderr, whatever TF_CPP_MIN_LOG_LEVEL it inherits
    (importing TensorFlow sets 1 in the parent's environment)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TF_CPP", "KERAS_EDGES"))
    }
    if inherited is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = inherited
    result = subprocess.run(
        [*PYTHON_CLI, "detect", str(IMG / "coins.png"), "-o", str(tmp_path), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert (tmp_path / "coins_edges.png").is_file()


def test_cli_shows_tensorflow_logs_when_asked(tmp_path):
    """KERAS_EDGES_TF_LOGS=1 leaves TensorFlow's logging alone: its C++ lines reach stderr."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TF_CPP", "KERAS_EDGES"))
    }
    env.update(KERAS_EDGES_TF_LOGS="1", TF_CPP_MIN_LOG_LEVEL="0")
    result = subprocess.run(
        [*PYTHON_CLI, "detect", str(IMG / "coins.png"), "-o", str(tmp_path), "--quiet"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0
    assert _TF_LOG_LINE.search(result.stderr), result.stderr


def test_unexpected_errors_are_one_line(monkeypatch, capsys):
    """An unexpected exception is one line naming the input and the error, exit 1;
    --debug (or KERAS_EDGES_DEBUG=1) shows the traceback instead."""
    import keras_edges.metrics

    def broken(*args, **kwargs):
        raise RuntimeError("the disk caught fire\nsecond line")

    monkeypatch.setattr(keras_edges.metrics, "evaluate_boundaries", broken)
    argv = ["evaluate", "--synthetic", "1", "--size", "32", "32", "--workers", "1"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "keras-edges evaluate: failed on 1 synthetic images: RuntimeError: the disk "
        "caught fire (--debug shows the traceback)"
    ]
    with pytest.raises(RuntimeError, match="caught fire"):
        main(["--debug", *argv])
    monkeypatch.setenv("KERAS_EDGES_DEBUG", "1")
    with pytest.raises(RuntimeError, match="caught fire"):
        main(argv)


# --- detect: trees, re-runs, shards, atomic writes (issue 5) -------------------------

PYTHON_CLI = [sys.executable, "-m", "keras_edges.cli"]


def _tree(root):
    """Relative paths of the files under `root`, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def photos(tmp_path):
    """A small input tree: two images at the top, one in a sub-folder, one non-image."""
    root = tmp_path / "photos"
    (root / "trip" / "day1").mkdir(parents=True)
    camera = load_image(IMG / "camera.png")
    save_image(root / "a.png", camera[:40, :48])
    save_image(root / "b.jpg", camera[100:132, :32])
    save_image(root / "trip" / "day1" / "c.png", camera[200:230, 300:350])
    (root / "notes.txt").write_text("not an image")
    return root


def test_detect_recursive_mirrors_the_tree(photos, tmp_path, capsys):
    """--recursive writes one output per image at the same relative place, with the library's values."""
    out = tmp_path / "out"
    assert main(["detect", str(photos), "-o", str(out), "--recursive"]) == 0
    assert _tree(out) == ["a_edges.png", "b_edges.png", "trip/day1/c_edges.png"]
    c = photos / "trip" / "day1" / "c.png"
    np.testing.assert_array_equal(
        load_image(out / "trip" / "day1" / "c_edges.png"), detect_edges(c)
    )
    assert "3 done, 0 skipped, 0 failed" in capsys.readouterr().out


def test_detect_folder_without_recursive_stays_at_the_top(photos, tmp_path):
    """Without --recursive only the folder's own images are inputs."""
    assert main(["detect", str(photos), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    assert _tree(tmp_path / "out") == ["a_edges.png", "b_edges.png"]


def test_detect_glob_mirrors_below_its_fixed_prefix(photos, tmp_path):
    """A glob's matches are placed relative to the pattern's folder part."""
    pattern = str(photos / "**" / "*.png")
    assert (
        main(["detect", pattern, "-o", str(tmp_path / "out"), "--recursive", "--quiet"])
        == 0
    )
    assert _tree(tmp_path / "out") == ["a_edges.png", "trip/day1/c_edges.png"]


@pytest.mark.parametrize(
    "fmt, name", [("npy", "a_edges.npy"), ("tiff", "a_edges.tiff")]
)
def test_detect_formats(photos, tmp_path, fmt, name):
    """--format npy stores the exact array; tiff stores the uint8 map."""
    options = ["--normalize"] if fmt == "npy" else []
    assert (
        main(
            [
                "detect",
                str(photos / "a.png"),
                "-o",
                str(tmp_path),
                "--format",
                fmt,
                "--quiet",
                *options,
            ]
        )
        == 0
    )
    expected = detect_edges(photos / "a.png", normalize=bool(options))
    written = np.load(tmp_path / name) if fmt == "npy" else load_image(tmp_path / name)
    assert written.dtype == expected.dtype
    np.testing.assert_array_equal(written, expected)


def test_rerun_skips_complete_outputs_unless_overwrite(photos, tmp_path, capsys):
    """A second run skips every existing output; --overwrite rewrites them."""
    out = tmp_path / "out"
    assert main(["detect", str(photos), "-o", str(out)]) == 0
    (out / "a_edges.png").write_bytes(b"sentinel")
    capsys.readouterr()
    assert main(["detect", str(photos), "-o", str(out)]) == 0
    assert "0 done, 2 skipped, 0 failed" in capsys.readouterr().out
    assert (out / "a_edges.png").read_bytes() == b"sentinel"
    assert main(["detect", str(photos), "-o", str(out), "--overwrite"]) == 0
    assert "2 done, 0 skipped, 0 failed" in capsys.readouterr().out
    np.testing.assert_array_equal(
        load_image(out / "a_edges.png"), detect_edges(photos / "a.png")
    )


def test_output_into_the_input_folder_never_touches_inputs(photos, capsys):
    """With -o at the input folder, inputs keep their bytes and earlier outputs are not re-processed."""
    before = {p: p.read_bytes() for p in photos.iterdir() if p.is_file()}
    for overwrite in ([], ["--overwrite"], ["--overwrite"]):
        assert main(["detect", str(photos), "-o", str(photos), *overwrite]) == 0
    assert all(path.read_bytes() == data for path, data in before.items())
    assert sorted(p.name for p in photos.glob("*_edges*")) == [
        "a_edges.png",
        "b_edges.png",
    ]
    assert (
        "2 done, 0 skipped, 0 failed; edges in"
        in capsys.readouterr().out.splitlines()[-1]
    )


def test_explicit_output_name_of_another_input_is_left_out(tmp_path, capsys):
    """A file that is another input's output is not processed and is only ever written as an output."""
    save_image(tmp_path / "x.png", np.eye(8, dtype=np.uint8) * 100)
    save_image(tmp_path / "x_edges.png", np.eye(8, dtype=np.uint8))
    assert (
        main(
            [
                "detect",
                str(tmp_path / "x.png"),
                str(tmp_path / "x_edges.png"),
                "-o",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert not (tmp_path / "x_edges_edges.png").exists()
    assert "1 earlier outputs among the inputs were left out" in capsys.readouterr().out


def test_two_inputs_with_one_output_name_are_a_usage_error(photos, tmp_path, capsys):
    """a.png and a.jpg both map to a_edges.png: exit 2 before anything is written."""
    save_image(photos / "a.jpg", np.zeros((8, 8), np.uint8))
    with pytest.raises(SystemExit) as exit_info:
        main(["detect", str(photos), "-o", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "would both be written to" in err and "a_edges.png" in err
    assert not (tmp_path / "out").exists()


def test_same_file_named_twice_is_one_job(photos, tmp_path, capsys):
    """A file named directly and through its folder is processed once."""
    assert (
        main(
            ["detect", str(photos / "a.png"), str(photos), "-o", str(tmp_path / "out")]
        )
        == 0
    )
    assert "2 done, 0 skipped, 0 failed" in capsys.readouterr().out


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_cover_every_input_exactly_once(photos, tmp_path, capsys, count):
    """The N shards of a run write disjoint outputs whose union is the whole run."""
    for index in range(2, 7):
        save_image(photos / f"extra{index}.png", np.full((6, 6), index * 30, np.uint8))
    written = []
    for index in range(1, count + 1):
        out = tmp_path / f"shard{index}"
        assert (
            main(
                [
                    "detect",
                    str(photos),
                    "--recursive",
                    "-o",
                    str(out),
                    "--shard",
                    f"{index}/{count}",
                ]
            )
            == 0
        )
        written += _tree(out)
        assert f"shard {index}/{count}:" in capsys.readouterr().out
    main(["detect", str(photos), "--recursive", "-o", str(tmp_path / "all"), "--quiet"])
    assert sorted(written) == _tree(tmp_path / "all") and len(written) == 8


def test_interrupted_write_leaves_no_partial_output(
    photos, tmp_path, monkeypatch, capsys
):
    """Ctrl-C in the middle of writing a file leaves no output and no temporary file; a re-run completes."""
    from PIL import Image

    original_save = Image.Image.save
    calls = []

    def interrupted_save(self, stream, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            stream.write(
                b"\x89PNG half"
            )  # part of the file is on disk when the interrupt comes
            raise KeyboardInterrupt
        return original_save(self, stream, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    out = tmp_path / "out"
    assert main(["detect", str(photos), "-o", str(out)]) == 130
    assert "interrupted: 1 done" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == [
        "a_edges.png"
    ]  # no b_edges.png, no .part file
    monkeypatch.setattr(Image.Image, "save", original_save)
    assert main(["detect", str(photos), "-o", str(out)]) == 0
    assert "1 done, 1 skipped, 0 failed" in capsys.readouterr().out
    assert _tree(out) == ["a_edges.png", "b_edges.png"]


def test_stale_temporary_file_of_a_killed_run_is_removed(photos, tmp_path):
    """`.part` folders (atomic_path's) and files untouched for over an hour (left by
    `kill -9`) are cleaned up."""
    import time

    out = tmp_path / "out"
    out.mkdir()
    stale_folder = out / ".a_edges.png.x1y2.part"
    stale_folder.mkdir()
    (stale_folder / "a_edges.png").write_bytes(b"half")
    stale_file = out / ".a_edges.png.z3w4.part"
    stale_file.write_bytes(b"half")
    an_hour_ago = time.time() - 3601
    for stale in (stale_folder, stale_file):
        os.utime(stale, (an_hour_ago, an_hour_ago))
    assert main(["detect", str(photos / "a.png"), "-o", str(out), "--quiet"]) == 0
    assert [p.name for p in out.iterdir()] == ["a_edges.png"]


def test_model_option_uses_the_saved_model(photos, tmp_path):
    """--model runs a saved .keras model (here Scharr) instead of --operator."""
    from keras_edges import build_edge_model

    model_path = tmp_path / "scharr.keras"
    build_edge_model("scharr", trainable=True).save(model_path)
    assert (
        main(
            [
                "detect",
                str(photos / "a.png"),
                "-o",
                str(tmp_path / "out"),
                "--model",
                str(model_path),
            ]
        )
        == 0
    )
    expected = detect_edges(photos / "a.png", operator="scharr")
    np.testing.assert_array_equal(
        load_image(tmp_path / "out" / "a_edges.png"), expected
    )


def test_train_synthetic_writes_a_loadable_model(tmp_path, capsys):
    """train --synthetic saves a .keras model atomically and prints the kernels and their error."""
    import keras

    from keras_edges import kernel_error

    output = tmp_path / "learned.keras"
    argv = [
        "train",
        "--synthetic",
        "8",
        "--epochs",
        "1",
        "--steps-per-epoch",
        "3",
        "--batch-size",
        "4",
        "--crop-size",
        "16",
        "--seed",
        "0",
        "-o",
        str(output),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "learned kernel_x:" in out and "kernel error vs sobel" in out
    assert [p.name for p in tmp_path.iterdir()] == [
        "learned.keras"
    ]  # no temporary left behind
    model = keras.saving.load_model(output, safe_mode=True)
    assert f"{kernel_error(model, 'sobel'):.4g}" in out


def test_train_folder_with_targets(tmp_path):
    """train IMAGES --targets FOLDER pairs the edge maps by file name."""
    for folder in ("images", "targets"):
        (tmp_path / folder).mkdir()
    for name in ("a", "b"):
        save_image(
            tmp_path / "images" / f"{name}.png",
            np.random.default_rng(1).integers(0, 255, (20, 20), np.uint8),
        )
        save_image(tmp_path / "targets" / f"{name}.tif", np.zeros((20, 20), np.float32))
    argv = [
        "train",
        str(tmp_path / "images"),
        "--targets",
        str(tmp_path / "targets"),
        "--epochs",
        "1",
        "--steps-per-epoch",
        "2",
        "--crop-size",
        "8",
        "-o",
        str(tmp_path / "m.keras"),
    ]
    assert main(argv) == 0
    assert (tmp_path / "m.keras").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "-o", "m.keras"], "give either an IMAGES folder or --synthetic N"),
        (
            ["train", str(IMG), "--synthetic", "4"],
            "give either an IMAGES folder or --synthetic N",
        ),
        (["train", "no/such/folder"], "'no/such/folder' is not a folder"),
        (
            ["train", "--synthetic", "4", "--epochs", "0"],
            "--epochs must be a positive integer, got 0",
        ),
        (
            ["train", "--synthetic", "4", "-o", "model.h5"],
            "-o/--output must end in .keras",
        ),
        (
            ["train", "--synthetic", "4", "--targets", str(IMG)],
            "--targets needs an IMAGES folder",
        ),
        (
            ["train", "--synthetic", "4", "--crop-size", "100"],
            "Expected at most the smallest image side",
        ),
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
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    assert list(tmp_path.iterdir()) == []


def test_unloadable_model_file_is_a_usage_error(tmp_path, capsys):
    """A --model file that is not a Keras model is a one-line usage error."""
    (tmp_path / "bad.keras").write_bytes(b"not a zip")
    with pytest.raises(SystemExit) as exit_info:
        main(["detect", str(IMG / "coins.png"), "--model", str(tmp_path / "bad.keras")])
    assert exit_info.value.code == 2
    assert "Cannot load model" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["detect", "export", "demo"])
def test_every_subcommand_has_help_with_examples(command, capsys):
    """`keras-edges COMMAND --help` exits 0 and shows examples."""
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "examples:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv", [["--help"], ["detect", "--help"], ["export", "--help"]]
)
def test_help_is_fast_and_imports_no_tensorflow(argv):
    """`python -m keras_edges.cli ... --help` imports neither TensorFlow nor Apache Beam,
    and is quick."""
    code = (
        "import sys, time; start = time.perf_counter()\n"
        "from keras_edges.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = {'tensorflow', 'apache_beam'} & set(sys.modules)\n"
        "print(bool(heavy), time.perf_counter() - start)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    imported, seconds = result.stdout.split()[-2:]
    assert imported == "False"
    assert float(seconds) < 2.0  # typically ~0.15 s; generous for a loaded machine


@pytest.mark.slow
def test_subprocess_exit_codes_and_summary(photos, tmp_path):
    """Run as a program: 0 when all succeed, 1 with a bad file (named on stderr), 2 for usage errors."""
    out = tmp_path / "out"
    ok = subprocess.run(
        [*PYTHON_CLI, "detect", str(photos), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert ok.returncode == 0 and "2 done, 0 skipped, 0 failed" in ok.stdout
    assert "\r" not in ok.stderr  # no progress bar when stderr is not a terminal
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff truncated")
    bad = subprocess.run(
        [*PYTHON_CLI, "detect", str(photos), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert bad.returncode == 1 and "0 done, 2 skipped, 1 failed" in bad.stdout
    assert (
        "failed " + str(photos / "broken.jpg") in bad.stderr
        and "Traceback" not in bad.stderr
    )
    usage = subprocess.run(
        [*PYTHON_CLI, "detect", str(photos), "--ksize", "4"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_quiet_prints_nothing_on_success(photos, tmp_path, capsys):
    """--quiet: no summary, no progress output."""
    assert main(["detect", str(photos), "-o", str(tmp_path / "out"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# --- export (issue 5) ------------------------------------------------------------------


def test_export_cli_from_operator_runs_in_tflite(tmp_path, capsys):
    """`export --operator scharr --normalize -o x.tflite` gives a TFLite model with the library's output."""
    target = tmp_path / "scharr.tflite"
    assert (
        main(["export", "--operator", "scharr", "--normalize", "-o", str(target)]) == 0
    )
    assert "as tflite" in capsys.readouterr().out
    from test_export import run_tflite

    image = load_image(IMG / "coins.png")[:50, :70].astype(np.float32) / 255
    np.testing.assert_allclose(
        run_tflite(target, image[None, :, :, None])[0, :, :, 0],
        detect_edges(image, operator="scharr", normalize=True),
        atol=1e-5,
    )


def test_export_cli_refuses_to_replace_without_overwrite(tmp_path, capsys):
    """An earlier export is a usage error unless --overwrite, which replaces it."""
    target = tmp_path / "m.tflite"
    assert main(["export", "--operator", "prewitt", "-o", str(target)]) == 0
    before = target.read_bytes()
    with pytest.raises(SystemExit):
        main(["export", "-o", str(target)])
    assert target.read_bytes() == before and "--overwrite" in capsys.readouterr().err
    assert main(["export", "-o", str(target), "--overwrite"]) == 0
    after = target.read_bytes()
    assert after[4:8] == b"TFL3" and after != before  # Sobel replaced Prewitt


def test_progress_bar_only_on_a_terminal(photos, tmp_path, monkeypatch):
    """On a terminal stderr shows a progress bar; --quiet turns it off."""
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for quiet, expected in (([], True), (["--quiet"], False)):
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        assert (
            main(
                [
                    "detect",
                    str(photos),
                    "-o",
                    str(tmp_path / "out"),
                    "--overwrite",
                    *quiet,
                ]
            )
            == 0
        )
        assert ("2/2" in terminal.getvalue()) is expected


@pytest.mark.slow
def test_killed_run_leaves_only_complete_outputs(tmp_path):
    """SIGTERM in the middle of a run (a real process) leaves only complete outputs; a re-run finishes."""
    import signal
    import time

    from PIL import Image

    photos = tmp_path / "photos"
    photos.mkdir()
    camera = load_image(IMG / "camera.png")
    for index in range(60):
        np.save(photos / f"p{index:03d}.npy", 0)  # not images: ignored
        Image.fromarray(np.roll(camera, index, axis=1)[:160, :320]).save(
            photos / f"p{index:03d}.png"
        )
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*PYTHON_CLI, "detect", str(photos), "-o", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while (
        not (out.is_dir() and len(list(out.glob("*_edges.png"))) >= 3)
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    written = sorted(out.glob("*_edges.png"))
    if process.returncode == 130:  # (on a very fast machine the run may finish first)
        assert "interrupted:" in err and len(written) < 60
    assert not list(out.glob(".*"))  # no temporary files left
    for path in written:  # every output present is complete
        np.testing.assert_array_equal(
            load_image(path), detect_edges(photos / path.name.replace("_edges", ""))
        )
    rerun = subprocess.run(
        [*PYTHON_CLI, "detect", str(photos), "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert rerun.returncode == 0 and f"{len(written)} skipped, 0 failed" in rerun.stdout
    assert len(list(out.glob("*_edges.png"))) == 60


# --- evaluate ------------------------------------------------------------------------
def _scores_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("ODS="))


def test_evaluate_synthetic_prints_scores_and_plots(tmp_path, capsys):
    """evaluate --synthetic prints ODS/OIS/AP equal to the library's and writes the PR curve."""
    from keras_edges.datasets import synthetic_shapes
    from keras_edges.metrics import evaluate_boundaries

    plot = tmp_path / "pr.png"
    argv = [
        "evaluate",
        "--synthetic",
        "2",
        "--size",
        "48",
        "64",
        "--workers",
        "1",
        "--plot",
        str(plot),
    ]
    assert main(argv) == 0
    images, truths = synthetic_shapes(2, size=(48, 64), noise=0.1, seed=0)
    scores = evaluate_boundaries(
        [detect_edges(image, normalize=True) for image in images], truths, workers=1
    )
    assert (
        f"ODS={scores.ods:.3f} OIS={scores.ois:.3f} AP={scores.ap:.3f}"
        in _scores_line(capsys.readouterr().out)
    )
    assert load_image(plot).shape[0] > 100


def test_evaluate_model_matches_operator(tmp_path, capsys):
    """A saved Sobel model scores exactly as --operator sobel, with --nms too."""
    from keras_edges import build_edge_model

    build_edge_model("sobel").save(tmp_path / "sobel.keras")
    common = [
        "evaluate",
        "--synthetic",
        "2",
        "--size",
        "40",
        "48",
        "--workers",
        "1",
        "--nms",
    ]
    assert main(common + ["--model", str(tmp_path / "sobel.keras")]) == 0
    from_model = _scores_line(capsys.readouterr().out)
    assert main(common + ["--operator", "sobel"]) == 0
    assert _scores_line(capsys.readouterr().out) == from_model


def _bsds_folder(root, colours=((40, 40, 40), (200, 200, 200))):
    """A BSDS500-layout split `val` with one colour JPEG (two regions) and its ground truth."""
    from scipy.io import savemat

    from keras_edges.datasets import boundaries_from_labels

    for folder in ("images/val", "groundTruth/val"):
        (root / folder).mkdir(parents=True)
    labels = np.zeros((80, 120), np.uint16)  # a match radius of 1.08 pixels
    labels[:, 60:] = 1
    image = np.array(colours, np.uint8)[labels]
    save_image(root / "images/val/1.jpg", image)
    cells = np.empty((1, 2), dtype=object)
    for k in range(2):
        cells[0, k] = {
            "Segmentation": labels + 1,
            "Boundaries": boundaries_from_labels(labels).astype(np.uint8),
        }
    savemat(root / "groundTruth/val/1.mat", {"groundTruth": cells})
    return root


def test_evaluate_bsds_layout(tmp_path, capsys):
    """evaluate --bsds reads a BSDS500-layout folder written with scipy.io.savemat."""
    _bsds_folder(tmp_path)
    assert (
        main(["evaluate", "--bsds", str(tmp_path), "--split", "val", "--workers", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "BSDS500 val (1 images)" in out
    assert (
        float(_scores_line(out).split()[0][4:]) >= 0.95
    )  # one straight step: all but the ends


def test_evaluate_bsds_canny_on_colour_images(tmp_path, capsys):
    """--method canny on BSDS500's colour JPEGs scores the (H, W) edge map (no traceback)."""
    _bsds_folder(tmp_path, colours=((230, 200, 40), (20, 40, 200)))
    argv = ["evaluate", "--bsds", str(tmp_path), "--split", "val", "--workers", "1"]
    assert main(argv + ["--method", "canny"]) == 0
    assert float(_scores_line(capsys.readouterr().out).split()[0][4:]) >= 0.9


@pytest.mark.parametrize("operator", ["roberts", "farid"])
def test_evaluate_default_ksize_fits_every_operator(operator, capsys):
    """--ksize defaults to the operator's smallest size, so Roberts (2) and Farid (5) just work."""
    argv = ["evaluate", "--synthetic", "1", "--size", "40", "48", "--workers", "1"]
    assert main(argv + ["--operator", operator]) == 0
    assert f"{operator} on 1 synthetic images" in capsys.readouterr().out


def test_train_default_ksize_fits_roberts(tmp_path, capsys):
    """train --operator roberts with default options learns a 2 x 2 pair."""
    import keras

    output = tmp_path / "roberts.keras"
    argv = ["train", "--synthetic", "4", "--operator", "roberts", "--epochs", "1"]
    argv += ["--steps-per-epoch", "2", "--batch-size", "2", "--crop-size", "16"]
    assert main(argv + ["--seed", "0", "-o", str(output)]) == 0
    assert "kernel error vs roberts" in capsys.readouterr().out
    model = keras.saving.load_model(output, safe_mode=True)
    assert tuple(model.get_layer("grad_x").kernel.shape) == (2, 2, 1, 1)


CANNY_ARGV = ["evaluate", "--synthetic", "2", "--size", "48", "64", "--workers", "1"]
CANNY_ARGV += ["--method", "canny", "--sigma", "2"]


def test_evaluate_canny_with_thresholds_scores_that_pair(capsys):
    """--method canny --low --high evaluates detect_edges(method='canny') at that one pair."""
    from keras_edges.datasets import synthetic_shapes
    from keras_edges.metrics import evaluate_boundaries

    assert main(CANNY_ARGV + ["--low", "0.1", "--high", "0.2"]) == 0
    images, truths = synthetic_shapes(2, size=(48, 64), noise=0.1, seed=0)
    maps = [detect_edges(image, method="canny", sigma=2.0) for image in images]
    scores = evaluate_boundaries(maps, truths, thresholds=1, workers=1)
    out = capsys.readouterr().out
    assert "Canny (sigma 2) at one pair: low=0.1, high=0.2" in out
    assert f"ODS={scores.ods:.3f} OIS={scores.ois:.3f}" in _scores_line(out)


def test_evaluate_canny_sweeps_its_thresholds(capsys):
    """--method canny alone sweeps 25 threshold pairs (low = 0.4 high), as the field scores
    Canny: its ODS is at least the best pair's F scored alone, and it says what it swept."""
    from keras_edges.datasets import synthetic_shapes
    from keras_edges.metrics import evaluate_boundaries

    assert main(CANNY_ARGV) == 0
    out = capsys.readouterr().out
    assert "Canny (sigma 2) swept over 25 threshold pairs: high 0.0447 .. 2.24" in out
    ods = float(_scores_line(out).split()[0][4:])
    images, truths = synthetic_shapes(2, size=(48, 64), noise=0.1, seed=0)
    full = np.sqrt(20.0)  # Sobel L2's largest response on [0, 1] images
    alone = []
    for high in full * np.geomspace(0.01, 0.5, 25)[::4]:
        maps = [
            detect_edges(image, method="canny", sigma=2.0, low=0.4 * high, high=high)
            for image in images
        ]
        alone.append(evaluate_boundaries(maps, truths, thresholds=1, workers=1).ods)
    assert max(alone) - 5e-4 <= ods <= max(alone) + 0.05, (ods, alone)
    assert min(alone) < max(alone) - 0.05  # the pairs differ: the sweep matters


# --- a hostile user (issue 15) -------------------------------------------------------


def _cli(*args, cwd=ROOT):
    """Run `python -m keras_edges ARGS` in `cwd` with this checkout importable."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    return subprocess.run(
        [sys.executable, "-m", "keras_edges", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


def _usage_error(result, *phrases):
    """Exit code 2 with one line on stderr holding every phrase, no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and all(p in lines[-1] for p in phrases)


def test_export_cli_never_deletes_a_folder_that_is_not_an_export(tmp_path):
    """`export -o photos --overwrite` and `export -o . --overwrite` keep every file."""
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "notes.txt").write_text("x")
    result = _cli(
        "export", "-o", "photos", "--format", "tflite", "--overwrite", cwd=tmp_path
    )
    _usage_error(result, "'photos'", "is not an earlier export")
    for target in (".", "..", tmp_path):
        result = _cli(
            "export", "-o", target, "--format", "tflite", "--overwrite", cwd=photos
        )
        _usage_error(result, "working folder or one of its parents")
    assert (photos / "notes.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["notes.txt", "photos"]


def _small_images(folder, count):
    """`count` distinct 24x32 grey PNGs img000.png, img001.png, ... in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    camera = load_image(IMG / "camera.png")
    for i in range(count):
        save_image(folder / f"img{i:03d}.png", camera[8 * i : 8 * i + 24, :32])
    return folder


def test_detect_never_deletes_another_runs_temporary_file(tmp_path):
    """A `.part` file that another run is writing now is left alone; outputs are written."""
    images = _small_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    out.mkdir()
    other = out / ".img000_edges.png.k3j9x2.part"  # another run's, being written
    other.mkdir()
    (other / "img000_edges.png").write_bytes(b"half")
    result = _cli("detect", images, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "2 done, 0 skipped, 0 failed" in result.stdout
    assert (other / "img000_edges.png").read_bytes() == b"half"
    assert sorted(p.name for p in out.iterdir()) == [
        other.name,
        "img000_edges.png",
        "img001_edges.png",
    ]


def test_a_link_and_its_file_each_get_their_output(tmp_path):
    """`zebra.png` and a link `alias.png` to it: both outputs are written, equal."""
    folder = tmp_path / "d"
    folder.mkdir()
    save_image(folder / "zebra.png", load_image(IMG / "coins.png")[:30, :40])
    (folder / "alias.png").symlink_to("zebra.png")
    out = tmp_path / "out"
    result = _cli("detect", folder, "-o", out)
    assert result.returncode == 0 and "2 done, 0 skipped, 0 failed" in result.stdout
    assert _tree(out) == ["alias_edges.png", "zebra_edges.png"]
    expected = detect_edges(folder / "zebra.png")
    for name in ("alias_edges.png", "zebra_edges.png"):
        np.testing.assert_array_equal(load_image(out / name), expected)


def test_evaluate_synthetic_honours_limit(tmp_path):
    """`evaluate --synthetic 3 --limit 1` scores the first image only."""
    result = _cli("evaluate", "--synthetic", 3, "--limit", 1, "--size", 48, 64)
    assert result.returncode == 0, result.stderr
    assert "on 1 synthetic images" in result.stdout


def test_evaluate_limit_matches_scoring_that_many(capsys):
    """The scores with --limit 2 of 4 images are those of --synthetic 2 (same seed)."""
    common = ["evaluate", "--size", "48", "64", "--workers", "1"]
    assert main([*common, "--synthetic", "4", "--limit", "2"]) == 0
    limited = capsys.readouterr().out.splitlines()
    assert main([*common, "--synthetic", "2"]) == 0
    assert limited == capsys.readouterr().out.splitlines()


def _dense_classifier(path):
    """Save a small Dense classifier (not an edge model) at `path`."""
    import keras

    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(3)], name="dense")
    model.save(path)
    return path


def test_a_classifier_as_model_is_a_usage_error_before_any_work(tmp_path):
    """`detect --model dense.keras` stops at once (exit 2) saying what model is expected."""
    images = _small_images(tmp_path / "in", 2)
    model = _dense_classifier(tmp_path / "dense.keras")
    result = _cli("detect", images, "-o", tmp_path / "out", "--model", model)
    _usage_error(result, "Expected an edge model", "(None, 16)")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["evaluate", "export"])
def test_a_classifier_is_refused_by_evaluate_and_export(tmp_path, capsys, command):
    """evaluate and export refuse a classifier the same way, before any work."""
    model = str(_dense_classifier(tmp_path / "dense.keras"))
    argv = {
        "evaluate": ["evaluate", "--synthetic", "2", "--model", model],
        "export": ["export", model, "-o", str(tmp_path / "x.tflite")],
    }[command]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "Expected an edge model" in capsys.readouterr().err
    assert not (tmp_path / "x.tflite").exists()


def test_export_refuses_operator_options_beside_a_model(tmp_path):
    """`export MODEL.keras --operator scharr` would ignore --operator: a usage error, nothing written."""
    from keras_edges import build_edge_model

    build_edge_model().save(tmp_path / "sobel.keras")
    result = _cli(
        "export", "sobel.keras", "--operator", "scharr", "--normalize",
        "-o", "x.tflite", cwd=tmp_path,
    )  # fmt: skip
    _usage_error(result, "--operator, --normalize", "'sobel.keras' is already a model")
    assert not (tmp_path / "x.tflite").exists()


@pytest.fixture
def cut_model(tmp_path):
    """A saved edge model cut to half its length, as an interrupted copy leaves it."""
    from keras_edges import build_edge_model

    whole = tmp_path / "whole.keras"
    build_edge_model().save(whole)
    cut = tmp_path / "cut.keras"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    return cut


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
@pytest.mark.parametrize(
    "argv, phrases",
    [
        (["detect", "pipe.png"], ["input 'pipe.png' is not a regular file"]),
        (["detect", "/dev/zero"], ["input '/dev/zero' is not a regular file"]),
        (["detect", "empty"], ["input folder 'empty' holds no image files"]),
        (["detect", "only_sub"], ["holds no image files", "--recursive"]),
        (["detect", "empty/*.png"], ["input 'empty/*.png' matches no image files"]),
        (["detect", "a.png", "--shard", "-1/2"], ["expected K/N", "got '-1/2'"]),
        (["detect", "a.png", "--model", "cut.keras"], ["'cut.keras'", "truncated"]),
        (["export", "cut.keras", "-o", "x.tflite"], ["'cut.keras'", "truncated"]),
        (
            ["evaluate", "--synthetic", "2", "--max-dist", "5"],
            ["a fraction of the image diagonal, e.g. 0.0075", "got 5.0"],
        ),
        (
            ["evaluate", "--synthetic", "2", "--max-dist", "1e9"],
            ["a fraction of the image diagonal, e.g. 0.0075"],
        ),
        (["evaluate", "--synthetic", "3", "--limit", "0"], ["--limit", "got 0"]),
    ],
)
def test_usage_errors_say_what_is_wrong(tmp_path, cut_model, argv, phrases):
    """Pipes, devices, empty folders, a negative shard, a truncated model, a radius of
    5 diagonals and --limit 0: each is one line and exit 2, before any work."""
    os.mkfifo(tmp_path / "pipe.png")
    (tmp_path / "empty").mkdir()
    (tmp_path / "only_sub" / "sub").mkdir(parents=True)
    save_image(tmp_path / "only_sub" / "sub" / "a.png", np.eye(8, dtype=np.uint8))
    save_image(tmp_path / "a.png", np.eye(8, dtype=np.uint8))
    _usage_error(_cli(*argv, cwd=tmp_path), *phrases)
    assert not (tmp_path / "edges").exists() and not (tmp_path / "x.tflite").exists()


def test_unknown_flags_are_an_error_without_runner(tmp_path, capsys):
    """Flags keras-edges does not know are Beam's only with --runner; else a usage error."""
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "detect",
                str(IMG / "coins.png"),
                "-o",
                str(tmp_path),
                "--num_workers",
                "2",
            ]
        )
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --num_workers 2" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_runner_without_beam_names_the_extra(tmp_path, capsys, monkeypatch):
    """--runner without Apache Beam installed is a usage error naming keras-edges[beam]."""
    monkeypatch.setitem(sys.modules, "apache_beam", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "keras_edges.beam", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["detect", str(IMG / "coins.png"), "-o", str(tmp_path), "--runner", "X"])
    assert exit_info.value.code == 2
    assert "pip install 'keras-edges[beam]'" in capsys.readouterr().err


def test_detect_mask_colour_and_new_methods(tmp_path):
    """--mask keeps edges inside the eroded mask; --colour and the new methods write maps."""
    image = np.zeros((24, 30, 3), np.uint8)
    image[:, :15, 0] = 200
    image[:, 15:, 1] = int(200 * 0.299 / 0.587)  # isoluminant red | green
    image[8:16, 4:10] = 255
    save_image(tmp_path / "in.png", image)
    mask = np.zeros((24, 30), np.uint8)
    mask[:, :12] = 255
    save_image(tmp_path / "mask.png", mask)
    assert (
        main(
            [
                "detect",
                str(tmp_path / "in.png"),
                "-o",
                str(tmp_path / "m"),
                "--mask",
                str(tmp_path / "mask.png"),
                "--quiet",
            ]
        )
        == 0
    )
    masked = load_image(tmp_path / "m" / "in_edges.png")
    assert masked[:, 11:].max() == 0 and masked[:, :11].max() > 0
    assert (
        main(
            [
                "detect",
                str(tmp_path / "in.png"),
                "-o",
                str(tmp_path / "c"),
                "--colour",
                "max",
                "--quiet",
            ]
        )
        == 0
    )
    assert load_image(tmp_path / "c" / "in_edges.png")[20, 14:16].min() > 0
    for method in ("xdog", "marr_hildreth"):
        out = tmp_path / method
        assert (
            main(
                [
                    "detect",
                    str(tmp_path / "in.png"),
                    "-o",
                    str(out),
                    "--method",
                    method,
                    "--sigma",
                    "1.5",
                    "--quiet",
                ]
            )
            == 0
        )
        assert load_image(out / "in_edges.png").shape == (24, 30)
