"""Edge maps as an Apache Beam pipeline (the optional extra `pip install keras-edges[beam]`).

The pieces of `keras-edges detect ... --runner NAME`, usable in a pipeline of one's own:

- `EdgeModelHandler`: a RunInference model handler that loads the detector once per
  worker (the gradient operators, Canny, the learned detector, or a `.keras` model of
  one's own, shipped as bytes with the pipeline) and runs each batch of images, those of
  one size stacked into one call (the same edges as one call per image).
- `DetectEdgeMaps`: `(input path, output path)` pairs in; every edge map written whole
  (a hidden `.part` temporary renamed into place: a worker that dies or is retried
  leaves no partial file and no duplicate); outputs that exist are skipped (unless
  `overwrite`); the `(input path, reason)` of every input that failed out.
- Files are read and written through Beam's `FileSystems`: local paths, and `gs://`,
  `s3://`, ... with Beam's own extras (`apache-beam[gcp]`, `apache-beam[aws]`).
- Counters in the namespace `keras_edges`: `done`, `skipped`, `failed` (images) and
  `pixels` (of the images done).

Beam's own TensorFlow model handler imports tensorflow-hub (and with it Keras 2), hence
a handler of the package's own.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import posixpath
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

try:
    import apache_beam as beam
except ImportError as error:  # pragma: no cover - the extra is missing
    raise ImportError(
        "keras_edges.beam needs Apache Beam: pip install 'keras-edges[beam]'"
    ) from error
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.ml.inference.base import (
    KeyedModelHandler,
    ModelHandler,
    PredictionResult,
    RunInference,
)
from apache_beam.options.pipeline_options import PipelineOptions

from keras_edges.io import encode_image, load_image, remove_stale_parts
from keras_edges.validation import check_choice, check_positive_int, describe_failure

__all__ = [
    "COUNTERS",
    "DetectEdgeMaps",
    "EdgeModelHandler",
    "read_bytes",
    "run_pipeline",
    "write_bytes",
]

NAMESPACE = "keras_edges"
COUNTERS = ("done", "skipped", "failed", "pixels")
_COUNTER = {name: Metrics.counter(NAMESPACE, name) for name in COUNTERS}
_FAILED = "failed"
_RAW = CompressionTypes.UNCOMPRESSED  # never guess a compression from the suffix


class Failure(NamedTuple):
    """The result of an image that the detector could not process: one line why."""

    reason: str


def read_bytes(path: str) -> bytes:
    """The bytes of the file at `path`, on any of Beam's file systems."""
    with FileSystems.open(path, compression_type=_RAW) as stream:
        return stream.read()


def write_bytes(path: str, data: bytes) -> None:
    """Write `data` to `path` whole, on any of Beam's file systems.

    The bytes go to a hidden temporary `.<name>.<random>.part` beside `path`, which is
    then renamed into place: a reader sees the complete file or none, and writing twice
    (a retried bundle) leaves one file. On a local disk, temporaries that a killed
    writer left an hour or more ago are removed first (`remove_stale_parts`).
    """
    folder, name = FileSystems.split(path)
    if FileSystems.get_scheme(path) is None:
        os.makedirs(folder, exist_ok=True)
        remove_stale_parts(path)
    temporary = FileSystems.join(folder, f".{name}.{uuid.uuid4().hex}.part")
    try:
        with FileSystems.create(temporary, compression_type=_RAW) as stream:
            stream.write(data)
        FileSystems.rename([temporary], [path])
    except BaseException:
        with contextlib.suppress(Exception):
            FileSystems.delete([temporary])
        raise


def _load_model_bytes(data: bytes):
    """A Keras model from the bytes of a `.keras` file (loaded in safe mode)."""
    from keras_edges.export import _as_model

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as stream:
            stream.write(data)
        return _as_model(path)


