"""One public function per detection method, each taking only its own options.

`detect_edges(image, method=name, **options)` dispatches to `METHODS[name]`; a new
method is one module here and one entry of `METHODS`.
"""

from __future__ import annotations

import types

from keras_edges.methods.canny import canny_edges, canny_from_gradients
from keras_edges.methods.gradient import gradient_edges
from keras_edges.methods.laplacian import (
    difference_of_gaussians,
    laplacian,
    laplacian_of_gaussian,
    marr_hildreth,
    xdog,
)
from keras_edges.methods.learned import learned_boundaries

__all__ = [
    "canny_edges",
    "canny_from_gradients",
    "difference_of_gaussians",
    "gradient_edges",
    "laplacian",
    "laplacian_of_gaussian",
    "learned_boundaries",
    "marr_hildreth",
    "xdog",
]

# `detect_edges`' methods, by name, in the order its messages list them.
METHODS = types.MappingProxyType(
    {
        "gradient": gradient_edges,
        "canny": canny_edges,
        "learned": learned_boundaries,
        "laplacian": laplacian,
        "log": laplacian_of_gaussian,
        "dog": difference_of_gaussians,
        "xdog": xdog,
        "marr_hildreth": marr_hildreth,
    }
)
