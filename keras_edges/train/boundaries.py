"""`fit_boundary_model`: train or fine-tune the learned boundary detector, resumably.

A run lives in one folder: `state.weights.h5` (model and optimizer, written at the end
of every epoch), `state.json` (epoch, training time, history, best validation ODS),
`best.weights.h5` (the inference weights of the best validation ODS so far). Calling
`fit_boundary_model` again with the same folder resumes where the last completed epoch
ended: same step, same optimizer state, and the same stream of augmented crops
(`boundary_dataset` is keyed on the sample index). Every file is written next to its
target and swapped in, so an interrupted or failed run never leaves a broken file, and
a run that produces NaN stops before it writes anything.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_edges.datasets import boundary_consensus
from keras_edges.engine import learned
from keras_edges.io import atomic_path
from keras_edges.metrics import BoundaryScores, evaluate_boundaries
from keras_edges.models import build_boundary_model, copy_weights
from keras_edges.train.data import boundary_dataset
from keras_edges.train.losses import ConsensusBalancedCrossEntropy
from keras_edges.validation import check_number, check_positive_int

__all__ = ["boundary_scores", "fit_boundary_model"]


def boundary_scores(
    model: keras.Model, pairs, *, thresholds=99, workers: int | None = 1
) -> BoundaryScores:
    """ODS, OIS and AP of a boundary model on `(image, boundaries)` pairs, with edge NMS.

    Args:
        model: A model from `build_boundary_model`.
        pairs: `(uint8 RGB image, boundary map or list of them)` pairs, e.g. from
            `load_bsds500(root, "val")` or `load_edge_pairs(folder)`.
        thresholds: Number of thresholds (99, as the BSDS benchmark) or their values.
        workers: Processes for the matching (see `evaluate_boundaries`).

    Returns:
        The `BoundaryScores`.
    """
    pairs = list(pairs)
    edges = [
        learned.run(model, image[None].astype(np.float32) / 255.0)[0]
        for image, _ in pairs
    ]
    truths = [boundaries for _, boundaries in pairs]
    return evaluate_boundaries(
        edges, truths, thresholds=thresholds, nms=True, workers=workers, progress=False
    )


def _save_weights(model: keras.Model, path: Path) -> None:
    with atomic_path(path) as temporary:
        model.save_weights(temporary)


def _save_json(data: dict, path: Path) -> None:
    with atomic_path(path) as temporary:
        Path(temporary).write_text(json.dumps(data, indent=2))


class _RunState(keras.callbacks.Callback):
    """At each epoch's end: validation ODS, best weights, checkpoint, one line of progress."""

    def __init__(
        self, folder, inference, validation, state, validate_every, thresholds
    ):
        super().__init__()
        self.folder = folder
        self.inference = inference
        self.validation = validation
        self.state = state
        self.validate_every = validate_every
        self.thresholds = thresholds
        self.best_weights = (
            None  # the best inference weights, kept here without a folder
        )
        self._clock = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("loss", float("nan")))
        if not np.isfinite(loss):
            self.model.stop_training = True
            raise FloatingPointError(
                f"Training diverged at epoch {epoch + 1} (loss={loss}); nothing of this "
                "epoch was written. "
                + (
                    "Train again with a lower learning rate."
                    if self.folder is None
                    else f"Resume from {str(self.folder)!r} with a lower learning rate."
                )
            )
        self.state["seconds"] += time.perf_counter() - self._clock
        entry = {
            "epoch": epoch + 1,
            "step": int(self.model.optimizer.iterations.numpy()),
            "seconds": round(self.state["seconds"], 1),
            "loss": round(loss, 6),
        }
        if self.validation and (epoch + 1) % self.validate_every == 0:
            scores = boundary_scores(
                self.inference, self.validation, thresholds=self.thresholds
            )
            entry.update(ods=scores.ods, ois=scores.ois, ap=scores.ap)
            if scores.ods > self.state["best"].get("ods", -1.0):
                self.state["best"] = dict(entry)
                if self.folder is None:
                    self.best_weights = self.inference.get_weights()
                else:
                    _save_weights(self.inference, self.folder / "best.weights.h5")
        self.state["epoch"] = epoch + 1
        self.state["history"].append(entry)
        if self.folder is not None:
            _save_weights(self.model, self.folder / "state.weights.h5")
            _save_json(self.state, self.folder / "state.json")
        if self.state["verbose"]:
            shown = " ".join(
                f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
                for key, value in entry.items()
            )
            print(shown, flush=True)
        self._clock = time.perf_counter()


