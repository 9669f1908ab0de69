"""Learn edges from data: data pipelines, fitting, losses, and inspecting the result.

- `data`: images and targets from arrays or folders, and the `tf.data` pipelines
  (`make_dataset` for the edge filters, `boundary_dataset` for the boundary model);
- `fit`: `fit_edge_model` (the recipe that recovers an operator reliably);
- `boundaries`: `fit_boundary_model` (the learned boundary detector, resumable) and
  `boundary_scores`;
- `runs`: run folders (one run each, locked while it trains, crash-consistent);
- `losses`: `ConsensusBalancedCrossEntropy` (HED/RCF);
- `inspect`: `learned_kernels`, `kernel_error`.
"""

from keras_edges.train.boundaries import boundary_scores, fit_boundary_model
from keras_edges.train.data import boundary_dataset
from keras_edges.train.fit import fit_edge_model
from keras_edges.train.inspect import kernel_error, learned_kernels
from keras_edges.train.losses import ConsensusBalancedCrossEntropy

__all__ = [
    "ConsensusBalancedCrossEntropy",
    "boundary_dataset",
    "boundary_scores",
    "fit_boundary_model",
    "fit_edge_model",
    "kernel_error",
    "learned_kernels",
]
