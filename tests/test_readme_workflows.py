"""The README's workflows, run as a user runs them (issue 21).

Every command and Python snippet in README.md's fenced blocks, and every example of
`keras-edges --help`, is read from those texts here (so a changed command is tested as
changed) and run in a subprocess, in a fresh folder holding the sample images, with the
installed console script: the `keras-edges` next to `sys.executable`, or the one that
`KERAS_EDGES_COMMAND` names. The commands share one folder and run in the README's order,
so they chain as a user chains them: train -> detect --model -> export -> run the TFLite
and ONNX files -> evaluate --model; finetune -> detect --method learned --model;
learn -> learn again (it resumes).

What the README leaves to the reader is made here: `photos/` (the sample photos),
`scans/` (TIFFs in subfolders), `my_pairs/` (image / edge-map pairs) and a stand-in for
the BSDS500 download (generated shapes in its layout: the real data set is not
redistributable, and tests use no network). Training commands get the tiny run of
`tests/test_cli_learn.py` appended (`SHRINK`), and each such rule must match a README
command. Development commands (`make`, `bash .ci/run`) are skipped by design, with their
reason (`DEVELOPMENT`); any other new command fails `test_every_command_is_classified`.

We parse the fenced blocks ourselves rather than with a doc-testing library (Sybil,
pytest-examples, phmdoctest): they run Python blocks in one namespace, or compare printed
output, while these blocks are shell commands that must run in order in one folder, with
the stand-ins above; a Sybil parser and evaluator for them would be this same code.

In CI (`.ci/run`) this file runs with the Python of a fresh venv into which the built
wheel was installed, so the command runs the package as installed (a file missing from
the wheel fails here); `KERAS_EDGES_INSTALLED=1` then also checks that the command does
not import this checkout.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from test_cli_learn import TINY, _write_bsds, _write_pairs

from conftest import IMG, ROOT, SAMPLE_PHOTOS

pytestmark = pytest.mark.slow

README = ROOT / "README.md"
# Lines of a fenced block that are commands (other lines are diagrams and trees).
COMMAND = re.compile(r"^(keras-edges|python|make|bash|\.venv/)\b")
# Commands not run in a user's fresh folder here, by design: (pattern, why).
DEVELOPMENT = (
    (r"^make\b", "creates .venv and installs the package: CI runs `make test` itself"),
    (r"^bash\b", "CI's own script"),
    (
        r"^\.venv/bin/python\b",
        "the development venv's pytest: CI runs the suite itself",
    ),
    (
        r"^python -m venv\b",
        "creates a venv and installs from PyPI (network): `make test-beam` does it in CI",
    ),
    (
        r"--runner (DataflowRunner|FlinkRunner|SparkRunner)\b",
        "needs a cloud project or a cluster (no network in tests)",
    ),
)
# Commands that need an optional extra: run where it is installed (`make test-beam` runs
# this file's Beam command in the Beam venv), skipped with the reason elsewhere.
EXTRAS = {"--runner": "apache_beam"}
# The README's data-set paths -> the stand-in made here (BSDS500 must be downloaded).
BSDS = "BSR/BSDS500/data"
DATA_PATHS = {"/data/BSDS500": BSDS}
# Training commands: the README's command plus a tiny run (later options win in argparse).
SHRINK = {
    "keras-edges finetune my_pairs/ -o runs/mine": TINY,
    "keras-edges finetune BIPED/": TINY,
    "keras-edges learn --bsds": TINY + ["--val-images", "1"],
}
# Python snippets: a call made tiny; each rule must match the README.
SNIPPET_SHRINK = {
    'folder="runs/mine")': (
        'folder="runs/mine", epochs=1, steps_per_epoch=2, batch_size=2, crop_size=32)'
    ),
}
# What the snippets leave to the reader, defined before each snippet runs.
PRELUDE = """\
import numpy as np
from keras_edges import detect_edges, load_image