def _as_pairs(data, name: str) -> list:
    """Checked `(uint8 RGB image, [boundary maps])` pairs from pairs or a pair folder.

    The annotators stay separate: training averages them into a consensus, validation
    matches each one, as the BSDS benchmark does.
    """
    from keras_edges.datasets import load_edge_pairs

    if isinstance(data, (str, Path)):
        data = load_edge_pairs(data)
    pairs = []
    for index, pair in enumerate(data):
        try:
            image, boundaries = pair
        except (TypeError, ValueError):
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected (image, boundaries) pairs "
                f"or a folder of image / edge-map pairs. Received item {index} of type "
                f"{type(pair).__name__}"
            ) from None
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        if image.ndim != 3 or image.shape[-1] not in (3, 4) or image.dtype != np.uint8:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected uint8 images of shape "
                f"(H, W, 3). Received item {index}: image.shape={image.shape}, "
                f"dtype={image.dtype}"
            )
        if isinstance(boundaries, np.ndarray) and boundaries.ndim == 2:
            boundaries = [boundaries]
        boundaries = [np.asarray(each) for each in boundaries]
        shapes = {each.shape for each in boundaries}
        if shapes != {image.shape[:2]}:
            raise ValueError(
                f"Invalid value for argument `{name}`. Item {index}: its boundaries have "
                f"shapes {sorted(shapes)}, its image {image.shape[:2]}: expected the "
                "image's height and width."
            )
        pairs.append((image[..., :3], boundaries))
    if not pairs:
        raise ValueError(f"Invalid value for argument `{name}`: it holds no pairs.")
    return pairs


