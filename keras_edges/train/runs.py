"""Run folders: one run per folder, locked while it trains, crash-consistent on disk.

A run folder holds `state.json` and the weights files it names: the checkpoint of the
last finished epoch (`epoch-0003.weights.h5`: model and optimizer) and the inference
weights of the best validation (`best-0002.weights.h5`). Each epoch writes its weights
under new names, then swaps in `state.json` (one rename), then deletes the files that
no state names any more: a crash at any point leaves a `state.json` whose files exist
and belong to the same epoch. The state records the run's options and fingerprints of
its data, so a call with other options or other data is refused instead of mixing two
runs; a lock file (`run.lock`, an advisory `flock` that the system releases when the
process dies) makes a second run on the same folder refuse at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from keras_edges.io import atomic_path

__all__ = ["RunFolderError", "fingerprint", "run_lock"]

STATE = "state.json"
LOCK = "run.lock"
_HELD: dict[str, int] = {}  # folders this process has locked, with their depth


class RunFolderError(ValueError):
    """A run folder that holds another run, an unreadable state, or is in use."""


def fingerprint(pairs) -> str:
    """A SHA-256 of `(image, maps)` pairs: their order, shapes, dtypes and pixels.

    Example:
    >>> pair = (np.zeros((2, 2, 3), np.uint8), [np.eye(2, dtype=bool)])
    >>> fingerprint([pair]) == fingerprint([pair]), fingerprint([pair]) == fingerprint([])
    (True, False)
    """
    digest = hashlib.sha256()
    for image, maps in pairs:
        for array in (image, *([maps] if isinstance(maps, np.ndarray) else maps)):
            array = np.ascontiguousarray(array)
            digest.update(f"{array.shape}{array.dtype.str};".encode())
            digest.update(array.tobytes())
        digest.update(b"|")
    return digest.hexdigest()


def _lock_file(handle) -> bool:
    """Take an exclusive, non-blocking lock on an open file; False if another holds it."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


@contextlib.contextmanager
def run_lock(folder) -> Iterator[Path]:
    """Hold the run folder's lock (creating the folder) while the block runs.

    The lock is `flock` on `folder/run.lock`, which holds the owner's process id; the
    system drops it when the process ends, so a crashed run leaves no stale lock. The
    same process may take it again (nested), another process is refused at once.

    Raises:
        RunFolderError: If another process holds the lock (naming its process id).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = str(folder.resolve())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield folder
        finally:
            _HELD[key] -= 1
        return
    handle = open(folder / LOCK, "a+")
    try:
        if not _lock_file(handle):
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            raise RunFolderError(
                f"The run folder {str(folder)!r} is in use by another run (process "
                f"{owner}). Wait for it to finish, or train into another folder."
            )
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        _HELD[key] = 1
        try:
            yield folder
        finally:
            del _HELD[key]
    finally:
        handle.close()  # closing releases the lock


def read_state(folder: Path) -> dict | None:
    """The state of the run in `folder`, None if there is none; checked it is whole.

    Raises:
        RunFolderError: If `state.json` cannot be read or names missing files.
    """
    path = folder / STATE
    if not path.exists():
        return None
    fix = (
        f"Start anew in another folder (or delete {str(folder)!r}); the files in it "
        "are not read."
    )
    try:
        state = json.loads(path.read_text())
        epoch, weights = state["epoch"], state["weights"]
        if not isinstance(epoch, int) or epoch < 1 or not isinstance(weights, str):
            raise TypeError
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise RunFolderError(
            f"Cannot resume the run in {str(folder)!r}: {str(path)!r} is not a run state "
            f"written by this version of fit_boundary_model. {fix}"
        ) from None
    for name in (weights, state.get("best", {}).get("weights")):
        if name is not None and not (folder / name).is_file():
            raise RunFolderError(
                f"Cannot resume the run in {str(folder)!r}: {str(path)!r} names "
                f"{name!r}, which is missing. {fix}"
            )
    return state


def check_same_run(folder: Path, recorded: dict, options: dict) -> list[str]:
    """The options (and data fingerprints) that differ between a run and this call."""
    return [
        f"{key}: {recorded.get(key)!r} -> {value!r}"
        for key, value in options.items()
        if recorded.get(key) != value
    ] + [
        f"{key}: {value!r} -> absent"
        for key, value in recorded.items()
        if key not in options
    ]


def mismatch_error(folder: Path, differences: list[str]) -> RunFolderError:
    """The error for a resume whose options or data differ from the run's."""
    return RunFolderError(
        f"The run folder {str(folder)!r} holds another run: "
        + "; ".join(differences)
        + ". Start anew in another folder (or delete this one), or resume this run on "
        "purpose with force_resume=True (keras-edges: --force-resume)."
    )


def write_state(folder: Path, state: dict, model, best_model=None) -> None:
    """Checkpoint one finished epoch: new weights files, then `state.json`, then cleanup.

    `model`'s weights (with its optimizer) go to `epoch-NNNN.weights.h5`; with
    `best_model`, its weights go to `best-NNNN.weights.h5` and `state["best"]` names
    them. Files of earlier epochs are removed once the new state is in place.
    """
    epoch = state["epoch"]
    state["weights"] = f"epoch-{epoch:04d}.weights.h5"
    with atomic_path(folder / state["weights"]) as temporary:
        model.save_weights(temporary)
    if best_model is not None:
        state["best"]["weights"] = f"best-{epoch:04d}.weights.h5"
        with atomic_path(folder / state["best"]["weights"]) as temporary:
            best_model.save_weights(temporary)
    with atomic_path(folder / STATE) as temporary:
        Path(temporary).write_text(json.dumps(state, indent=2))
    remove_stale(folder, state)


def remove_stale(folder: Path, state: dict | None) -> None:
    """Delete the weights files of this module's naming that `state` does not name."""
    kept = {None} if state is None else {state["weights"], state["best"].get("weights")}
    for pattern in ("epoch-*.weights.h5", "best-*.weights.h5"):
        for path in folder.glob(pattern):
            if path.name not in kept:
                path.unlink(missing_ok=True)
