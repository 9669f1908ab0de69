"""The learned boundary model's fast path: one traced graph for every image size.

`run(model, batch, scales=...)` returns the model's boundary probabilities for a float32
RGB batch in [0, 1]. The model's forward pass is traced once with unknown height and
width (so a new image size costs no new trace) and kept on the model object itself, so
it lives and dies with the model. Several `scales` average the maps computed on resized
copies (the multi-scale testing of HED, RCF and PiDiNet). XLA is not used: its CPU
depthwise convolutions are far slower than TensorFlow's own kernels.
"""

from __future__ import annotations

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
        forward = tf.function(
            lambda batch: model(batch, training=False),
            input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)],
        )
        setattr(model, _FORWARD, forward)
    return forward


def run(model: keras.Model, batch: np.ndarray, *, scales=(1.0,)) -> np.ndarray:
    """The boundary probabilities `(N, H, W)` of a float32 `(N, H, W, 3)` batch in [0, 1]."""
    forward = _forward(model)
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
