"""`detect_edges`: the library call that runs the edge model on images of any common kind."""

from __future__ import annotations

import functools
import os
import warnings
import weakref

import keras
import numpy as np
from PIL import Image

from keras_edges.engine import canny, learned, stencil
from keras_edges.io import load_image, to_float
from keras_edges.kernels import max_response
from keras_edges.models import (
    OUTPUTS,
    _output_head,
    build_boundary_model,
    build_canny_model,
    build_edge_model,
)
from keras_edges.validation import check_choice, check_number, check_scales

__all__ = ["detect_edges"]

# Pillow's "L" conversion in 16-bit fixed point (ITU-R 601-2), so uint8 colour arrays
# give exactly the luminance that `load_image(..., mode="L")` gives for the same pixels.
_LUMA_FIXED = np.array([19595, 38470, 7471], np.uint32)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Larger pixels could overflow float32 inside a convolution (kernel weights reach ~1e3).
_MAX_PIXEL = 1e30


def _as_array(image) -> np.ndarray:
    """Turn one image of any accepted kind into an ndarray."""
    if isinstance(image, (str, os.PathLike, bytes, bytearray, Image.Image)):
        return load_image(image)
    if isinstance(image, np.ndarray):
        return image
    if keras.ops.is_tensor(image):  # a tensor of the Keras backend
        return keras.ops.convert_to_numpy(image)
    if hasattr(image, "__array__"):
        return np.asarray(image)
    raise TypeError(
        "Invalid type for argument `image`. Expected a path, a PIL image, bytes, a NumPy "
        "array, a tensor of the Keras backend or a list of those. Received: image of type "
        f"{type(image).__name__}"
    )


def _warn_if_channels_first(shape) -> None:
    """Warn when an NHWC colour image could also be NCHW, e.g. `(2, 3, 4, 4)`.

    Arrays are read as NHWC, as Keras' `channels_last`: nothing is guessed. A shape
    whose last axis is 3 or 4 (RGB or RGBA) and whose channel axis under NCHW (axis 1,
    or axis 0 of a single image) is 1, 3 or 4 reads both ways: say which was chosen.
    """
    first = {4: 1, 3: 0}.get(len(shape))
    if first is not None and shape[first] in (1, 3, 4) and shape[-1] in (3, 4):
        if len(shape) == 3 and shape[0] == 1:
            return  # a one-row colour image: (1, W, C) is no image under CHW
        warnings.warn(
            f"image.shape={tuple(shape)} is read as channels_last (NHWC): "
            f"{shape[-1]} channels of {shape[first]}x{shape[first + 1]} pixels. If it "
            "is channels_first (NCHW), pass np.moveaxis(image, "
            f"{first}, -1) instead.",
            stacklevel=4,
        )


def _standardize(
    array: np.ndarray, channels: int, keep_uint8: bool = False
) -> tuple[np.ndarray, float, bool]:
    """Return `(batch, value_range, uint8_out)`: a float32 `(N, H, W, channels)` batch.

    uint8 keeps its 0..255 values (value range 255, uint8 out); uint16 is scaled to
    [0, 1]; bool, floats and other integers keep their values (float32 out). With
    `keep_uint8`, a uint8 image stays uint8 (the fast engine converts it in its graph).
    """
    if array.dtype.kind not in "biuf":
        raise TypeError(
            "Invalid dtype for argument `image`. Expected bool, integer or float pixels. "
            f"Received: image.dtype={array.dtype}"
        )
    _warn_if_channels_first(array.shape)
    if array.ndim == 2:
        array = array[None, :, :, None]
    elif array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "Invalid shape for argument `image`. Expected (H, W), (H, W, C) or (N, H, W, C) "
            "with C in {1, 3, 4} (grey, RGB, RGBA). Received: image.shape="
            f"{array.shape[1:] if array.ndim == 4 and array.shape[0] == 1 else array.shape}. "
            "For a batch of grey images, add a channel axis: image[..., None]."
        )
    if 0 in array.shape:
        raise ValueError(
            f"Invalid value for argument `image`: it is empty. Received: image.shape={array.shape}"
        )
    uint8_in = array.dtype == np.uint8
    value_range = 255.0 if uint8_in else 1.0
    if array.shape[-1] == 4:
        array = array[..., :3]  # alpha is dropped
    if array.dtype == np.uint16:
        array = to_float(array)
    if array.shape[-1] == 3 and channels == 1:
        if uint8_in:
            array = ((array.astype(np.uint32) @ _LUMA_FIXED + 0x8000) >> 16)[..., None]
            array = array.astype(np.uint8) if keep_uint8 else array
        else:
            array = (array.astype(np.float32) @ _LUMA)[..., None]
    if keep_uint8 and uint8_in:
        batch = (
            array
            if array.shape[-1] == channels
            else np.repeat(array, channels, axis=-1)
        )
        return batch, value_range, uint8_in
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported below
        batch = array.astype(np.float32, copy=False)
    lowest, highest = float(batch.min()), float(batch.max())  # NaN and inf propagate
    if not (np.isfinite(lowest) and np.isfinite(highest)):
        raise ValueError(
            "Invalid value for argument `image`. Expected finite pixel values. Received an "
            f"image with {int(np.isnan(batch).sum())} NaN and {int(np.isinf(batch).sum())} "
            "infinite values (after conversion to float32). Replace them, e.g. with "
            "np.nan_to_num(image)."
        )
    if max(-lowest, highest) > _MAX_PIXEL:
        raise ValueError(
            f"Invalid value for argument `image`. Expected pixel values within +-{_MAX_PIXEL:g}, "
            "so that weighted sums of them fit in float32. Received values in "
            f"[{lowest:g}, {highest:g}]. Rescale the image, e.g. image / np.abs(image).max()."
        )
    if batch.shape[-1] != channels:
        batch = np.repeat(batch, channels, axis=-1)
    return batch, value_range, uint8_in


