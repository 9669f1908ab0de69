"""`learned_boundaries`: boundary probabilities from the shipped learned detector."""

from __future__ import annotations

import functools
import os

import keras
import numpy as np
from PIL import Image

from keras_edges.engine import learned
from keras_edges.io import load_image
from keras_edges.methods._common import _as_array, _standardize
from keras_edges.models import (
    BOUNDARY_VERSIONS,
    DEFAULT_BOUNDARY_VERSION,
    build_boundary_model,
)
from keras_edges.thinning import suppress_nonmaxima
from keras_edges.validation import check_choice, check_number, check_scales

__all__ = ["learned_boundaries"]


def learned_boundaries(
    image,
    *,
    nms: bool = False,
    threshold: float | None = None,
    scales=(1.0,),
    flip: bool = False,
    model: keras.Model | None = None,
    version: str | None = None,
):
    """Boundary probabilities of one image, a batch, or a list of images.

    Runs the learned boundary detector (see `build_boundary_model`; by default the
    shipped weights, trained on human-annotated boundaries) and returns, per pixel,
    the probability that a boundary passes there. It reads colour: RGB as it is, grey
    repeated to three channels, alpha dropped. uint8 pixels give probabilities x 255
    as uint8; uint16 pixels are scaled to [0, 1]; other pixels are taken as values in
    [0, 1] and give float32 probabilities. `detect_edges(image, method="learned",
    **options)` calls this function.

    Args:
        image: A path, a PIL image, encoded bytes, a NumPy array or a tensor of the
            Keras backend of shape `(H, W)`, `(H, W, C)` or `(N, H, W, C)` with C in
            {1, 3, 4}, or a list of those (of any sizes).
        nms: Thin the map to one-pixel ridges with the edge non-maximum suppression of
            the evaluator (`suppress_nonmaxima`).
        threshold: If given, a probability in [0, 1]: return the boolean map
            `probabilities >= threshold`.
        scales: Average the maps computed at these scale factors (e.g.
            `(0.5, 1, 1.5)`, multi-scale testing); default one scale. Each scale
            costs about its area in time.
        flip: Also run the left-right mirrored image and average the two maps
            (test-time augmentation): twice the time, a slightly better map (see
            `benchmarks/README.md`, "Second generation").
        model: A model from `build_boundary_model` (e.g. fine-tuned with
            `fit_boundary_model`) to use instead of the shipped one.
        version: The shipped weights to use, by name (a key of `BOUNDARY_VERSIONS`,
            e.g. `"v1"`); pin it to keep a pipeline's results when the default moves.
            None: the default version. Not with `model`.

    Returns:
        An array `(H, W)` for an `(H, W)` image, a path or a PIL image, `(H, W, 1)` for
        `(H, W, C)` and `(N, H, W, 1)` for a batch; a list gives a list. uint8 for
        uint8 input, bool with `threshold`, float32 otherwise.

    Raises:
        ValueError: For a bad shape, an empty image, NaN or inf pixels, or a bad option.
        TypeError: For an unsupported object or dtype, or a model that is not a
            boundary model.
        FileNotFoundError: For a path that does not exist.

    Example:
    >>> image = np.zeros((32, 32, 3), "float32"); image[:, 16:] = 1
    >>> soft = learned_boundaries(image)[..., 0]
    >>> soft.shape, soft.dtype, bool(soft[:, 15:17].mean() > soft[:, :8].mean())
    ((32, 32), dtype('float32'), True)
    >>> thin = learned_boundaries(image, nms=True, threshold=0.5)[..., 0]
    >>> thin.dtype, bool(thin[:, :8].any())
    (dtype('bool'), False)
    """
    if threshold is not None:
        check_number("threshold", threshold, low=0, high=1)
    scales = check_scales("scales", scales)
    if not isinstance(flip, (bool, np.bool_)):
        raise TypeError(
            f"Invalid value for argument `flip`. Expected True or False. Received: flip={flip!r}"
        )
    if version is not None:
        check_choice("version", version, tuple(BOUNDARY_VERSIONS))
        if model is not None:
            raise ValueError(
                "Invalid arguments: `model` and `version` both choose the detector's "
                f"weights; pass one. Received: version={version!r} and a model"
            )
    if model is None:
        model = _pretrained_boundary_model(version or DEFAULT_BOUNDARY_VERSION)
    elif not isinstance(model, keras.Model) or not learned.is_boundary_model(model):
        raise TypeError(
            "Invalid value for argument `model` with method='learned'. Expected a model "
            "from build_boundary_model (RGB in, one map out). Received: "
            f"{getattr(model, 'name', type(model).__name__)!r} with input shape "
            f"{getattr(model, 'input_shape', None)}"
        )
    if isinstance(image, (list, tuple)):
        options = dict(
            nms=nms, threshold=threshold, scales=scales, flip=flip, model=model
        )
        return [learned_boundaries(each, **options) for each in image]
    from_file = isinstance(image, (str, os.PathLike, bytes, bytearray, Image.Image))
    array = load_image(image, mode="RGB") if from_file else _as_array(image)
    rank = array.ndim
    batch, value_range, uint8_out = _standardize(array, 3)
    edges = learned.run(
        model, batch / np.float32(value_range), scales=scales, flip=bool(flip)
    )
    if nms:
        edges = np.stack([suppress_nonmaxima(each) for each in edges])
    if threshold is not None:
        edges = edges >= np.float32(threshold)
    elif uint8_out:
        edges = np.clip(np.rint(edges * 255.0), 0, 255).astype(np.uint8)
    if rank == 2 or from_file:
        return edges[0]
    return edges[0, ..., None] if rank == 3 else edges[..., None]


@functools.cache
def _pretrained_boundary_model(version: str) -> keras.Model:
    return build_boundary_model(version=version, pretrained=True)
