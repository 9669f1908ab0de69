"""`keras-edges detect ... --runner NAME`: the detect command as an Apache Beam pipeline.

The same job as the plain command (the inputs, options, output tree, names and formats
of `keras_edges.cli.detect`), run by `keras_edges.beam` on any Beam runner; the flags
that `keras-edges` does not know are Beam's. Inputs and outputs with a scheme (`gs://`,
`s3://`, ...) are listed and written through Beam's file systems. The failures go to
`OUTPUT/.keras-edges/failures.txt` (input path and reason, one per line), removed when
none failed; they are also printed, and the exit status is 1.
"""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from pathlib import Path, PurePosixPath

from keras_edges.cli.common import import_tensorflow_quietly
from keras_edges.cli.detect import (
    OUTPUT_SUFFIXES,
    _collect_images,
    _plan_outputs,
    check_model_option,
    edges_name,
    summary,
)
from keras_edges.io import is_image_name

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_GLOB_CHARS = frozenset("*?[")
# Where the failures go, below the output folder (hidden: not an edge map).
FAILURES = ".keras-edges/failures.txt"


def run_beam(args, parser, options: dict) -> int:
    """Run `keras-edges detect` as a Beam pipeline on `args.runner`; the exit code.

    `options` are the `detect_edges` options of `args.method` (`method_options`).
    """
    import_tensorflow_quietly()  # before Beam, which may import it
    try:
        from keras_edges import beam
    except ImportError as error:
        parser.error(f"--runner: {error}")
    from apache_beam.io.filesystems import FileSystems

    suffix = OUTPUT_SUFFIXES[args.format]
    if any(_SCHEME.match(name) for name in [*args.inputs, args.output]):
        output = args.output.rstrip("/")
        jobs, left_out = _plan_remote(args.inputs, output, suffix, args, parser)
    else:
        output = Path(args.output)
        if output.exists() and not output.is_dir():
            parser.error(f"-o {args.output!r} is a file; expected a folder")
        found = _collect_images(args.inputs, parser, recursive=args.recursive)
        jobs, left_out = _plan_outputs(found, output, suffix, parser)
        jobs = [(str(source), str(target)) for source, target in jobs]
    if args.shard:
        index, count = args.shard
        jobs = jobs[index - 1 :: count]
    model_file = None
    if args.model:
        model_file = _model_bytes(args, parser, beam.read_bytes)
    options = {key: value for key, value in options.items() if key != "model"}
    handler = beam.EdgeModelHandler(
        {"method": args.method, **options}, model_file=model_file
    )
    failures = FileSystems.join(str(output), FAILURES)
    counts = beam.run_pipeline(
        jobs,
        handler,
        failures=failures,
        mode="RGB" if args.method == "learned" else "L",
        overwrite=args.overwrite,
        pipeline_args=_pipeline_args(args),
    )
    lines = beam.read_bytes(failures).decode().splitlines()
    for line in sorted(lines):
        source, _, reason = line.partition("\t")
        print(f"failed {source}: {reason}", file=sys.stderr)
    if not lines:  # nothing to report: the output tree holds edge maps only
        FileSystems.delete([failures])
        if isinstance(output, Path):
            with contextlib.suppress(OSError):
                Path(failures).parent.rmdir()
    if not args.quiet:
        done, skipped, failed = counts["done"], counts["skipped"], counts["failed"]
        where = f" (listed in {failures})" if lines else ""
        line = summary(done, skipped, failed, output, left_out, args.shard)
        print(f"{line}{where}; {counts['pixels']} pixels; runner {args.runner}")
    return 1 if lines else 0


def _model_bytes(args, parser, read_bytes) -> bytes:
    """`--model` (local or on a Beam file system), checked as the plain command does."""
    if not _SCHEME.match(args.model):
        check_model_option(args, parser)
        return Path(args.model).read_bytes()
    try:
        data = read_bytes(args.model)
    except Exception as error:  # noqa: BLE001 - Beam's file systems raise their own kinds
        parser.error(f"--model: cannot read {args.model!r}: {error}")
    with tempfile.TemporaryDirectory() as folder:
        local = Path(folder) / PurePosixPath(args.model).name
        local.write_bytes(data)
        check_model_option(_with(args, model=str(local)), parser)
    return data


def _with(args, **changes):
    """A copy of the namespace `args` with `changes`."""
    copy = type(args)(**vars(args))
    vars(copy).update(changes)
    return copy


def _plan_remote(
    inputs, output: str, suffix: str, args, parser
) -> list[tuple[str, str]]:
    """The sorted `(input, output)` jobs of inputs and an output on Beam's file systems.

    As the plain command: a file is an input; a folder (a prefix) gives its image files
    (`--recursive`: at any depth); a glob's files are placed below its fixed prefix; an
    input that is another input's output is left out. Returns the jobs and the number
    left out.
    """
    from apache_beam.io.filesystems import FileSystems

    jobs = {}
    for name in inputs:
        if _GLOB_CHARS & set(name):
            parts = name.split("/")
            fixed = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
            root, pattern = "/".join(parts[:fixed]), name
            if not args.recursive:
                pattern = pattern.replace("**", "*")
        elif not _is_folder(name) and FileSystems.exists(name):
            root, pattern = name.rsplit("/", 1)[0], name
        else:
            root = name.rstrip("/")
            pattern = f"{root}/{'**' if args.recursive else '*'}"
        matched = FileSystems.match([pattern])[0].metadata_list
        files = [
            (item.path, item.path[len(root) + 1 :])
            for item in matched
            if item.path.startswith(root + "/")
        ]
        if pattern != name or _GLOB_CHARS & set(name):  # a folder or a glob
            files = [
                (path, relative) for path, relative in files if is_image_name(relative)
            ]
        if not files:
            parser.error(f"input {name!r} matches no image files")
        for path, relative in files:
            target = (
                f"{output}/{edges_name(PurePosixPath(relative), suffix).as_posix()}"
            )
            if jobs.setdefault(target, path) != path:
                parser.error(
                    f"inputs {jobs[target]!r} and {path!r} would both be written to "
                    f"{target!r}; rename one or run them separately"
                )
    left_out = {path for path in jobs.values() if path in jobs}  # an earlier output
    kept = sorted(
        (path, target) for target, path in jobs.items() if path not in left_out
    )
    return kept, len(left_out)


def _is_folder(name: str) -> bool:
    """Whether `name` on a Beam file system is a folder (object storage: a prefix)."""
    from apache_beam.io.filesystems import FileSystems

    if name.endswith("/"):
        return True
    try:
        return bool(FileSystems.match([f"{name}/*"], limits=[1])[0].metadata_list)
    except Exception:  # noqa: BLE001 - "no match" is an error on some file systems
        return False


def _pipeline_args(args) -> list[str]:
    """Beam's flags: the runner, the user's, and quiet workers unless the user says."""
    given = list(getattr(args, "pipeline_args", []))
    quiet = []
    if not any(flag.startswith("--default_sdk_harness_log_level") for flag in given):
        quiet = ["--default_sdk_harness_log_level", "WARNING"]
    return ["--runner", args.runner, *quiet, *given]
