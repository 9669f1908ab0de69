"""The few TensorFlow calls of the stencil graph, in JAX: the stencil engine under JAX.

`keras_edges.engine.stencil` writes its graph against a small subset of the `tf` API
(casts, slices, sums, `tf.function(jit_compile=True)` and concrete functions). Under
`KERAS_BACKEND=jax` it imports this module as `tf` instead, so the same graph is traced by
`jax.jit` and compiled by XLA for each buffer shape (the same size buckets), without
TensorFlow in the loop. Only what the stencil uses is here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

uint8, int16, int32, float32, bool = (
    jnp.uint8,
    jnp.int16,
    jnp.int32,
    jnp.float32,
    jnp.bool_,
)
abs, maximum, minimum, sqrt, square, round, where = (
    jnp.abs,
    jnp.maximum,
    jnp.minimum,
    jnp.sqrt,
    jnp.square,
    jnp.round,
    jnp.where,
)
zeros_like = jnp.zeros_like


Tensor = jax.Array


def is_tensor(value):
    return isinstance(value, jax.Array)  # tracers included


def add_n(tensors):
    total = tensors[0]
    for tensor in tensors[1:]:
        total = total + tensor
    return total


def complex(real, imag):  # noqa: A001 - `tf.complex`
    return jax.lax.complex(real, imag)


def bitcast(tensor, dtype):
    return jax.lax.bitcast_convert_type(tensor, dtype)


def cast(tensor, dtype):
    return tensor.astype(dtype)


def constant(value, dtype=None):
    return jnp.asarray(value, dtype)


def clip_by_value(tensor, low, high):
    return jnp.clip(tensor, low, high)


def concat(tensors, axis):
    return jnp.concatenate(tensors, axis=axis)


def gather(tensor, indices, axis):
    return jnp.take(tensor, np.asarray(indices), axis=axis)


def TensorSpec(shape, dtype):  # noqa: N802 - the name the stencil calls
    return jax.ShapeDtypeStruct(shape, dtype)


class _Function:
    """`tf.function(f, jit_compile=True)`: `get_concrete_function` is `jax.jit` AOT."""

    def __init__(self, function):
        self._jitted = jax.jit(function)

    def __call__(self, *tensors):
        return self._jitted(*tensors)

    def get_concrete_function(self, *specs):
        return self._jitted.lower(*specs).compile()


def function(python_function, **_):
    return _Function(python_function)


class errors:  # noqa: N801 - `tf.errors.OpError`, caught by the stencil's DLPack hand-over
    OpError = RuntimeError


class experimental:  # noqa: N801 - no DLPack: `constant` copies the buffer to the device
    dlpack = None