@functools.lru_cache(maxsize=32)
def _cached_model(
    operator: str, ksize: int, padding: str, magnitude: str
) -> keras.Model:
    options = dict(ksize=ksize, padding=padding, magnitude=magnitude)
    return build_edge_model(operator, data_format="channels_last", **options)


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _check_model(model) -> None:
    """Raise unless `model` maps images `(N, H, W, C)` to edge maps `(N, H, W, K)`."""
    if not isinstance(model, keras.Model):
        raise TypeError(
            "Invalid type for argument `model`. Expected a keras.Model. Received: "
            f"{type(model).__name__}"
        )
    inputs = getattr(model, "inputs", None) or []
    outputs = getattr(model, "outputs", None) or []
    if not (
        len(inputs) == len(outputs) == 1
        and len(inputs[0].shape) == len(outputs[0].shape) == 4
        and inputs[0].shape[1 if _channels_first(model) else -1] is not None
    ):
        raise ValueError(
            "Invalid value for argument `model`. Expected an edge model: one image input "
            "(batch, height, width, channels) and one edge map output (batch, height, "
            "width, 1), as build_edge_model(), build_boundary_model() and `keras-edges "
            f"train` make. Received: model {model.name!r} with inputs "
            f"{[tuple(t.shape) for t in inputs]} and outputs "
            f"{[tuple(t.shape) for t in outputs]}"
        )


def _compile(model: keras.Model):
    """The model's forward pass compiled by the Keras backend: `float32 batch -> array`.

    TensorFlow: one traced `tf.function` for any image size. JAX: `jax.jit` of the
    model's stateless call, given the current weights at each call (a new image size
    traces again). PyTorch: an eager call without autograd. The function reaches the
    model through a weak reference: a value that held the model itself would keep its
    own key of `_COMPILED` alive, and no model would ever be freed.
    """
    reference = weakref.ref(model)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        signature = [tf.TensorSpec((None, *model.input_shape[1:]), tf.float32)]
        traced = tf.function(
            lambda batch: reference()(batch, training=False),
            input_signature=signature,
        )
        return lambda batch: traced(tf.constant(batch)).numpy()
    if backend == "jax":
        import jax

        traced = jax.jit(
            lambda trainable, fixed, batch: reference().stateless_call(
                trainable, fixed, batch, training=False
            )[0]
        )

        def run(batch):
            model = reference()
            trainable = [v.value for v in model.trainable_variables]
            fixed = [v.value for v in model.non_trainable_variables]
            return np.asarray(traced(trainable, fixed, batch))

        return run

    def run(batch):
        if backend == "torch":
            import torch

            with torch.no_grad():
                return keras.ops.convert_to_numpy(reference()(batch, training=False))
        return keras.ops.convert_to_numpy(reference()(batch, training=False))

    return run


def _run_model(model: keras.Model, batch: np.ndarray) -> np.ndarray:
    """Run `model` on the NHWC `batch` as float32, compiled once; NHWC out.

    A channels_first model gets the batch as NCHW and its output back as NHWC.
    """
    if model not in _COMPILED:
        _COMPILED[model] = _compile(model)
    first = _channels_first(model)
    batch = batch.astype(np.float32, copy=False)  # uint8 kept for an engine that passed
    batch = np.ascontiguousarray(batch.transpose(0, 3, 1, 2) if first else batch)
    result = _COMPILED[model](batch)
    return result.transpose(0, 2, 3, 1) if first else result


