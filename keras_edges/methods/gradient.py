"""`gradient_edges`: the gradient operators' edge magnitude, signed gradients or orientation."""

from __future__ import annotations

import functools
import weakref

import keras
import numpy as np

from keras_edges.engine import stencil
from keras_edges.kernels import max_response
from keras_edges.layers.colour import COLOUR_MODES
from keras_edges.methods._common import (
    _ENGINES,
    _apply_mask,
    _as_array,
    _channels,
    _check_model,
    _run_model,
    _standardize,
)
from keras_edges.models import OUTPUTS, _output_head, build_edge_model
from keras_edges.validation import check_choice, check_number

__all__ = ["gradient_edges"]


def gradient_edges(
    image,
    *,
    operator: str = "sobel",
    ksize: int | None = None,
    padding: str = "reflect",
    magnitude: str = "l1",
    normalize: bool = False,
    threshold: float | None = None,
    output: str = "magnitude",
    model: keras.Model | None = None,
    engine: str = "fast",
    mask=None,
    colour: str = "luminance",
    axis: int | None = None,
):
    """Edges of one image, a batch, or a list of images, from a gradient operator.

    Computes what the Keras edge model (see `build_edge_model`) computes: the operator's
    two derivative kernels, then their magnitude. The default `engine="fast"` reads the
    model's own kernels, border mode and norm and runs them as one XLA-compiled stencil
    (image sizes are rounded up to size buckets, so a new size rarely compiles again;
    large images are processed in overlapping tiles with bounded memory);
    `engine="model"` runs the literal Keras model compiled by the Keras backend (a
    `tf.function`, `jax.jit`, or an eager PyTorch call without autograd), the
    reference. The stencil engine runs under the TensorFlow and JAX backends;
    elsewhere `"fast"` runs the model. Models are built once per configuration and
    reused, and `model.predict` is never used. `detect_edges(image, **options)` (the
    default `method="gradient"`) calls this function.

    Colour images are converted to luminance as Pillow's `"L"` mode does (ITU-R 601-2);
    alpha is dropped. uint8 pixels (0..255) give uint8 edges saturated at 255 (never
    wrapped around); uint16 pixels are scaled to [0, 1]; bool, float and other integer
    pixels are used as they are and give float32 edges.

    Args:
        image: A path (str or `pathlib.Path`), a PIL image, encoded bytes, a NumPy array
            or a tensor of the Keras backend (`tf.Tensor`, `jax.Array`, `torch.Tensor`)
            of shape `(H, W)`, `(H, W, C)` or `(N, H, W, C)` with C in {1, 3, 4}, or a
            list of those (of any sizes).
        operator: A key of `KERNELS`: `"farid"`, `"prewitt"`, `"roberts"`, `"scharr"`,
            `"sobel"`.
        ksize: Kernel size (Sobel: 3, 5 or 7; Roberts 2; Farid 5); None is the
            operator's smallest.
        padding: Border mode, one of `PADDING_MODES`; `"valid"` returns
            `(H - ksize + 1, W - ksize + 1)` edges.
        magnitude: `"l1"` (`|gx| + |gy|`) or `"l2"` (`sqrt(gx**2 + gy**2)`); None is
            `"l1"`.
        normalize: Divide by the full scale, so float edges are in [0, 1] (for pixels in
            [0, 1]) and uint8 edges span 0..255 without saturating.
        threshold: If given, in [0, 1]: return the boolean map `edges >= threshold *
            full scale`, where full scale is the largest magnitude the operator can give
            (for pixels in [0, 1], or 0..255 for uint8).
        output: `"magnitude"`, `"gradients"` (the signed `(grad_x, grad_y)` in OpenCV's
            sign convention, stacked in a last axis of size 2) or `"orientation"`
            (`atan2(grad_y, grad_x)` in radians, in the image frame also for Roberts'
            cross); both are float32 for every input dtype and take no `threshold` or
            `normalize`.
        model: A model from `build_edge_model` (e.g. a trained one; a channels_first
            model gets the images as NCHW) to use instead of the operator; `operator`,
            `ksize`, `padding` and `magnitude` are then ignored.
        engine: `"fast"` (the default) or `"model"` (run the Keras model layer by layer).
            Both give the same edges: bit for bit for integer kernels on uint8 images,
            within float32 rounding otherwise. A model that is not shaped like
            `build_edge_model`'s (other layers, a bias, a non-float32 dtype policy)
            always runs as `"model"`.
        mask: None, or a region `(H, W)` (non-zero inside; one per image of a batch
            as `(N, H, W)`): as scikit-image's `mask=`, the result is kept inside the
            mask eroded by one pixel (3x3 square, the frame counting as outside), so no
            edge appears along the mask's border; 0 (False) outside.
        colour: How colour makes one edge map (see `COLOUR_MODES`): `"luminance"` (the
            default, ITU-R 601-2), `"max"` (the largest channel gradient) or
            `"di_zenzo"` (the channels' structure tensor, L2); the last two see edges
            between colours of equal luminance, run the Keras model and give float32
            (`normalize`/`threshold` use their own full scale).
        axis: None, or the axis of one signed derivative, as scikit-image's
            `sobel(image, axis=...)`: 0 (`-2`) is along the height (our `grad_y`),
            1 (`-1`) along the width (`grad_x`); float32, the shape of the magnitude.
            scikit-image's kernels are ours divided by their smoothing's sum (4 for
            Sobel).

    Returns:
        An array with the input's rank: `(H, W)`, `(H, W, 1)` or `(N, H, W, 1)`; a path
        or PIL image gives `(H, W)`. A list gives a list. uint8 for uint8 input, bool
        with `threshold`, float32 otherwise. `output="gradients"` adds a last axis of
        size 2 (`(H, W, 2)` for an `(H, W)` image).

    Raises:
        ValueError: For a bad shape, an empty image, NaN or inf pixels (or beyond
            +-1e30, where float32 sums would overflow), an image smaller than the
            kernel with `padding="valid"`, or a bad option.
        TypeError: For an unsupported object or dtype.
        FileNotFoundError: For a path that does not exist.

    Example:
    >>> image = np.zeros((5, 5), "float32"); image[1:4, 2] = 1; image[2, 1:4] = 1
    >>> gradient_edges(image)
    array([[0., 2., 0., 2., 0.],
           [2., 6., 4., 6., 2.],
           [0., 4., 0., 4., 0.],
           [2., 6., 4., 6., 2.],
           [0., 2., 0., 2., 0.]], dtype=float32)
    >>> gradient_edges((image * 255).astype("uint8"))[1]
    array([255, 255, 255, 255, 255], dtype=uint8)
    >>> gradient_edges(image, threshold=0.5)[1].tolist()
    [False, True, True, True, False]
    >>> gradient_edges(image, output="gradients")[1, 2]
    array([0., 4.], dtype=float32)
    >>> float(gradient_edges(image, operator="scharr")[2, 1])  # 3 + 10 + 3
    16.0
    """
    magnitude = magnitude or "l1"
    if mask is not None or colour != "luminance" or axis is not None:
        options = dict(operator=operator, ksize=ksize, padding=padding)
        options.update(magnitude=magnitude, normalize=normalize, threshold=threshold)
        options.update(output=output, model=model, engine=engine)
        return _masked_colour_or_axis(image, mask, colour, axis, **options)
    if output != "magnitude":
        check_choice("output", output, OUTPUTS)
        check_choice("engine", engine, _ENGINES)
        if threshold is not None or normalize:
            raise ValueError(
                "Invalid value for argument `threshold`/`normalize`. They apply to the "
                f"gradient magnitude only. Received: method='gradient', output={output!r}, "
                f"threshold={threshold!r}, normalize={normalize!r}"
            )
        options = dict(operator=operator, ksize=ksize, padding=padding)
        options.update(magnitude=magnitude, model=model, engine=engine)
        return _direction(image, output, **options)
    if threshold is not None:
        check_number("threshold", threshold, low=0, high=1)
    check_choice("engine", engine, _ENGINES)
    if model is None:
        model = _cached_model(operator, ksize, padding, magnitude)
    else:
        _check_model(model)
    if isinstance(image, (list, tuple)):
        options = dict(
            threshold=threshold, normalize=normalize, model=model, engine=engine
        )
        return [gradient_edges(each, **options) for each in image]

    array = _as_array(image)
    rank = array.ndim
    plan = None
    if engine == "fast":
        plan = (
            _cached_plan(operator, ksize, padding, magnitude)
            if model is _cached_model(operator, ksize, padding, magnitude)
            else stencil.plan(model)
        )
    batch, value_range, uint8_out = _standardize(
        array, _channels(model), keep_uint8=plan is not None
    )
    pad_layer = next((layer for layer in model.layers if layer.name == "pad"), None)
    if pad_layer is not None and pad_layer.mode == "valid":
        size = model.get_layer("grad_x").kernel.shape[0]
        if min(batch.shape[1:3]) < size:
            raise ValueError(
                f"Invalid image size for padding='valid': height and width must be at least "
                f"ksize={size}. Received: image.shape={array.shape}"
            )
    if plan is not None:
        edges = stencil.run(plan, batch, threshold=threshold, normalize=normalize)
        return (
            edges[0]
            if rank == 2
            else (edges[0, ..., None] if rank == 3 else edges[..., None])
        )
    edges = _run_model(model, batch)
    if normalize or threshold is not None:
        full_scale = _full_scale(model)
        if threshold is not None:
            edges = edges >= np.float32(threshold * value_range * full_scale)
        else:
            edges = edges / np.float32(full_scale)
    if uint8_out and edges.dtype != np.bool_:
        edges = np.clip(np.rint(edges), 0, 255).astype(np.uint8)
    if rank == 2:
        return edges[0, :, :, 0]
    return edges[0] if rank == 3 else edges


