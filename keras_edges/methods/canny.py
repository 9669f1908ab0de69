"""`canny_edges`: Canny's detector (smoothing, gradient, suppression, hysteresis)."""

from __future__ import annotations

import functools

import keras
import numpy as np

from keras_edges.engine import canny
from keras_edges.methods._common import (
    _ENGINES,
    _as_array,
    _channels,
    _check_model,
    _run_model,
    _standardize,
)
from keras_edges.models import build_canny_model
from keras_edges.validation import check_choice

__all__ = ["canny_edges", "canny_from_gradients"]


def canny_edges(
    image,
    *,
    sigma: float = 1.0,
    low: float | None = None,
    high: float | None = None,
    use_quantiles: bool = False,
    operator: str = "sobel",
    ksize: int | None = None,
    padding: str = "reflect",
    magnitude: str = "l2",
    model: keras.Model | None = None,
    engine: str = "fast",
    mask=None,
    output: str = "edges",
    blur_ksize=None,
):
    """Canny's edge map of one image, a batch, or a list of images.

    Runs Canny's detector as one Keras model (see `build_canny_model`): Gaussian
    smoothing, gradient, non-maximum suppression along the gradient direction and
    hysteresis, returning a boolean edge map. The thresholds `low` and `high` are on
    the gradient magnitude in the image's own units, as scikit-image's `feature.canny`
    and OpenCV's `cv2.Canny`: 0..255 for uint8 pixels (the same numbers that
    `cv2.Canny` takes, and that `skimage.feature.canny` takes for uint8), the pixel
    values for float images. They default to 10% and 20% of the full pixel range (25.5
    and 51 for uint8, 0.1 and 0.2 otherwise), as scikit-image; with
    `use_quantiles=True` they are quantiles of the magnitude. The default
    `engine="fast"` runs the Canny engine (see `keras_edges.engine.canny`, under
    TensorFlow) for models with one channel and a padding other than `"valid"`: the
    same edge map as the model, pixel for pixel, with hysteresis in linear time.
    `detect_edges(image, method="canny", **options)` calls this function.

    Colour images are converted to luminance as Pillow's `"L"` mode does (ITU-R 601-2);
    alpha is dropped; uint16 pixels are scaled to [0, 1].

    Args:
        image: A path, a PIL image, encoded bytes, a NumPy array or a tensor of the
            Keras backend of shape `(H, W)`, `(H, W, C)` or `(N, H, W, C)` with C in
            {1, 3, 4}, or a list of those (of any sizes).
        sigma: Standard deviation of the Gaussian smoothing; 0 for none.
        low: The weak threshold (see above); None is 10% of the pixel range.
        high: The strong threshold, `>= low`; None is 20% of the pixel range.
        use_quantiles: Whether `low` and `high` are quantiles in [0, 1] of each image's
            gradient magnitude.
        operator: A key of `KERNELS`: `"farid"`, `"prewitt"`, `"roberts"`, `"scharr"`,
            `"sobel"`.
        ksize: Kernel size of the operator; None is the operator's smallest.
        padding: Border mode of the smoothing and the gradient, one of `PADDING_MODES`.
        magnitude: `"l2"` (`sqrt(gx**2 + gy**2)`, scikit-image's) or `"l1"`
            (`|gx| + |gy|`); None is `"l2"`.
        model: A model from `build_canny_model` to use instead; the other options
            (but `engine`) are then the model's own.
        engine: `"fast"` (the default) or `"model"` (run the Keras model layer by
            layer); both give the same edge map.
        mask: None, or a region `(H, W)` (non-zero inside; `(N, H, W)` for a batch),
            as scikit-image's `canny(mask=...)`: the blur averages only the pixels
            inside it and edges are kept inside it eroded by one pixel (3x3 square,
            the frame counting as outside).
        output: `"edges"` (the boolean map), `"suppressed"` (the magnitude after
            non-maximum suppression, float32: kornia's first output) or
            `"thresholds"` (0, 0.5 weak, 1 strong without tracking: kornia's
            `hysteresis=False`).
        blur_ksize: The Gaussian's odd kernel size, or a pair `(rows, columns)`
            (kornia's `kernel_size`); None truncates at 4 sigma. `sigma` may also be
            a pair `(rows, columns)`. `mask`, `output`, `blur_ksize` and a sigma
            pair run the Keras model (the Canny engine takes the default
            configuration only).

    Returns:
        A boolean array with the input's rank: `(H, W)`, `(H, W, 1)` or
        `(N, H, W, 1)`; a path or PIL image gives `(H, W)`. A list gives a list.

    Raises:
        ValueError: For a bad shape, an empty image, NaN or inf pixels, or a bad option
            (e.g. `high < low`).
        TypeError: For an unsupported object or dtype.
        FileNotFoundError: For a path that does not exist.

    Example:
    >>> square = np.zeros((12, 12), "uint8"); square[3:9, 3:9] = 200
    >>> edges = canny_edges(square, low=20, high=40)
    >>> edges.dtype, int(edges.sum())
    (dtype('bool'), 20)
    >>> edges[2:10, 5].astype(int).tolist()
    [0, 1, 0, 0, 0, 0, 1, 0]
    >>> int(canny_edges(square, sigma=2, use_quantiles=True, low=0.8, high=0.9).sum())
    20
    """
    check_choice("engine", engine, _ENGINES)
    extra = dict(mask=mask, output=output, blur_ksize=blur_ksize)
    if (
        mask is not None
        or output != "edges"
        or blur_ksize is not None
        or isinstance(sigma, (tuple, list))
    ):
        options = dict(sigma=sigma, low=low, high=high, use_quantiles=use_quantiles)
        options.update(operator=operator, ksize=ksize, padding=padding)
        options.update(magnitude=magnitude, model=model, **extra)
        return _canny_model_only(image, **options)
    if model is not None:
        _check_model(model)
    if isinstance(image, (list, tuple)):
        options = dict(sigma=sigma, low=low, high=high, use_quantiles=use_quantiles)
        options.update(operator=operator, ksize=ksize, padding=padding)
        options.update(magnitude=magnitude, model=model, engine=engine)
        return [canny_edges(each, **options) for each in image]
    array = _as_array(image)
    rank = array.ndim
    channels = 1 if model is None else _channels(model)
    fast = engine == "fast"
    batch, value_range, _ = _standardize(array, channels, keep_uint8=fast)
    if model is None:
        scale = 1.0 if use_quantiles else value_range
        low = 0.1 * scale if low is None else low
        high = 0.2 * scale if high is None else high
        key = (operator, ksize, padding, magnitude or "l2")
        key = (*key, float(sigma), float(low), float(high), use_quantiles)
        model = _cached_canny(*key)
        plan = fast and _cached_canny_plan(*key)
    else:
        plan = fast and canny.plan(model)
    result = canny.run(plan, batch)[..., None] if plan else _run_model(model, batch)
    if rank == 2:
        return result[0, :, :, 0]
    return result[0] if rank == 3 else result