def _channels_first(model: keras.Model) -> bool:
    """Whether `model` reads NCHW: its first layer with a `data_format` says so."""
    for layer in model.layers:
        if getattr(layer, "data_format", None) is not None:
            return layer.data_format == "channels_first"
    return False


def _channels(model: keras.Model) -> int:
    """The number of input channels of `model`."""
    return model.input_shape[1 if _channels_first(model) else -1]


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


METHODS = ("gradient", "canny", "learned")
_ENGINES = ("fast", "model")


@functools.lru_cache(maxsize=32)
def _cached_plan(
    operator: str, ksize: int, padding: str, magnitude: str
) -> stencil.Plan | None:
    """The stencil engine's plan of `_cached_model(...)` (frozen: its kernels never change)."""
    return stencil.plan(_cached_model(operator, ksize, padding, magnitude))


@functools.lru_cache(maxsize=32)
def _cached_canny(
    operator, ksize, padding, magnitude, sigma, low, high, use_quantiles
) -> keras.Model:
    options = dict(ksize=ksize, padding=padding, magnitude=magnitude, sigma=sigma)
    options.update(low=low, high=high, use_quantiles=use_quantiles)
    return build_canny_model(operator, data_format="channels_last", **options)


@functools.lru_cache(maxsize=32)
def _cached_canny_plan(*key) -> canny.Plan | None:
    """The Canny engine's plan of `_cached_canny(*key)` (frozen: it never changes)."""
    return canny.plan(_cached_canny(*key))


_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cached_head(model: keras.Model, output: str) -> keras.Model:
    """`_output_head(model, output)`, built once per model and output (so traced once)."""
    heads = _HEADS.setdefault(model, {})
    if output not in heads:
        heads[output] = _output_head(model, output)
    return heads[output]


def _detect_canny_or_direction(
    image, method, output, low, high, sigma, use_quantiles, **options
):
    """`detect_edges` for `method="canny"` or `output` other than the magnitude."""
    check_choice("method", method, METHODS)
    check_choice("output", output, OUTPUTS)
    check_choice("engine", options["engine"], _ENGINES)
    if options["threshold"] is not None or options["normalize"]:
        raise ValueError(
            "Invalid value for argument `threshold`/`normalize`. They apply to the gradient "
            f"magnitude only. Received: method={method!r}, output={output!r}, "
            f"threshold={options['threshold']!r}, normalize={options['normalize']!r}"
        )
    if method == "canny" and output != "magnitude":
        raise ValueError(
            f"Invalid value for argument `output` with method='canny'. Expected 'magnitude' "
            f"(Canny returns an edge map). Received: output={output!r}"
        )
    model = options["model"]
    if model is not None:
        _check_model(model)
    if isinstance(image, (list, tuple)):
        return [
            _detect_canny_or_direction(
                each, method, output, low, high, sigma, use_quantiles, **options
            )
            for each in image
        ]
    array = _as_array(image)
    rank = array.ndim
    channels = 1 if model is None else _channels(model)
    fast = options["engine"] == "fast"
    batch, value_range, _ = _standardize(array, channels, keep_uint8=fast)
    if model is None:
        key = (options["operator"], options["ksize"], options["padding"])
        if method == "canny":
            scale = 1.0 if use_quantiles else value_range
            low = 0.1 * scale if low is None else low
            high = 0.2 * scale if high is None else high
            magnitude = options["magnitude"] or "l2"
            key = (*key, magnitude, float(sigma), float(low), float(high))
            model = _cached_canny(*key, use_quantiles)
            plan = fast and _cached_canny_plan(*key, use_quantiles)
        else:
            key = (*key, options["magnitude"] or "l1")
            plan = fast and _cached_plan(*key)
            model = _cached_head(_cached_model(*key), output)
    else:
        plan = fast and (canny if method == "canny" else stencil).plan(model)
        if method == "gradient":
            model = _cached_head(model, output)
    if method == "canny" and plan:
        result = canny.run(plan, batch)[..., None]
    elif plan:
        result = stencil.run(plan, batch, output=output)
        result = result if output == "gradients" else result[..., None]
    else:
        result = _run_model(model, batch)
    if rank == 2:
        return result[0, :, :, 0] if result.shape[-1] == 1 else result[0]
    return result[0] if rank == 3 else result


