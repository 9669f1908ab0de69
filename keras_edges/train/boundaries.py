"""`fit_boundary_model`: train or fine-tune the learned boundary detector, resumably.

A run lives in one folder (see `keras_edges.train.runs`): `state.json` (the run's
options and data fingerprints, epoch, training time, history, best validation ODS) and
the weights files it names, the checkpoint of the last finished epoch (model and
optimizer) and the inference weights of this run's best validation. Calling
`fit_boundary_model` again with the same folder, options and data resumes where the
last finished epoch ended: same step, same optimizer state, and the same stream of
augmented crops (`boundary_dataset` is keyed on the sample index). Other options or
data are refused (or, with `force_resume=True`, recorded and used); a second run on a
folder in use is refused; every epoch's files are written before the state that names
them, so a crash at any point resumes from one whole epoch, and a run that produces
NaN stops before it writes anything.
"""

from __future__ import annotations

import contextlib
import json
import time
import warnings
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_edges.datasets import boundary_consensus
from keras_edges.engine import learned
from keras_edges.io import to_float
from keras_edges.metrics import BoundaryScores, _thresholds, evaluate_boundaries
from keras_edges.models import build_boundary_model, copy_weights
from keras_edges.train import runs
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
        pairs: `(image, boundary map or list of them)` pairs, e.g. from
            `load_bsds500(root, "val")` or `load_edge_pairs(folder)`. Images are read
            as `detect_edges` reads them: uint8 (0..255), uint16 (0..65535) or float
            in [0, 1]; RGB, grey (repeated) or RGBA (alpha dropped).
        thresholds: Number of thresholds (99, as the BSDS benchmark) or their values.
        workers: Processes for the matching (see `evaluate_boundaries`).

    Returns:
        The `BoundaryScores`.

    Raises:
        ValueError: For images of another dtype or range, or maps of another size.
    """
    pairs = _as_pairs(pairs, "pairs")
    edges = [learned.run(model, to_float(image)[None])[0] for image, _ in pairs]
    truths = [boundaries for _, boundaries in pairs]
    return evaluate_boundaries(
        edges, truths, thresholds=thresholds, nms=True, workers=workers, progress=False
    )


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """An image of `_as_pairs` as uint8 (training reads 8 bits per channel)."""
    if image.dtype == np.uint8:
        return image
    return np.rint(to_float(image) * 255.0).astype(np.uint8)


class _RunState(keras.callbacks.Callback):
    """At each epoch's end: validation ODS, best weights, checkpoint, one line of progress."""

    def __init__(self, run, inference, validation, verbose):
        super().__init__()
        self.run = run  # folder, state, validate_every, thresholds
        self.inference = inference
        self.validation = validation
        self.verbose = verbose
        self.best_weights = (
            None  # the best inference weights, kept here without a folder
        )
        self._clock = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        folder, state = self.run["folder"], self.run["state"]
        loss = float((logs or {}).get("loss", float("nan")))
        if not np.isfinite(loss):
            self.model.stop_training = True
            raise FloatingPointError(
                f"Training diverged at epoch {epoch + 1} (loss={loss}); nothing of this "
                "epoch was written. "
                + (
                    "Train again with a lower learning rate."
                    if folder is None
                    else f"Resume from {str(folder)!r} with a lower learning rate "
                    "(force_resume=True; keras-edges: --force-resume)."
                )
            )
        state["seconds"] += time.perf_counter() - self._clock
        entry = {
            "epoch": epoch + 1,
            "step": int(self.model.optimizer.iterations.numpy()),
            "seconds": round(state["seconds"], 1),
            "loss": round(loss, 6),
        }
        improved = False
        if self.validation and (epoch + 1) % self.run["validate_every"] == 0:
            scores = boundary_scores(
                self.inference, self.validation, thresholds=self.run["thresholds"]
            )
            entry.update(ods=scores.ods, ois=scores.ois, ap=scores.ap)
            improved = scores.ods > state["best"].get("ods", -1.0)
            if improved:
                state["best"] = dict(entry)
                if folder is None:
                    self.best_weights = self.inference.get_weights()
        state["epoch"] = epoch + 1
        state["history"].append(entry)
        if folder is not None:
            runs.write_state(
                folder, state, self.model, self.inference if improved else None
            )
        if self.verbose:
            shown = " ".join(
                f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
                for key, value in entry.items()
            )
            print(shown, flush=True)
        self._clock = time.perf_counter()