class EdgeModelHandler(ModelHandler):
    """A RunInference model handler for `detect_edges`: images in, edge maps out.

    `load_model` builds (or loads) the detector once per worker; `run_inference` stacks
    the images of one size and dtype into one `detect_edges` call (what `detect_edges`
    gives for each image alone, bit for bit on the package's engines) and returns, for
    each image, a `PredictionResult` whose `example` is the image's shape and whose
    `inference` is its `(H, W)` edge map, or a `Failure` with the reason when the
    detector rejects it (the other images of the batch are kept).

    Args:
        options: `detect_edges` keyword arguments (`method`, `operator`, `threshold`,
            ...), without `model`.
        model_file: The bytes of a `.keras` model (an edge model, or a boundary model
            for `method="learned"`), or None for the package's own detectors.
        max_batch_size: The most images in one batch.

    Example:
    >>> handler = EdgeModelHandler({"operator": "sobel"}, max_batch_size=4)
    >>> detector = handler.load_model()
    >>> images = [np.eye(6, dtype=np.uint8) * 200, np.zeros((5, 7), np.uint8)]
    >>> [result.example for result in handler.run_inference(images, detector)]
    [(6, 6), (5, 7)]
    """

    def __init__(
        self,
        options: dict | None = None,
        *,
        model_file: bytes | None = None,
        max_batch_size: int = 8,
    ):
        options = dict(options or {})
        if "model" in options:
            raise ValueError(
                "Invalid value for argument `options`: pass a model as `model_file` (the "
                "bytes of its .keras file), which travels to the workers. Received: "
                f"options with model={options['model']!r}"
            )
        check_choice("method", options.get("method", "gradient"), _METHODS)
        check_positive_int("max_batch_size", max_batch_size)
        super().__init__(min_batch_size=1, max_batch_size=max_batch_size)
        self._options = options
        self._model_file = model_file

    def load_model(self):
        """The detector: `detect_edges` with the options (and the model) bound."""
        from keras_edges.cli.common import import_tensorflow_quietly

        import_tensorflow_quietly()  # a worker is a command's process: as quiet
        from keras_edges.detect import detect_edges

        options = dict(self._options)
        if self._model_file is not None:
            options["model"] = _load_model_bytes(self._model_file)
        return functools.partial(detect_edges, **options)

    def run_inference(
        self, batch: Sequence[np.ndarray], model, inference_args=None
    ) -> Iterable[PredictionResult]:
        """Edge maps of a batch of `(H, W)` or `(H, W, 3)` images (see the class)."""
        results = [None] * len(batch)
        groups = {}
        for index, image in enumerate(batch):
            groups.setdefault((image.shape, image.dtype.str), []).append(index)
        for indices in groups.values():
            try:
                edges = _detect_stacked(model, [batch[i] for i in indices])
            except Exception:  # noqa: BLE001 - find the image at fault, keep the others
                edges = []
                for i in indices:
                    try:
                        edges += _detect_stacked(model, [batch[i]])
                    except Exception as error:  # noqa: BLE001
                        edges.append(Failure(describe_failure(error)))
            for i, each in zip(indices, edges):
                results[i] = each
        return [
            PredictionResult(image.shape[:2], result)
            for image, result in zip(batch, results)
        ]


_METHODS = ("gradient", "canny", "learned")


def _detect_stacked(detector, images: list[np.ndarray]) -> list[np.ndarray]:
    """Run `detector` on same-shaped images as one `(N, H, W, C)` batch; `(H, W)` maps."""
    stacked = np.stack(
        [image if image.ndim == 3 else image[..., None] for image in images]
    )
    return list(np.asarray(detector(stacked))[..., 0])


class _ReadImages(beam.DoFn):
    """`(source, target)` -> `((source, target), image)`; skips done ones, reports bad ones."""

    def __init__(self, mode: str, overwrite: bool):
        self._mode = mode
        self._overwrite = overwrite

    def process(self, job):
        source, target = job
        if not self._overwrite and FileSystems.exists(target):
            _COUNTER["skipped"].inc()
            return
        try:
            stream = io.BytesIO(read_bytes(source))
            stream.name = source  # for the error messages of load_image
            image = load_image(stream, mode=self._mode)
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the job
            _COUNTER["failed"].inc()
            yield beam.pvalue.TaggedOutput(_FAILED, (source, describe_failure(error)))
            return
        yield job, image