def _direction(image, output, *, operator, ksize, padding, magnitude, model, engine):
    """`gradient_edges` for `output="gradients"` or `"orientation"`: float32 always."""
    if model is not None:
        _check_model(model)
    if isinstance(image, (list, tuple)):
        options = dict(operator=operator, ksize=ksize, padding=padding)
        options.update(magnitude=magnitude, model=model, engine=engine)
        return [_direction(each, output, **options) for each in image]
    array = _as_array(image)
    rank = array.ndim
    channels = 1 if model is None else _channels(model)
    fast = engine == "fast"
    batch, _, _ = _standardize(array, channels, keep_uint8=fast)
    if model is None:
        key = (operator, ksize, padding, magnitude)
        plan = fast and _cached_plan(*key)
        model = _cached_head(_cached_model(*key), output)
    else:
        plan = fast and stencil.plan(model)
        model = _cached_head(model, output)
    if plan:
        result = stencil.run(plan, batch, output=output)
        result = result if output == "gradients" else result[..., None]
    else:
        result = _run_model(model, batch)
    if rank == 2:
        return result[0, :, :, 0] if result.shape[-1] == 1 else result[0]
    return result[0] if rank == 3 else result


def _masked_colour_or_axis(image, mask, colour, axis, **options):
    """`gradient_edges` with a `mask`, a colour mode or one `axis`."""
    check_choice("colour", colour, COLOUR_MODES)
    if isinstance(image, (list, tuple)):
        masks = [None] * len(image) if mask is None else mask
        return [
            _masked_colour_or_axis(each, m, colour, axis, **options)
            for each, m in zip(image, masks)
        ]
    rank = _as_array(image).ndim
    if axis is not None:
        if axis not in (0, 1, -1, -2) or isinstance(axis, bool):
            raise ValueError(
                "Invalid value for argument `axis`. Expected 0 or -2 (along the height) "
                f"or 1 or -1 (along the width). Received: axis={axis!r}"
            )
        if options["output"] != "magnitude" or options["threshold"] is not None:
            raise ValueError(
                "Invalid value for argument `axis`: it returns one signed derivative and "
                "takes no `output`, `threshold` or `normalize`. Received: "
                f"output={options['output']!r}, threshold={options['threshold']!r}"
            )
        options.update(output="gradients", normalize=False)
    if colour != "luminance":
        edges = _colour_edges(image, colour, **options)
    else:
        edges = gradient_edges(image, **options)
    if axis is not None:
        edges = edges[..., 1 if axis in (0, -2) else 0]
        edges = edges if rank == 2 else edges[..., None]
    return edges if mask is None else _apply_mask(edges, mask, rank)


