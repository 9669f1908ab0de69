"""`keras-edges detect`: one edge map per input image, written atomically into a mirrored tree."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path, PurePath

from keras_edges.cli.common import (
    add_method_options,
    check_operator,
    import_tensorflow_quietly,
    load_model,
    method_options,
)
from keras_edges.io import image_files, remove_stale_parts
from keras_edges.validation import describe_failure

# Output formats and the suffix each writes.
OUTPUT_SUFFIXES = {"png": ".png", "tiff": ".tiff", "npy": ".npy"}
_GLOB_CHARS = frozenset("*?[")
# The options of each --method: those of the method's function (`gradient_edges`,
# `canny_edges`, `learned_boundaries`) that the command line offers.
METHOD_OPTIONS = {
    "gradient": (
        "--operator",
        "--ksize",
        "--padding",
        "--magnitude",
        "--normalize",
        "--threshold",
        "--model",
        "--colour",
        "--mask",
    ),
    "canny": ("--operator", "--ksize", "--padding", "--magnitude", "--sigma", "--mask"),
    "learned": (
        "--threshold",
        "--model",
        "--nms",
        "--scales",
        "--flip",
        "--model-version",
    ),
    "xdog": ("--sigma", "--padding"),
    "marr_hildreth": ("--sigma", "--padding"),
}


def add_parser(commands) -> None:
    """Add the `detect` subcommand to `commands` (an argparse subparsers object)."""
    parser = commands.add_parser(
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
        "  keras-edges detect photos/ -o edges/ --method learned --nms   # the learned detector\n"
        "  keras-edges detect photos/ -o edges/ --method canny --sigma 2 --operator scharr\n"
        "  keras-edges detect photos/ -o edges/ --shard 1/4   # one of 4 independent jobs\n"
        "  keras-edges detect photos/ -o edges/ --runner FnApiRunner --direct_num_workers 2"
        "   # Beam",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="image files, folders or glob patterns",
    )
    parser.add_argument(
        "-o", "--output", default="edges", help="output folder (default: edges/)"
    )
    parser.add_argument(
        "--method",
        default="gradient",
        choices=tuple(METHOD_OPTIONS),
        help="gradient magnitude (default), Canny's binary map, the learned "
        "boundary detector (probabilities; reads colour), XDoG's line drawing or "
        "Marr-Hildreth's zero crossings; an option of another method is a usage error",
    )
    model = dict(
        metavar="MODEL",
        help="a saved .keras edge model to use instead of --operator (with --method "
        "learned: a boundary model, e.g. runs/mine/boundaries.keras from finetune)",
    )
    add_method_options(parser, METHOD_OPTIONS, **{"--model": model})
    parser.add_argument(
        "--recursive",
        action="store_true",
        help="look through sub-folders (and ** in globs)",
    )
    parser.add_argument(
        "--format",
        default="png",
        choices=sorted(OUTPUT_SUFFIXES),
        help="output format (default: png)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="rewrite outputs that already exist"
    )
    parser.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="process only shard K of N (1 <= K <= N)",
    )
    parser.add_argument(
        "--runner",
        metavar="NAME",
        help="run as an Apache Beam pipeline on this runner (FnApiRunner locally; "
        "DataflowRunner, FlinkRunner, SparkRunner, ...); Beam's own flags follow; needs "
        "pip install keras-edges[beam] (see README, Large jobs)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bar and no summary; failures only",
    )
    parser.set_defaults(run=run, parser=parser)


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
            files = image_files(path, recursive=recursive)
            if not files:
                where = "" if recursive else " (--recursive looks in sub-folders)"
                parser.error(f"input folder {name!r} holds no image files{where}")
            found += [(p, p.relative_to(path)) for p in files]
        elif path.is_file():
            found.append((path, Path(path.name)))
        elif _GLOB_CHARS & set(name):
            parts = Path(name).parts
            fixed = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
            root = Path(*parts[:fixed]) if fixed else Path()
            pattern = str(Path(*parts[fixed:]))
            files = [
                (p, p.relative_to(root))
                for p in image_files(root, pattern=pattern, recursive=recursive)
            ]
            if not files:
                parser.error(f"input {name!r} matches no image files")
            found += files
        elif path.exists():
            parser.error(f"input {name!r} is not a regular file")
        else:
            parser.error(f"input {name!r} does not exist")
    return found


def edges_name(relative: PurePath, suffix: str) -> PurePath:
    """Where the edge map of the input at `relative` goes, relative to the output folder."""
    return relative.parent / f"{relative.stem}_edges{suffix}"


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
        target = output / edges_name(relative, suffix)
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


def check_model_option(args, parser):
    """Load `--model` (None without it) and check that it suits `--method`."""
    import_tensorflow_quietly()
    if not args.model:
        return None
    model = load_model(args.model, parser)
    if args.method == "learned":
        from keras_edges.engine.learned import is_boundary_model

        if not is_boundary_model(model):
            parser.error(
                f"--model {args.model!r} is not a boundary model (RGB in, one map out), "
                "as --method learned needs: use one from keras-edges learn/finetune"
            )
    return model


def summary(done: int, skipped: int, failed: int, output, left_out: int, shard) -> str:
    """The line that the command prints at the end."""
    shard = f"shard {shard[0]}/{shard[1]}: " if shard else ""
    note = (
        f" ({left_out} earlier outputs among the inputs were left out)"
        if left_out
        else ""
    )
    return f"{shard}{done} done, {skipped} skipped, {failed} failed; edges in {output}/{note}"


def _load_mask(path: str, parser):
    """The --mask image as a boolean (H, W) region (non-zero inside)."""
    from keras_edges.io import load_image

    try:
        return load_image(path, mode="L") > 0
    except (OSError, ValueError) as error:
        parser.error(f"--mask {path!r}: {error}")


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run(args, parser) -> int:
    """Run `keras-edges detect`; returns the exit code."""
    options = method_options(parser, args, METHOD_OPTIONS, args.method)
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        parser.error(f"--threshold must be in [0, 1], got {args.threshold}")
    if args.method != "learned":
        check_operator(parser, args.operator or "sobel", args.ksize)
    if args.runner:  # the same job as an Apache Beam pipeline
        from keras_edges.cli.beam import run_beam

        return run_beam(args, parser, options)
    output = Path(args.output)
    if output.exists() and not output.is_dir():
        parser.error(f"-o {args.output!r} is a file; expected a folder")
    found = _collect_images(args.inputs, parser, recursive=args.recursive)
    jobs, left_out = _plan_outputs(found, output, OUTPUT_SUFFIXES[args.format], parser)
    if args.shard:
        index, count = args.shard
        jobs = jobs[index - 1 :: count]
    model = check_model_option(args, parser)
    if model is not None:
        options["model"] = model
    from tqdm import tqdm  # a progress bar on a terminal: one line, rate and time left

    from keras_edges.detect import detect_edges
    from keras_edges.io import load_image, save_image

    colour = options.get("colour", "luminance") != "luminance"
    mode = "RGB" if args.method == "learned" or colour else "L"
    if args.mask:
        options["mask"] = _load_mask(args.mask, parser)
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
            else:
                try:
                    edges = detect_edges(
                        load_image(path, mode=mode), method=args.method, **options
                    )
                    if edges.ndim == 3:  # the learned detector keeps a channel axis
                        edges = edges[..., 0]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    remove_stale_parts(target)
                    save_image(target, edges)
                    done += 1
                except Exception as error:  # noqa: BLE001 - one bad file must not stop the batch
                    bar.write(
                        f"failed {path}: {describe_failure(error)}", file=sys.stderr
                    )
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
        print(summary(done, skipped, failed, output, left_out, args.shard))
    return 1 if failed else 0
