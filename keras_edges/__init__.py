"""keras_edges: edge detection as Keras models, exact, fast and trainable.

`import keras_edges` registers the package's Keras layers, so that saved models load
with `keras.saving.load_model(path)` (safe mode, no `custom_objects`). The public names
below are imported on first use, which keeps `keras-edges --help` free of TensorFlow.
"""

from __future__ import annotations

import importlib
import os
import sys

__version__ = "0.1.0"

__all__ = [
    "KERNELS",
    "BorderPadding",
    "GaussianBlur",
    "GradientMagnitude",
    "GradientOrientation",
    "Hysteresis",
    "NonMaxSuppression",
    "build_canny_model",
    "build_edge_model",
    "build_sobel_model",
    "detect_edges",
    "export_model",
    "get_kernels",
    "gradient_frame",
    "load_image",
    "max_response",
    "save_image",
    "plot_history",
    "plot_kernels",
    "show_edges",
    "stretch_contrast",
    "ZeroSum",
    "fit_edge_model",
    "kernel_error",
    "learned_kernels",
    # measuring edge quality: keras_edges.datasets and keras_edges.metrics
    "BoundaryScores",
    "boundaries_from_labels",
    "count_boundary_matches",
    "evaluate_boundaries",
    "load_bsds500",
    "match_boundaries",
    "plot_precision_recall",
    "summarize_counts",
    "suppress_nonmaxima",
    "synthetic_dataset",
    "synthetic_images",
    "synthetic_shapes",
    "thin_edges",
]

_HOME = {
    "KERNELS": "kernels",
    "get_kernels": "kernels",
    "max_response": "kernels",
    "BorderPadding": "layers",
    "GradientMagnitude": "layers",
    "GaussianBlur": "layers",
    "GradientOrientation": "layers",
    "Hysteresis": "layers",
    "NonMaxSuppression": "layers",
    "gradient_frame": "kernels",
    "build_canny_model": "models",
    "build_edge_model": "models",
    "build_sobel_model": "models",
    "detect_edges": "detect",
    "export_model": "export",
    "load_image": "io",
    "save_image": "io",
    "plot_history": "plot",
    "plot_kernels": "plot",
    "show_edges": "plot",
    "stretch_contrast": "plot",
    "ZeroSum": "layers",
    "fit_edge_model": "train",
    "kernel_error": "train",
    "learned_kernels": "train",
    "boundaries_from_labels": "datasets",
    "load_bsds500": "datasets",
    "synthetic_dataset": "datasets",
    "synthetic_images": "datasets",
    "synthetic_shapes": "datasets",
    "BoundaryScores": "metrics",
    "count_boundary_matches": "metrics",
    "evaluate_boundaries": "metrics",
    "match_boundaries": "metrics",
    "plot_precision_recall": "plot",
    "summarize_counts": "metrics",
    "suppress_nonmaxima": "metrics",
    "thin_edges": "metrics",
}


def __getattr__(name):
    if name in _HOME:
        value = getattr(importlib.import_module(f"keras_edges.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_edges' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


# The `keras-edges` command imports TensorFlow only for the subcommands that need it
# ("-m": `python -m keras_edges[.cli]`, whose argv[0] is "-m" while the package loads).
if os.path.basename(sys.argv[0] if sys.argv else "") not in ("keras-edges", "-m"):
    importlib.import_module("keras_edges.layers")
