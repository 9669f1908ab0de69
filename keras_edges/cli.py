"""`keras-edges`: a thin command line over the library; TensorFlow is imported lazily."""

from __future__ import annotations

import argparse
import glob
import os
import signal
import sys
import threading
import time
from pathlib import Path

from keras_edges import __version__
from keras_edges.io import IMAGE_SUFFIXES
from keras_edges.kernels import KERNELS, MAGNITUDES, PADDING_MODES, _check_operator

EPILOG = """examples:
  keras-edges detect img/camera.png -o edges/
  keras-edges detect photos/ -o edges/ --operator scharr --threshold 0.25
  keras-edges detect 'scans/**/*.tif' --recursive -o edges/ --format npy --shard 2/8
  keras-edges export learned.keras --format tflite -o edges.tflite
  keras-edges demo -o out/
  keras-edges train --synthetic 2000 --epochs 5 -o learned.keras
  keras-edges evaluate --synthetic 50 --operator sobel --plot pr.png
"""

# Output formats of `detect` and the suffix each writes.
OUTPUT_SUFFIXES = {"png": ".png", "tiff": ".tiff", "npy": ".npy"}
_GLOB_CHARS = frozenset("*?[")
# A temporary `.part` file untouched this long was left by a killed run (a live writer
# touches its file every few seconds at most).
_STALE_SECONDS = 3600