rgb_float_array = load_image("img/coffee.jpg", mode="RGB").astype(np.float32) / 255
photo = load_image("img/coffee.jpg", mode="RGB")
image = load_image("img/coins.png")
edges_zeros = detect_edges(image, padding="zeros", normalize=True)
edges_reflect = detect_edges(image, normalize=True)
history = {"loss": [0.9, 0.5, 0.4], "val_loss": [1.0, 0.6, 0.5]}
"""
TF_LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\] ", re.M)


def _fences(text: str):
    """(line number, language, lines) of each fenced block of a Markdown text."""
    blocks, block = [], None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            if block is None:
                block = (number, line[3:].strip(), [])
            else:
                blocks.append(block)
                block = None
        elif block is not None:
            block[2].append(line)
    return blocks


def _readme_commands() -> list[tuple[str, str]]:
    """(where, command line) for every command in the README's non-Python blocks."""
    commands = []
    for number, language, lines in _fences(README.read_text()):
        if language == "python":
            continue
        continued = ""
        for offset, line in enumerate(lines, 1):
            if continued:  # a line ending in a backslash goes on in the next one
                line = continued + " " + line.strip()
            if line.endswith("\\"):
                continued = line[:-1].rstrip()
                continue
            continued = ""
            if COMMAND.match(line.strip()):
                where = f"README.md:{number + offset}"
                commands.append((where, " ".join(shlex.split(line, comments=True))))
    return commands


def _help_commands() -> list[tuple[str, str]]:
    """(where, command line) for the examples of `keras-edges --help`."""
    from keras_edges.cli import EPILOG

    examples = EPILOG.split("examples:")[1].split("\n\n")[0]
    return [
        ("keras-edges --help", " ".join(shlex.split(line)))
        for line in examples.splitlines()
        if line.strip()
    ]


def _snippets() -> list[tuple[str, str]]:
    """(where, source) for every Python block of the README."""
    return [
        (f"README.md:{number}", "\n".join(lines))
        for number, language, lines in _fences(README.read_text())
        if language == "python"
    ]


def _development(command: str) -> str | None:
    """Why `command` is not run here, or None if it is."""
    for pattern, why in DEVELOPMENT:
        if re.search(pattern, command):
            return why
    return None


def _user_commands() -> list[tuple[str, str]]:
    """The commands run here, in order, each once: the README's, then --help's."""
    seen, commands = set(), []
    for where, command in _readme_commands() + _help_commands():
        if command not in seen and _development(command) is None:
            seen.add(command)
            commands.append((where, command))
    return commands


def console_script() -> Path:
    """The installed `keras-edges`: `KERAS_EDGES_COMMAND`, else the one beside Python."""
    path = Path(
        os.environ.get("KERAS_EDGES_COMMAND")
        or Path(sys.executable).with_name("keras-edges")
    )
    if not path.is_file():
        pytest.fail(
            f"The console script {path} is missing: install the package "
            "(`pip install .`) or set KERAS_EDGES_COMMAND to its `keras-edges`."
        )
    return path


def _argv(command: str) -> list[str]:
    """The argument vector of a README command, as the shell would pass it."""
    argv = shlex.split(command)
    argv = [DATA_PATHS.get(token, token) for token in argv]
    if argv[0] == "keras-edges":
        argv[0] = str(console_script())
    elif argv[:3] == ["python", "-m", "keras_edges"]:
        argv[0] = sys.executable
    for prefix, extra in SHRINK.items():
        if command.startswith(prefix):
            argv += extra
    return argv


def _environment() -> dict:
    """The user's environment, as a parent that imported TensorFlow leaves it."""
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "1"  # what `import tensorflow` sets in a parent
    env.pop("KERAS_EDGES_TF_LOGS", None)
    return env


