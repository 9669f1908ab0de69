"""What a trained edge model learned: its kernels, and their error against an operator."""

from __future__ import annotations

import itertools

import keras
import numpy as np

from keras_edges.kernels import MAGNITUDES, get_kernels
from keras_edges.validation import check_choice

__all__ = ["kernel_error", "learned_kernels"]


def learned_kernels(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """Return the model's `(kernel_x, kernel_y)` as float64 arrays.

    Args:
        model: A model from `build_edge_model` or `fit_edge_model` (layers `"grad_x"`
            and `"grad_y"`).

    Returns:
        Two arrays of shape `(k, k)` for one input channel, `(k, k, C)` for C channels.

    Raises:
        ValueError: If the model has no `"grad_x"` / `"grad_y"` layers.

    Example:
    >>> kernel_x, kernel_y = learned_kernels(build_edge_model("sobel"))
    >>> kernel_x.tolist()[0]
    [-1.0, 0.0, 1.0]
    """
    try:
        weights = [
            model.get_layer(name).get_weights()[0] for name in ("grad_x", "grad_y")
        ]
    except (ValueError, AttributeError, IndexError):
        names = [layer.name for layer in getattr(model, "layers", [])]
        raise ValueError(
            "Invalid value for argument `model`. Expected a model with layers 'grad_x' and "
            f"'grad_y', as build_edge_model() makes. Received: a model with layers {names}"
        ) from None
    squeeze = lambda w: w[:, :, 0, 0] if w.shape[2] == 1 else w[:, :, :, 0]
    return tuple(squeeze(np.asarray(w, np.float64)) for w in weights)


def _as_pair(kernels, name: str) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(kernels, keras.Model):
        kernels = learned_kernels(kernels)
    if isinstance(kernels, (tuple, list)) and len(kernels) == 2:
        pair = [np.asarray(k, np.float64) for k in kernels]
    else:
        kernel = np.asarray(kernels, np.float64)
        pair = [kernel, np.swapaxes(kernel, 0, 1) if kernel.ndim >= 2 else kernel]
    # Sum over input channels: the response to a grey image repeated over the channels.
    pair = [
        k.reshape(k.shape[:2] + (-1,)).sum(axis=2) if k.ndim > 2 else k for k in pair
    ]
    if (
        pair[0].ndim != 2
        or pair[0].shape != pair[1].shape
        or pair[0].shape[0] != pair[0].shape[1]
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a model, a kernel (k, k) or a pair "
            f"(kernel_x, kernel_y) of equal square shapes. Received: shapes "
            f"{[k.shape for k in pair]}"
        )
    return pair[0], pair[1]


def kernel_error(
    model_or_kernels,
    reference="sobel",
    *,
    ksize: int | None = None,
    magnitude: str | None = None,
) -> float:
    """Return the max abs error of learned kernels, after the best invisible alignment.

    The edge magnitude cannot tell some kernel pairs apart, so the learned pair is
    compared with the reference after the best of these transformations of
    `(kernel_x, kernel_y)`:

    - `"l1"` (`|gx| + |gy|`): the sign of each kernel and the swap of x and y, 8 maps
      in all. Nothing else is invisible: a linear mix of `(gx, gy)` keeps `|gx| + |gy|`
      for every image only if it maps the L1 unit diamond onto itself, and the
      diamond's symmetries are exactly these 8 signed permutations (a 45-degree
      rotation, for instance, turns `|gx| + |gy|` into `2 max(|gx|, |gy|)`). The scale
      is visible too; so is the kernels' sum (DC), unless the data never excite it,
      which is why training constrains it to zero rather than leaving it free.
    - `"l2"` (`sqrt(gx**2 + gy**2)`): any rotation or reflection of `(gx, gy)`, a
      continuous family; the best one is found by a dense search over the angle.

    Kernels with C input channels are compared through their sum over the channels
    (their response to a grey image repeated over the channels).

    Args:
        model_or_kernels: A model from `build_edge_model` / `fit_edge_model`, or a pair
            `(kernel_x, kernel_y)` of `(k, k)` (or `(k, k, C[, 1])`) arrays.
        reference: An operator name (a key of `KERNELS`), or a kernel or pair as above.
        ksize: The reference operator's size; None is its smallest.
        magnitude: `"l1"` or `"l2"`; default: the model's, or `"l1"` for arrays.

    Returns:
        The smallest max abs difference over the invisible alignments, as a float.

    Raises:
        ValueError: If the shapes differ or an argument is not a valid choice.

    Example:
    >>> sobel_x, sobel_y = get_kernels("sobel")
    >>> kernel_error((-sobel_y, sobel_x))  # swapped, one sign flipped: invisible
    0.0
    >>> kernel_error(build_edge_model("prewitt"), "sobel")
    1.0
    """
    if magnitude is None:
        magnitude = "l1"
        if isinstance(model_or_kernels, keras.Model):
            try:
                magnitude = model_or_kernels.get_layer("magnitude").norm
            except (ValueError, AttributeError):
                pass
    check_choice("magnitude", magnitude, MAGNITUDES)
    learned = _as_pair(model_or_kernels, "model_or_kernels")
    if isinstance(reference, str):
        kernel_x, kernel_y = get_kernels(reference, ksize=ksize)
        target = (
            kernel_x[:, :, 0, 0].astype(np.float64),
            kernel_y[:, :, 0, 0].astype(np.float64),
        )
    else:
        target = _as_pair(reference, "reference")
    if learned[0].shape != target[0].shape:
        raise ValueError(
            "Invalid value for argument `reference`. Expected kernels of the learned shape "
            f"{learned[0].shape}. Received: reference kernels of shape {target[0].shape}"
        )
    a, b = learned
    if magnitude == "l1":
        errors = [
            max(
                np.abs(sign_x * first - target[0]).max(),
                np.abs(sign_y * second - target[1]).max(),
            )
            for first, second in ((a, b), (b, a))
            for sign_x, sign_y in itertools.product((1, -1), repeat=2)
        ]
        return float(min(errors))

    # l2: (gx, gy) -> Q (gx, gy) with Q orthogonal; coarse grid, then a fine one.
    def error(angle, reflect):
        c, s = np.cos(angle), np.sin(angle)
        second = -b if reflect else b
        return max(
            np.abs(c * a - s * second - target[0]).max(),
            np.abs(s * a + c * second - target[1]).max(),
        )

    best = float("inf")
    for reflect in (False, True):
        angles = np.linspace(-np.pi, np.pi, 3601)
        values = [error(t, reflect) for t in angles]
        centre = angles[int(np.argmin(values))]
        fine = np.linspace(centre - 2 * np.pi / 3600, centre + 2 * np.pi / 3600, 2001)
        best = min(best, min(error(t, reflect) for t in fine))
    return float(best)
