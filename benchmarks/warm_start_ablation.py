"""Warm-started ablations of the learned detector (issue 24): what a trained net gains.

    python benchmarks/warm_start_ablation.py control --bsds ../shared/data/BSDS500
    python benchmarks/warm_start_ablation.py context --bsds ../shared/data/BSDS500
    python benchmarks/warm_start_ablation.py stage5 --bsds ../shared/data/BSDS500
    python benchmarks/warm_start_ablation.py distill --bsds ../shared/data/BSDS500
    python benchmarks/warm_start_ablation.py teacher --bsds ../shared/data/BSDS500

Each variant starts from trained weights (`--start`, default the v2 train-only run's epoch
19, the shipped `boundaries_v2`), adds or changes one thing, and trains `--steps` batches
of 8 crops of BSDS500 **train** (the recipe's augmentation, its loss on every output,
Adam with a warm-up and a cosine decay from `--learning-rate`), then scores all `--images`
val images (99 thresholds, the field's edge NMS) before and after. Layers the start does
not have begin so that the start's output is unchanged (their context branches at zero,
their fusion weight at zero). Short runs from a trained start answer "does this add
anything to the trained net" faster than runs from scratch; `control` is the same
fine-tuning with nothing changed, the row to compare with.

- `control`: nothing changed.
- `context`: wider context in the coarse side outputs (dilations 1/3/5/7 at 1/4 and
  1/3/5/7/9/11 at 1/8, PiDiNet's CDCM reaches 11): does the net lack context?
- `stage5`: a fifth stage at 1/16 (64 channels, 3 blocks) and its side output: more
  context still (the scale-0.5 pass of multi-scale testing gives the net 2x its reach).
- `distill`: the same fine-tuning, plus a class-balanced cross-entropy against a
  teacher's soft maps, weighted `--distill-weight`. The teacher is free (no training):
  the mean of the v1 and v2 train-only nets, each at scales 0.5/1/1.5 with flips, its maps
  computed once on the training images and cropped and transformed with them.
- `teacher`: no training; scores the teacher and its parts on the same val images.

BSDS500 is not shipped: pass its path (train and val only). Results in
benchmarks/README.md, section "Second generation".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

from keras_edges.datasets import boundary_consensus, load_bsds500  # noqa: E402
from keras_edges.engine import learned  # noqa: E402
from keras_edges.io import to_float  # noqa: E402
from keras_edges.metrics import evaluate_boundaries  # noqa: E402
from keras_edges.models import (  # noqa: E402
    BOUNDARY_VERSIONS,
    _boundary_logits,
    build_boundary_model,
    pretrained_weights,
)
from keras_edges.train.boundaries import boundary_scores  # noqa: E402
from keras_edges.train.data import boundary_dataset  # noqa: E402
from keras_edges.train.losses import ConsensusBalancedCrossEntropy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEACHER_SCALES = (0.5, 1.0, 1.5)


def build_variant(widths, contexts, *, side_outputs=False) -> keras.Model:
    """`build_boundary_model`'s graph (v2's kinds and blocks) with any number of stages
    and side-output dilations; with a version's four stages and (1, 3, 5) everywhere it
    has the version's layers and names, so weights move between them by name."""
    image = keras.Input(shape=(None, None, 3), name="image")
    logits = _boundary_logits(image, widths, 3, ("cd", "ad", "cv"), contexts)
    if side_outputs:
        return keras.Model(image, logits, name="variant_training")
    edges = keras.layers.Activation("sigmoid", dtype="float32")(logits[0])
    return keras.Model(image, edges, name="variant")


def start_model(args) -> keras.Model:
    """The start: a version's architecture with `--start-weights` (or its shipped ones)."""
    if not args.start_weights:
        return build_boundary_model(version=args.start_version, pretrained=True)
    model = build_boundary_model(version=args.start_version)
    model.load_weights(args.start_weights)
    return model


