"""What the layer families share: data formats, and masks written as float arithmetic."""

from __future__ import annotations

import keras
from keras import ops

from keras_edges.validation import check_choice

DATA_FORMATS = ("channels_last", "channels_first")  # Keras' names for NHWC and NCHW


def _check_data_format(data_format):
    """`data_format`, or Keras' global `image_data_format()` for None, validated."""
    data_format = (
        keras.config.image_data_format() if data_format is None else data_format
    )
    return check_choice("data_format", data_format, DATA_FORMATS)


def _spatial_axes(data_format):
    """The (height, width) axes of a 4-D tensor in `data_format`."""
    return (1, 2) if data_format == "channels_last" else (2, 3)


def _positive(x):
    """1.0 where the float32 `x > 0`, else 0.0: a comparison written as arithmetic.

    TFLite's XNNPACK runs float32 arithmetic 3-15x faster than the comparisons and
    selects it does not take (`GREATER`, `SELECT_V2`: 1-2 ms each on 512x512). `ceil`
    passes no gradient on, so a mask made of it carries none, as a comparison. Equal to
    `x > 0` except where `x` is a difference smaller than float32's smallest normal
    number, which the CPU flushes to 0.
    """
    return ops.ceil(ops.minimum(ops.relu(x), 1.0))


def _choose(mask, a, b):
    """`where(mask, a, b)` for a float `mask` of 0.0 and 1.0 and finite `a`, `b`: exact."""
    return mask * a + (1.0 - mask) * b