def _as_image(image, name: str, index: int) -> np.ndarray:
    """One image as `(H, W, 3)`: uint8, uint16 or float32 in [0, 1], checked."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    problem = None
    if image.ndim != 3 or image.shape[-1] not in (3, 4) or 0 in image.shape:
        problem = f"image.shape={image.shape}"
    elif image.dtype.kind == "f":
        image = image.astype(np.float32)
        if not (np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1):
            problem = f"float values in [{image.min()}, {image.max()}]"
    elif image.dtype not in (np.uint8, np.uint16):
        problem = f"dtype={image.dtype}"
    if problem:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected images of shape (H, W, 3) "
            "(or grey, or RGBA), uint8, uint16 or float in [0, 1], as detect_edges "
            f"reads them. Received item {index}: {problem}"
        )
    return image[..., :3]


def _as_pairs(data, name: str) -> list:
    """Checked `(RGB image, [boundary maps])` pairs from pairs or a pair folder.

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
        image = _as_image(image, name, index)
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
        pairs.append((image, boundaries))
    if not pairs:
        raise ValueError(f"Invalid value for argument `{name}`: it holds no pairs.")
    return pairs


def _shown(items: list[int]) -> str:
    """The first ten of `items`, for a message."""
    return ", ".join(map(str, items[:10])) + (" ..." if len(items) > 10 else "")


def _check_targets(consensus: list[np.ndarray], loss) -> None:
    """Refuse targets with no positive pixel; warn about maps without one, and (for the
    consensus loss) about maps with little background at exactly 0."""
    threshold = getattr(loss, "threshold", 1e-6)
    empty = [i for i, target in enumerate(consensus) if not (target >= threshold).any()]
    if len(empty) == len(consensus):
        raise ValueError(
            "Invalid value for argument `train`. Expected edge maps with boundary "
            f"pixels: none of its {len(consensus)} maps has a pixel at or above the "
            f"loss's positive threshold {threshold:g} (the annotator fraction; an edge "
            "map's grey level / 255, or / 65535 for 16-bit maps; 0 is no edge), so "
            "training would learn nothing. Received: the largest value "
            f"{max(float(target.max()) for target in consensus):.3f}. Draw edges "
            "brighter (255 in 8-bit maps), or pass a loss with a lower threshold."
        )
    if empty:
        warnings.warn(
            f"{len(empty)} of {len(consensus)} training edge maps have no pixel at or "
            f"above the positive threshold {threshold:g} (items {_shown(empty)}): they "
            "teach only background.",
            stacklevel=3,
        )
    if not isinstance(loss, ConsensusBalancedCrossEntropy):
        return
    # Edges are sparse: a map that is not 0 at most of its pixels is a soft map (a
    # detector's probabilities, a blurred drawing), whose background the loss ignores.
    soft = [
        i
        for i, target in enumerate(consensus)
        if np.count_nonzero(target == 0) < target.size / 2
    ]
    if soft:
        warnings.warn(
            f"{len(soft)} of {len(consensus)} training edge maps are 0 (no edge) at "
            f"fewer than half their pixels (items {_shown(soft)}): the loss learns the "
            "background only from pixels at exactly 0 and ignores values between 0 and "
            f"its positive threshold {threshold:g} as uncertain, so these maps teach "
            "mostly edges. Set their background to 0 (e.g. np.where(edges < 0.05, 0, "
            "edges) for a detector's probabilities).",
            stacklevel=3,
        )


