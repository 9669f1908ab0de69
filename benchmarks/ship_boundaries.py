"""Copy the best weights so far of a `keras-edges learn` run into keras_edges/weights/.

    python benchmarks/ship_boundaries.py /work/training/gen2 --score --bsds ../shared/data/BSDS500

reads the run folder's `best.weights.h5` (the epoch with the best validation ODS so far,
written by `keras-edges learn` while it runs), its `state.json` (history, best epoch,
training time) and `run.json` (what the run was: version, command, seed, commit, data;
written by whoever started it), checks that the weights load into
`build_boundary_model(version=...)`, and writes them as the version's shipped weights
(`pretrained_weights(version)`, e.g. `keras_edges/weights/boundaries_v2.weights.h5`) with
their provenance JSON beside (same stem, `.json`). With `--score` it first scores them on
all of BSDS500 val at one scale (99 thresholds, the field's edge NMS, as
`bench_boundaries.py quality --only "learned, 1 scale"`) and records that in the JSON.

It runs beside the training run (which it only reads), and can run again at any time:
each call replaces the version's files with the best weights of that moment. It never
changes `DEFAULT_BOUNDARY_VERSION` (the weights `detect_edges(method="learned")` uses):
that is a decision for a commit, when a version beats the default held out.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import time
from pathlib import Path


def _provenance(run: Path, version: str, model, weights: Path, scores) -> dict:
    import keras
    import tensorflow as tf

    state = json.loads((run / "state.json").read_text())
    about = json.loads((run / "run.json").read_text())
    best = state["best"]
    provenance = {
        "model": f"keras_edges.models.build_boundary_model(version={version!r})",
        "parameters": model.count_params(),
        "weights_sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
        "data": about["data"],
        "command": about["command"],
        "launcher": about.get("launcher"),
        "runs": about.get("runs", []),
        "seed": about["seed"],
        "start": "random initialisation",
        "commit": about["commit"],
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "machine": about.get("machine", "2-core AMD EPYC CPU, shared with other work"),
        "training_seconds": round(state["seconds"], 1),
        "epochs": state["epoch"],
        "steps": state["history"][-1]["step"] if state["history"] else 0,
        "selection": (
            f"the best validation ODS so far: epoch {best.get('epoch')} (step "
            f"{best.get('step')}) of the {state['epoch']} finished when these weights were "
            f"copied, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        ),
        "best_validation": best,
        "history": state["history"],
    }
    if scores is not None:
        provenance["val_scores_held_out"] = scores
    provenance["resume"] = (
        f"rerun the command (or {about.get('launcher', 'it')}) with the run folder "
        f"{str(run)!r}, which holds state.json and state.weights.h5 (not shipped)"
    )
    return provenance


def _score(model, run: Path, bsds: str, images: int, workers: int) -> dict:
    from keras_edges.datasets import load_bsds500
    from keras_edges.train import boundary_scores

    pairs = list(itertools.islice(load_bsds500(bsds, "val"), images))
    start = time.perf_counter()
    scores = boundary_scores(model, pairs, thresholds=99, workers=workers)
    return {
        "images": f"BSDS500 val, {len(pairs)} images (held out: the run trained on train)",
        "protocol": "one scale; 99 thresholds, max_dist 0.0075, thinning; the field's edge "
        "NMS (suppress_nonmaxima), as benchmarks/bench_boundaries.py quality",
        "command": f"python benchmarks/ship_boundaries.py {run} --score --bsds {bsds} "
        f"--images {images}",
        "one_scale": {
            "ods": round(scores.ods, 4),
            "ois": round(scores.ois, 4),
            "ap": round(scores.ap, 4),
        },
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", help="the run folder of keras-edges learn")
    parser.add_argument(
        "--version", help="the version to ship as (default: run.json's 'version')"
    )
    parser.add_argument("--score", action="store_true", help="score on BSDS500 val")
    parser.add_argument("--bsds", help="BSDS500 root (with --score)")
    parser.add_argument("--images", type=int, default=100, help="val images to score")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--to",
        metavar="FOLDER",
        help="write into this folder instead of keras_edges/weights/ (a dry run)",
    )
    args = parser.parse_args(argv)
    run = Path(args.run)
    for name in ("best.weights.h5", "state.json", "run.json"):
        if not (run / name).is_file():
            parser.error(f"the run folder {str(run)!r} has no {name}")
    if args.score and not args.bsds:
        parser.error("--score needs --bsds")

    from keras_edges.io import atomic_path
    from keras_edges.models import (
        DEFAULT_BOUNDARY_VERSION,
        build_boundary_model,
        pretrained_weights,
    )

    version = args.version or json.loads((run / "run.json").read_text())["version"]
    if version == DEFAULT_BOUNDARY_VERSION:
        parser.error(
            f"{version!r} is the default version: its weights are replaced by hand, "
            "with the reference output of the tests"
        )
    model = build_boundary_model(version=version)
    model.load_weights(run / "best.weights.h5")  # fails if it is another architecture
    scores = (
        _score(model, run, args.bsds, args.images, args.workers) if args.score else None
    )
    target = pretrained_weights(version)
    if args.to:
        target = Path(args.to) / target.name
    with atomic_path(target) as temporary:
        model.save_weights(temporary)
    provenance = _provenance(run, version, model, target, scores)
    with atomic_path(
        target.with_name(target.name.replace(".weights.h5", ".json"))
    ) as temporary:
        Path(temporary).write_text(json.dumps(provenance, indent=2) + "\n")
    best = provenance["best_validation"]
    print(
        f"{version}: epoch {best.get('epoch')} of {provenance['epochs']} "
        f"(validation ODS {best.get('ods', float('nan')):.3f} on run.json's images) -> {target}"
    )
    if scores is not None:
        print(f"held out, {scores['images']}: {scores['one_scale']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