def _canny_model_only(image, *, mask, model, **options):
    """`canny_edges` with a mask, another output or another Gaussian: the Keras model."""
    if model is not None:
        raise ValueError(
            "Invalid argument `model` with mask/output/blur_ksize: build the model with "
            "build_canny_model(mask=..., output=..., blur_ksize=...) and pass it alone. "
            f"Received: model={model.name!r}"
        )
    if isinstance(image, (list, tuple)):
        masks = [None] * len(image) if mask is None else mask
        return [
            _canny_model_only(each, mask=m, model=None, **options)
            for each, m in zip(image, masks)
        ]
    array = _as_array(image)
    rank = array.ndim
    batch, value_range, _ = _standardize(array, 1)
    scale = 1.0 if options["use_quantiles"] else value_range
    options["low"] = 0.1 * scale if options["low"] is None else options["low"]
    options["high"] = 0.2 * scale if options["high"] is None else options["high"]
    options["magnitude"] = options["magnitude"] or "l2"
    operator = options.pop("operator")
    built = build_canny_model(operator, mask=mask is not None, **options)
    if mask is None:
        result = np.asarray(built(batch))
    else:
        region = np.asarray(mask)
        region = region if region.ndim == 2 or region.shape[-1] != 1 else region[..., 0]
        region = np.broadcast_to(region != 0, batch.shape[:3])[..., None]
        result = np.asarray(built([batch, region.astype(np.float32)]))
    if rank == 2:
        return result[0, :, :, 0]
    return result[0] if rank == 3 else result


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