def _add_detector_options(
    parser: argparse.ArgumentParser, *, threshold: bool = True
) -> None:
    parser.add_argument(
        "--operator",
        default="sobel",
        choices=sorted(KERNELS),
        help="gradient operator (default: sobel)",
    )
    parser.add_argument(
        "--ksize",
        type=int,
        default=None,
        help="kernel size: 3, 5 or 7 for sobel (default: the operator's smallest)",
    )
    parser.add_argument(
        "--padding",
        default="reflect",
        choices=PADDING_MODES,
        help="border mode (default: reflect)",
    )
    parser.add_argument(
        "--magnitude",
        default="l1",
        choices=MAGNITUDES,
        help="|gx|+|gy| or sqrt(gx^2+gy^2)",
    )
    if threshold:
        parser.add_argument(
            "--threshold",
            type=float,
            help="write a binary map: edges >= THRESHOLD x full scale, in [0, 1]",
        )
    parser.add_argument(
        "--normalize",
        action="store_true",
        help="scale edges by the operator's full scale",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the `keras-edges` argument parser."""
    parser = argparse.ArgumentParser(
        prog="keras-edges",
        description="Edge detection with Keras models.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    detect = commands.add_parser(
        "detect",
        help="detect edges in image files, folders and globs",
        description="Write one edge map per input image. The output tree mirrors the input tree\n"
        "(INPUT/a/b.jpg -> OUTDIR/a/b_edges.png). Outputs are written atomically, complete\n"
        "outputs are skipped on a re-run (unless --overwrite), and inputs are never overwritten.\n"
        "Exit code: 0 all done, 1 some inputs failed (each reported by name), 2 usage error.",
        epilog="examples:\n  keras-edges detect img/camera.png -o edges/\n"
        "  keras-edges detect photos/ -o edges/ --threshold 0.2\n"
        "  keras-edges detect photos/ --recursive -o edges/ --operator scharr --ksize 3 --magnitude l2\n"
        "  keras-edges detect 'photos/*.jpg' -o edges/ --model learned.keras --format npy\n"
        "  keras-edges detect photos/ -o edges/ --shard 1/4   # one of 4 independent jobs",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    detect.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files, folders or glob patterns",
    )
    detect.add_argument(
        "-o", "--output", default="edges", help="output folder (default: edges/)"
    )
    _add_detector_options(detect)
    detect.add_argument(
        "--model", help="a saved .keras edge model to use instead of --operator"
    )
    detect.add_argument(
        "--recursive",
        action="store_true",
        help="look through sub-folders (and ** in globs)",
    )
    detect.add_argument(
        "--format",
        default="png",
        choices=sorted(OUTPUT_SUFFIXES),
        help="output format (default: png)",
    )
    detect.add_argument(
        "--overwrite", action="store_true", help="rewrite outputs that already exist"
    )
    detect.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="process only shard K of N (1 <= K <= N)",
    )
    detect.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no summary; failures only",
    )

    export = commands.add_parser(
        "export",
        help="export an edge model as a TensorFlow SavedModel or TFLite file",
        description="Export a saved .keras model, or one built from --operator, for serving or\n"
        "phones. The exported model takes float32 (batch, height, width, channels) images\n"
        "of any size and needs neither Keras nor keras_edges to run.",
        epilog="examples:\n  keras-edges export learned.keras --format tflite -o edges.tflite\n"
        "  keras-edges export learned.keras --format savedmodel -o edges_savedmodel/\n"
        "  keras-edges export --operator scharr --normalize -o scharr.tflite",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument(
        "model",
        nargs="?",
        metavar="MODEL.keras",
        help="saved model (default: build one from --operator)",
    )
    export.add_argument(
        "-o",
        "--output",
        required=True,
        help="destination folder (savedmodel) or file (tflite)",
    )
    export.add_argument(
        "--format",
        choices=("savedmodel", "tflite"),
        help="default: tflite for a .tflite output, else savedmodel",
    )
    export.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier export (a SavedModel folder or TFLite file; nothing else)",
    )
    _add_detector_options(export, threshold=False)

    demo = commands.add_parser(
        "demo",
        help="run edge detection on the bundled sample images",
        description="Write <name>_edges.png and <name>_side_by_side.png (image | edges) for\n"
        "every image in --images (what `make demo` runs).",
        epilog="examples:\n  keras-edges demo\n  keras-edges demo --images img -o out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--images", default="img", help="folder of sample images (default: img/)"
    )
    demo.add_argument(
        "-o", "--output", default="out", help="output folder (default: out/)"
    )

    train = commands.add_parser(
        "train",
        help="learn the two edge kernels from images (the trainable variant)",
        epilog="examples:\n  keras-edges train --synthetic 2000 --epochs 5 -o learned.keras\n"
        "  keras-edges train img/ --operator sobel --seed 0 -o learned.keras\n"
        "  keras-edges train photos/ --targets edges/ -o learned.keras",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument(
        "images",
        nargs="?",
        metavar="IMAGES",
        help="folder of training images (searched recursively)",
    )
    train.add_argument(
        "--targets",
        metavar="FOLDER",
        help="folder of edge maps named like the images (default: the operator's output)",
    )
    train.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="train on N generated 64x64 random images instead of a folder",
    )
    train.add_argument(
        "--operator",
        default="sobel",
        choices=sorted(KERNELS),
        help="operator that makes the targets (default: sobel)",
    )
    train.add_argument("--ksize", type=int, default=3, help="kernel size (default: 3)")
    train.add_argument(
        "--magnitude",
        default="l1",
        choices=MAGNITUDES,
        help="|gx|+|gy| or sqrt(gx^2+gy^2)",
    )
    train.add_argument("--epochs", type=int, default=15, help="epochs (default: 15)")
    train.add_argument(
        "--steps-per-epoch",
        type=int,
        default=100,
        help="batches per epoch (default: 100)",
    )
    train.add_argument(
        "--batch-size", type=int, default=32, help="crops per batch (default: 32)"
    )
    train.add_argument(
        "--crop-size",
        type=int,
        default=32,
        help="side of the square training crops (default: 32)",
    )
    train.add_argument(
        "--learning-rate",
        type=float,
        default=0.25,
        help="initial Adam learning rate, cosine-decayed (default: 0.25)",
    )
    train.add_argument(
        "--seed", type=int, help="random seed (initial kernels, crops, flips)"
    )
    train.add_argument(
        "-o",
        "--output",
        default="learned.keras",
        help="output model, .keras (default: learned.keras)",
    )
    _add_evaluate_parser(commands)
    return parser


def _shard(text: str) -> tuple[int, int]:
    """Parse `--shard K/N` (1 <= K <= N)."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected K/N with integers 1 <= K <= N, got {text!r}"
        ) from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N, got {text!r}")
    return index, count


