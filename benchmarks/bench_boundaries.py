"""The learned boundary detector: quality on BSDS500 val, speed, and fine-tuning.

    python benchmarks/bench_boundaries.py quality --bsds ../shared/data/BSDS500 [--images 100]
    python benchmarks/bench_boundaries.py speed [--repeat 20]
    python benchmarks/bench_boundaries.py finetune [--steps 1000] [--pairs 20]
    python benchmarks/bench_boundaries.py curve keras_edges/weights/boundaries.json
    python benchmarks/bench_boundaries.py ablation --bsds ../shared/data/BSDS500 [--steps 1000]

`quality` scores, on the same BSDS500 val images, with the package's own evaluator (99
thresholds, max_dist 0.0075, thinning, edge NMS for the soft maps): the shipped learned
model at one scale, at scales 0.5/1/1.5 and at one scale with its mirror (flip), Canny swept over 25 threshold pairs (high
from 5% to 100% of the smoothed Sobel magnitude's maximum, low = 0.4 high, sigma 2: the field's way of
giving Canny a precision-recall curve; the map's value at a pixel is the share of
threshold pairs that keep it) and Sobel (normalised magnitude). BSDS500 is not
shipped: pass its path (train/val only; the test split is never used here).
`--sides` adds each side output alone (the ablation of the fusion).
`speed` times `detect_edges(method="learned")` warm on a 481x321 image (one call per
image, as a user calls it), interleaved with scikit-image's Canny (sigma 2) on the same
image (the issue's ratio), and the exported TFLite model on the same image
(`--model-version v2`: that version's shipped weights).
`finetune` fine-tunes the shipped model for `--steps` batches of 8 on `--pairs` image / edge-map
pairs of another kind (the Canny maps, sigma 2, of 160x160 crops of the sample photos in
img/) and reports the F-measure (ODS) on held-out pairs of that kind before and after.
`curve` prints the validation ODS against training time from a provenance JSON.
`ablation` trains the recipe and one variant per row from scratch (same seed, same short
schedule, BSDS train) and scores each on the first `--images` val images (99 thresholds):
pixel-difference against plain convolutions, the consensus loss against positives from
any annotator, scale augmentation, any-angle rotation, larger crops.
`quality --weights FILE [--model-version v2]` scores a run's weights instead of the
shipped ones.
Results go in benchmarks/README.md, section "Learned boundaries".
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from keras_edges import detect_edges, evaluate_boundaries  # noqa: E402
from keras_edges.datasets import load_bsds500  # noqa: E402
from keras_edges.io import load_image  # noqa: E402
from keras_edges.train.losses import ConsensusBalancedCrossEntropy  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _row(name, scores, seconds):
    return f"| {name} | {scores.ods:.3f} | {scores.ois:.3f} | {scores.ap:.3f} | {seconds:.0f} |"


def canny_sweep(image, *, sigma=2.0, steps=25):
    """Canny's soft map: the share of threshold pairs (low = 0.4 high) that keep a pixel.

    Computed with `skimage.feature.canny` (ours equals it to F >= 0.9996, see "Canny"),
    which takes new thresholds without a new model.
    """
    from scipy import ndimage
    from skimage.feature import canny

    grey = np.asarray(image, np.float32).mean(axis=-1) / 255.0
    smooth = ndimage.gaussian_filter(grey, sigma)  # the magnitude that canny thresholds
    top = (
        float(np.hypot(ndimage.sobel(smooth, 0), ndimage.sobel(smooth, 1)).max()) or 1.0
    )
    total = np.zeros(grey.shape, np.float32)
    for high in np.linspace(0.05, 1.0, steps) * top:
        total += canny(grey, sigma=sigma, low_threshold=0.4 * high, high_threshold=high)
    return total / steps


def side_output_detectors():
    """Each side output of the shipped model alone (the ablation of HED's fusion)."""
    import tensorflow as tf

    from keras_edges.models import build_boundary_model, copy_weights

    training = copy_weights(
        build_boundary_model(pretrained=True), build_boundary_model(side_outputs=True)
    )
    forward = tf.function(
        lambda batch: [tf.sigmoid(t) for t in training(batch, training=False)],
        input_signature=[tf.TensorSpec((1, None, None, 3), tf.float32)],
    )

    def side(index):
        return lambda image: forward(image[None].astype(np.float32) / 255.0)[
            index
        ].numpy()[0, ..., 0]

    return [
        (f"side output {i} alone (1/{2 ** (i - 1)} resolution), NMS", side(i), True)
        for i in range(1, 5)
    ]


def run_quality(args):
    model = None
    if args.weights:
        from keras_edges.models import DEFAULT_BOUNDARY_VERSION, build_boundary_model

        version = args.model_version or DEFAULT_BOUNDARY_VERSION
        model = build_boundary_model(version=version)
        model.load_weights(args.weights)
        print(f"weights: {args.weights} (version {version})")
    pairs = list(itertools.islice(load_bsds500(args.bsds, args.split), args.images))
    images = [image for image, _ in pairs]
    truths = [boundaries for _, boundaries in pairs]
    print(f"BSDS500 {args.split}: {len(pairs)} images; our evaluator, 99 thresholds")
    print("| detector | ODS | OIS | AP | seconds |\n|---|---|---|---|---|")
    detectors = [
        (
            "learned, 1 scale, NMS",
            lambda image: detect_edges(image, method="learned", model=model),
            True,
        ),
        (
            "learned, scales 0.5/1/1.5, NMS",
            lambda image: detect_edges(
                image, method="learned", model=model, scales=(0.5, 1, 1.5)
            ),
            True,
        ),
        (
            "learned, 1 scale + flip, NMS",
            lambda image: detect_edges(image, method="learned", model=model, flip=True),
            True,
        ),
        ("Canny sigma=2, 25 threshold pairs", canny_sweep, False),
        ("Sobel, NMS", lambda image: detect_edges(image, normalize=True), True),
    ]
    if args.sides:
        detectors += side_output_detectors()
    for name, detector, nms in detectors:
        if (args.only and args.only not in name) or (args.skip and args.skip in name):
            continue
        start = time.perf_counter()
        maps = []
        for image in images:
            edges = np.asarray(detector(image)).reshape(image.shape[:2])
            maps.append(
                edges.astype(np.float32) / (255.0 if edges.dtype == np.uint8 else 1.0)
            )
        scores = evaluate_boundaries(
            maps, truths, nms=nms, workers=args.workers, progress=False
        )
        print(_row(name, scores, time.perf_counter() - start), flush=True)


def run_speed(args):
    import tensorflow as tf

    from keras_edges.export import export_model
    from keras_edges.models import build_boundary_model

    image = load_image(ROOT / "img" / "astronaut.jpg", mode="RGB")
    from PIL import Image
    from skimage.feature import canny

    image = np.asarray(Image.fromarray(image).resize((481, 321)))
    model = None
    if args.model_version:
        model = build_boundary_model(version=args.model_version, pretrained=True)
    grey = image.mean(axis=2) / 255.0
    detect_edges(image, method="learned", model=model)
    canny(grey, sigma=2)
    times, canny_times = [], []
    for _ in range(args.repeat):  # interleaved: both see the same load
        start = time.perf_counter()
        detect_edges(image, method="learned", model=model)
        times.append(time.perf_counter() - start)
        start = time.perf_counter()
        canny(grey, sigma=2)
        canny_times.append(time.perf_counter() - start)
    print(
        f"detect_edges(method='learned'{'' if model is None else ', model=' + args.model_version}), "
        f"481x321 uint8, warm: median {1e3 * np.median(times):.1f} ms, best {1e3 * min(times):.1f} ms"
    )
    print(
        f"skimage.feature.canny(sigma=2) on its grey image: median "
        f"{1e3 * np.median(canny_times):.1f} ms, best {1e3 * min(canny_times):.1f} ms; ratio of "
        f"medians {np.median(times) / np.median(canny_times):.1f}x, of bests "
        f"{min(times) / min(canny_times):.1f}x"
    )
    for options in (dict(flip=True), dict(scales=(0.5, 1, 1.5))):  # test-time options
        detect_edges(image, method="learned", model=model, **options)
        costs = []
        for _ in range(max(3, args.repeat // 2)):
            start = time.perf_counter()
            detect_edges(image, method="learned", model=model, **options)
            costs.append(time.perf_counter() - start)
        print(
            f"  with {options}: median {1e3 * np.median(costs):.1f} ms "
            f"({np.median(costs) / np.median(times):.1f}x one scale)"
        )
    if model is None:
        model = build_boundary_model(pretrained=True)
    print(f"parameters: {model.count_params()}")
    with tempfile.TemporaryDirectory() as folder:
        path = export_model(model, Path(folder) / "boundaries.tflite", format="tflite")
        size = path.stat().st_size
        interpreter = tf.lite.Interpreter(
            model_path=str(path), num_threads=os.cpu_count()
        )
        index = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(index, (1, 321, 481, 3))
        interpreter.allocate_tensors()
        batch = image[None].astype(np.float32) / 255.0
        times = []
        for _ in range(args.repeat + 1):
            start = time.perf_counter()
            interpreter.set_tensor(index, batch)
            interpreter.invoke()
            result = interpreter.get_tensor(
                interpreter.get_output_details()[0]["index"]
            )
            times.append(time.perf_counter() - start)
        reference = detect_edges(batch[0], method="learned", model=model)
        print(
            f"TFLite ({size / 1024:.0f} KiB), 481x321: median {1e3 * np.median(times[1:]):.1f} ms; "
            f"max |TFLite - Keras| = {np.abs(result[0] - reference).max():.2e}"
        )


def _canny_pairs(count, seed):
    """Pairs of another kind: 160x160 crops of img/ photos and their Canny maps (sigma 2)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = [
        load_image(p, mode="RGB") for p in sorted((ROOT / "img").glob("*.[jp][pn]g"))
    ]
    pairs = []
    for _ in range(count):
        photo = photos[rng.integers(len(photos))]
        top = rng.integers(photo.shape[0] - 160 + 1)
        left = rng.integers(photo.shape[1] - 160 + 1)
        crop = photo[top : top + 160, left : left + 160]
        edges = detect_edges(
            np.asarray(Image.fromarray(crop).convert("L")), method="canny", sigma=2
        )
        pairs.append((crop, edges))
    return pairs


def run_finetune(args):
    from keras_edges.models import build_boundary_model
    from keras_edges.train.boundaries import boundary_scores, fit_boundary_model

    train = _canny_pairs(args.pairs, seed=1)
    held_out = _canny_pairs(args.held_out, seed=2)
    before = boundary_scores(build_boundary_model(pretrained=True), held_out, workers=2)
    print(
        f"{args.pairs} training pairs, {args.held_out} held-out pairs (Canny maps of img/ crops)"
    )
    print(
        f"before: ODS {before.ods:.3f} OIS {before.ois:.3f} AP {before.ap:.3f}",
        flush=True,
    )
    steps_per_epoch = 20
    epochs = max(1, args.steps // steps_per_epoch)
    start = time.perf_counter()
    model, state = fit_boundary_model(
        train,
        model="pretrained",
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        crop_size=160,
        learning_rate=5e-4,
        verbose=0,
    )
    minutes = (time.perf_counter() - start) / 60
    after = boundary_scores(model, held_out, workers=2)
    print(
        f"after {epochs * steps_per_epoch} steps ({minutes:.1f} min): ODS {after.ods:.3f} OIS {after.ois:.3f} AP {after.ap:.3f}"
    )


ABLATIONS = {
    "recipe: pixel differences, consensus loss, scales 0.5-1.5, 256 crops": {},
    "plain depthwise convolutions (no pixel differences)": {
        "architecture": {"pixel_difference": False}
    },
    "positives from any annotator, no ignored band (HED)": {
        "loss": ConsensusBalancedCrossEntropy(threshold=1e-6)
    },
    "no scale augmentation": {"scales": (1.0, 1.0)},
    "+ any-angle rotation": {"rotate": True},
    "320 crops (1.6x the pixels per step)": {"crop_size": 320},
    "v2: the 1/8 stage 128 wide (86,857 parameters)": {
        "architecture": {"widths": (16, 32, 64, 128)}
    },
    "PiDiNet-Tiny's shape: widths 20/40/80/80, 4 blocks (81,953 parameters)": {
        "architecture": {"widths": (20, 40, 80, 80), "blocks": 4}
    },
    "wider early stages: widths 24/48/64/64 (51,017 parameters)": {
        "architecture": {"widths": (24, 48, 64, 64)}
    },
}


def run_ablation(args):
    from keras_edges.train.boundaries import boundary_scores, fit_boundary_model

    train = list(load_bsds500(args.bsds, "train"))
    val = list(itertools.islice(load_bsds500(args.bsds, "val"), args.images))
    print(
        f"from scratch, seed 0, {args.steps} steps of 8 crops on BSDS500 train; "
        f"ODS/OIS/AP on the first {len(val)} val images (99 thresholds, NMS)"
    )
    print("| variant | ODS | OIS | AP | minutes |\n|---|---|---|---|---|", flush=True)
    for name, options in ABLATIONS.items():
        if args.only and args.only not in name:
            continue
        start = time.perf_counter()
        model, _ = fit_boundary_model(
            train, epochs=1, steps_per_epoch=args.steps, verbose=0, **options
        )
        minutes = (time.perf_counter() - start) / 60
        scores = boundary_scores(model, val, workers=2)
        print(
            f"| {name} | {scores.ods:.3f} | {scores.ois:.3f} | {scores.ap:.3f} | {minutes:.1f} |",
            flush=True,
        )


def run_curve(args):
    provenance = json.loads(Path(args.provenance).read_text())
    runs = [("the shipped weights", provenance)]
    if "recipe_validation" in provenance:  # trained without a held-out set
        runs.append(("the recipe's train-only run", provenance["recipe_validation"]))
    for name, run in runs:
        print(f"\n{name}\n\n| epoch | step | minutes | loss | validation ODS |")
        print("|---|---|---|---|---|")
        for entry in run["history"]:
            ods = f"{entry['ods']:.3f}" if "ods" in entry else ""
            print(
                f"| {entry['epoch']} | {entry['step']} | {entry['seconds'] / 60:.1f} | {entry['loss']:.4f} | {ods} |"
            )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    quality = commands.add_parser("quality")
    quality.add_argument("--bsds", required=True)
    quality.add_argument("--split", default="val", choices=("train", "val"))
    quality.add_argument("--images", type=int, default=100)
    quality.add_argument("--workers", type=int, default=2)
    quality.add_argument(
        "--only", help="run only the detectors whose name contains this"
    )
    quality.add_argument("--skip", help="skip the detectors whose name contains this")
    quality.add_argument(
        "--sides", action="store_true", help="also each side output alone"
    )
    quality.add_argument("--weights", help="a run's .weights.h5 instead of the shipped")
    quality.add_argument(
        "--model-version", help="the version (architecture) of --weights"
    )
    quality.set_defaults(run=run_quality)
    speed = commands.add_parser("speed")
    speed.add_argument("--repeat", type=int, default=20)
    speed.add_argument(
        "--model-version", help="a version with shipped weights (default: the default)"
    )
    speed.set_defaults(run=run_speed)
    finetune = commands.add_parser("finetune")
    finetune.add_argument("--steps", type=int, default=1000)
    finetune.add_argument("--pairs", type=int, default=20)
    finetune.add_argument("--held-out", type=int, default=10)
    finetune.set_defaults(run=run_finetune)
    ablation = commands.add_parser("ablation")
    ablation.add_argument("--bsds", required=True)
    ablation.add_argument("--steps", type=int, default=1000)
    ablation.add_argument("--images", type=int, default=50)
    ablation.add_argument(
        "--only", help="run only the variants whose name contains this"
    )
    ablation.set_defaults(run=run_ablation)
    curve = commands.add_parser("curve")
    curve.add_argument("provenance")
    curve.set_defaults(run=run_curve)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
