"""The edge models: one builder per family.

`build_edge_model` (the fixed and trainable gradient operators, colour edges),
`build_canny_model`, `build_laplacian_model` (the second-derivative family, in
`models.laplacian`) and `build_boundary_model` (the learned detector).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from keras_edges.kernels import (
    MAGNITUDES,
    PADDING_MODES,
    get_kernels,
    gradient_frame,
)
from keras_edges.layers import (
    COLOUR_MODES,
    BilinearUpsampling,
    BorderPadding,
    ColourMagnitude,
    CropToReference,
    DilatedDepthwiseConv2D,
    DoubleThreshold,
    GaussianBlur,
    GradientMagnitude,
    GradientOrientation,
    Hysteresis,
    MaskedGaussianBlur,
    MaskErosion,
    NonMaxSuppression,
    PadToMultiple,
    PixelDifferenceConv2D,
)
from keras_edges.layers._common import _check_data_format
from keras_edges.models._common import _image_input
from keras_edges.models.laplacian import LAPLACIAN_METHODS, build_laplacian_model
from keras_edges.validation import check_choice

__all__ = [
    "BOUNDARY_VERSIONS",
    "DEFAULT_BOUNDARY_VERSION",
    "CANNY_OUTPUTS",
    "LAPLACIAN_METHODS",
    "OUTPUTS",
    "PRETRAINED_WEIGHTS",
    "build_boundary_model",
    "build_canny_model",
    "build_edge_model",
    "build_laplacian_model",
    "build_sobel_model",
    "pretrained_weights",
]

# What a Canny model returns: the edge map, the suppressed magnitude, or the double
# threshold's 0 / 0.5 / 1 map without tracking.
CANNY_OUTPUTS = ("edges", "suppressed", "thresholds")
# What an edge model returns: the magnitude, the signed (grad_x, grad_y) stacked in a last
# axis of size 2, or the angle atan2(grad_y, grad_x) in radians.
OUTPUTS = ("magnitude", "gradients", "orientation")


def _gradient_graph(
    image,
    operator,
    ksize,
    padding,
    magnitude,
    channels,
    trainable,
    normalize,
    kernel_initializer=None,
    kernel_constraint=None,
    data_format="channels_last",
    colour="luminance",
):
    """Add `pad -> (grad_x, grad_y) -> magnitude` after `image`; return the three tensors.

    The two Conv2D layers get the table's kernels at once, unless `kernel_initializer`
    is given (the learned variant's random start). A `colour` other than
    `"luminance"` takes every channel's gradient (two `DepthwiseConv2D`) and combines
    them with `ColourMagnitude`.
    """
    if colour != "luminance":
        return _colour_gradient_graph(
            image,
            operator,
            ksize,
            padding,
            magnitude,
            channels,
            normalize,
            colour,
            data_format,
        )
    kernel_x, kernel_y = get_kernels(
        operator,
        ksize=ksize,
        channels=channels,
        normalize=normalize,
        magnitude=magnitude,
    )
    size = kernel_x.shape[0]
    # An even kernel's anchor is its element `size // 2`, as OpenCV's default anchor.
    pad = (size // 2, (size - 1) // 2)
    padded = BorderPadding(
        (pad, pad), mode=padding, data_format=data_format, name="pad"
    )(image)
    conv = dict(
        filters=1,
        kernel_size=size,
        padding="valid",
        use_bias=False,
        trainable=trainable,
        data_format=data_format,
    )
    if kernel_constraint is not None:
        conv["kernel_constraint"] = keras.constraints.get(kernel_constraint)
    initializers = ["zeros", "zeros"]  # overwritten with the table's kernels below
    if kernel_initializer is not None:
        initializers = [keras.initializers.get(kernel_initializer)] * 2
        config = initializers[0].get_config()
        # A seeded Keras initializer draws the same values on every call: identical
        # kernels would get identical gradients and never separate, so grad_y gets seed + 1.
        if isinstance(config.get("seed"), int):
            initializers[1] = type(initializers[0]).from_config(
                {**config, "seed": config["seed"] + 1}
            )
    conv_x = keras.layers.Conv2D(
        name="grad_x", kernel_initializer=initializers[0], **conv
    )
    conv_y = keras.layers.Conv2D(
        name="grad_y", kernel_initializer=initializers[1], **conv
    )
    grad_x, grad_y = conv_x(padded), conv_y(padded)
    if kernel_initializer is None:
        conv_x.set_weights([kernel_x])
        conv_y.set_weights([kernel_y])
    edges = GradientMagnitude(norm=magnitude, name="magnitude")([grad_x, grad_y])
    return grad_x, grad_y, edges


def _colour_gradient_graph(
    image, operator, ksize, padding, magnitude, channels, normalize, colour, data_format
):
    """`_gradient_graph` for colour edges: per-channel gradients, then `ColourMagnitude`.

    With `normalize`, the kernels are divided by the one-channel bound of `magnitude`
    (`"max"`) or of the L2 magnitude times sqrt(channels) (`"di_zenzo"`, whose tensor
    sums the channels), so images in [0, 1] give magnitudes in [0, 1].
    """
    norm = "l2" if colour == "di_zenzo" else magnitude
    kernels = get_kernels(operator, ksize=ksize, normalize=normalize, magnitude=norm)
    scale = channels**0.5 if normalize and colour == "di_zenzo" else 1.0
    size = kernels[0].shape[0]
    pad = (size // 2, (size - 1) // 2)
    padded = BorderPadding(
        (pad, pad), mode=padding, data_format=data_format, name="pad"
    )(image)
    gradients = []
    for name, kernel in zip(("grad_x", "grad_y"), kernels):
        conv = keras.layers.DepthwiseConv2D(
            size, use_bias=False, trainable=False, data_format=data_format, name=name
        )
        gradients.append(conv(padded))
        conv.set_weights([np.repeat(kernel / scale, channels, axis=2)])
    edges = ColourMagnitude(
        colour, norm=norm, data_format=data_format, name="magnitude"
    )(gradients)
    return (*gradients, edges)


def _output_head(model: keras.Model, output: str) -> keras.Model:
    """Return `model`, or a model sharing its layers that returns `output` instead."""
    check_choice("output", output, OUTPUTS)
    if output == "magnitude":
        return model
    try:
        grad_x, grad_y = (model.get_layer(name) for name in ("grad_x", "grad_y"))
    except ValueError:
        raise ValueError(
            f"output={output!r} needs a model with layers 'grad_x' and 'grad_y', as "
            f"build_edge_model() makes. Received a model with layers {[layer.name for layer in model.layers]}"
        ) from None
    if output == "gradients":
        axis = 1 if grad_x.data_format == "channels_first" else -1
        head = keras.layers.Concatenate(axis=axis, name="gradients")(
            [grad_x.output, grad_y.output]
        )
    else:
        frame = gradient_frame(grad_x.get_weights()[0], grad_y.get_weights()[0])
        head = GradientOrientation(frame=frame, name="orientation")(
            [grad_x.output, grad_y.output]
        )
    # `model.input` keeps the input's structure (one tensor, not a list of one): a list
    # would make Keras warn when the head is called on an array.
    return keras.Model(model.input, head, name=f"{model.name}_{output}")


def build_edge_model(
    operator: str = "sobel",
    *,
    ksize: int | None = None,
    padding: str = "reflect",
    magnitude: str = "l1",
    channels: int = 1,
    trainable: bool = False,
    normalize: bool = False,
    output: str = "magnitude",
    name: str | None = None,
    kernel_initializer=None,
    kernel_constraint=None,
    data_format: str | None = None,
    colour: str = "luminance",
    mask: bool = False,
) -> keras.Model:
    """Build the edge detector as a Keras functional model.

    The graph is `image -> pad -> (grad_x, grad_y) -> magnitude`: a registered
    `BorderPadding` layer, then two bias-free `Conv2D` layers with `padding="valid"`
    whose kernels come from `get_kernels` and are injected with `set_weights`, then
    `GradientMagnitude`. The layers are named `"image"`, `"pad"`, `"grad_x"`, `"grad_y"`
    and `"magnitude"`; reach them with `model.get_layer(name)`. With `output="gradients"`
    or `"orientation"` a last layer of that name returns the signed gradients or their angle
    instead (the magnitude layer is then not part of the model).

    Args:
        operator: A key of `KERNELS`: `"farid"`, `"prewitt"`, `"roberts"`, `"scharr"`,
            `"sobel"`.
        ksize: Kernel size (Sobel: 3, 5 or 7; Roberts 2; Farid 5); None is the
            operator's smallest.
        padding: Border mode, one of `PADDING_MODES`; `"valid"` shrinks the output by
            `ksize - 1` in height and width.
        magnitude: `"l1"` (`|gx| + |gy|`) or `"l2"` (`sqrt(gx**2 + gy**2)`).
        channels: Input channels; the kernels respond to the channel mean.
        trainable: Whether the two kernels are trainable (the learned variant).
        normalize: Scale the kernels so that images in [0, 1] give magnitudes in [0, 1].
        output: One of `OUTPUTS`: `"magnitude"`; `"gradients"`, the signed `(grad_x,
            grad_y)` in OpenCV's sign convention stacked in a last axis of size 2; or
            `"orientation"`, the angle `atan2(grad_y, grad_x)` in radians in (-pi, pi]
            (for Roberts' cross, turned into the image frame with `gradient_frame`).
        name: Model name; defaults to `f"{operator}_edges"`.
        kernel_initializer: `None` (the default) starts both kernels from the
            operator's table values. A Keras initializer or its name (e.g.
            `keras.initializers.RandomNormal(stddev=0.1, seed=0)`; seed it for
            reproducible runs) starts them from random values instead: the learned
            variant, see `keras_edges.train.fit_edge_model`. A seeded initializer
            gives `grad_y` the seed plus one, so the two kernels start different.
        kernel_constraint: A Keras constraint applied to both kernels after each
            optimizer step (e.g. `ZeroSum()`), or `None`.
        data_format: `"channels_last"` (`(batch, H, W, channels)`) or
            `"channels_first"` (`(batch, channels, H, W)`, PyTorch's convention); None
            is `keras.config.image_data_format()`. The kernels are the same.
        colour: One of `COLOUR_MODES`, how several channels make one edge map:
            `"luminance"` (the default: the gradient of one image, the channels
            weighted by `channel_weights`, ITU-R 601-2 for RGB, as `detect_edges`
            converts colour); `"max"` (every channel's gradient, `"grad_x"` and
            `"grad_y"` are then `DepthwiseConv2D`, and the largest channel magnitude)
            or `"di_zenzo"` (the structure tensor of all channels, see
            `ColourMagnitude`; `magnitude` is then L2). These two see a boundary
            between colours of equal luminance; they are not trainable here, and with
            `output="gradients"` return every channel's `grad_x`, then every
            channel's `grad_y` (`2 * channels` in the last axis, as kornia's
            `spatial_gradient` per channel).
        mask: Add a second input `"mask"` `(batch, H, W, 1)` (non-zero inside) and
            return the magnitude only inside it, as scikit-image's `mask=`: the mask is
            eroded by one pixel with a 3x3 square, the frame counting as outside
            (`MaskErosion`), so no edge appears along the mask's border; 0 outside.
            Only with `output="magnitude"`.

    Returns:
        An uncompiled `keras.Model` mapping `(batch, H, W, channels)` float32 images to
        `(batch, H, W, 1)` edge magnitudes (or angles), or `(batch, H, W, 2)` gradients
        (channels_first: the channel axis comes second).

    Raises:
        ValueError: If an argument is not one of its documented choices.

    Example:
    >>> model = build_edge_model("sobel")
    >>> [layer.name for layer in model.layers]
    ['image', 'pad', 'grad_x', 'grad_y', 'magnitude']
    >>> step = np.zeros((1, 3, 4, 1), "float32"); step[:, :, 2:] = 1.0
    >>> np.asarray(model(step))[0, :, :, 0]
    array([[0., 4., 4., 0.],
           [0., 4., 4., 0.],
           [0., 4., 4., 0.]], dtype=float32)
    """
    check_choice("padding", padding, PADDING_MODES)
    check_choice("magnitude", magnitude, MAGNITUDES)
    check_choice("output", output, OUTPUTS)
    check_choice("colour", colour, COLOUR_MODES)
    # validates before any layer exists
    get_kernels(operator, ksize=ksize, channels=channels)
    fixed = dict(trainable=trainable, kernel_initializer=kernel_initializer)
    fixed.update(
        kernel_constraint=kernel_constraint, orientation=output == "orientation"
    )
    if colour != "luminance" and any(v not in (None, False) for v in fixed.values()):
        raise ValueError(
            f"Invalid value for argument `colour`. colour={colour!r} builds a fixed "
            "per-channel model: it takes no trainable, kernel_initializer or "
            f"kernel_constraint, and no output='orientation'. Received: {fixed!r}"
        )
    data_format = _check_data_format(data_format)
    image = _image_input(channels, data_format)
    graph = _gradient_graph(
        image,
        operator,
        ksize,
        padding,
        magnitude,
        channels,
        trainable,
        normalize,
        kernel_initializer,
        kernel_constraint,
        data_format,
        colour,
    )
    model = keras.Model(image, graph[2], name=name or f"{operator}_edges")
    if mask:
        check_choice("output", output, OUTPUTS[:1])  # a mask takes the magnitude only
        region = _image_input(1, data_format, "mask")
        eroded = MaskErosion(name="mask_erosion", data_format=data_format)(region)
        masked = keras.layers.Multiply(name="masked")([graph[2], eroded])
        return keras.Model([image, region], masked, name=model.name)
    if output != "magnitude":
        model = _output_head(model, output)
        model.name = name or f"{operator}_{output}"
    return model


def build_sobel_model(**kwargs) -> keras.Model:
    """Build the Sobel edge model: `build_edge_model("sobel", **kwargs)`.

    Example:
    >>> tuple(build_sobel_model(ksize=5).get_layer("grad_x").kernel.shape)
    (5, 5, 1, 1)
    """
    return build_edge_model("sobel", **kwargs)


def build_canny_model(
    operator: str = "sobel",
    *,
    ksize: int | None = None,
    sigma: float = 1.0,
    low: float = 0.1,
    high: float = 0.2,
    use_quantiles: bool = False,
    magnitude: str = "l2",
    padding: str = "reflect",
    interpolate: bool = True,
    channels: int = 1,
    name: str | None = None,
    data_format: str | None = None,
    blur_ksize=None,
    output: str = "edges",
    from_gradients: bool = False,
    mask: bool = False,
) -> keras.Model:
    """Build Canny's edge detector as one Keras functional model.

    The graph is `image -> blur_pad -> blur -> pad -> (grad_x, grad_y) -> magnitude ->
    suppress -> hysteresis`: `BorderPadding` and `GaussianBlur` (scipy's Gaussian,
    truncated at `int(4 * sigma + 0.5)` pixels), the gradient of `build_edge_model`
    (any operator of the table, L1 or L2), `NonMaxSuppression` along the gradient
    direction and `Hysteresis` (double threshold, then connectivity propagated inside
    the graph until it stops changing). Every layer is registered: the model saves and
    loads in safe mode.

    The defaults follow scikit-image's `feature.canny` (sigma 1, Sobel, L2, interpolated
    suppression, thresholds 0.1 and 0.2 for images in [0, 1]); OpenCV's `cv2.Canny` is
    `sigma=0, magnitude="l1", padding="replicate", interpolate=False` with thresholds on
    the raw Sobel magnitude of 0..255 pixels.

    Args:
        operator: A key of `KERNELS`.
        ksize: Kernel size of the operator.
        sigma: Standard deviation of the Gaussian, >= 0 (0: no smoothing), or a pair
            `(sigma_rows, sigma_columns)`.
        low: Weak threshold on the gradient magnitude, in the image's value units.
        high: Strong threshold, `>= low`.
        use_quantiles: Treat `low` and `high` as quantiles in [0, 1] of each image's
            gradient magnitude (as scikit-image: before suppression).
        magnitude: `"l1"` or `"l2"`.
        padding: Border mode of the blur and the gradient, one of `PADDING_MODES`.
        interpolate: Interpolated (scikit-image) or 4-sector (OpenCV) suppression.
        channels: Input channels; the gradient responds to the channel mean.
        name: Model name; defaults to `f"{operator}_canny"`.
        data_format: `"channels_last"` or `"channels_first"` (see `build_edge_model`).
        blur_ksize: None (the Gaussian truncated at 4 sigma, as scipy), or the
            Gaussian's odd kernel size, or a pair `(rows, columns)` (kornia's
            `kernel_size`; kornia's `canny` uses 5 and sigma 1).
        output: One of `CANNY_OUTPUTS`: `"edges"` (the boolean edge map);
            `"suppressed"`, the magnitude after non-maximum suppression (kornia's
            first output, the soft map an evaluation sweeps); or `"thresholds"`, the
            double threshold without tracking, 0 / 0.5 weak / 1 strong (kornia's
            `hysteresis=False`, see `DoubleThreshold`).
        from_gradients: Take the gradients instead of the image (OpenCV's
            `Canny(dx, dy, ...)`): the model has two inputs `"grad_x"` and `"grad_y"`
            of shape `(batch, H, W, 1)`, in OpenCV's sign convention, and no blur or
            gradient layers (`operator`, `ksize`, `sigma`, `padding`, `channels` and
            `blur_ksize` are then unused).
        mask: Add a second input `"mask"` `(batch, H, W, 1)` (non-zero inside), as
            scikit-image's `canny(mask=...)`: the blur averages only the pixels inside
            (`MaskedGaussianBlur`) and edges are kept only inside the mask eroded by
            one pixel, the frame counting as outside (`MaskErosion`).

    Returns:
        An uncompiled `keras.Model` mapping `(batch, H, W, channels)` float32 images to
        a `(batch, H, W, 1)` boolean edge map (float32 for the other outputs).

    Raises:
        ValueError: If an argument is not one of its documented choices.

    Example:
    >>> square = np.zeros((1, 12, 12, 1), "float32"); square[:, 3:9, 3:9] = 1
    >>> edges = np.asarray(build_canny_model()(square))[0, :, :, 0]
    >>> edges.dtype, int(edges.sum()), bool(edges[5, 2] or edges[5, 3])
    (dtype('bool'), 20, True)
    """
    check_choice("padding", padding, PADDING_MODES)
    check_choice("magnitude", magnitude, MAGNITUDES)
    check_choice("output", output, CANNY_OUTPUTS)
    # validates before any layer exists
    get_kernels(operator, ksize=ksize, channels=channels)
    data_format = _check_data_format(data_format)
    layout = dict(data_format=data_format)
    blur = GaussianBlur(sigma, ksize=blur_ksize, name="blur", **layout)
    thresholds = dict(low=low, high=high, use_quantiles=use_quantiles, **layout)
    threshold = Hysteresis(name="hysteresis", **thresholds)
    if output == "thresholds":
        threshold = DoubleThreshold(name="thresholds", **thresholds)
    if from_gradients:
        inputs = [_image_input(1, data_format, name) for name in ("grad_x", "grad_y")]
        grad_x, grad_y = inputs
        edges = GradientMagnitude(norm=magnitude, name="magnitude")(inputs)
        frame = ((1.0, 0.0), (0.0, 1.0))
    else:
        inputs = _image_input(channels, data_format)
        (rows, columns) = blur.radii()
        pad_width = ((rows, rows), (columns, columns))
        smoothed = BorderPadding(pad_width, padding, name="blur_pad", **layout)(inputs)
        if mask:
            inputs = [inputs, _image_input(1, data_format, "mask")]
            region = BorderPadding(pad_width, padding, name="mask_pad", **layout)(
                inputs[1]
            )
            blur = MaskedGaussianBlur(blur.sigma, blur.ksize, name="blur", **layout)
            smoothed = [smoothed, region]
        smoothed = blur(smoothed)
        grad_x, grad_y, edges = _gradient_graph(
            smoothed,
            operator,
            ksize,
            padding,
            magnitude,
            channels,
            False,
            False,
            **layout,
        )
        frame = gradient_frame(*get_kernels(operator, ksize=ksize))
    suppress = NonMaxSuppression(
        interpolate=interpolate, frame=frame, name="suppress", **layout
    )
    suppressed = suppress([grad_x, grad_y, edges])
    if mask and not from_gradients:
        eroded = MaskErosion(name="mask_erosion", **layout)(inputs[1])
        suppressed = keras.layers.Multiply(name="masked")([suppressed, eroded])
    result = suppressed if output == "suppressed" else threshold([suppressed, edges])
    return keras.Model(inputs, result, name=name or f"{operator}_canny")


# ------------------------------------------------------------------------------ learned

# The learned detector's versions by name: the architecture of each, and the file of its
# shipped weights in keras_edges/weights/ (its provenance is the JSON of the same stem).
# A version's architecture never changes once its weights are shipped, so that a pipeline
# can pin `build_boundary_model(version=..., pretrained=True)`.
BOUNDARY_VERSIONS = {
    "v1": dict(
        widths=(16, 32, 64, 64),
        blocks=3,
        pixel_difference=True,
        weights="boundaries.weights.h5",
    ),
    # The second generation: the coarsest stage twice as wide (86,857 parameters; it runs
    # at 1/8 resolution, so the cost per pixel barely moves).
    "v2": dict(
        widths=(16, 32, 64, 128),
        blocks=3,
        pixel_difference=True,
        weights="boundaries_v2.weights.h5",
    ),
}
DEFAULT_BOUNDARY_VERSION = "v1"
_WEIGHTS = Path(__file__).parents[1] / "weights"

# The shipped weights of `build_boundary_model()` and their provenance (a JSON beside).
PRETRAINED_WEIGHTS = _WEIGHTS / BOUNDARY_VERSIONS[DEFAULT_BOUNDARY_VERSION]["weights"]


def pretrained_weights(version: str = DEFAULT_BOUNDARY_VERSION) -> Path:
    """The path of a version's shipped weights (it may not exist: see `build_boundary_model`)."""
    check_choice("version", version, tuple(BOUNDARY_VERSIONS))
    return _WEIGHTS / BOUNDARY_VERSIONS[version]["weights"]


