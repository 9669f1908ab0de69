"""Doctests see `np` and the public API, as a user's session would (`pytest keras_edges` alone).

`pytest --backend jax` (or `torch`, `tensorflow`) sets `KERAS_BACKEND` before Keras is
imported. Under a backend other than TensorFlow only the tests marked `backends` run (the
layers, builders, Canny, and `tests/test_backends.py`, which compares every output with
the TensorFlow backend's; `backends("jax")` limits a test to the backends named, as for
the stencil engine, which runs under TensorFlow and JAX), plus the doctests of the modules in
`BACKEND_DOCTESTS`; the rest use TensorFlow features (tf.data, SavedModel, TFLite).
"""

import importlib.util
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

BACKENDS = ("tensorflow", "jax", "torch")
# The JAX twin of the stencil engine's TensorFlow calls imports jax: its doctests (none)
# are collected only where JAX is installed (`make test-jax`).
collect_ignore = []
try:
    import jax  # noqa: F401
except ImportError:
    collect_ignore.append("keras_edges/engine/_jax_tf.py")
# The Beam pipeline's module (and doctests) where the extra is installed (`make test-beam`).
if importlib.util.find_spec("apache_beam") is None:
    collect_ignore.append("keras_edges/beam.py")
# Modules whose doctests run on every backend.
BACKEND_DOCTESTS = ("keras_edges.kernels", "keras_edges.layers", "keras_edges.models")


def pytest_addoption(parser):
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="Keras backend of the run (sets KERAS_BACKEND). Other than tensorflow, "
        "only the tests marked `backends` run.",
    )


def pytest_configure(config):
    backend = config.getoption("--backend")
    if backend is None:
        return
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != backend:
        raise pytest.UsageError(
            f"--backend {backend}: Keras was imported before the option took effect "
            f"(backend {sys.modules['keras'].backend.backend()!r}); set KERAS_BACKEND={backend}"
        )
    os.environ["KERAS_BACKEND"] = backend


def pytest_collection_modifyitems(config, items):
    import keras

    if keras.backend.backend() == "tensorflow":
        return
    backend = keras.backend.backend()
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("backends")
        if type(item).__name__ == "DoctestItem":
            wanted = item.name.startswith(tuple(f"{m}." for m in BACKEND_DOCTESTS))
        else:  # `backends` alone: every backend; `backends("jax", ...)`: those named
            wanted = marker is not None and (not marker.args or backend in marker.args)
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace, request):
    """Give every doctest `np` and the names of `keras_edges.__all__`.

    Under PyTorch a doctest runs without autograd, as inference does: `np.asarray` of
    a layer's output that tracks gradients (a layer with trainable weights) is an error.
    """
    import keras

    import keras_edges

    doctest_namespace["np"] = np
    for name in keras_edges.__all__:
        doctest_namespace[name] = getattr(keras_edges, name)
    doctest = type(request.node).__name__ == "DoctestItem"
    if doctest and keras.backend.backend() == "torch":
        import torch

        with torch.no_grad():
            yield
    else:
        yield
