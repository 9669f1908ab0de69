"""Registered Keras layers of the package's models, one module per family.

- `gradient`: the gradient model's border padding, magnitude and zero-sum constraint;
- `canny`: Canny's Gaussian blur, orientation, non-maximum suppression and hysteresis;
- `colour`: colour edges from every channel's gradient (largest, or Di Zenzo's);
- `laplacian`: the second-derivative family's Laplacian of Gaussian, XDoG threshold and
  zero crossings;
- `mask`: scikit-image's masks (the eroded mask, the smoothing inside a mask);
- `boundary`: the learned boundary model's pixel-difference convolutions and resizing.

Every layer is registered with `keras.saving.register_keras_serializable` under the
package name ``keras_edges`` when its module is imported, and importing this package
imports them all: a saved model loads with ``keras.saving.load_model(path)`` in safe
mode once ``keras_edges.layers`` (or any module of the package that builds or loads
models) is imported.
"""

from __future__ import annotations

from keras_edges.layers.boundary import (
    BilinearUpsampling,
    CropToReference,
    DilatedDepthwiseConv2D,
    PadToMultiple,
    PixelDifferenceConv2D,
    pixel_difference_matrix,
)
from keras_edges.layers.canny import (
    DoubleThreshold,
    GaussianBlur,
    GradientOrientation,
    Hysteresis,
    NonMaxSuppression,
    gaussian_radius,
)
from keras_edges.layers.colour import COLOUR_MODES, ColourMagnitude
from keras_edges.layers.gradient import BorderPadding, GradientMagnitude, ZeroSum
from keras_edges.layers.laplacian import (
    LaplacianOfGaussian,
    XDoGThreshold,
    ZeroCrossings,
)
from keras_edges.layers.mask import MaskedGaussianBlur, MaskErosion

__all__ = [
    "BilinearUpsampling",
    "BorderPadding",
    "COLOUR_MODES",
    "ColourMagnitude",
    "CropToReference",
    "DilatedDepthwiseConv2D",
    "DoubleThreshold",
    "GaussianBlur",
    "GradientMagnitude",
    "GradientOrientation",
    "Hysteresis",
    "LaplacianOfGaussian",
    "MaskErosion",
    "MaskedGaussianBlur",
    "NonMaxSuppression",
    "PadToMultiple",
    "PixelDifferenceConv2D",
    "XDoGThreshold",
    "ZeroCrossings",
    "ZeroSum",
    "gaussian_radius",
    "pixel_difference_matrix",
]