# ImageNet statistics of RGB in [0, 1], as most edge nets normalise their input.
_RGB_MEAN = (0.485, 0.456, 0.406)
_RGB_STD = (0.229, 0.224, 0.225)


def _residual_block(x, kind: str, dilation_rate: int, name: str):
    """PiDiNet's block: `x + pointwise(relu(pixel-difference depthwise(x)))`."""
    y = PixelDifferenceConv2D(kind, dilation_rate, name=f"{name}_pdc")(x)
    y = keras.layers.ReLU(name=f"{name}_relu")(y)
    y = keras.layers.Conv2D(x.shape[-1], 1, name=f"{name}_pw")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def _side_output(x, scale: int, name: str, dilations=(1, 3, 5)):
    """One stage's boundary logits: 8 channels, context at `dilations`, upsampled."""
    y = keras.layers.Conv2D(8, 1, activation="relu", name=f"{name}_reduce")(x)
    context = [
        (DilatedDepthwiseConv2D if d > 1 else keras.layers.DepthwiseConv2D)(
            3, padding="same", dilation_rate=d, name=f"{name}_dilated{d}"
        )(y)
        for d in dilations
    ]
    y = keras.layers.Add(name=f"{name}_context")(context)
    y = keras.layers.ReLU(name=f"{name}_context_relu")(y)
    y = keras.layers.Conv2D(1, 1, name=f"{name}_logits")(y)
    return BilinearUpsampling(scale, name=f"{name}_up")(y) if scale > 1 else y