def run(argv: list, folder: Path, *, stdin: str | None = None, quiet: bool = True):
    """Run `argv` in `folder`; exit 0 or fail with its output. `quiet`: the command
    writes no TensorFlow log line (a Python script of the user's may)."""
    result = subprocess.run(
        [str(arg) for arg in argv],
        cwd=folder,
        env=_environment(),
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"{shlex.join(map(str, argv))} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    assert not (quiet and TF_LOG_LINE.search(result.stderr)), result.stderr
    return result


def _fresh_folder(root: Path) -> Path:
    """A user's folder: the sample images in img/ and the inputs the README names."""
    root.mkdir()
    (root / "img").mkdir()
    (root / "photos").mkdir()
    for photo in SAMPLE_PHOTOS:
        shutil.copy(photo, root / "img")
        shutil.copy(photo, root / "photos")
    for subfolder, name in (("scans/a", "camera.png"), ("scans/b/c", "coins.png")):
        (root / subfolder).mkdir(parents=True)
        Image.open(IMG / name).save(root / subfolder / f"{Path(name).stem}.tif")
    _write_pairs(root / "my_pairs")
    for split in ("train", "test"):  # BIPED's layout: imgs/<split>, edge_maps/<split>
        _write_pairs(root / "BIPED" / split, count=2)
        for half, name in (("images", "imgs"), ("edges", "edge_maps")):
            (root / "BIPED" / name).mkdir(exist_ok=True)
            (root / "BIPED" / split / half).rename(root / "BIPED" / name / split)
        (root / "BIPED" / split).rmdir()
    width, height = Image.open(IMG / "coffee.jpg").size  # a region of the photo
    region = Image.new("L", (width, height))
    region.paste(255, (width // 4, height // 4, 3 * width // 4, 3 * height // 4))
    region.save(root / "region.png")
    _write_bsds(root / BSDS, splits=("train", "val", "test"))
    return root


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """The one folder the README's commands chain in."""
    return _fresh_folder(tmp_path_factory.mktemp("user") / "work")


def test_every_command_is_classified():
    """Each README command is run here or skipped by design; each stand-in rule is used."""
    commands = _readme_commands() + _help_commands()
    assert len(commands) >= 20  # the parser finds the README's blocks
    for where, command in commands:
        assert _development(command) or command.startswith(
            ("keras-edges ", "python -m keras_edges ")
        ), f"{where}: {command!r} is neither run here nor listed in DEVELOPMENT"
    text = " ".join(command for _, command in commands)
    for prefix in [*SHRINK, *DATA_PATHS]:
        assert prefix in text, f"the rule for {prefix!r} matches no README command"
    snippets = "\n".join(source for _, source in _snippets())
    assert all(old in snippets for old in SNIPPET_SHRINK)


@pytest.mark.parametrize(
    "where, command",
    [
        (where, command)
        for where, command in _readme_commands()
        if _development(command) is not None
    ],
    ids=lambda value: value,
)
def test_development_commands_are_skipped_by_design(where, command):
    """Development commands run in CI itself, not in a user's fresh folder."""
    pytest.skip(f"{where}: {command}: {_development(command)}")


@pytest.mark.parametrize(
    "where, command", _user_commands(), ids=[c for _, c in _user_commands()]
)
def test_command_runs_as_written(workspace, where, command):
    """The command exits 0 in the user's folder, quietly, after those before it."""
    for option, module in EXTRAS.items():
        if option in command.split():
            pytest.importorskip(module, reason=f"{command} needs {module} (an extra)")
    result = run(_argv(command), workspace)
    if command.startswith("keras-edges learn"):  # the README: "rerun to resume"
        again = run(_argv(command), workspace)
        assert "already trained" in again.stdout, again.stdout
    if "--help" in command:
        assert "usage:" in result.stdout


def test_commands_made_what_they_promise(workspace):
    """The chain's products exist: edge maps, models, exports, curves, run folders."""
    names = {
        path.relative_to(workspace).as_posix()
        for path in workspace.rglob("*")
        if path.is_file()
    }
    for expected in [
        "edges/camera_edges.png",
        "edges/coins_edges.png",
        "edges/a/camera_edges.npy",
        "learned.keras",
        "edges.tflite",
        "scharr_savedmodel/saved_model.pb",
        "pr.png",
        "runs/mine/boundaries.keras",
        "runs/bsds/boundaries.keras",
    ]:
        assert expected in names, f"{expected} missing; made: {sorted(names)[:50]}"
    assert any(name.startswith("out/") for name in names)


# A model saved by each of the package's paths, loaded through each documented loader.
# A model saved by each of the package's paths: train, finetune, learn.
SAVED_MODELS = {
    "learned.keras": [],
    "runs/mine/boundaries.keras": ["--method", "learned"],
    "runs/bsds/boundaries.keras": ["--method", "learned"],
}
LOAD_IN_PYTHON = """\
import sys
import keras_edges  # light: no TensorFlow yet
import tensorflow  # looks keras up while it imports (the load bug of issue 21)
import keras
for path in sys.argv[1:]:
    model = keras.saving.load_model(path)
    print(path, model.name, model.count_params())
"""


def test_every_saved_model_loads_everywhere(workspace):
    """Every model the package saved loads through the command's --model (detect,
    export; the README's chain covers evaluate --model), `python -m keras_edges`, and
    keras.saving.load_model after `import keras_edges, tensorflow`, in fresh processes."""
    out = workspace / "loaded"
    for number, (saved, method) in enumerate(SAVED_MODELS.items()):
        detect = [console_script(), "detect", "img/coins.png", "-o", out / str(number)]
        run([*detect, "--model", saved, *method], workspace)
        assert (out / str(number) / "coins_edges.png").is_file()
    module = [sys.executable, "-m", "keras_edges", "detect", "img/camera.png"]
    bsds = ["--model", "runs/bsds/boundaries.keras", "--method", "learned"]
    run([*module, "-o", out, *bsds], workspace)
    assert (out / "camera_edges.png").is_file()
    export = [console_script(), "export", "runs/mine/boundaries.keras"]
    run([*export, "-o", out / "boundaries.tflite"], workspace)
    assert (out / "boundaries.tflite").read_bytes()[4:8] == b"TFL3"
    result = run(
        [sys.executable, "-c", LOAD_IN_PYTHON, *SAVED_MODELS], workspace, quiet=False
    )
    assert len(result.stdout.splitlines()) == len(SAVED_MODELS)


RUN_EXPORTS = """\
import sys
import numpy as np
import onnxruntime
import keras
import tensorflow as tf
from keras_edges import load_image

image = load_image("img/coins.png").astype(np.float32)[None, :, :, None] / 255
expected = keras.saving.load_model(sys.argv[1])(image)
interpreter = tf.lite.Interpreter(model_path="edges.tflite")
interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], image.shape)
interpreter.allocate_tensors()
interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
interpreter.invoke()
tflite = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
session = onnxruntime.InferenceSession("edges.onnx")
onnx = session.run(None, {session.get_inputs()[0].name: image})[0]
for name, output in (("tflite", tflite), ("onnx", onnx)):
    np.testing.assert_allclose(output, np.asarray(expected), atol=1e-4, err_msg=name)
print("exports agree", tflite.shape, onnx.shape)
"""


def test_exported_files_run(workspace):
    """The README's TFLite export, and the same model as ONNX, run and give its edges."""
    for name in ("edges.tflite", "edges.onnx"):  # of the last learned.keras trained
        argv = [console_script(), "export", "learned.keras", "-o", name, "--overwrite"]
        run(argv, workspace)
    result = run(
        [sys.executable, "-c", RUN_EXPORTS, "learned.keras"], workspace, quiet=False
    )
    assert "exports agree" in result.stdout


@pytest.mark.parametrize(
    "where, source", [pytest.param(*case, id=case[0]) for case in _snippets()]
)
def test_snippet_runs(tmp_path, where, source):
    """The README's Python snippet runs as a script in a fresh folder (its placeholders
    defined in PRELUDE)."""
    for old, new in SNIPPET_SHRINK.items():
        source = source.replace(old, new)
    folder = _fresh_folder(tmp_path / "work")
    (folder / "snippet.py").write_text(PRELUDE + source)
    run([sys.executable, "snippet.py"], folder, quiet=False)
    if "sobel5.keras" in source:  # "loads back with keras.saving.load_model"
        detect = [console_script(), "detect", "img/coins.png", "-o", "out"]
        run([*detect, "--model", "sobel5.keras"], folder)


def test_the_command_runs_the_installed_package(workspace):
    """With KERAS_EDGES_INSTALLED=1 (CI's wheel venv), the command imports no checkout."""
    code = "import keras_edges; print(keras_edges.__file__)"
    python = console_script().with_name(Path(sys.executable).name)
    location = Path(run([python, "-c", code], workspace).stdout.strip())
    if os.environ.get("KERAS_EDGES_INSTALLED", "0") not in ("", "0"):
        # the installed copy (CI's venv may sit inside the checkout, under build/)
        assert ROOT / "keras_edges" not in location.parents, location
        assert "site-packages" in location.parts, location
    assert location.name == "__init__.py"