def canny_from_gradients(
    grad_x,
    grad_y,
    *,
    low: float,
    high: float,
    magnitude: str = "l2",
    interpolate: bool = True,
    output: str = "edges",
) -> np.ndarray:
    """Canny's edge map from gradients the caller computed (OpenCV's `Canny(dx, dy, ...)`).

    The suppression, thresholds and tracking of `canny_edges` on `grad_x` and `grad_y`
    (a dark-to-bright step left to right has `grad_x > 0`, top to bottom `grad_y > 0`,
    as `gradient_edges(..., output="gradients")` gives them), with no smoothing and no
    gradient of its own: the model `build_canny_model(from_gradients=True)`.

    Args:
        grad_x: The horizontal gradient: `(H, W)`, `(N, H, W)` or `(N, H, W, 1)`, any
            real dtype (OpenCV's int16 `Sobel` output included).
        grad_y: The vertical gradient, of the same shape.
        low: Weak threshold on the magnitude, in the gradients' units.
        high: Strong threshold, `>= low`.
        magnitude: `"l2"` (OpenCV's `L2gradient=True`) or `"l1"` (its default).
        interpolate: Compare each pixel with its neighbours interpolated along the
            gradient (scikit-image); `False` takes the nearest of the four directions
            (OpenCV).
        output: `"edges"` (bool), `"suppressed"` (the magnitude after suppression,
            float32) or `"thresholds"` (0, 0.5, 1 for none, weak, strong; float32).

    Returns:
        The map in the gradients' layout: `(H, W)` for `(H, W)` gradients, else
        `(N, H, W)`.

    Example:
    >>> grad_x = np.zeros((5, 7), np.float32); grad_x[:, 3] = 4.0
    >>> canny_from_gradients(grad_x, np.zeros_like(grad_x), low=1, high=2).astype(int)[2]
    array([0, 0, 0, 1, 0, 0, 0])
    """
    pair = []
    for name, gradient in (("grad_x", grad_x), ("grad_y", grad_y)):
        array = np.asarray(gradient)
        if array.ndim == 4 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.ndim not in (2, 3) or not np.isrealobj(array) or array.dtype == bool:
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a real (H, W), (N, H, W) "
                f"or (N, H, W, 1) array. Received: {name}.shape={array.shape}, "
                f"dtype={array.dtype}"
            )
        pair.append(array)
    if pair[0].shape != pair[1].shape:
        raise ValueError(
            "Invalid arguments `grad_x`, `grad_y`. Expected arrays of one shape. "
            f"Received: grad_x.shape={pair[0].shape}, grad_y.shape={pair[1].shape}"
        )
    model = _cached_gradient_canny(
        float(low), float(high), magnitude, bool(interpolate), output
    )
    batch = [
        (array if array.ndim == 3 else array[None]).astype(np.float32)[..., None]
        for array in pair
    ]
    result = np.asarray(model(batch))[..., 0]
    if output == "edges":
        result = result > 0
    return result[0] if pair[0].ndim == 2 else result


@functools.lru_cache(maxsize=8)
def _cached_gradient_canny(low, high, magnitude, interpolate, output) -> keras.Model:
    """`build_canny_model(from_gradients=True, ...)`, built once per configuration."""
    return build_canny_model(
        from_gradients=True,
        low=low,
        high=high,
        magnitude=magnitude,
        interpolate=interpolate,
        output=output,
    )