def fit_boundary_model(
    train,
    *,
    validation=None,
    model: keras.Model | str | None = None,
    architecture: dict | None = None,
    loss: keras.losses.Loss | None = None,
    folder=None,
    epochs: int = 14,
    steps_per_epoch: int = 500,
    batch_size: int = 8,
    crop_size: int = 256,
    learning_rate: float = 2e-3,
    scales=(0.5, 1.5),
    rotate: bool = False,
    seed: int = 0,
    validate_every: int = 1,
    thresholds=33,
    strategy: tf.distribute.Strategy | None = None,
    verbose: int = 1,
) -> tuple[keras.Model, dict]:
    """Train the learned boundary detector on images with boundaries, or fine-tune it.

    The recipe: HED's deep supervision (the fusion and each side output are trained
    against the same target) with `ConsensusBalancedCrossEntropy`, Adam with a linear
    warm-up over the first 5% of the steps and a cosine decay, and the crops of
    `boundary_dataset` (scales, flips, 90-degree turns, optionally any angle). With
    `validation`, every
    `validate_every` epochs the model is scored with the package's own BSDS metrics
    (ODS with edge NMS) and the best weights are kept; the returned model holds them.

    Args:
        train: `(uint8 RGB image, boundaries)` pairs (`boundaries`: one map or one per
            annotator; e.g. `load_bsds500(root, "train")`), or a folder of image /
            edge-map pairs (see `keras_edges.datasets.load_edge_pairs`).
        validation: Pairs or a folder of the same kind, or None.
        model: None (a new model), `"pretrained"` (fine-tune the shipped weights), or a
            `build_boundary_model` model whose weights to start from.
        architecture: Arguments of `build_boundary_model` for another architecture
            (e.g. `{"version": "v2"}` or `{"pixel_difference": False}`); None is the
            default version. With `model="pretrained"`, the version's shipped weights.
        loss: The loss of every output; None is `ConsensusBalancedCrossEntropy()`.
        folder: The run folder for checkpoints; calling again with it resumes. None
            keeps nothing on disk (no resuming, best weights kept in memory).
        epochs: Epochs in all (a resumed run counts the finished ones).
        steps_per_epoch: Batches per epoch.
        batch_size: Crops per batch (split among the replicas of `strategy`).
        crop_size: Side of the square crops.
        learning_rate: The peak learning rate.
        scales: Range of the scale augmentation.
        rotate: Turn the crops by random angles too (see `boundary_dataset`).
        seed: Seed of the weights' initialisation and of the crops.
        validate_every: Epochs between validations.
        thresholds: Thresholds of the validation ODS (fewer is faster).
        strategy: A `tf.distribute.Strategy` (e.g. `MirroredStrategy`) to train under.
        verbose: 0 silent, 1 one line per epoch (with the validation ODS), 2 Keras's
            progress bar as well.

    Returns:
        `(model, state)`: the inference model (`build_boundary_model`'s graph, with the
        best validation weights, or the last ones without validation) and the run's
        state: `history` (a dict per epoch: step, seconds, loss, ods/ois/ap), `best`,
        `epoch`, `seconds`.

    Raises:
        ValueError: For bad pairs or options.
        FloatingPointError: If the loss becomes NaN (nothing of that epoch is written).

    Example:
    >>> from keras_edges.datasets import synthetic_shapes
    >>> images, truths = synthetic_shapes(4, size=(64, 64), seed=0)
    >>> images = np.repeat(np.rint(images[..., None] * 255).astype("uint8"), 3, -1)
    >>> pairs = list(zip(images, truths))
    >>> model, state = fit_boundary_model(pairs, epochs=1, steps_per_epoch=2, batch_size=2,
    ...                                   crop_size=64, verbose=0)
    >>> state["epoch"], state["history"][0]["step"]
    (1, 2)
    """
    for name, value in (
        ("epochs", epochs),
        ("steps_per_epoch", steps_per_epoch),
        ("batch_size", batch_size),
        ("crop_size", crop_size),
        ("validate_every", validate_every),
    ):
        check_positive_int(name, value)
    check_number(
        "learning_rate", learning_rate, low=0, high=1, low_open=True, high_open=True
    )
    if not (len(scales) == 2 and 0 < scales[0] <= scales[1]):
        raise ValueError(
            "Invalid value for argument `scales`. Expected (low, high) with "
            f"0 < low <= high. Received: scales={scales!r}"
        )
    if not (model is None or model == "pretrained" or isinstance(model, keras.Model)):
        raise ValueError(
            "Invalid value for argument `model`. Expected None, 'pretrained' or a model "
            f"from build_boundary_model. Received: model={model!r}"
        )
    architecture = dict(architecture or {})
    if {"pretrained", "side_outputs"} & set(architecture):
        raise ValueError(
            "Invalid value for argument `architecture`. Expected arguments of "
            "build_boundary_model other than `pretrained` and `side_outputs`. "
            f"Received: architecture={architecture!r}"
        )
    if (
        model == "pretrained"
    ):  # the version's shipped weights; refuses another architecture
        model = build_boundary_model(pretrained=True, **architecture)
    pairs = [
        (image, boundary_consensus(boundaries))
        for image, boundaries in _as_pairs(train, "train")
    ]
    validation = None if validation is None else _as_pairs(validation, "validation")
    folder = None if folder is None else Path(folder)
    state = {
        "epoch": 0,
        "seconds": 0.0,
        "history": [],
        "best": {},
        "seed": seed,
        "verbose": verbose,
    }
    if folder is not None and (folder / "state.json").exists():
        state = {**json.loads((folder / "state.json").read_text()), "verbose": verbose}
    keras.utils.set_random_seed(seed)
    with (strategy or tf.distribute.get_strategy()).scope():
        training = build_boundary_model(side_outputs=True, **architecture)
        inference = keras.Model(
            training.input,
            keras.layers.Activation("sigmoid", name="edges", dtype="float32")(
                training.outputs[0]
            ),
            name="boundaries",
        )
        if model is not None:
            copy_weights(model, training)
        total = epochs * steps_per_epoch
        warmup = total // 20
        schedule = keras.optimizers.schedules.CosineDecay(
            learning_rate * 0.1,
            decay_steps=max(total - warmup, 1),
            warmup_target=learning_rate,
            warmup_steps=warmup,
            alpha=0.01,
        )
        training.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=[loss or ConsensusBalancedCrossEntropy()] * len(training.outputs),
            jit_compile=False,  # XLA's CPU depthwise convolutions are ~40x slower here
        )
        if state["epoch"]:
            training.optimizer.build(training.trainable_variables)
            training.load_weights(folder / "state.weights.h5")
    run_state = _RunState(
        folder, inference, validation, state, validate_every, thresholds
    )
    if state["epoch"] >= epochs:
        if verbose:
            print(f"already trained for {state['epoch']} epochs", flush=True)
    else:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        if state["epoch"] and verbose:
            print(
                f"resuming at epoch {state['epoch']} "
                f"(step {int(training.optimizer.iterations.numpy())})",
                flush=True,
            )
        dataset = boundary_dataset(
            pairs,
            crop_size=crop_size,
            batch_size=batch_size,
            seed=seed,
            start=state["epoch"] * steps_per_epoch,
            scales=scales,
            rotate=rotate,
        )
        outputs = len(training.outputs)
        dataset = dataset.map(lambda x, y: (x, (y,) * outputs))
        training.fit(
            dataset,
            epochs=epochs,
            initial_epoch=state["epoch"],
            steps_per_epoch=steps_per_epoch,
            callbacks=[run_state],
            shuffle=False,  # the stream is already shuffled, and resumable
            verbose=2 if verbose >= 2 else 0,
        )
    if folder is not None and (folder / "best.weights.h5").exists():
        inference.load_weights(folder / "best.weights.h5")
    elif folder is None and run_state.best_weights is not None:
        inference.set_weights(run_state.best_weights)
    result = copy_weights(inference, build_boundary_model(**architecture))
    state.pop("verbose", None)
    return result, state