class _WriteEdgeMaps(beam.DoFn):
    """`((source, target), PredictionResult)` -> the edge map file; reports failures."""

    def process(self, element):
        (source, target), result = element
        try:
            if isinstance(result.inference, Failure):
                raise ValueError(result.inference.reason)
            suffix = posixpath.splitext(target)[1]
            write_bytes(target, encode_image(result.inference, suffix))
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the job
            _COUNTER["failed"].inc()
            yield beam.pvalue.TaggedOutput(_FAILED, (source, describe_failure(error)))
            return
        _COUNTER["done"].inc()
        _COUNTER["pixels"].inc(int(np.prod(result.example)))


class DetectEdgeMaps(beam.PTransform):
    """Write the edge map of each `(input path, output path)` pair; out: the failures.

    Args:
        handler: The `EdgeModelHandler` that computes the edge maps.
        mode: How images are read: `"L"` (grey, the gradient operators and Canny) or
            `"RGB"` (the learned detector).
        overwrite: Rewrite outputs that exist (by default they are skipped).

    Returns (from `expand`):
        A PCollection of `(input path, reason)` for the inputs that failed.
    """

    def __init__(
        self, handler: EdgeModelHandler, *, mode: str = "L", overwrite: bool = False
    ):
        super().__init__()
        self._handler = handler
        self._mode = check_choice("mode", mode, ("L", "RGB"))
        self._overwrite = overwrite

    def expand(self, jobs):
        read = jobs | "Read" >> beam.ParDo(
            _ReadImages(self._mode, self._overwrite)
        ).with_outputs(_FAILED, main="images")
        detected = read.images | "Detect" >> RunInference(
            KeyedModelHandler(self._handler)
        )
        written = detected | "Write" >> beam.ParDo(_WriteEdgeMaps()).with_outputs(
            _FAILED, main="written"
        )
        return (read[_FAILED], written[_FAILED]) | "Failures" >> beam.Flatten()


def run_pipeline(
    jobs: Sequence[tuple[str, str]],
    handler: EdgeModelHandler,
    *,
    failures: str,
    mode: str = "L",
    overwrite: bool = False,
    pipeline_args: Sequence[str] = (),
) -> dict[str, int]:
    """Run `DetectEdgeMaps` over `jobs` with Beam's flags `pipeline_args`; wait for it.

    The jobs travel as a JSON-lines file beside `failures` (read in parallel by the
    workers, and no limit on their number from the size of the pipeline's graph),
    removed at the end. The failures are written to the text file `failures`
    (`input path<TAB>reason` per line; empty when none failed).

    Returns:
        The counters (`COUNTERS`): images done, skipped and failed, and pixels done.
    """
    folder = FileSystems.split(failures)[0]
    listing = FileSystems.join(folder, f"jobs-{uuid.uuid4().hex}.jsonl")
    write_bytes(listing, "".join(json.dumps(job) + "\n" for job in jobs).encode())
    try:
        pipeline = beam.Pipeline(options=PipelineOptions(list(pipeline_args)))
        failed = (
            pipeline
            | "Jobs" >> beam.io.ReadFromText(listing)
            | "Parse" >> beam.Map(lambda line: tuple(json.loads(line)))
            | "Spread" >> beam.Reshuffle()
            | "Edges" >> DetectEdgeMaps(handler, mode=mode, overwrite=overwrite)
        )
        _ = (
            failed
            | "Format" >> beam.MapTuple(lambda source, reason: f"{source}\t{reason}")
            | "Report"
            >> beam.io.WriteToText(failures, shard_name_template="", num_shards=1)
        )
        result = pipeline.run()
        result.wait_until_finish()
    finally:
        FileSystems.delete([listing])
    query = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))
    counts = dict.fromkeys(COUNTERS, 0)
    for counter in query["counters"]:
        value = (
            counter.committed if counter.committed is not None else counter.attempted
        )
        if counter.key.metric.name in counts:
            counts[counter.key.metric.name] += value or 0
    return counts
