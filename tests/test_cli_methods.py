"""Tests for the command line's options by method (keras_edges.cli.common, detect, evaluate)."""

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_edges import canny_edges, load_image, save_image
from keras_edges.cli import detect, evaluate
from keras_edges.cli.common import _dest
from keras_edges.methods import METHODS

from conftest import IMG, ROOT

SCRIPT = Path(sys.executable).parent / "keras-edges"


def _script(*args, cwd):
    """Run the installed `keras-edges` console script with this checkout importable."""
    if not SCRIPT.exists():
        pytest.skip(f"the console script is not installed next to {sys.executable}")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path]))
    return subprocess.run(
        [str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["detect", "photo.png", "-o", "out", "--sigma", "3", "--nms"],
            "--sigma, --nms: not options of --method gradient (--sigma is an option of "
            "--method canny and xdog and marr_hildreth; --nms is an option of --method "
            "learned)",
        ),
        (
            [
                "detect",
                "photo.png",
                "-o",
                "out",
                "--method",
                "learned",
                "--operator",
                "scharr",
            ],
            "--operator: not an option of --method learned (--operator is an option of "
            "--method gradient and canny)",
        ),
        (
            ["detect", "photo.png", "--method", "canny", "--nms", "--scales", "2"],
            "--nms, --scales: not options of --method canny",
        ),
        (
            ["detect", "photo.png", "--method", "canny", "--model", "m.keras"],
            "--model: not an option of --method canny (--model is an option of --method "
            "gradient and learned)",
        ),
        (
            [
                "detect",
                "photo.png",
                "--method",
                "canny",
                "--normalize",
                "--threshold",
                "0.3",
            ],
            "--normalize, --threshold: not options of --method canny",
        ),
        (
            ["detect", "photo.png", "--sigma", "1.0"],  # the default value, typed
            "--sigma: not an option of --method gradient",
        ),
        (
            ["detect", "photo.png", "--method", "learned", "--magnitude", "l1"],
            "--magnitude: not an option of --method learned",
        ),
        (
            ["evaluate", "--synthetic", "1", "--sigma", "2"],
            "--sigma: not an option of --method gradient (--sigma is an option of "
            "--method canny)",
        ),
        (
            ["evaluate", "--synthetic", "1", "--method", "learned", "--ksize", "5"],
            "--ksize: not an option of --method learned",
        ),
        (
            ["evaluate", "--synthetic", "1", "--method", "canny", "--scales", "0.5,1"],
            "--scales: not an option of --method canny (--scales is an option of "
            "--method learned)",
        ),
    ],
)
def test_an_option_foreign_to_the_method_is_a_usage_error(argv, message, tmp_path):
    """The console script exits 2 with one line naming the foreign options, and writes nothing."""
    save_image(tmp_path / "photo.png", np.zeros((8, 8), np.uint8))
    result = _script(*argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1].startswith(f"keras-edges {argv[0]}: error: ")
    assert message in lines[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def _help_groups(text):
    """`{group title: [flags]}` of an argparse `--help` text."""
    groups, title = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            title = line[:-1]
            groups[title] = []
        elif title and (found := re.match(r"  (--[\w-]+)", line)):
            groups[title].append(found.group(1))
    return groups


@pytest.mark.parametrize("command", [detect, evaluate], ids=["detect", "evaluate"])
def test_help_groups_the_options_by_method(command, tmp_path):
    """`--help` lists each option once, under the methods that take it (from the table)."""
    result = _script(command.__name__.rsplit(".", 1)[1], "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    groups = _help_groups(result.stdout)
    table = command.METHOD_OPTIONS
    expected = {}
    for flags in table.values():
        for flag in flags:
            takers = " and ".join(m for m in table if flag in table[m])
            expected.setdefault(f"options of --method {takers}", []).append(flag)
    for title, flags in expected.items():
        assert groups[title] == list(dict.fromkeys(flags)), title


@pytest.mark.parametrize("command", [detect, evaluate], ids=["detect", "evaluate"])
def test_the_cli_options_are_the_functions_options(command):
    """Every option in a method's CLI group is a keyword option of that method's function."""
    for method, flags in command.METHOD_OPTIONS.items():
        parameters = inspect.signature(METHODS[method]).parameters
        for flag in flags:
            assert _dest(flag) in parameters, (method, flag)


def test_canny_options_reach_canny(tmp_path):
    """`detect --method canny --operator scharr --ksize 3 --magnitude l1 --sigma 2` writes
    canny_edges with those options (the operator was silently dropped before)."""
    photo = load_image(IMG / "coins.png")[:64, :96]
    save_image(tmp_path / "photo.png", photo)
    argv = ["--method", "canny", "--operator", "scharr", "--magnitude", "l1"]
    result = _script(
        "detect",
        "photo.png",
        "-o",
        "out",
        *argv,
        "--sigma",
        "2",
        "--quiet",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    written = load_image(tmp_path / "out" / "photo_edges.png")
    expected = canny_edges(photo, operator="scharr", magnitude="l1", sigma=2.0)
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(written, expected.astype(np.uint8) * 255)
    # and differs from the default Sobel, L2: the options were used
    assert (canny_edges(photo, sigma=2.0) != expected).any()


def test_learned_test_time_options_and_pinned_version_reach_the_detector(tmp_path):
    """`detect --method learned --flip --model-version v1` writes learned_boundaries(...,
    flip=True, version="v1"); a bad version, or a version with --model, is a usage error."""
    from keras_edges import learned_boundaries

    photo = load_image(IMG / "astronaut.jpg", mode="RGB")[:48, :80]
    save_image(tmp_path / "photo.png", photo)
    argv = ["--method", "learned", "--flip", "--model-version", "v1", "--format", "npy"]
    result = _script("detect", "photo.png", "-o", "out", *argv, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = np.load(tmp_path / "out" / "photo_edges.npy")
    expected = learned_boundaries(photo, flip=True, version="v1")
    np.testing.assert_array_equal(written, expected[..., 0])
    assert (learned_boundaries(photo, version="v1") != expected).any()  # flip was used
    for extra, message in [
        (["--model-version", "v0"], "--model-version must be one of v1, v2, got 'v0'"),
        (
            ["--model-version", "v1", "--model", "mine.keras"],
            "--model and --model-version both choose the learned detector; give one",
        ),
    ]:
        argv = ["detect", "photo.png", "-o", "bad", "--method", "learned", *extra]
        result = _script(*argv, cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "oneDNN" not in result.stderr  # TensorFlow imported quietly