def warm_start(source: keras.Model, target: keras.Model) -> list[str]:
    """Copy `source`'s weights into `target` by name; new layers leave the output alone.

    Returns the names of `target`'s layers that `source` does not have.
    """
    known = {layer.name: layer for layer in source.layers if layer.weights}
    new = []
    for layer in target.layers:
        if not layer.weights:
            continue
        if layer.name not in known:
            new.append(layer.name)
            side = layer.name.split("_")[0]
            if "_dilated" in layer.name and f"{side}_reduce" in known:
                # a new context branch of a side output the start has begins at zero
                layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
            continue
        weights = known[layer.name].get_weights()
        if layer.name == "fuse":  # a new side output enters the fusion at zero
            kernel = np.zeros(layer.get_weights()[0].shape, np.float32)
            kernel[:, :, : weights[0].shape[2]] = weights[0]
            weights = [kernel, weights[1]]
        layer.set_weights(weights)
    return new


def teacher_models(args):
    """The free teacher's nets: the v1 and v2 train-only weights (see --teacher-weights)."""
    v1_path, v2_path = args.teacher_weights
    v1 = build_boundary_model(version="v1")
    v1.load_weights(v1_path)
    v2 = build_boundary_model(version="v2")
    v2.load_weights(v2_path)
    return v1, v2


def teacher_map(nets, image) -> np.ndarray:
    """The teacher's soft map of one image: the nets' mean, each at 3 scales with flips."""
    batch = to_float(image)[None]
    maps = [
        learned.run(net, batch, scales=TEACHER_SCALES, flip=True)[0] for net in nets
    ]
    return np.mean(maps, axis=0).astype(np.float32)


def distillation_loss(weight: float):
    """The recipe's loss on channel 0 of the target, plus `weight` times a class-balanced
    cross-entropy against the teacher's soft map in channel 1 (balanced as the recipe:
    the ground truth's share of positives; padding ignored)."""
    recipe = ConsensusBalancedCrossEntropy()

    def loss(y_true, y_pred):
        truth, teacher = y_true[..., :1], y_true[..., 1:]
        total = recipe(truth, y_pred)
        if not weight:
            return total
        valid = ops.cast(truth >= 0.0, "float32")
        positives = ops.sum(
            ops.cast(truth >= recipe.threshold, "float32"),
            axis=(1, 2, 3),
            keepdims=True,
        )
        negatives = ops.sum(
            ops.cast(ops.equal(truth, 0.0), "float32"), axis=(1, 2, 3), keepdims=True
        )
        share = positives / ops.maximum(positives + negatives, 1.0)
        soft = ops.clip(teacher, 0.0, 1.0)
        balance = valid * (
            soft * (1.0 - share) + (1.0 - soft) * recipe.negative_weight * share
        )
        cross_entropy = (
            ops.maximum(y_pred, 0.0)
            - y_pred * soft
            + ops.log1p(ops.exp(-ops.abs(y_pred)))
        )
        pixels = ops.cast(ops.prod(ops.shape(y_pred)[1:]), "float32")
        per_crop = ops.sum(balance * cross_entropy, axis=(1, 2, 3)) / pixels
        return total + weight * ops.mean(per_crop)

    return loss


def training_data(train, teacher, seed: int):
    """Batches of crops with (ground truth, teacher map) targets, one stream of crops.

    `boundary_dataset` draws each crop from `(seed, index)` only, so two streams with
    the same seed over the same images crop and transform them identically.
    """
    truths = boundary_dataset(train, seed=seed)
    if teacher is None:
        return truths.map(lambda x, y: (x, tf.concat([y, y], -1)))
    maps = boundary_dataset(
        [(image, soft) for (image, _), soft in zip(train, teacher)], seed=seed
    )
    return tf.data.Dataset.zip(truths, maps).map(
        lambda a, b: (a[0], tf.concat([a[1], b[1]], -1))
    )


def scores_row(name, scores, extra=""):
    return f"| {name} | {scores.ods:.4f} | {scores.ois:.4f} | {scores.ap:.4f} |{extra}"