def _join_shard(argv: list[str]) -> list[str]:
    """Read `--shard -1/2` as `--shard=-1/2`, so that it gets the K/N message."""
    joined = []
    for token in argv:
        if (
            joined
            and joined[-1] == "--shard"
            and token[:1] == "-"
            and token[1:2].isdigit()
        ):
            joined[-1] = f"--shard={token}"
        else:
            joined.append(token)
    return joined


def _is_scanned_image(path: Path, root: Path) -> bool:
    """Whether a file found in a folder is an image to process (hidden files are not)."""
    relative = path.relative_to(root)
    return (
        path.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in relative.parts)
        and path.is_file()
    )


def _collect_images(
    inputs: list[str], parser: argparse.ArgumentParser, recursive: bool = False
) -> list[tuple[Path, Path]]:
    """Return `(path, relative path)` for every image named by the files, folders and globs.

    The relative path (to the folder, or to the glob's fixed prefix) places the output in
    the mirrored tree. A file named on the command line is always an input; folders and
    globs contribute files with an image suffix.
    """
    found = []
    for name in inputs:
        path = Path(name)
        if path.is_dir():
            files = path.glob("**/*" if recursive else "*")
            images = [
                (p, p.relative_to(path))
                for p in sorted(files)
                if _is_scanned_image(p, path)
            ]
            if not images:
                where = "" if recursive else " (--recursive looks in sub-folders)"
                parser.error(f"input folder {name!r} holds no image files{where}")
            found += images
        elif path.is_file():
            found.append((path, Path(path.name)))
        elif _GLOB_CHARS & set(name):
            parts = Path(name).parts
            fixed = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
            root = Path(*parts[:fixed]) if fixed else Path()
            matches = sorted(Path(m) for m in glob.glob(name, recursive=recursive))
            files = [
                (p, p.relative_to(root)) for p in matches if _is_scanned_image(p, root)
            ]
            if not files:
                parser.error(f"input {name!r} matches no image files")
            found += files
        elif path.exists():
            parser.error(f"input {name!r} is not a regular file")
        else:
            parser.error(f"input {name!r} does not exist")
    return found


def _plan_outputs(
    found, output: Path, suffix: str, parser
) -> tuple[list[tuple[Path, Path]], int]:
    """Return the sorted `(input, output)` jobs and the number of inputs left out.

    Every input name gets its output, also when two names are one file (a link). The
    same name found twice (a file and its folder) is one job. A file that is the output
    of another input (an earlier run written into the input folder) is left out, so
    that it is neither processed nor, being an input, overwritten. Two different files
    that map to one output are a usage error, found before any work starts.
    """
    jobs = {}
    for path, relative in found:
        target = output / relative.parent / f"{relative.stem}_edges{suffix}"
        jobs.setdefault((path.resolve(), target.resolve()), (path, target))
    outputs = {target for _, target in jobs}
    left_out = {source for source, _ in jobs if source in outputs}
    owner = {}
    for (source, key), (path, target) in jobs.items():
        if source in left_out:
            continue
        if key in owner and owner[key][0] != source:
            parser.error(
                f"inputs {str(owner[key][1])!r} and {str(path)!r} would both be written "
                f"to {str(target)!r}; rename one or run them separately"
            )
        owner[key] = (source, path)
    kept = [job for (source, _), job in jobs.items() if source not in left_out]
    return sorted(kept, key=lambda job: (str(job[0]), str(job[1]))), len(left_out)


def _load_model(name: str, parser):
    """Load `--model` and check that it is an edge model; if not, a usage error."""
    from keras_edges.export import _as_model

    try:
        model = _as_model(name)  # a bad path is found before TensorFlow is imported
        from keras_edges.detect import _check_model

        _check_model(model)
    except (FileNotFoundError, ValueError) as error:
        parser.error(f"--model: {error}")
    return model


