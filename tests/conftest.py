"""Shared fixtures and the one table of tolerances."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "img"
SAMPLE_PHOTOS = sorted(p for p in IMG.iterdir() if p.suffix in (".png", ".jpg"))

# Tolerances by dtype: float32 random inputs rtol=atol=1e-5; float16 1e-3.
TOLERANCE = {
    "float32": dict(rtol=1e-5, atol=1e-5),
    "float16": dict(rtol=1e-3, atol=1e-3),
}


@pytest.fixture(scope="session")
def camera() -> np.ndarray:
    """The 512x512 grey camera photo from img/."""
    from keras_edges import load_image

    return load_image(IMG / "camera.png")


def gradient(function, *arrays):
    """The gradient of `sum(function(*arrays))` with respect to each array, as NumPy arrays.

    Keras 3 has no backend-neutral gradient call, so this is the one place that asks the
    active backend's own autodiff (tf.GradientTape, jax.grad, torch.autograd).
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        total = lambda *xs: jax.numpy.sum(function(*xs))  # noqa: E731
        grads = jax.grad(total, argnums=tuple(range(len(arrays))))(*arrays)
        return [np.asarray(g) for g in grads]
    if backend == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        function(*tensors).sum().backward()
        return [t.grad.numpy() for t in tensors]
    import tensorflow as tf

    variables = [tf.Variable(a) for a in arrays]
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(function(*variables))
    zero = tf.UnconnectedGradients.ZERO  # as JAX and PyTorch: 0 where nothing flows
    return [
        g.numpy() for g in tape.gradient(total, variables, unconnected_gradients=zero)
    ]