def _colour_edges(
    image,
    colour,
    *,
    operator,
    ksize,
    padding,
    magnitude,
    normalize,
    threshold,
    output,
    model,
    engine,
):
    """Colour edges (`colour="max"` or `"di_zenzo"`) through `build_edge_model`."""
    if model is not None:
        raise ValueError(
            f"Invalid argument `model` with colour={colour!r}: build the model with "
            "build_edge_model(colour=..., channels=3) and pass colour='luminance'. "
            f"Received: model={model.name!r}"
        )
    if threshold is not None:
        check_number("threshold", threshold, low=0, high=1)
    check_choice("output", output, OUTPUTS[:2])
    array = _as_array(image)
    rank = array.ndim
    batch, value_range, _ = _standardize(array, 3)
    scaled = normalize or threshold is not None
    model = _cached_colour_model(
        operator, ksize, padding, magnitude, colour, scaled, output
    )
    edges = np.asarray(model(batch))
    if threshold is not None:
        edges = edges >= np.float32(threshold * value_range)
    if rank == 2:
        return edges[0, :, :, 0] if edges.shape[-1] == 1 else edges[0]
    return edges[0] if rank == 3 else edges


@functools.lru_cache(maxsize=16)
def _cached_colour_model(
    operator, ksize, padding, magnitude, colour, normalize, output
):
    options = dict(ksize=ksize, padding=padding, magnitude=magnitude, output=output)
    options.update(colour=colour, channels=3, normalize=normalize)
    return build_edge_model(operator, data_format="channels_last", **options)