def _remove_stale_parts(target: Path) -> None:
    """Delete the `.part` files of `target` that a killed run left behind.

    Only those untouched for `_STALE_SECONDS`: a file that another run (a restarted job,
    a second shard into the same folder) is writing right now is never touched.
    """
    cutoff = time.time() - _STALE_SECONDS
    for part in target.parent.glob(f".{glob.escape(target.name)}.*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
        except FileNotFoundError:  # its writer finished or another run removed it
            pass


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def _run_detect(args, parser) -> int:
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error(f"--threshold must be in [0, 1], got {args.threshold}")
    try:
        _check_operator(args.operator, args.ksize)
    except ValueError as error:
        parser.error(str(error))
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        parser.error(f"-o {args.output!r} is a file; expected a folder")
    found = _collect_images(args.inputs, parser, recursive=args.recursive)
    jobs, left_out = _plan_outputs(found, output, OUTPUT_SUFFIXES[args.format], parser)
    inputs = {path.resolve() for path, _ in jobs}
    if args.shard:
        index, count = args.shard
        jobs = jobs[index - 1 :: count]
    model = _load_model(args.model, parser) if args.model else None
    from tqdm import tqdm  # a progress bar on a terminal: one line, rate and time left

    from keras_edges.detect import detect_edges
    from keras_edges.io import load_image, save_image

    options = dict(
        operator=args.operator,
        ksize=args.ksize,
        padding=args.padding,
        magnitude=args.magnitude,
    )
    options.update(threshold=args.threshold, normalize=args.normalize, model=model)
    done = skipped = failed = 0
    bar = tqdm(
        total=len(jobs),
        unit="image",
        file=sys.stderr,
        disable=args.quiet or not sys.stderr.isatty(),
    )
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(
            signal.SIGTERM, _interrupt
        )  # kill: clean up like Ctrl-C
    try:
        for path, target in jobs:
            if target.exists() and not args.overwrite:
                skipped += 1
            elif (
                target.resolve() in inputs
            ):  # never reached after _plan_outputs; kept as a guard
                bar.write(
                    f"failed {path}: the output {target} is an input", file=sys.stderr
                )
                failed += 1
            else:
                try:
                    edges = detect_edges(load_image(path), **options)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _remove_stale_parts(target)
                    save_image(target, edges)
                    done += 1
                except Exception as error:  # noqa: BLE001 - one bad file must not stop the batch
                    kind = (
                        ""
                        if isinstance(error, (ValueError, TypeError, OSError))
                        else f"{type(error).__name__}: "
                    )
                    reason = (str(error).strip().splitlines() or [""])[0]
                    bar.write(f"failed {path}: {kind}{reason}", file=sys.stderr)
                    failed += 1
            bar.update()
    except KeyboardInterrupt:
        bar.close()
        print(
            f"interrupted: {done} done, {skipped} skipped, {failed} failed; no partial outputs "
            "were left, and a re-run skips the complete ones",
            file=sys.stderr,
        )
        return 130
    finally:
        bar.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if not args.quiet:
        shard = f"shard {args.shard[0]}/{args.shard[1]}: " if args.shard else ""
        note = (
            f" ({left_out} earlier outputs among the inputs were left out)"
            if left_out
            else ""
        )
        print(
            f"{shard}{done} done, {skipped} skipped, {failed} failed; edges in {output}/{note}"
        )
    return 1 if failed else 0


def _run_export(args, parser) -> int:
    output = Path(args.output)
    fmt = args.format or (
        "tflite" if output.suffix.lower() == ".tflite" else "savedmodel"
    )
    from keras_edges.export import _check_target

    try:  # only an earlier export is ever replaced, and only with --overwrite
        _check_target(output, overwrite=args.overwrite)
    except (FileExistsError, FileNotFoundError) as error:
        parser.error(str(error))
    if args.model:
        model = _load_model(args.model, parser)
    else:
        try:
            _check_operator(args.operator, args.ksize)
        except ValueError as error:
            parser.error(str(error))
        from keras_edges.models import build_edge_model

        model = build_edge_model(
            args.operator,
            ksize=args.ksize,
            padding=args.padding,
            magnitude=args.magnitude,
            normalize=args.normalize,
        )
    from keras_edges.export import export_model

    export_model(model, output, format=fmt, overwrite=args.overwrite)
    print(f"exported {args.model or model.name} as {fmt} to {output}")
    return 0


def _run_demo(args, parser) -> int:
    images = Path(args.images)
    if not images.is_dir():
        parser.error(
            f"--images {args.images!r} is not a folder (run from the repository root, or pass --images)"
        )
    import numpy as np

    from keras_edges.detect import detect_edges
    from keras_edges.io import load_image, save_image

    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    paths = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    for path in paths:
        grey = load_image(path)
        edges = detect_edges(grey, normalize=True)
        save_image(output / f"{path.stem}_edges.png", edges)
        gap = np.full((grey.shape[0], 8), 255, np.uint8)
        save_image(
            output / f"{path.stem}_side_by_side.png", np.hstack([grey, gap, edges])
        )
        print(f"{path} -> {output / (path.stem + '_edges.png')}")
    print(f"{len(paths)} images; edges and side-by-side figures in {output}/")
    return 0


def _run_train(args, parser) -> int:
    import os

    if (args.images is None) == (args.synthetic is None):
        parser.error("give either an IMAGES folder or --synthetic N (not both)")
    if args.synthetic is not None and args.synthetic < 1:
        parser.error(
            f"--synthetic must be a positive number of images, got {args.synthetic}"
        )
    if args.targets is not None and args.images is None:
        parser.error("--targets needs an IMAGES folder to pair its edge maps with")
    for option in ("epochs", "steps_per_epoch", "batch_size", "crop_size"):
        if getattr(args, option) < 1:
            parser.error(
                f"--{option.replace('_', '-')} must be a positive integer, got {getattr(args, option)}"
            )
    if not args.learning_rate > 0:
        parser.error(f"--learning-rate must be positive, got {args.learning_rate}")
    for name in (args.images, args.targets):
        if name is not None and not Path(name).is_dir():
            parser.error(f"{name!r} is not a folder")
    output = Path(args.output)
    if output.suffix != ".keras":
        parser.error(f"-o/--output must end in .keras, got {args.output!r}")
    if not output.parent.is_dir():
        parser.error(f"the output folder {str(output.parent)!r} does not exist")
    try:
        _check_operator(args.operator, args.ksize)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    import tempfile

    import numpy as np

    from keras_edges.train import (
        _synthetic_images,
        fit_edge_model,
        kernel_error,
        learned_kernels,
    )

    images = (
        args.images
        if args.synthetic is None
        else _synthetic_images(args.synthetic, seed=args.seed)
    )
    try:
        model, _ = fit_edge_model(
            images,
            args.targets,
            operator=args.operator,
            ksize=args.ksize,
            magnitude=args.magnitude,
            epochs=args.epochs,
            steps_per_epoch=args.steps_per_epoch,
            batch_size=args.batch_size,
            crop_size=args.crop_size,
            learning_rate=args.learning_rate,
            seed=args.seed,
            verbose=1,
        )
    except (ValueError, TypeError, FileNotFoundError) as error:
        parser.error(str(error))
    handle, temporary = tempfile.mkstemp(
        dir=output.parent, prefix=f".{output.name}.", suffix=".keras"
    )
    os.close(handle)
    try:
        model.save(temporary)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    kernel_x, kernel_y = learned_kernels(model)
    with np.printoptions(precision=4, suppress=True):
        print(f"learned kernel_x:\n{kernel_x}\nlearned kernel_y:\n{kernel_y}")
    reference = "the given targets' best fit" if args.targets else args.operator
    error = kernel_error(model, args.operator, ksize=args.ksize)
    print(
        f"kernel error vs {args.operator} (max abs, after sign/swap alignment): {error:.4g}"
    )
    print(f"model (trained to reproduce {reference}) saved to {output}")
    return 0


def _add_evaluate_parser(commands) -> None:
    evaluate = commands.add_parser(
        "evaluate",
        help="score a detector against ground-truth boundaries: ODS, OIS, AP",
        description="Score edges with the BSDS boundary benchmark (Arbelaez et al., PAMI 2011): "
        "99 thresholds, thinning, one-to-one matching within 0.0075 x the image diagonal.",
        epilog="examples:\n  keras-edges evaluate --synthetic 50 --operator sobel --plot pr.png\n"
        "  keras-edges evaluate --bsds BSR/BSDS500/data --split test --model learned.keras --nms",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = evaluate.add_mutually_exclusive_group(required=True)
    data.add_argument(
        "--bsds",
        metavar="ROOT",
        help="BSDS500 data folder (with images/ and groundTruth/)",
    )
    data.add_argument(
        "--synthetic",
        type=int,
        metavar="N",
        help="N synthetic_shapes images with exact boundaries",
    )
    evaluate.add_argument(
        "--split",
        default="test",
        choices=("train", "val", "test"),
        help="BSDS500 split (default: test)",
    )
    evaluate.add_argument(
        "--limit", type=int, metavar="K", help="evaluate the first K images only"
    )
    evaluate.add_argument(
        "--size",
        type=int,
        nargs=2,
        default=(321, 481),
        metavar=("H", "W"),
        help="synthetic image size (default: 321 481)",
    )
    evaluate.add_argument(
        "--noise",
        type=float,
        default=0.1,
        help="synthetic noise standard deviation (default: 0.1)",
    )
    evaluate.add_argument(
        "--seed", type=int, default=0, help="synthetic seed (default: 0)"
    )
    detector = evaluate.add_mutually_exclusive_group()
    detector.add_argument(
        "--model",
        metavar="M",
        help="a saved .keras edge model (e.g. from keras-edges train)",
    )
    detector.add_argument(
        "--operator", choices=sorted(KERNELS), help="gradient operator (default: sobel)"
    )
    detector.add_argument(
        "--method",
        choices=("canny",),
        help="a binary detector, scored at one threshold",
    )
    evaluate.add_argument(
        "--ksize", type=int, default=3, help="kernel size for --operator (default: 3)"
    )
    evaluate.add_argument(
        "--sigma", type=float, default=1.0, help="Canny's Gaussian sigma (default: 1.0)"
    )
    evaluate.add_argument(
        "--low",
        type=float,
        help="Canny's weak threshold, pixels in [0, 1] (default: 0.1)",
    )
    evaluate.add_argument(
        "--high", type=float, help="Canny's strong threshold (default: 0.2)"
    )
    evaluate.add_argument(
        "--nms",
        action="store_true",
        help="edge non-maximum suppression before thresholding",
    )
    evaluate.add_argument(
        "--thresholds", type=int, default=99, help="number of thresholds (default: 99)"
    )
    evaluate.add_argument(
        "--max-dist",
        type=float,
        default=0.0075,
        help="match radius / image diagonal (default: 0.0075)",
    )
    evaluate.add_argument("--workers", type=int, help="processes (default: all CPUs)")
    evaluate.add_argument(
        "--plot", metavar="PNG", help="write the precision-recall curve to this image"
    )


def _evaluation_data(args, parser):
    """(images as float [0, 1] arrays, ground truths) for `evaluate`, and a description."""
    import numpy as np

    if args.synthetic is not None:
        if args.synthetic < 1:
            parser.error(
                f"--synthetic must be a positive number of images, got {args.synthetic}"
            )
        from keras_edges.datasets import synthetic_shapes

        try:
            images, truths = synthetic_shapes(
                args.synthetic, size=args.size, noise=args.noise, seed=args.seed
            )
        except ValueError as error:
            parser.error(str(error))
        images, truths = list(images)[: args.limit], list(truths)[: args.limit]
        return (
            images,
            [[truth] for truth in truths],
            f"{len(images)} synthetic images (noise {args.noise})",
        )
    from keras_edges.datasets import load_bsds500

    try:
        pairs = load_bsds500(args.bsds, args.split)
        images, truths = [], []
        for image, boundaries in pairs:
            images.append(image.astype(np.float32) / 255)
            truths.append(boundaries)
            if args.limit is not None and len(images) >= args.limit:
                break
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    return images, truths, f"BSDS500 {args.split} ({len(images)} images)"


def _evaluation_edges(args, parser, images, model):
    """Soft edge maps in [0, 1] (or binary maps for Canny) and the thresholds to use."""
    import numpy as np

    from keras_edges.detect import detect_edges

    if args.method == "canny":
        options = dict(method="canny", sigma=args.sigma, low=args.low, high=args.high)
        try:
            return [
                np.asarray(detect_edges(image, **options), bool) for image in images
            ], 1
        except (ValueError, TypeError) as error:
            parser.error(str(error))
    if model is not None:
        try:
            edges = [
                detect_edges(image, model=model, normalize=True) for image in images
            ]
        except (
            ValueError
        ):  # not an edge model with known kernels: scale by the largest response
            edges = [detect_edges(image, model=model) for image in images]
            scale = max(float(np.max(edge)) for edge in edges) or 1.0
            edges = [edge / scale for edge in edges]
    else:
        operator = args.operator or "sobel"
        try:
            _check_operator(operator, args.ksize)
        except (ValueError, TypeError) as error:
            parser.error(str(error))
        edges = [
            detect_edges(image, operator=operator, ksize=args.ksize, normalize=True)
            for image in images
        ]
    return [np.clip(np.squeeze(edge), 0, 1) for edge in edges], args.thresholds


def _run_evaluate(args, parser) -> int:
    if args.thresholds < 1:
        parser.error(f"--thresholds must be at least 1, got {args.thresholds}")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be a positive number of images, got {args.limit}")
    if not 0 <= args.max_dist < 1:
        parser.error(
            "--max-dist must be a fraction of the image diagonal, e.g. 0.0075 (at least "
            f"0, below 1: 1 reaches across the whole image), got {args.max_dist}"
        )
    if args.plot is not None and Path(args.plot).suffix.lower() not in (
        ".png",
        ".pdf",
        ".svg",
    ):
        parser.error(f"--plot must name a .png, .pdf or .svg file, got {args.plot!r}")
    if args.plot is not None and not Path(args.plot).resolve().parent.is_dir():
        parser.error(f"--plot {args.plot!r}: its folder does not exist")
    model = None if args.model is None else _load_model(args.model, parser)
    images, truths, described = _evaluation_data(args, parser)
    edges, thresholds = _evaluation_edges(args, parser, images, model)
    from keras_edges.metrics import evaluate_boundaries
    from keras_edges.plot import plot_precision_recall

    detector = (
        args.model
        or args.method
        or f"{args.operator or 'sobel'}{' + nms' if args.nms else ''}"
    )
    scores = evaluate_boundaries(
        edges,
        truths,
        thresholds=thresholds,
        max_dist=args.max_dist,
        nms=args.nms and thresholds > 1,
        workers=args.workers,
        progress=None,
    )
    print(f"{detector} on {described}")
    print(
        f"ODS={scores.ods:.3f} OIS={scores.ois:.3f} AP={scores.ap:.3f}  "
        f"(at threshold {scores.ods_threshold:.3f}: recall {scores.ods_recall:.3f}, "
        f"precision {scores.ods_precision:.3f})"
    )
    if args.plot is not None:
        import os
        import tempfile

        figure = plot_precision_recall({detector: scores}, title=described)
        target = Path(args.plot)
        handle, temporary = tempfile.mkstemp(
            dir=target.resolve().parent, suffix=target.suffix
        )
        os.close(handle)
        try:
            figure.savefig(temporary, dpi=120)
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)
        print(f"precision-recall curve in {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run `keras-edges` with `argv` (default: `sys.argv[1:]`); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(_join_shard(sys.argv[1:] if argv is None else argv))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    runners = {"detect": _run_detect, "demo": _run_demo, "export": _run_export}
    runners.update(train=_run_train, evaluate=_run_evaluate)
    run = runners[args.command]
    return run(args, parser)


if __name__ == "__main__":
    sys.exit(main())