def _start_name(model) -> str:
    """How a run starts, as recorded: random, pretrained, or given weights' fingerprint."""
    if model is None or isinstance(model, str):
        return model or "random"
    return "weights " + runs.fingerprint(
        [(weight, []) for weight in model.get_weights()]
    )


def _json(value):
    """`value` as JSON reads it back (tuples become lists), for comparisons."""
    return json.loads(json.dumps(value))


def _prepare_state(folder, options: dict, force_resume: bool) -> dict:
    """The state to continue: this folder's run if it is this call's, else a fresh one."""
    state = None if folder is None else runs.read_state(folder)
    if state is None:
        return {
            "epoch": 0,
            "seconds": 0.0,
            "history": [],
            "best": {},
            "options": options,
            "changes": [],
        }
    differences = runs.check_same_run(folder, state.get("options", {}), options)
    if differences and not force_resume:
        raise runs.mismatch_error(folder, differences)
    if differences:
        state["changes"] = [
            *state.get("changes", []),
            {"epoch": state["epoch"], "changed": differences},
        ]
        if state.get("options", {}).get("validation") != options["validation"]:
            state["best"] = {}  # the earlier scores are of other pairs
        state["options"] = options
    return state


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
    force_resume: bool = False,
) -> tuple[keras.Model, dict]:
    """Train the learned boundary detector on images with boundaries, or fine-tune it.

    The recipe: HED's deep supervision (the fusion and each side output are trained
    against the same target) with `ConsensusBalancedCrossEntropy`, Adam with a linear
    warm-up over the first 5% of the steps and a cosine decay, and the crops of
    `boundary_dataset` (scales, flips, 90-degree turns, optionally any angle). With
    `validation`, every
    `validate_every` epochs the model is scored with the package's own BSDS metrics
    (ODS with edge NMS) and the best weights of this run are kept; the returned model
    holds them (without validation: the last weights).

    With `folder`, the run is kept there and resumed when called again (see
    `keras_edges.train.runs`): the folder records the options and a fingerprint of the
    data, and a call with other options or data raises a `RunFolderError` (a
    `ValueError`) that says what differs, unless `force_resume=True`; a folder that
    another run is training into is refused at once.

    Args:
        train: `(RGB image, boundaries)` pairs (`boundaries`: one map or one per
            annotator; e.g. `load_bsds500(root, "train")`), or a folder of image /
            edge-map pairs (see `keras_edges.datasets.load_edge_pairs`). Images are
            uint8, uint16 or float in [0, 1] (read at 8 bits for training); maps are
            bool, 0/1, 0..255 grey or floats in [0, 1]; at least one pixel must reach
            the loss's positive threshold.
        validation: Pairs or a folder of the same kind, or None.
        model: None (a new model), `"pretrained"` (fine-tune the shipped weights), or a
            `build_boundary_model` model whose weights to start from.
        architecture: Arguments of `build_boundary_model` for another architecture
            (e.g. `{"version": "v2"}` or `{"pixel_difference": False}`); None is the
            default version. With `model="pretrained"`, the version's shipped weights.
        loss: The loss of every output; None is `ConsensusBalancedCrossEntropy()`.
        folder: The run folder for checkpoints; calling again with it resumes. None
            keeps nothing on disk (no resuming, best weights kept in memory).
        force_resume: Resume the run in `folder` even if its options or data differ
            (the changes are recorded in the state's `changes`; the best validation
            restarts when the validation pairs changed).
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
        `epoch`, `seconds`, `options` (with the data fingerprints) and `changes`.

    Raises:
        ValueError: For bad pairs or options, edge maps without a positive pixel, or a
            folder that holds another run (`RunFolderError`) or is in use.
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
    _thresholds(thresholds)  # checked now, not after the first epoch
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
    loss = loss or ConsensusBalancedCrossEntropy()
    train = _as_pairs(train, "train")
    consensus = [boundary_consensus(boundaries) for _, boundaries in train]
    _check_targets(consensus, loss)
    validation = None if validation is None else _as_pairs(validation, "validation")
    options = _json(
        {
            "start": _start_name(model),
            "architecture": architecture,
            "loss": keras.saving.serialize_keras_object(loss),
            "epochs": epochs,
            "steps_per_epoch": steps_per_epoch,
            "batch_size": batch_size,
            "crop_size": crop_size,
            "learning_rate": learning_rate,
            "scales": list(scales),
            "rotate": bool(rotate),
            "seed": seed,
            "validate_every": validate_every,
            "thresholds": np.asarray(thresholds).tolist(),
            "train": runs.fingerprint(train),
            "validation": validation and runs.fingerprint(validation),
        }
    )
    folder = None if folder is None else Path(folder)
    with runs.run_lock(folder) if folder else contextlib.nullcontext():
        state = _prepare_state(folder, options, force_resume)
        return _fit(
            [
                (_to_uint8(image), target)
                for (image, _), target in zip(train, consensus)
            ],
            validation,
            model=model,
            architecture=architecture,
            loss=loss,
            state=state,
            run=dict(
                folder=folder,
                state=state,
                validate_every=validate_every,
                thresholds=thresholds,
            ),
            strategy=strategy,
            verbose=verbose,
        )


def _fit(
    pairs, validation, *, model, architecture, loss, state, run, strategy, verbose
):
    """Build, restore, train and return the models of `fit_boundary_model`."""
    options, folder = state["options"], run["folder"]
    keras.utils.set_random_seed(options["seed"])
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
            copy_weights(
                build_boundary_model(pretrained=True, **architecture)
                if model == "pretrained"
                else model,
                training,
            )
        total = options["epochs"] * options["steps_per_epoch"]
        warmup = total // 20
        schedule = keras.optimizers.schedules.CosineDecay(
            options["learning_rate"] * 0.1,
            decay_steps=max(total - warmup, 1),
            warmup_target=options["learning_rate"],
            warmup_steps=warmup,
            alpha=0.01,
        )
        training.compile(
            optimizer=keras.optimizers.Adam(schedule),
            loss=[loss] * len(training.outputs),
            jit_compile=False,  # XLA's CPU depthwise convolutions are ~40x slower here
        )
        if state["epoch"]:
            training.optimizer.build(training.trainable_variables)
            training.load_weights(folder / state["weights"])
    run_state = _RunState(run, inference, validation, verbose)
    if state["epoch"] >= options["epochs"]:
        if verbose:
            print(f"already trained for {state['epoch']} epochs", flush=True)
    else:
        if state["epoch"] and verbose:
            print(
                f"resuming at epoch {state['epoch']} "
                f"(step {int(training.optimizer.iterations.numpy())})",
                flush=True,
            )
        dataset = boundary_dataset(
            pairs,
            crop_size=options["crop_size"],
            batch_size=options["batch_size"],
            seed=options["seed"],
            start=state["epoch"] * options["steps_per_epoch"],
            scales=options["scales"],
            rotate=options["rotate"],
        )
        outputs = len(training.outputs)
        dataset = dataset.map(lambda x, y: (x, (y,) * outputs))
        training.fit(
            dataset,
            epochs=options["epochs"],
            initial_epoch=state["epoch"],
            steps_per_epoch=options["steps_per_epoch"],
            callbacks=[run_state],
            shuffle=False,  # the stream is already shuffled, and resumable
            verbose=2 if verbose >= 2 else 0,
        )
    if state["best"].get("weights"):
        inference.load_weights(folder / state["best"]["weights"])
    elif folder is None and run_state.best_weights is not None:
        inference.set_weights(run_state.best_weights)
    return copy_weights(inference, build_boundary_model(**architecture)), state