@functools.lru_cache(maxsize=1)
def _pretrained_boundary_model() -> keras.Model:
    return build_boundary_model(pretrained=True)


def _detect_learned(image, *, model, threshold, nms, scales, normalize, output):
    """`detect_edges` for `method="learned"`: the boundary model's probabilities."""
    from keras_edges.metrics import suppress_nonmaxima

    if normalize or output != "magnitude":
        raise ValueError(
            "Invalid value for argument `normalize`/`output` with method='learned'. The "
            "learned detector returns boundary probabilities in [0, 1]; it takes neither. "
            f"Received: normalize={normalize!r}, output={output!r}"
        )
    if threshold is not None:
        check_number("threshold", threshold, low=0, high=1)
    scales = check_scales("scales", scales)
    if model is None:
        model = _pretrained_boundary_model()
    elif not isinstance(model, keras.Model) or not learned.is_boundary_model(model):
        raise TypeError(
            "Invalid value for argument `model` with method='learned'. Expected a model "
            "from build_boundary_model (RGB in, one map out). Received: "
            f"{getattr(model, 'name', type(model).__name__)!r} with input shape "
            f"{getattr(model, 'input_shape', None)}"
        )
    if isinstance(image, (list, tuple)):
        options = dict(threshold=threshold, nms=nms, scales=scales, normalize=False)
        return [
            _detect_learned(each, model=model, output=output, **options)
            for each in image
        ]
    from_file = isinstance(image, (str, os.PathLike, bytes, bytearray, Image.Image))
    array = load_image(image, mode="RGB") if from_file else _as_array(image)
    rank = array.ndim
    batch, value_range, uint8_out = _standardize(array, 3)
    edges = learned.run(model, batch / np.float32(value_range), scales=scales)
    if nms:
        edges = np.stack([suppress_nonmaxima(each) for each in edges])
    if threshold is not None:
        edges = edges >= np.float32(threshold)
    elif uint8_out:
        edges = np.clip(np.rint(edges * 255.0), 0, 255).astype(np.uint8)
    if rank == 2 or from_file:
        return edges[0]
    return edges[0, ..., None] if rank == 3 else edges[..., None]