def _boundary_logits(image, widths, blocks: int, kinds, contexts) -> list:
    """The boundary net on `image`: the logits of the fusion, then of each side output.

    `build_boundary_model`'s graph for any number of stages (`widths`; the input is
    padded to a multiple of the coarsest stage's stride) and any dilations of each side
    output's context (`contexts`); ablations build variants with it.
    """
    x = PadToMultiple(2 ** (len(widths) - 1), name="pad")(image)
    x = keras.layers.Normalization(
        mean=_RGB_MEAN, variance=[s * s for s in _RGB_STD], name="normalize"
    )(x)
    x = keras.layers.Conv2D(widths[0], 3, padding="same", name="stem")(x)
    sides = []
    for stage, (width, dilations) in enumerate(zip(widths, contexts)):
        prefix = f"stage{stage + 1}"
        if stage:
            x = keras.layers.MaxPooling2D(2, name=f"{prefix}_pool")(x)
            x = keras.layers.Conv2D(width, 1, name=f"{prefix}_expand")(x)
        for block in range(blocks):
            dilation = 2 if stage >= 3 and block else 1  # from the 1/8 stage on
            x = _residual_block(
                x, kinds[block % len(kinds)], dilation, f"{prefix}_block{block + 1}"
            )
        sides.append(_side_output(x, 2**stage, f"side{stage + 1}", dilations))
    fused = keras.layers.Concatenate(name="sides")(sides)
    fused = keras.layers.Conv2D(
        1,
        1,
        kernel_initializer=keras.initializers.Constant(1.0 / len(sides)),
        name="fuse",
    )(fused)
    names = ["fuse", *(f"side{stage + 1}" for stage in range(len(sides)))]
    return [
        CropToReference(name=f"{part}_crop")([tensor, image])
        for part, tensor in zip(names, [fused, *sides])
    ]


