"""Ship the weights of a `keras-edges learn` run as a version's weights in keras_edges/weights/.

    python benchmarks/ship_boundaries.py /work/training/gen2 --score --bsds ../shared/data/BSDS500
    python benchmarks/ship_boundaries.py /work/training/gen2_trainval --score \\
        --bsds ../shared/data/BSDS500 --recipe keras_edges/weights/boundaries_v2.json

reads a run folder in either of two states:

- a run still training (or in the format of commit 654ed5d): its `best.weights.h5` (the
  epoch with the best validation ODS so far) and `state.json` (history, best epoch,
  training time);
- a finished run of the current `keras-edges learn`: its `boundaries.weights.h5` (the best
  validation, or the last epoch of a run without validation) and `provenance.json`;

and `run.json` (or `--about FILE`: what the run was, written by whoever started it:
version, data, machine, the launches), checks that the weights load into
`build_boundary_model(version=...)`, and writes them as the version's shipped weights
(`pretrained_weights(version)`, e.g. `keras_edges/weights/boundaries_v2.weights.h5`), their
provenance JSON beside (same stem, `.json`), and the reference output that
`tests/test_boundary_versions.py` checks them against
(`tests/data/learned_camera_every8_<version>.npy`: every 8th pixel of the map of
img/camera.png).

`--score` first scores them on all of BSDS500 val (99 thresholds, the field's edge NMS, as
`bench_boundaries.py quality`) at one scale, with `flip=True` and with
`scales=(0.5, 1, 1.5)`, with the seconds each took (the test-time options' gain and cost),
and records them: as held-out scores for a run trained on train, as not held out for a
run that trained on val too. `--recipe JSON` records, for such a train+val run, the
provenance of the train-only run of the same recipe (its held-out scores).

It only reads the run folder, so it can run beside the training run, and again at any
time: each call replaces the version's files. Whether a version becomes the default
(`DEFAULT_BOUNDARY_VERSION`) is decided in a commit, when it beats the default held out.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout

TEST_TIME_OPTIONS = {
    "one_scale": {},
    "flip": {"flip": True},
    "scales_0.5_1_1.5": {"scales": (0.5, 1.0, 1.5)},
}


def _read_run(run: Path, about_file: Path) -> tuple[Path, dict, dict]:
    """The weights file, the training record and `run.json` of a run folder."""
    about = json.loads(about_file.read_text())
    if (run / "provenance.json").is_file() and (
        run / "boundaries.weights.h5"
    ).is_file():
        record = json.loads((run / "provenance.json").read_text())
        return run / "boundaries.weights.h5", record, about
    state = json.loads((run / "state.json").read_text())
    record = {
        "command": about["command"],
        "commit": about["commit"],
        "seed": about["seed"],
        "training_seconds": round(state["seconds"], 1),
        "epochs": state["epoch"],
        "best_validation": state["best"],
        "history": state["history"],
    }
    return run / "best.weights.h5", record, about


def _provenance(run, version, model, weights, record, about, scores, recipe) -> dict:
    import keras
    import tensorflow as tf

    best = record.get("best_validation") or {}
    history = record.get("history", [])
    finished = (run / "provenance.json").is_file()
    if best.get("ods") is not None:
        selection = (
            f"the best validation ODS: epoch {best.get('epoch')} (step {best.get('step')}) "
            f"of the {record['epochs']} finished"
            + ("" if finished else ", when these weights were copied")
        )
    else:
        selection = f"the last epoch ({record['epochs']}) of the fixed schedule"
    provenance = {
        "model": f"keras_edges.models.build_boundary_model(version={version!r})",
        "parameters": model.count_params(),
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "data": about["data"],
        "command": record["command"],
        "launcher": about.get("launcher"),
        "runs": about.get("runs", []),
        "seed": record["seed"],
        "start": about.get("start", "random initialisation"),
        "commit": record["commit"],
        "code": about.get("code"),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "machine": about.get("machine", "2-core AMD EPYC CPU, shared with other work"),
        "training_seconds": record["training_seconds"],
        "epochs": record["epochs"],
        "steps": history[-1]["step"] if history else 0,
        "selection": selection
        + f"; shipped {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "best_validation": best,
        "history": history,
    }
    if scores is not None:
        held_out = "val" not in about.get("train_splits", "train").split("+")
        key = "val_scores_held_out" if held_out else "val_scores_not_held_out"
        provenance[key] = scores
    if recipe is not None:
        provenance["recipe_validation"] = recipe
    provenance["resume"] = (
        f"rerun the command (or {about.get('launcher') or 'it'}) with the run folder "
        f"{str(run)!r} (not shipped)"
    )
    return provenance


def _score(model, bsds: str, images: int, workers: int, held_out: bool) -> dict:
    import numpy as np

    from keras_edges.datasets import load_bsds500
    from keras_edges.methods import learned_boundaries
    from keras_edges.metrics import evaluate_boundaries

    pairs = list(itertools.islice(load_bsds500(bsds, "val"), images))
    scores = {
        "images": f"BSDS500 val, {len(pairs)} images"
        + (
            " (held out: the run trained on train)"
            if held_out
            else " (seen in training)"
        ),
        "protocol": "99 thresholds, max_dist 0.0075, thinning; the field's edge NMS "
        "(suppress_nonmaxima), as benchmarks/bench_boundaries.py quality; seconds: the "
        "detector's time on these images (one call per image, traced before; on a "
        "shared machine: benchmarks/bench_boundaries.py speed measures the costs)",
    }
    for name, options in TEST_TIME_OPTIONS.items():
        learned_boundaries(pairs[0][0], model=model, **options)  # traced before timing
        start = time.perf_counter()
        maps = [
            learned_boundaries(image.astype(np.float32) / 255, model=model, **options)[
                ..., 0
            ]
            for image, _ in pairs
        ]
        seconds = time.perf_counter() - start
        result = evaluate_boundaries(
            maps,
            [truth for _, truth in pairs],
            nms=True,
            workers=workers,
            progress=False,
        )
        scores[name] = {
            "ods": round(result.ods, 4),
            "ois": round(result.ois, 4),
            "ap": round(result.ap, 4),
            "detector_seconds": round(seconds, 1),
        }
        print(f"{name}: {scores[name]}", flush=True)
    return scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", help="the run folder of keras-edges learn")
    parser.add_argument("--about", help="what the run was (default: RUN/run.json)")
    parser.add_argument(
        "--version", help="the version to ship as (default: run.json's 'version')"
    )
    parser.add_argument("--score", action="store_true", help="score on BSDS500 val")
    parser.add_argument("--bsds", help="BSDS500 root (with --score)")
    parser.add_argument("--images", type=int, default=100, help="val images to score")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--recipe", help="the provenance JSON of the recipe's train-only run"
    )
    parser.add_argument(
        "--to",
        metavar="FOLDER",
        help="write into this folder instead of keras_edges/weights/ and tests/data/ "
        "(a dry run)",
    )
    args = parser.parse_args(argv)
    run = Path(args.run)
    about_file = Path(args.about) if args.about else run / "run.json"
    if not about_file.is_file():
        parser.error(f"{str(about_file)!r} does not exist (what the run was)")
    try:
        weights, record, about = _read_run(run, about_file)
    except (OSError, KeyError, ValueError) as error:
        parser.error(f"the run folder {str(run)!r} cannot be read: {error}")
    if not weights.is_file():
        parser.error(f"the run folder {str(run)!r} has no {weights.name}")
    if args.score and not args.bsds:
        parser.error("--score needs --bsds")
    recipe = json.loads(Path(args.recipe).read_text()) if args.recipe else None

    import numpy as np

    from keras_edges.io import atomic_path, load_image
    from keras_edges.methods import learned_boundaries
    from keras_edges.models import build_boundary_model, pretrained_weights

    version = args.version or about["version"]
    model = build_boundary_model(version=version)
    model.load_weights(weights)  # fails if it is another architecture
    held_out = "val" not in about.get("train_splits", "train").split("+")
    scores = (
        _score(model, args.bsds, args.images, args.workers, held_out)
        if args.score
        else None
    )
    target = pretrained_weights(version)
    reference = ROOT / "tests" / "data" / f"learned_camera_every8_{version}.npy"
    if args.to:
        target = Path(args.to) / target.name
        reference = Path(args.to) / reference.name
    with atomic_path(target) as temporary:
        model.save_weights(temporary)
    camera = load_image(ROOT / "img" / "camera.png").astype(np.float32) / 255
    with atomic_path(reference) as temporary, open(temporary, "wb") as file:
        np.save(file, learned_boundaries(camera, model=model)[::8, ::8])
    provenance = _provenance(run, version, model, target, record, about, scores, recipe)
    with atomic_path(
        target.with_name(target.name.replace(".weights.h5", ".json"))
    ) as temporary:
        Path(temporary).write_text(json.dumps(provenance, indent=2) + "\n")
    print(f"{version}: {provenance['selection']} -> {target}; reference {reference}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