def detect_edges(
    image,
    *,
    operator: str = "sobel",
    ksize: int | None = None,
    padding: str = "reflect",
    magnitude: str | None = None,
    threshold: float | None = None,
    normalize: bool = False,
    model: keras.Model | None = None,
    engine: str = "fast",
    method: str = "gradient",
    output: str = "magnitude",
    low: float | None = None,
    high: float | None = None,
    sigma: float = 1.0,
    use_quantiles: bool = False,
    nms: bool = False,
    scales=(1.0,),
):
    """Detect edges in one image, a batch, or a list of images.

    Computes what the Keras edge model (see `build_edge_model`) computes. The default
    `engine="fast"` reads the model's own kernels, border mode and norm and runs them as
    one XLA-compiled stencil (image sizes are rounded up to size buckets, so a new size
    rarely compiles again; large images are processed in overlapping tiles with bounded
    memory); `engine="model"` runs the literal Keras model compiled by the Keras
    backend (a `tf.function`, `jax.jit`, or an eager PyTorch call without autograd), the
    reference. The stencil engine runs under the TensorFlow and JAX backends (XLA
    through `tf.function` or `jax.jit`), the Canny engine under TensorFlow; elsewhere
    `"fast"` runs the model. Models are built once per configuration and reused, and
    `model.predict` is never used.

    `method="canny"` runs Canny's detector instead (see `build_canny_model`): Gaussian
    smoothing, gradient, non-maximum suppression and hysteresis, all in one Keras model,
    returning a boolean edge map. Its thresholds `low` and `high` are on the gradient
    magnitude in the image's own units, as scikit-image's `feature.canny` and OpenCV's
    `cv2.Canny`: 0..255 for uint8 pixels (the same numbers that `cv2.Canny` takes, and
    that `skimage.feature.canny` takes for uint8), the pixel values for float images.
    They default to 10% and 20% of the full pixel range (25.5 and 51 for uint8, 0.1 and
    0.2 otherwise), as scikit-image; with `use_quantiles=True` they are quantiles of the
    magnitude.

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
            `"l1"`, or `"l2"` for Canny (as scikit-image).
        threshold: If given, in [0, 1]: return the boolean map `edges >= threshold *
            full scale`, where full scale is the largest magnitude the operator can give
            (for pixels in [0, 1], or 0..255 for uint8).
        normalize: Divide by the full scale, so float edges are in [0, 1] (for pixels in
            [0, 1]) and uint8 edges span 0..255 without saturating.
        model: A model from `build_edge_model` (e.g. a trained one; a channels_first
            model gets the images as NCHW) to use instead of the operator; `operator`,
            `ksize`, `padding` and `magnitude` are then ignored.
            With `method="canny"`, a model from `build_canny_model`.
        engine: `"fast"` (the default) or `"model"` (run the Keras model layer by layer).
            Both give the same edges: bit for bit for integer kernels on uint8 images,
            within float32 rounding otherwise. A model that is not shaped like
            `build_edge_model`'s (other layers, a bias, a non-float32 dtype policy) always
            runs as `"model"`. `method="canny"` has its own fast path (see
            `keras_edges.engine.canny`) for the models of `build_canny_model` with one
            channel and a padding other than `"valid"`: the same edge map as the model,
            pixel for pixel, with hysteresis in linear time.
        method: `"gradient"` (the edge magnitude), `"canny"` (a boolean edge map) or
            `"learned"` (boundary probabilities from the shipped learned detector, see
            `build_boundary_model`; it reads colour: RGB, grey repeated, alpha dropped;
            uint8 in gives probabilities x 255 as uint8, other input float32 in [0, 1];
            `threshold` is then a probability and `model` a boundary model).
        output: For `method="gradient"`: `"magnitude"`, `"gradients"` (the signed
            `(grad_x, grad_y)` in OpenCV's sign convention, stacked in a last axis of
            size 2) or `"orientation"` (`atan2(grad_y, grad_x)` in radians, in the image
            frame also for Roberts' cross); both are float32 for every input dtype and
            take no `threshold` or `normalize`.
        low: Canny's weak threshold (see above).
        high: Canny's strong threshold, `>= low`.
        sigma: Standard deviation of Canny's Gaussian smoothing; 0 for none.
        use_quantiles: Whether `low` and `high` are quantiles in [0, 1].
        nms: For `method="learned"`: thin the map to one-pixel ridges with the edge
            non-maximum suppression of the evaluator (`suppress_nonmaxima`).
        scales: For `method="learned"`: average the maps computed at these scale
            factors (e.g. `(0.5, 1, 1.5)`, multi-scale testing); default one scale.

    Returns:
        An array with the input's rank: `(H, W)`, `(H, W, 1)` or `(N, H, W, 1)`; a path
        or PIL image gives `(H, W)`. A list gives a list. uint8 for uint8 input, bool
        with `threshold` or `method="canny"`, float32 otherwise. `output="gradients"`
        adds a last axis of size 2 (`(H, W, 2)` for an `(H, W)` image).

    Raises:
        ValueError: For a bad shape, an empty image, NaN or inf pixels (or beyond
            +-1e30, where float32 sums would overflow), an image smaller
            than the kernel with `padding="valid"`, or an unknown option.
        TypeError: For an unsupported object or dtype.
        FileNotFoundError: For a path that does not exist.

    Example:
    >>> image = np.zeros((5, 5), "float32"); image[1:4, 2] = 1; image[2, 1:4] = 1
    >>> detect_edges(image)
    array([[0., 2., 0., 2., 0.],
           [2., 6., 4., 6., 2.],
           [0., 4., 0., 4., 0.],
           [2., 6., 4., 6., 2.],
           [0., 2., 0., 2., 0.]], dtype=float32)
    >>> detect_edges((image * 255).astype("uint8"))[1]
    array([255, 255, 255, 255, 255], dtype=uint8)
    >>> detect_edges(image, threshold=0.5)[1].tolist()
    [False, True, True, True, False]
    >>> detect_edges(image, output="gradients")[1, 2]
    array([0., 4.], dtype=float32)
    >>> square = np.zeros((12, 12), "uint8"); square[3:9, 3:9] = 200
    >>> int(detect_edges(square, method="canny", low=20, high=40).sum())
    20
    """
    if method == "learned":
        return _detect_learned(
            image,
            model=model,
            threshold=threshold,
            nms=nms,
            scales=scales,
            normalize=normalize,
            output=output,
        )
    if method != "gradient" or output != "magnitude":
        options = dict(
            operator=operator, ksize=ksize, padding=padding, magnitude=magnitude
        )
        options.update(
            threshold=threshold, normalize=normalize, model=model, engine=engine
        )
        return _detect_canny_or_direction(
            image, method, output, low, high, sigma, use_quantiles, **options
        )
    magnitude = magnitude or "l1"
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
        return [detect_edges(each, **options) for each in image]

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
