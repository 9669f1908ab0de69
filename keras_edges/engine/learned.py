"""The learned boundary model's fast path: one traced graph for every image size.

`run(model, batch, scales=..., flip=...)` returns the model's boundary probabilities for a
float32 RGB batch in [0, 1]. The forward pass is traced once with unknown height and width
(so a new image size costs no new trace) and kept on the model object itself, so it lives
and dies with the model. Several `scales` average the maps computed on resized copies
(the multi-scale testing of HED, RCF and PiDiNet); `flip` also averages, at each scale,
the map of the mirrored image mirrored back (test-time augmentation).

A model of `build_boundary_model`'s architecture (any widths, blocks, convolution kinds)
runs as a folded graph of TensorFlow's own operations, read from its layers at every call
(so a model in training is always run with its current weights): the input normalisation
folded into the stem's kernel, each pixel-difference kernel folded into a plain one, and
every convolution written as convolution + `bias_add` (+ `relu`, + the residual `add`),
the patterns that TensorFlow's graph optimiser fuses into one CPU kernel; the
element-wise passes that the Keras graph runs separately (a third of its time) go.
Same output as the Keras model within float32 rounding; any other boundary model runs
its Keras graph. XLA is not used: its CPU depthwise convolutions are far slower than
TensorFlow's own kernels.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import tensorflow as tf

__all__ = ["is_boundary_model", "run"]

_FORWARD = "_keras_edges_forward"


def is_boundary_model(model: keras.Model) -> bool:
    """Whether `model` looks like `build_boundary_model`'s: RGB in, one map out."""
    return (
        len(model.inputs) == 1
        and len(model.outputs) == 1
        and tuple(model.input_shape[1:]) == (None, None, 3)
        and tuple(model.output_shape[1:]) == (None, None, 1)
    )


def _forward(model: keras.Model):
    forward = getattr(model, _FORWARD, None)
    if forward is None:
        folded = _folded_forward(model)
        forward = tf.function(
            folded or (lambda batch: model(batch, training=False)),
            input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)],
        )
        setattr(model, _FORWARD, forward)
    return forward


def _architecture(model: keras.Model):
    """`build_boundary_model`'s options that rebuild `model`'s layers, or None."""
    from keras_edges.layers.boundary import PixelDifferenceConv2D
    from keras_edges.models import build_boundary_model

    layers = {layer.name: layer for layer in model.layers}
    try:
        widths = tuple(layers[f"stage{s}_block1_pw"].filters for s in range(1, 5))
        blocks = sum(f"stage1_block{b}_pw" in layers for b in range(1, len(layers)))
        kinds = {
            layer.kind
            for layer in model.layers
            if isinstance(layer, PixelDifferenceConv2D)
        }
        options = dict(widths=widths, blocks=blocks, pixel_difference=kinds != {"cv"})
        reference = build_boundary_model(**options)
    except (KeyError, ValueError, AttributeError):
        return None

    def described(layer):  # as JSON: a loaded model's lists are the built one's tuples
        config = dict(layer.get_config(), trainable=None)
        return type(layer), json.dumps(config, sort_keys=True, default=repr)

    same = len(reference.layers) == len(model.layers) and all(
        described(mine) == described(theirs)
        for mine, theirs in zip(model.layers, reference.layers)
    )
    return options if same else None


def _folded_forward(model: keras.Model):
    """The folded graph of a `build_boundary_model` model (see above), or None."""
    options = _architecture(model)
    if options is None:
        return None
    layers = {layer.name: layer for layer in model.layers}
    blocks, stages = options["blocks"], len(options["widths"])

    def conv(x, name, *, relu=False, residual=None):
        layer = layers[name]
        y = tf.nn.bias_add(tf.nn.conv2d(x, layer.kernel, 1, "SAME"), layer.bias)
        if residual is not None:
            y = y + residual
        return tf.nn.relu(y) if relu else y

    def depthwise(x, kernel, rate, bias):
        y = tf.raw_ops.DepthwiseConv2dNative(
            input=x,
            filter=kernel,
            strides=[1, 1, 1, 1],
            padding="SAME",
            dilations=[1, rate, rate, 1],
        )
        return tf.nn.bias_add(y, bias)

    def forward(images):
        x = layers["pad"](images)
        normalize = layers["normalize"]
        mean = tf.reshape(tf.cast(normalize.mean, tf.float32), (-1,))
        std = tf.sqrt(tf.reshape(tf.cast(normalize.variance, tf.float32), (-1,)))
        stem = layers["stem"]
        # conv((x - mean) / std, k) = conv(x - mean, k / std), zero padding alike
        kernel = stem.kernel / tf.reshape(std, (1, 1, -1, 1))
        x = tf.nn.bias_add(tf.nn.conv2d(x - mean, kernel, 1, "SAME"), stem.bias)
        sides = []
        for stage in range(1, stages + 1):
            if stage > 1:
                x = tf.nn.max_pool2d(x, 2, 2, "VALID")
                x = conv(x, f"stage{stage}_expand")
            zero = tf.zeros((x.shape[-1],), tf.float32)
            for block in range(1, blocks + 1):
                name = f"stage{stage}_block{block}"
                pdc = layers[f"{name}_pdc"]
                y = depthwise(x, pdc.plain_kernel(), pdc.dilation_rate, zero)
                x = conv(tf.nn.relu(y), f"{name}_pw", residual=x)
            name = f"side{stage}"
            y = conv(x, f"{name}_reduce", relu=True)
            context = None
            for dilation in (1, 3, 5):
                layer = layers[f"{name}_dilated{dilation}"]
                z = depthwise(y, layer.kernel, dilation, layer.bias)
                context = z if context is None else context + z
            y = conv(tf.nn.relu(context), f"{name}_logits")
            sides.append(layers[f"{name}_up"](y) if stage > 1 else y)
        fused = conv(tf.concat(sides, axis=-1), "fuse")
        shape = tf.shape(images)
        return tf.sigmoid(fused[:, : shape[1], : shape[2], :])

    return forward


def run(
    model: keras.Model, batch: np.ndarray, *, scales=(1.0,), flip: bool = False
) -> np.ndarray:
    """The boundary probabilities `(N, H, W)` of a float32 `(N, H, W, 3)` batch in [0, 1]."""
    model_forward = _forward(model)

    def forward(images):
        result = model_forward(images)
        if flip:
            mirrored = model_forward(tf.reverse(images, axis=[2]))
            result = (result + tf.reverse(mirrored, axis=[2])) / 2.0
        return result

    images = tf.constant(batch, tf.float32)
    height, width = batch.shape[1:3]
    total = None
    for scale in scales:
        if scale == 1:
            result = forward(images)
        else:
            size = (max(1, round(height * scale)), max(1, round(width * scale)))
            resized = tf.image.resize(images, size, antialias=scale < 1)
            result = tf.image.resize(forward(resized), (height, width))
        total = result if total is None else total + result
    return (total / len(scales)).numpy()[..., 0]
