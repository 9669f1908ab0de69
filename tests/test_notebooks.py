"""Execute every notebook in notebooks/ top to bottom (headless); any error fails the suite."""

import os
import sys
from pathlib import Path

import nbclient
import nbformat
import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Seconds per cell; each notebook takes well under a minute on 2 CPU cores.
CELL_TIMEOUT = 300


def test_notebooks_are_found_and_stored_without_outputs():
    """The numbered notebooks exist, carry no outputs, use the python3 kernel, and stay small."""
    assert [path.name for path in NOTEBOOKS][:2] == [
        "01-convolution-by-hand.ipynb",
        "02-sobel-as-a-keras-model.ipynb",
    ]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert path.name[:3].rstrip("-").isdigit(), (
            f"{path.name}: notebooks are numbered"
        )
        assert notebook.metadata.kernelspec.name == "python3", path.name
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code, f"{path.name} has no code"
        assert all(
            not cell.outputs and cell.execution_count is None for cell in code
        ), f"{path.name} is stored with outputs; clear them before committing"
        assert path.stat().st_size < 100_000, f"{path.name} is too large"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path, tmp_path, monkeypatch):
    """The notebook runs top to bottom from notebooks/, as Jupyter runs it; writes no file."""
    # Use this interpreter's kernel spec (installed with ipykernel into sys.prefix) before any
    # user-level one; jupyter_client starts it with sys.executable.
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.setenv(
        "PYTHONPATH",
        os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    # The notebooks put their temporary folders under tmp_path.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    before = _repository_files()
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},  # the kernel's cwd
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    images = sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert images > 0, f"{path.name} drew no figure"
    assert _repository_files() == before, "the notebook wrote files into the repository"


def _repository_files() -> set[Path]:
    """Every file under the repository, outside caches and virtual environments."""
    skip = {
        ".git",
        ".venv",
        "__pycache__",
        ".pytest_cache",
        ".ipynb_checkpoints",
        ".hypothesis",
    }
    files = set()
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [
            name
            for name in subfolders
            if name not in skip and not name.endswith(".egg-info")
        ]
        files.update(Path(folder, name) for name in names)
    return files