def run_teacher(args, val):
    nets = teacher_models(args)
    truths = [boundaries for _, boundaries in val]
    rows = {
        "v1 train-only, one scale": lambda image: learned.run(
            nets[0], to_float(image)[None]
        )[0],
        "v2 train-only, one scale": lambda image: learned.run(
            nets[1], to_float(image)[None]
        )[0],
        "mean of v1 and v2, one scale": lambda image: np.mean(
            [learned.run(net, to_float(image)[None])[0] for net in nets], axis=0
        ),
        "teacher: mean of v1 and v2, scales 0.5/1/1.5, flips": lambda image: (
            teacher_map(nets, image)
        ),
    }
    for name, detector in rows.items():
        maps = [detector(image) for image, _ in val]
        scores = evaluate_boundaries(
            maps, truths, nms=True, workers=args.workers, progress=False
        )
        print(scores_row(name, scores), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "variant", choices=("control", "context", "stage5", "distill", "teacher")
    )
    parser.add_argument("--bsds", required=True, help="BSDS500 (train and val)")
    parser.add_argument("--images", type=int, default=100, help="val images scored")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--start-version", default="v2", choices=BOUNDARY_VERSIONS)
    parser.add_argument(
        "--start-weights",
        help="a .weights.h5 of --start-version (default: its shipped weights)",
    )
    parser.add_argument(
        "--teacher-weights",
        nargs=2,
        metavar=("V1", "V2"),
        help="the v1 and v2 train-only weights (default: v1's recipe run, from git "
        "history at 6e868b0, and the shipped v2)",
    )
    parser.add_argument("--distill-weight", type=float, default=1.0)
    parser.add_argument("--save", help="write the trained variant's weights here")
    args = parser.parse_args()
    if args.variant in ("distill", "teacher") and not args.teacher_weights:
        folder = Path(tempfile.mkdtemp())
        v1 = folder / "v1_train_only.weights.h5"
        v1.write_bytes(
            subprocess.run(
                ["git", "show", "6e868b0:keras_edges/weights/boundaries.weights.h5"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
        )
        args.teacher_weights = (str(v1), str(pretrained_weights("v2")))
    val = list(load_bsds500(args.bsds, "val"))[: args.images]
    if args.variant == "teacher":
        return run_teacher(args, val)

    source = start_model(args)
    widths = BOUNDARY_VERSIONS[args.start_version]["widths"]
    contexts = [(1, 3, 5)] * 4
    if args.variant == "context":
        contexts = [(1, 3, 5), (1, 3, 5), (1, 3, 5, 7), (1, 3, 5, 7, 9, 11)]
    elif args.variant == "stage5":
        widths, contexts = (*widths, 64), contexts + [(1, 3, 5)]
    training = build_variant(widths, contexts, side_outputs=True)
    new = warm_start(source, training)
    inference = keras.Model(
        training.input,
        keras.layers.Activation("sigmoid", dtype="float32")(training.outputs[0]),
    )
    print(
        f"{args.variant}: {training.count_params():,} parameters; new layers: "
        f"{', '.join(new) or 'none'}",
        flush=True,
    )
    before = boundary_scores(inference, val, workers=args.workers)
    print(scores_row("start", before), flush=True)

    train = [
        (image, boundary_consensus(boundaries))
        for image, boundaries in load_bsds500(args.bsds, "train")
    ]
    teacher = None
    if args.variant == "distill":
        nets = teacher_models(args)
        teacher = [teacher_map(nets, image) for image, _ in train]
    warmup = args.steps // 20
    schedule = keras.optimizers.schedules.CosineDecay(
        args.learning_rate * 0.1,
        decay_steps=args.steps - warmup,
        warmup_target=args.learning_rate,
        warmup_steps=warmup,
        alpha=0.01,
    )
    weight = args.distill_weight if args.variant == "distill" else 0.0
    training.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=[distillation_loss(weight)] * len(training.outputs),
        jit_compile=False,
    )
    outputs = len(training.outputs)
    data = training_data(train, teacher, args.seed).map(
        lambda x, y: (x, (y,) * outputs)
    )
    start = time.perf_counter()
    training.fit(data, epochs=1, steps_per_epoch=args.steps, shuffle=False, verbose=0)
    minutes = (time.perf_counter() - start) / 60
    if args.save:
        inference.save_weights(args.save)
    after = boundary_scores(inference, val, workers=args.workers)
    print(
        scores_row(f"{args.variant}, {args.steps} steps", after, f" {minutes:.1f} min")
    )


if __name__ == "__main__":
    main()
