"""Learn edge filters from data: data pipelines, fitting, and inspecting the result.

- `data`: images and targets from arrays or folders, and the `tf.data` pipeline;
- `fit`: `fit_edge_model` (the recipe that recovers an operator reliably);
- `inspect`: `learned_kernels`, `kernel_error`.
"""

from keras_edges.train.fit import fit_edge_model
from keras_edges.train.inspect import kernel_error, learned_kernels

__all__ = ["fit_edge_model", "kernel_error", "learned_kernels"]
