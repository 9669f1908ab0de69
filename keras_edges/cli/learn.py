"""`keras-edges learn` and `keras-edges finetune`: the learned boundary detector.

`learn` trains it from a BSDS500-layout folder; `finetune` starts from the shipped
weights and trains on a folder of image / edge-map pairs. Both keep their checkpoints in
the output folder and resume from them when run again with the same folder, print one
line per epoch with the validation ODS, and write their results atomically:
`boundaries.weights.h5` (the best weights), `boundaries.keras` (a model for
`keras-edges detect --method learned --model ...`) and `provenance.json` (data, command,
seed, commit, scores, training time). A run folder holds one run: a rerun with other
options or data is refused (unless `--force-resume`), and so is a second run while the
first trains.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

from keras_edges.cli.common import import_tensorflow_quietly

_EXAMPLES = {
    "learn": "examples:\n  keras-edges learn --bsds /data/BSDS500 -o runs/bsds\n"
    "  keras-edges learn --bsds /data/BSDS500 --train-splits train+val -o runs/all",
    "finetune": "examples:\n  keras-edges finetune my_pairs/ -o runs/mine\n"
    "  keras-edges finetune my_pairs/ --validation held_out/ --epochs 10 -o runs/mine\n"
    "  keras-edges finetune BIPED/ --validation BIPED/ --validation-split test -o runs/biped",
}


def _add_training_options(parser, *, epochs, steps, learning_rate) -> None:
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FOLDER",
        help="run folder: checkpoints (resumed when run again) and results; "
        "created with its parents",
    )
    parser.add_argument(
        "--force-resume",
        action="store_true",
        help="resume the run in the folder even if its options or data differ "
        "(the changes are recorded)",
    )
    parser.add_argument(
        "--epochs", type=int, default=epochs, help=f"epochs in all (default {epochs})"
    )
    parser.add_argument(
        "--steps-per-epoch",
        type=int,
        default=steps,
        help=f"batches per epoch (default {steps})",
    )
    parser.add_argument(
        "--batch-size", type=int, default=8, help="crops per batch (default 8)"
    )
    parser.add_argument(
        "--crop-size", type=int, default=256, help="crop side (default 256)"
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=learning_rate,
        help=f"peak learning rate (default {learning_rate:g})",
    )
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="turn the crops by random angles as well as flips and 90-degree turns",
    )
    parser.add_argument(
        "--model-version",
        metavar="VERSION",
        help="the detector's version (a key of keras_edges.models.BOUNDARY_VERSIONS, "
        "e.g. v2): its architecture, and its shipped weights where it starts from them "
        "(default: the default version)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--validate-every",
        type=int,
        default=1,
        help="epochs between validations (default 1)",
    )
    parser.add_argument(
        "--thresholds",
        type=int,
        default=33,
        help="thresholds of the validation ODS (default 33)",
    )


def add_parser(commands) -> None:
    """Add the `learn` and `finetune` subcommands to `commands`."""
    learn = commands.add_parser(
        "learn",
        help="train the learned boundary detector on a BSDS500-layout folder",
        epilog=_EXAMPLES["learn"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    learn.add_argument(
        "--bsds",
        required=True,
        metavar="ROOT",
        help="BSDS500 folder with images/ and groundTruth/ (you download it)",
    )
    learn.add_argument(
        "--train-splits",
        default="train",
        help="splits to train on, joined by + (default: train)",
    )
    learn.add_argument(
        "--val-split", default="val", help="split to validate on (default: val)"
    )
    learn.add_argument(
        "--val-images",
        type=int,
        default=25,
        help="validation images, the first of the split (default 25; 0: none)",
    )
    learn.add_argument(
        "--init",
        metavar="WEIGHTS",
        help="start from these weights: 'pretrained' (the shipped ones) or a "
        ".weights.h5 file of build_boundary_model() (default: random)",
    )
    _add_training_options(learn, epochs=14, steps=500, learning_rate=2e-3)
    learn.set_defaults(run=run, parser=learn)

    finetune = commands.add_parser(
        "finetune",
        help="fine-tune the shipped boundary detector on a folder of image / edge-map pairs",
        epilog=_EXAMPLES["finetune"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    finetune.add_argument(
        "pairs",
        metavar="PAIRS",
        help="folder with images/ and edges/ (or BIPED's imgs/ and edge_maps/)",
    )
    finetune.add_argument(
        "--split",
        help="the split of PAIRS to train on, for layouts with split folders such as "
        "BIPED's (default: train where there is one)",
    )
    finetune.add_argument(
        "--validation",
        metavar="PAIRS",
        help="a second pair folder to validate on (default: hold out --holdout pairs)",
    )
    finetune.add_argument(
        "--validation-split",
        metavar="SPLIT",
        help="the split of --validation to validate on (default: train where there is one)",
    )
    finetune.add_argument(
        "--holdout",
        type=int,
        default=None,
        help="pairs of PAIRS kept for validation (default: a fifth, at most 10)",
    )
    finetune.add_argument(
        "--from-scratch",
        action="store_true",
        help="start from random weights instead of the shipped ones",
    )
    _add_training_options(finetune, epochs=6, steps=100, learning_rate=5e-4)
    finetune.set_defaults(run=run, parser=finetune)


def _check_options(args, parser) -> None:
    for option in (
        "epochs",
        "steps_per_epoch",
        "batch_size",
        "crop_size",
        "validate_every",
        "thresholds",
    ):
        if getattr(args, option) < 1:
            parser.error(
                f"--{option.replace('_', '-')} must be a positive integer, got {getattr(args, option)}"
            )
    from keras_edges.models import BOUNDARY_VERSIONS, DEFAULT_BOUNDARY_VERSION

    args.model_version = args.model_version or DEFAULT_BOUNDARY_VERSION
    if args.model_version not in BOUNDARY_VERSIONS:
        parser.error(
            f"--model-version must be one of {', '.join(BOUNDARY_VERSIONS)}, got "
            f"{args.model_version!r}"
        )
    if not 0 < args.learning_rate < 1:
        parser.error(f"--learning-rate must be in (0, 1), got {args.learning_rate}")
    output = Path(args.output)
    for folder in (output, *output.parents):
        if folder.exists() and not folder.is_dir():
            parser.error(f"-o/--output must be a folder, got the file {str(folder)!r}")


def _data(args, parser):
    """`(train, validation, description)` for `learn` (BSDS) or `finetune` (pairs)."""
    import itertools

    from keras_edges.datasets import (
        BSDS_SPLITS,
        _pair_folders,
        load_bsds500,
        load_edge_pairs,
    )

    if args.command == "learn":
        splits = args.train_splits.split("+")
        for split in [*splits, args.val_split]:
            if split not in BSDS_SPLITS:
                parser.error(
                    f"unknown split {split!r}: expected one of {', '.join(BSDS_SPLITS)}"
                )
        if args.val_split in splits and args.val_images:
            parser.error(
                f"--val-split {args.val_split} is also a training split: choose another, or --val-images 0"
            )
        if args.val_images < 0:
            parser.error(f"--val-images must be >= 0, got {args.val_images}")
        train = [pair for split in splits for pair in load_bsds500(args.bsds, split)]
        validation = list(
            itertools.islice(load_bsds500(args.bsds, args.val_split), args.val_images)
        )
        description = {
            "train": f"BSDS500 {'+'.join(splits)} ({len(train)} images, all annotators)",
            "validation": (
                f"BSDS500 {args.val_split}, first {len(validation)} images (sorted by name)"
                if validation
                else "none"
            ),
        }
        return train, validation or None, description
    if args.validation is not None and _pair_folders(
        args.validation, args.validation_split
    ) == _pair_folders(args.pairs, args.split):
        parser.error(
            f"--validation {args.validation} reads the training pairs "
            f"({_pair_folders(args.pairs, args.split)[0]}): validate on other pairs, "
            "e.g. another --validation-split, or leave it out to hold out --holdout pairs"
        )
    train = load_edge_pairs(args.pairs, split=args.split)
    if args.validation is not None:
        validation = load_edge_pairs(args.validation, split=args.validation_split)
    else:
        holdout = min(10, len(train) // 5) if args.holdout is None else args.holdout
        if not 0 <= holdout < len(train):
            parser.error(
                f"--holdout must be in [0, {len(train) - 1}] for {len(train)} pairs, got {holdout}"
            )
        train, validation = train[: len(train) - holdout], train[len(train) - holdout :]
    description = {
        "train": f"{len(train)} pairs from {_pair_folders(args.pairs, args.split)[0]}",
        "validation": f"{len(validation)} pairs"
        + (
            f" from {_pair_folders(args.validation, args.validation_split)[0]}"
            if args.validation
            else " held out"
        ),
    }
    return train, validation or None, description


def _commit() -> str | None:
    import subprocess

    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _command(args) -> str:
    """The command line that reproduces this run, every option spelled out."""
    skip = {"command", "run", "parser"}
    words = ["keras-edges", args.command]
    words += [args.pairs] if args.command == "finetune" else []
    for key, value in sorted(vars(args).items()):
        if key in skip or key == "pairs" or value is None or value is False:
            continue
        option = "--" + key.replace("_", "-")
        words += [option] if value is True else [option, str(value)]
    return " ".join(words)


def _start(args, parser):
    """The model to start from: None (random), "pretrained", or one with given weights."""
    if args.command == "finetune":
        return None if args.from_scratch else "pretrained"
    if args.init in (None, "pretrained"):
        return args.init
    from keras_edges.models import build_boundary_model

    model = build_boundary_model(version=args.model_version)
    try:
        model.load_weights(args.init)
    except (OSError, ValueError) as error:
        parser.error(
            f"--init {args.init!r}: expected 'pretrained' or a .weights.h5 file of "
            f"build_boundary_model(version={args.model_version!r}); loading it failed: {error}"
        )
    return model


def run(args, parser) -> int:
    """Run `keras-edges learn` or `keras-edges finetune`; returns the exit code."""
    import_tensorflow_quietly()  # first: checking --model-version imports Keras
    _check_options(args, parser)

    from keras_edges.datasets import boundary_consensus
    from keras_edges.train.boundaries import _check_targets, fit_boundary_model
    from keras_edges.train.losses import ConsensusBalancedCrossEntropy
    from keras_edges.train.runs import RunFolderError, run_lock

    try:
        train, validation, description = _data(args, parser)
        with warnings.catch_warnings():  # refused here; warned by fit_boundary_model
            warnings.simplefilter("ignore")
            _check_targets(
                [boundary_consensus(maps) for _, maps in train],
                ConsensusBalancedCrossEntropy(),
            )
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    output = Path(args.output)
    start = _start(args, parser)
    print(
        f"training on {description['train']}; validating on {description['validation']}",
        flush=True,
    )
    try:
        with run_lock(output):
            model, state = fit_boundary_model(
                train,
                validation=validation,
                model=start,
                folder=output,
                epochs=args.epochs,
                steps_per_epoch=args.steps_per_epoch,
                batch_size=args.batch_size,
                crop_size=args.crop_size,
                learning_rate=args.learning_rate,
                rotate=args.rotate,
                architecture={"version": args.model_version},
                seed=args.seed,
                validate_every=args.validate_every,
                thresholds=args.thresholds,
                force_resume=args.force_resume,
            )
            _write_results(args, output, model, state, description, start)
    except RunFolderError as error:
        parser.error(str(error))
    best = state["best"]
    print(
        f"done: {state['epoch']} epochs in {state['seconds'] / 60:.1f} min"
        + (
            f"; best validation ODS {best['ods']:.3f} (epoch {best['epoch']})"
            if best
            else "; no validation: the last weights"
        )
        + f"; weights in {output / 'boundaries.weights.h5'}"
    )
    return 0


def _write_results(args, output: Path, model, state, description, start) -> None:
    """`boundaries.weights.h5`, `boundaries.keras` and `provenance.json`, atomically."""
    import json

    import keras
    import tensorflow as tf

    from keras_edges.io import atomic_path

    with atomic_path(output / "boundaries.weights.h5") as temporary:
        model.save_weights(temporary)
    with atomic_path(output / "boundaries.keras") as temporary:
        model.save(temporary)
    provenance = {
        "model": f"keras_edges.models.build_boundary_model(version={args.model_version!r})",
        "parameters": model.count_params(),
        "data": description,
        "command": _command(args),
        "seed": args.seed,
        "start": getattr(args, "init", None) or start or "random initialisation",
        "commit": _commit(),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "training_seconds": round(state["seconds"], 1),
        "epochs": state["epoch"],
        "best_validation": state["best"],
        "history": state["history"],
        "options": state["options"],
        "changes": state["changes"],
    }
    with atomic_path(output / "provenance.json") as temporary:
        Path(temporary).write_text(json.dumps(provenance, indent=2))
