"""The edge model: one builder for the fixed classical operators and the trainable variant."""

from __future__ import annotations

import keras

from keras_edges.kernels import MAGNITUDES, PADDING_MODES, _check_choice, get_kernels
from keras_edges.layers import BorderPadding, GradientMagnitude

__all__ = ["build_edge_model", "build_sobel_model"]


def build_edge_model(
    operator: str = "sobel",
    *,
    ksize: int = 3,
    padding: str = "reflect",
    magnitude: str = "l1",
    channels: int = 1,
    trainable: bool = False,
    normalize: bool = False,
    name: str | None = None,
    kernel_initializer=None,
    kernel_constraint=None,
) -> keras.Model:
    """Build the edge detector as a Keras functional model.

    The graph is `image -> pad -> (grad_x, grad_y) -> magnitude`: a registered
    `BorderPadding` layer, then two bias-free `Conv2D` layers with `padding="valid"`
    whose kernels come from `get_kernels` and are injected with `set_weights`, then
    `GradientMagnitude`. The layers are named `"image"`, `"pad"`, `"grad_x"`, `"grad_y"`
    and `"magnitude"`; reach them with `model.get_layer(name)`.

    Args:
        operator: A key of `KERNELS`: `"sobel"`, `"scharr"`, `"prewitt"`.
        ksize: Kernel size (Sobel: 3, 5 or 7).
        padding: Border mode, one of `PADDING_MODES`; `"valid"` shrinks the output by
            `ksize - 1` in height and width.
        magnitude: `"l1"` (`|gx| + |gy|`) or `"l2"` (`sqrt(gx**2 + gy**2)`).
        channels: Input channels; the kernels respond to the channel mean.
        trainable: Whether the two kernels are trainable (the learned variant).
        normalize: Scale the kernels so that images in [0, 1] give magnitudes in [0, 1].
        name: Model name; defaults to `f"{operator}_edges"`.
        kernel_initializer: `None` (the default) starts both kernels from the
            operator's table values. A Keras initializer or its name (e.g.
            `keras.initializers.RandomNormal(stddev=0.1, seed=0)`; seed it for
            reproducible runs) starts them from random values instead: the learned
            variant, see `keras_edges.train.fit_edge_model`. A seeded initializer
            gives `grad_y` the seed plus one, so the two kernels start different.
        kernel_constraint: A Keras constraint applied to both kernels after each
            optimizer step (e.g. `ZeroSum()`), or `None`.

    Returns:
        An uncompiled `keras.Model` mapping `(batch, H, W, channels)` float32 images to
        `(batch, H, W, 1)` edge magnitudes.

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
    _check_choice("padding", padding, PADDING_MODES)
    _check_choice("magnitude", magnitude, MAGNITUDES)
    kernel_x, kernel_y = get_kernels(
        operator, ksize=ksize, channels=channels, normalize=normalize, magnitude=magnitude
    )
    size = kernel_x.shape[0]
    image = keras.Input(shape=(None, None, channels), name="image")
    # An even kernel's anchor is its element `size // 2`, as OpenCV's default anchor.
    pad = (size // 2, (size - 1) // 2)
    padded = BorderPadding((pad, pad), mode=padding, name="pad")(image)
    conv = dict(filters=1, kernel_size=size, padding="valid", use_bias=False, trainable=trainable)
    initializers = [None, None]
    if kernel_initializer is not None:
        initializers = [keras.initializers.get(kernel_initializer)] * 2
        config = initializers[0].get_config()
        # A seeded Keras initializer draws the same values on every call: identical
        # kernels would get identical gradients and never separate, so grad_y gets seed + 1.
        if isinstance(config.get("seed"), int):
            initializers[1] = type(initializers[0]).from_config({**config, "seed": config["seed"] + 1})
    if kernel_constraint is not None:
        conv["kernel_constraint"] = keras.constraints.get(kernel_constraint)
    grad_x, grad_y = (
        keras.layers.Conv2D(name=layer_name, **conv, **({"kernel_initializer": init} if init else {}))(padded)
        for layer_name, init in zip(("grad_x", "grad_y"), initializers)
    )
    edges = GradientMagnitude(norm=magnitude, name="magnitude")([grad_x, grad_y])
    model = keras.Model(image, edges, name=name or f"{operator}_edges")
    if kernel_initializer is None:
        model.get_layer("grad_x").set_weights([kernel_x])
        model.get_layer("grad_y").set_weights([kernel_y])
    return model


def build_sobel_model(**kwargs) -> keras.Model:
    """Build the Sobel edge model: `build_edge_model("sobel", **kwargs)`.

    Example:
    >>> tuple(build_sobel_model(ksize=5).get_layer("grad_x").kernel.shape)
    (5, 5, 1, 1)
    """
    return build_edge_model("sobel", **kwargs)