def build_boundary_model(
    *,
    pretrained: bool = False,
    version: str = DEFAULT_BOUNDARY_VERSION,
    widths=None,
    blocks: int | None = None,
    pixel_difference: bool | None = None,
    side_outputs: bool = False,
    name: str = "boundaries",
) -> keras.Model:
    """Build the learned boundary detector: RGB in, boundary probabilities out.

    A pixel-difference network in the manner of PiDiNet (Su et al., ICCV 2021), sized
    for a CPU: a 3x3 stem, then four stages at full, 1/2, 1/4 and 1/8 resolution
    (`widths` channels, `blocks` residual blocks each, whose depthwise 3x3
    convolutions take central, angular and plain differences in turn), one side output
    per stage (a small multi-dilation context module and a logit map, upsampled
    bilinearly), and a 1x1 fusion of the four (HED's deep supervision trains every
    side output as well as the fusion). The versions (`BOUNDARY_VERSIONS`) name an
    architecture and its shipped weights: `"v1"` (the default) has 43,401 parameters,
    `"v2"` 86,857 (its coarsest stage is twice as wide).

    Any image size works: the input is padded by edge replication to a multiple of 8
    and every output is cropped back. The input is RGB in [0, 1].

    Args:
        pretrained: Load the version's shipped weights (trained on BSDS500; see
            `keras_edges/weights/boundaries.json`, or `boundaries_v2.json`, for how),
            only with the version's own architecture.
        version: A key of `BOUNDARY_VERSIONS`: the architecture (and the weights of
            `pretrained`); pin it to keep a pipeline's results when the default moves.
        widths: Channels of the four stages (None: the version's).
        blocks: Residual blocks per stage (None: the version's).
        pixel_difference: Use pixel-difference convolutions (`False`: plain ones;
            None: the version's).
        side_outputs: Return the training model, whose outputs are the logits of the
            fusion and of each side output, instead of the fused probabilities.
        name: Model name.

    Returns:
        A `keras.Model` mapping `(batch, H, W, 3)` float32 images to `(batch, H, W, 1)`
        probabilities (or, with `side_outputs=True`, a list of five logit maps).

    Raises:
        ValueError: If `version` is unknown, `widths` is not four positive ints,
            `blocks < 1`, or `pretrained=True` with another architecture than the
            version's.
        FileNotFoundError: If `pretrained=True` and the version's weights are not
            installed.

    Example:
    >>> model = build_boundary_model()
    >>> model.count_params(), tuple(model(np.zeros((1, 13, 7, 3), "float32")).shape)
    (43401, (1, 13, 7, 1))
    >>> build_boundary_model(version="v2").count_params()
    86857
    """
    check_choice("version", version, tuple(BOUNDARY_VERSIONS))
    spec = BOUNDARY_VERSIONS[version]
    widths = tuple(spec["widths"] if widths is None else widths)
    blocks = spec["blocks"] if blocks is None else blocks
    if pixel_difference is None:
        pixel_difference = spec["pixel_difference"]
    if len(widths) != 4 or not all(isinstance(w, int) and w > 0 for w in widths):
        raise ValueError(
            "Invalid value for argument `widths`. Expected four positive ints. "
            f"Received: widths={widths!r}"
        )
    if not isinstance(blocks, int) or blocks < 1:
        raise ValueError(
            f"Invalid value for argument `blocks`. Expected an int >= 1. Received: blocks={blocks!r}"
        )
    own = (spec["widths"], spec["blocks"], spec["pixel_difference"])
    if pretrained and (widths, blocks, pixel_difference) != own:
        raise ValueError(
            f"The pretrained weights of version {version!r} exist only for its own "
            f"architecture: widths={own[0]!r}, blocks={own[1]!r}, pixel_difference="
            f"{own[2]!r}. Received: widths={widths!r}, blocks={blocks!r}, "
            f"pixel_difference={pixel_difference!r}"
        )
    image = keras.Input(shape=(None, None, 3), name="image")
    kinds = ("cd", "ad", "cv") if pixel_difference else ("cv",)
    logits = _boundary_logits(image, widths, blocks, kinds, [(1, 3, 5)] * len(widths))
    if side_outputs:
        model = keras.Model(image, logits, name=f"{name}_training")
    else:
        edges = keras.layers.Activation("sigmoid", name="edges", dtype="float32")(
            logits[0]
        )
        model = keras.Model(image, edges, name=name)
    if pretrained:
        path = pretrained_weights(version)
        if not path.is_file():
            raise FileNotFoundError(
                f"The shipped weights of version {version!r} are missing: {str(path)!r}. "
                "Reinstall keras-edges, or choose another version (versions with weights: "
                f"{[v for v in BOUNDARY_VERSIONS if pretrained_weights(v).is_file()]})."
            )
        copy_weights(_load_pretrained(version), model)
    return model


def copy_weights(source: keras.Model, target: keras.Model) -> keras.Model:
    """Copy the weights of every layer of `source` into the same-named layer of `target`.

    The boundary model's inference and training graphs share their layer names, so
    weights move between them (and between a model and its fine-tuned copy) by name.
    """
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())
    return target


def _load_pretrained(version: str) -> keras.Model:
    """The version's inference model with its shipped weights."""
    model = build_boundary_model(version=version)
    model.load_weights(pretrained_weights(version))
    return model
