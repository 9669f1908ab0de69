"""`detect_edges`: one entry point that hands an image to the chosen method's function."""

from __future__ import annotations

import functools
import inspect

from keras_edges.methods import METHODS
from keras_edges.validation import check_choice

__all__ = ["detect_edges"]


class _OptionError(TypeError, ValueError):
    """An option that the chosen method does not take.

    A `TypeError`, as Python's own for an unexpected keyword argument, and a
    `ValueError`, as `detect_edges` raised for such combinations before it refused
    every foreign option (as NumPy's `AxisError` is both `ValueError` and `IndexError`).
    """


def detect_edges(image, *, method: str = "gradient", **options):
    """Detect edges in one image, a batch, or a list of images, with the chosen method.

    A dispatcher: `detect_edges(image, method=name, **options)` is
    `function(image, **options)`, where the function of each method takes only its own
    options and documents them:

    - `"gradient"` (the default): `gradient_edges`, the edge magnitude (or the signed
      gradients, or their orientation) of a gradient operator: `operator`, `ksize`,
      `padding`, `magnitude`, `normalize`, `threshold`, `output`, `model`, `engine`.
    - `"canny"`: `canny_edges`, Canny's boolean edge map: `sigma`, `low`, `high`,
      `use_quantiles`, `operator`, `ksize`, `padding`, `magnitude`, `model`, `engine`.
    - `"learned"`: `learned_boundaries`, boundary probabilities from the shipped
      learned detector (it reads colour): `nms`, `threshold`, `scales`, `flip`,
      `model`, `version`.
    - The second-derivative family (float32; see `keras_edges.methods.laplacian`):
      `"laplacian"` (`laplacian`: `ksize`, `variant`, `padding`), `"log"`
      (`laplacian_of_gaussian`: `sigma`, `padding`), `"dog"`
      (`difference_of_gaussians`: `low_sigma`, `high_sigma`, `padding`), `"xdog"`
      (`xdog`: `sigma`, `k`, `sharpness`, `epsilon`, `phi`, `padding`) and
      `"marr_hildreth"` (`marr_hildreth`: `sigma`, `threshold`, `padding`; boolean).

    An option that the method does not take is refused, also at its default value,
    rather than ignored: `detect_edges(image, sigma=3)` raises, as `sigma` is Canny's.

    Args:
        image: A path (str or `pathlib.Path`), a PIL image, encoded bytes, a NumPy array
            or a tensor of the Keras backend (`tf.Tensor`, `jax.Array`, `torch.Tensor`)
            of shape `(H, W)`, `(H, W, C)` or `(N, H, W, C)` with C in {1, 3, 4}, or a
            list of those (of any sizes).
        method: `"gradient"`, `"canny"`, `"learned"`, `"laplacian"`, `"log"`,
            `"dog"`, `"xdog"` or `"marr_hildreth"`.
        **options: The options of the method's function (see above).

    Returns:
        What the method's function returns: an array with the input's rank (a path or
        PIL image gives `(H, W)`; a list gives a list), uint8 for uint8 input, bool
        with `threshold` or `method="canny"`, float32 otherwise.

    Raises:
        ValueError: For an unknown method, a bad image or a bad option value.
        TypeError: For an option that the method does not take (the error names the
            methods that take it; it is also a `ValueError`), or an unsupported object.
        FileNotFoundError: For a path that does not exist.

    Example:
    >>> image = np.zeros((5, 5), "float32"); image[1:4, 2] = 1; image[2, 1:4] = 1
    >>> detect_edges(image)[1]  # gradient_edges(image)[1]
    array([2., 6., 4., 6., 2.], dtype=float32)
    >>> detect_edges(image, operator="prewitt")[1]
    array([2., 4., 3., 4., 2.], dtype=float32)
    >>> square = np.zeros((12, 12), "uint8"); square[3:9, 3:9] = 200
    >>> int(detect_edges(square, method="canny", low=20, high=40).sum())
    20
    >>> detect_edges(square, method="learned", operator="scharr")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    keras_edges.detect._OptionError: Invalid argument `operator` with method='learned': it is an option of method='gradient' and method='canny'. ...
    """
    check_choice("method", method, tuple(METHODS))
    foreign = [name for name in options if name not in _options(method)]
    if foreign:
        raise _OptionError(_foreign_message(method, foreign, options))
    return METHODS[method](image, **options)


@functools.cache
def _options(method: str) -> tuple[str, ...]:
    """The keyword options of `method`'s function, in its signature's order."""
    parameters = inspect.signature(METHODS[method]).parameters.values()
    named = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in parameters if p.kind in named and p.name != "image")


def _foreign_message(method: str, foreign: list[str], options: dict) -> str:
    """Name the options that `method` does not take, and the methods that take each."""
    clauses = []
    for name in foreign:
        takers = [f"method={other!r}" for other in METHODS if name in _options(other)]
        where = " and ".join(takers) if takers else "no method"
        clauses.append(
            f"{'it' if len(foreign) == 1 else f'`{name}`'} is an option of {where}"
        )
    names = ", ".join(f"`{name}`" for name in foreign)
    own = ", ".join(f"`{name}`" for name in _options(method))
    received = ", ".join(f"{name}={options[name]!r}" for name in foreign)
    return (
        f"Invalid argument{'s' if len(foreign) > 1 else ''} {names} with method={method!r}: "
        f"{'; '.join(clauses)}. method={method!r} takes {own}. Received: {received}"
    )
