"""What the model builders share: the image input."""

from __future__ import annotations

import keras


def _image_input(channels: int, data_format: str, name: str = "image"):
    """The model's `"image"` input: `(None, None, channels)` or `(channels, None, None)`."""
    shape = (None, None, channels)
    if data_format == "channels_first":
        shape = (channels, None, None)
    return keras.Input(shape=shape, name=name)