@functools.lru_cache(maxsize=32)
def _cached_model(
    operator: str, ksize: int, padding: str, magnitude: str
) -> keras.Model:
    options = dict(ksize=ksize, padding=padding, magnitude=magnitude)
    return build_edge_model(operator, data_format="channels_last", **options)


@functools.lru_cache(maxsize=32)
def _cached_plan(
    operator: str, ksize: int, padding: str, magnitude: str
) -> stencil.Plan | None:
    """The stencil engine's plan of `_cached_model(...)` (frozen: its kernels never change)."""
    return stencil.plan(_cached_model(operator, ksize, padding, magnitude))


_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_head(model: keras.Model, output: str) -> keras.Model:
    """`_output_head(model, output)`, built once per model and output (so traced once)."""
    heads = _HEADS.setdefault(model, {})
    if output not in heads:
        heads[output] = _output_head(model, output)
    return heads[output]


def _full_scale(model: keras.Model) -> float:
    """The largest magnitude that `model` gives on images with values in [0, 1]."""
    try:
        kernel_x = model.get_layer("grad_x").get_weights()[0]
        kernel_y = model.get_layer("grad_y").get_weights()[0]
        norm = model.get_layer("magnitude").norm
    except (ValueError, AttributeError, IndexError):
        raise ValueError(
            "`normalize` and `threshold` need a model with layers 'grad_x', 'grad_y' and "
            "'magnitude', as build_edge_model() makes. Received a model with layers "
            f"{[layer.name for layer in model.layers]}"
        ) from None
    return max_response(kernel_x, kernel_y, norm)
