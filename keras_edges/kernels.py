"""The table of gradient operators: the only place where kernel numbers live.

Every kernel is written for **cross-correlation** (what Keras ``Conv2D`` computes), in
OpenCV's sign convention: a dark-to-bright step from left to right gives ``grad_x > 0``
and a dark-to-bright step from top to bottom gives ``grad_y > 0``. The Sobel kernel is
therefore::

    kernel_x = [[-1, 0, 1],          kernel_y = kernel_x.T = [[-1, -2, -1],
                [-2, 0, 2],                                   [ 0,  0,  0],
                [-1, 0, 1]]                                   [ 1,  2,  1]]

The kernel ``[[1, 0, -1], [2, 0, -2], [1, 0, -1]]`` found in many tutorials (and in this
project's seed notebook) is its negative: written for convolution (which flips the
kernel) or with the opposite sign. Both give the same edge magnitude ``|gx| + |gy|``.

Only the horizontal kernel is stored; the vertical one is its transpose. The separable
operators are stored as a smoothing vector (across the derivative) and a derivative
vector (along it), from which ``kernel_x = outer(smoothing, derivative)``. A row whose
vertical kernel is not the transpose (Roberts' cross) stores the pair
``(kernel_x, kernel_y)`` instead.

Roberts' cross is 2x2 and diagonal::

    kernel_x = [[-1, 0],             kernel_y = [[ 0, -1],
                [ 0, 1]]                         [ 1,  0]]

``grad_x`` is the difference along the down-right diagonal (bright towards the bottom
right is positive) and ``grad_y`` the difference along the down-left diagonal (bright
towards the bottom left is positive), so a dark-to-bright step from left to right still
gives ``grad_x > 0``, and ``(grad_x, grad_y)`` is the image gradient ``(gx + gy, gy - gx)``,
rotated by 45 degrees and scaled by sqrt(2) (see `gradient_frame`). An even kernel has no
centre pixel: as OpenCV's default anchor and ``scipy.ndimage.correlate(origin=0)``, the
kernel's element ``[1, 1]`` sits on the output pixel, so the response at pixel ``(i, j)``
compares it with ``(i - 1, j - 1)`` and ``(i - 1, j)`` with ``(i, j - 1)``: it describes
the point ``(i - 1/2, j - 1/2)``, half a pixel up and left of the pixel it is stored at.

``"diff"`` is kornia's central difference (``spatial_gradient(mode="diff")``):
``[-1, 0, 1]`` along the derivative and no smoothing across it, stored 3x3 as kornia
does (kornia's default ``normalized=True`` divides it by 2, our ``normalize=True`` by
its largest response).

Farid's 5x5 kernel is scikit-image's ``filters.farid`` (Farid and Simoncelli, 2004, with
scikit-image's extra decimals). scikit-image stores it for convolution, so ``farid_v`` is
our ``grad_x`` and ``farid_h`` our ``grad_y`` with the same sign.

References:
    1. Sobel, I. and Feldman, G. (1968). A 3x3 isotropic gradient operator for image
       processing. Presented at the Stanford Artificial Intelligence Project.
    2. Scharr, H. (2000). Optimale Operatoren in der digitalen Bildverarbeitung.
       PhD thesis, Universität Heidelberg.
    3. Prewitt, J. M. S. (1970). Object enhancement and extraction. Picture Processing
       and Psychopictorics, 75-149.
    4. Roberts, L. G. (1963). Machine perception of three-dimensional solids. PhD
       thesis, Massachusetts Institute of Technology.
    5. Farid, H. and Simoncelli, E. P. (2004). Differentiation of discrete
       multidimensional signals. IEEE Transactions on Image Processing 13(4), 496-508.
"""

from __future__ import annotations

import types

import numpy as np

from keras_edges.validation import check_choice, check_positive_int

__all__ = [
    "KERNELS",
    "LAPLACIANS",
    "LUMA",
    "MAGNITUDES",
    "PADDING_MODES",
    "channel_weights",
    "get_kernels",
    "gradient_frame",
    "laplacian_kernel",
    "max_response",
    "operator_kernels",
]

# Border modes and their names in scipy.ndimage / OpenCV:
#   reflect   d c b | a b c d | c b a   mirror / BORDER_REFLECT_101 (tf.image.sobel_edges)
#   symmetric c b a | a b c d | d c b   reflect / BORDER_REFLECT
#   replicate a a a | a b c d | d d d   nearest / BORDER_REPLICATE
#   zeros     0 0 0 | a b c d | 0 0 0   constant / BORDER_CONSTANT (Conv2D padding="same")
#   valid     no padding: the output shrinks by ksize - 1 (the seed notebook's loop)
PADDING_MODES = ("reflect", "symmetric", "replicate", "zeros", "valid")
# The one rule for colour: luminance as ITU-R 601-2 (Pillow's "L"), L = 0.299 R + 0.587 G
# + 0.114 B. `detect_edges` converts colour pixels with it; a model built for three
# channels weights its kernels with it (`channel_weights`), so both give the same edges.
LUMA = (0.299, 0.587, 0.114)
# How the two gradients combine: |gx| + |gy|, or sqrt(gx**2 + gy**2).
MAGNITUDES = ("l1", "l2")


def _binomial(length: int) -> np.ndarray:
    """Row ``length - 1`` of Pascal's triangle: ``[1, 2, 1]`` for length 3."""
    row = np.ones(1)
    for _ in range(length - 1):
        row = np.convolve(row, [1.0, 1.0])
    return row


def _sobel(ksize: int) -> np.ndarray:
    """Sobel of size ``ksize`` as OpenCV's ``getDerivKernels(1, 0, ksize)`` builds it."""
    derivative = np.convolve(_binomial(ksize - 2), [-1.0, 0.0, 1.0])
    return np.outer(_binomial(ksize), derivative)


# Farid and Simoncelli's 5-tap pair, as scikit-image's filters.edges holds it.
_FARID_SMOOTH = [
    0.0376593171958126,
    0.249153396177344,
    0.426374573253687,
    0.249153396177344,
    0.0376593171958126,
]
_FARID_DERIVATIVE = [
    -0.109603762960254,
    -0.276690988455557,
    0.0,
    0.276690988455557,
    0.109603762960254,
]


def _frozen(rows: dict) -> types.MappingProxyType:
    """The table as read-only mappings of read-only arrays (a write raises ValueError)."""
    for sizes in rows.values():
        for row in sizes.values():
            for kernel in row if isinstance(row, tuple) else (row,):
                kernel.flags.writeable = False
    return types.MappingProxyType(
        {name: types.MappingProxyType(sizes) for name, sizes in rows.items()}
    )


# One row per operator: {ksize: horizontal kernel (cross-correlation form)}, or
# {ksize: (kernel_x, kernel_y)} where kernel_y is not kernel_x.T.
KERNELS = _frozen(
    {
        "diff": {3: np.outer([0.0, 1.0, 0.0], [-1.0, 0.0, 1.0]) + 0.0},
        "farid": {5: np.outer(_FARID_SMOOTH, _FARID_DERIVATIVE)},
        "prewitt": {3: np.outer([1.0, 1.0, 1.0], [-1.0, 0.0, 1.0])},
        "roberts": {
            2: (
                np.array([[-1.0, 0.0], [0.0, 1.0]]),
                np.array([[0.0, -1.0], [1.0, 0.0]]),
            )
        },
        "scharr": {3: np.outer([3.0, 10.0, 3.0], [-1.0, 0.0, 1.0])},
        "sobel": {ksize: _sobel(ksize) for ksize in (3, 5, 7)},
    }
)


def _second_derivative(ksize: int) -> np.ndarray:
    """Sobel's second derivative of size `ksize`: `getDerivKernels(2, 0, ksize)`'s."""
    return np.convolve(_binomial(ksize - 2), [1.0, -2.0, 1.0])


def _opencv_laplacian(ksize: int) -> np.ndarray:
    """`cv2.Laplacian`'s kernel: `d2/dx2 + d2/dy2` as Sobel's second derivatives."""
    if ksize == 1:
        return np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    if ksize == 3:
        return np.array([[2.0, 0.0, 2.0], [0.0, -8.0, 0.0], [2.0, 0.0, 2.0]])
    second = np.outer(_binomial(ksize), _second_derivative(ksize))
    return second + second.T


def _box_laplacian(ksize: int) -> np.ndarray:
    """kornia's `get_laplacian_kernel2d`: ones with `1 - ksize**2` in the centre."""
    kernel = np.ones((ksize, ksize))
    kernel[ksize // 2, ksize // 2] = 1.0 - ksize**2
    return kernel


# The Laplacian's kernels, {variant: {ksize: kernel}}, in the sign of d2/dx2 + d2/dy2
# (negative on a bright dot; scikit-image's `filters.laplace` is the negative).
#   "opencv": cv2.Laplacian(ksize): 1 is the 4-neighbour [[0,1,0],[1,-4,1],[0,1,0]] (3x3),
#             3 is [[2,0,2],[0,-8,0],[2,0,2]], 5 and 7 sum Sobel's second derivatives.
#   "box":    kornia's filters.laplacian(kernel_size): all ones but 1 - k**2 in the centre.
LAPLACIANS = _frozen(
    {
        "opencv": {ksize: _opencv_laplacian(ksize) for ksize in (1, 3, 5, 7)},
        "box": {ksize: _box_laplacian(ksize) for ksize in (3, 5, 7)},
    }
)


def laplacian_kernel(variant: str = "opencv", ksize: int | None = None) -> np.ndarray:
    """Return the Laplacian's 2-D kernel from `LAPLACIANS`, read-only.

    Args:
        variant: `"opencv"` (`cv2.Laplacian`'s kernels; ksize 1 is the 4-neighbour
            Laplacian, scikit-image's `filters.laplace` negated) or `"box"` (kornia's
            `filters.laplacian`, before its normalisation).
        ksize: One of the variant's sizes; None is its smallest.

    Raises:
        ValueError: If `variant` or `ksize` is not one of the table's.

    Example:
    >>> laplacian_kernel("opencv", 1)
    array([[ 0.,  1.,  0.],
           [ 1., -4.,  1.],
           [ 0.,  1.,  0.]])
    """
    check_choice("variant", variant, sorted(LAPLACIANS))
    return _sized(LAPLACIANS[variant], ksize, f"variant={variant!r}")


def _sized(sizes_table, ksize, what):
    """`sizes_table[ksize]` (its smallest for None), with Keras-style errors."""
    sizes = sorted(sizes_table)
    if ksize is None:
        ksize = sizes[0]
    if isinstance(ksize, bool) or not isinstance(ksize, (int, np.integer)):
        raise TypeError(
            f"Invalid type for argument `ksize`. Expected an int, one of {sizes}. "
            f"Received: ksize={ksize!r} of type {type(ksize).__name__}"
        )
    if ksize not in sizes_table:
        raise ValueError(
            f"Invalid value for argument `ksize` with {what}. Expected "
            f"one of {sizes}. Received: ksize={ksize!r}"
        )
    return sizes_table[int(ksize)]


def operator_kernels(
    operator: str, ksize: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Return the table's 2-D `(kernel_x, kernel_y)` of `operator`, read-only.

    Args:
        operator: A key of `KERNELS`.
        ksize: One of the operator's sizes; None is its smallest.

    Raises:
        ValueError: If `operator` or `ksize` is not one of the table's.
        TypeError: If `ksize` is not an int.

    Example:
    >>> kernel_x, kernel_y = operator_kernels("roberts")
    >>> kernel_x.shape, bool((kernel_y == kernel_x.T).all())
    ((2, 2), False)
    """
    check_choice("operator", operator, sorted(KERNELS))
    row = _sized(KERNELS[operator], ksize, f"operator={operator!r}")
    return tuple(row) if isinstance(row, tuple) else (row, row.T)


def get_kernels(
    operator: str = "sobel",
    *,
    ksize: int | None = None,
    channels: int = 1,
    normalize: bool = False,
    magnitude: str = "l1",
) -> tuple[np.ndarray, np.ndarray]:
    """Return the operator's `(kernel_x, kernel_y)`, shaped for `Conv2D.set_weights`.

    Args:
        operator: One of `sorted(KERNELS)`.
        ksize: Kernel size; Sobel has 3, 5 and 7 (as OpenCV), Roberts 2, Farid 5, the
            others 3. None (the default) is the operator's smallest size.
        channels: Number of input channels. Each channel gets the kernel times its
            `channel_weights(channels)`, which sum to 1: with 3 channels the layer
            responds to the RGB image's luminance (ITU-R 601-2, what `detect_edges`
            computes from colour), otherwise to the mean of the channels; a grey image
            repeated over `channels` gives the same response as one channel.
        normalize: Divide both kernels by the largest `magnitude` an image with values
            in [0, 1] can produce (see `max_response`), so that the edge magnitude of
            such images is in [0, 1].
        magnitude: The magnitude that `normalize` bounds: `"l1"` or `"l2"`.

    Returns:
        Two float32 arrays of shape `(ksize, ksize, channels, 1)`; `kernel_y` is the
        transpose of `kernel_x`, except for Roberts' cross.

    Raises:
        ValueError: If `operator`, `ksize` or `channels` is not a valid choice.

    Example:
    >>> kernel_x, kernel_y = get_kernels("sobel")
    >>> kernel_x[:, :, 0, 0]
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]], dtype=float32)
    >>> bool((kernel_y[:, :, 0, 0] == kernel_x[:, :, 0, 0].T).all())
    True
    """
    kernel, kernel_t = operator_kernels(operator, ksize)
    channels = check_positive_int("channels", channels)
    bound = max_response(kernel, kernel_t, magnitude)  # also validates `magnitude`
    weights = channel_weights(channels)[None, None, :, None]
    scale = bound if normalize else 1.0
    kernel_x, kernel_y = (
        ((k / scale)[:, :, None, None] * weights).astype("float32")
        for k in (kernel, kernel_t)
    )
    return kernel_x, kernel_y


def channel_weights(channels: int) -> np.ndarray:
    """Return how a model mixes its input channels into one image: weights summing to 1.

    Three channels are RGB and get the luminance weights `LUMA` (ITU-R 601-2, as
    `detect_edges` and Pillow's `"L"` convert colour); any other count gets the mean.

    Example:
    >>> channel_weights(3).tolist(), channel_weights(2).tolist()
    ([0.299, 0.587, 0.114], [0.5, 0.5])
    """
    channels = check_positive_int("channels", channels)
    if channels == 3:
        return np.array(LUMA)
    return np.full(channels, 1.0 / channels)


def gradient_frame(kernel_x, kernel_y) -> np.ndarray:
    """Return the 2x2 matrix that turns the two kernels' responses into the image gradient.

    On a ramp `a * x + b * y` the responses are `M @ (a, b)`, with `M[0] = (sum(kernel_x *
    x), sum(kernel_x * y))` and likewise for `kernel_y`. The returned matrix is `M`'s
    inverse scaled to determinant +-1 (it keeps the response's length for an orthogonal
    frame), so `frame @ (grad_x, grad_y)` points along the image gradient: the identity
    for the axis-aligned operators and a 45-degree rotation for Roberts' cross.

    Args:
        kernel_x: Horizontal kernel, shape `(k, k)` or `(k, k, channels, 1)`.
        kernel_y: Vertical kernel, same shape.

    Returns:
        A float64 array of shape `(2, 2)`.

    Example:
    >>> np.round(gradient_frame(*get_kernels("roberts")) * np.sqrt(2), 6) + 0.0
    array([[ 1., -1.],
           [ 1.,  1.]])
    """
    kernels = [np.asarray(k, "float64") for k in (kernel_x, kernel_y)]
    kernels = [k.reshape(k.shape[0], k.shape[1], -1).sum(axis=2) for k in kernels]
    rows, columns = np.indices(kernels[0].shape, dtype="float64")
    matrix = np.array([[(k * columns).sum(), (k * rows).sum()] for k in kernels])
    inverse = np.linalg.inv(matrix)
    return inverse / np.sqrt(abs(np.linalg.det(inverse)))


def max_response(kernel_x, kernel_y, magnitude: str = "l1") -> float:
    """Return the largest edge magnitude that an image with values in [0, 1] can give.

    The response is linear in the image, so the maximum sits at a black-and-white
    pattern: for `"l1"`, `max |a.x| + |b.x|` is the largest, over the signs s and t, sum
    of the positive weights of `s*a + t*b`; for `"l2"`, `sqrt((a.x)^2 + (b.x)^2) = max over angles t of
    (cos t * a + sin t * b).x`, and the best set of white pixels only changes where one
    of the weights `cos t * a_i + sin t * b_i` changes sign, so trying one angle between
    each pair of consecutive sign changes is exact.

    Args:
        kernel_x: Horizontal kernel, any shape (summed over all entries).
        kernel_y: Vertical kernel, same shape.
        magnitude: `"l1"` or `"l2"`.

    Returns:
        The bound as a Python float; 1.0 if both kernels are zero.

    Example:
    >>> kernel_x, kernel_y = get_kernels("sobel")
    >>> max_response(kernel_x, kernel_y, "l1"), round(max_response(kernel_x, kernel_y, "l2"), 4)
    (6.0, 4.4721)
    """
    a = np.asarray(kernel_x, "float64").ravel()
    b = np.asarray(kernel_y, "float64").ravel()
    if magnitude == "l1":
        signs = ((1, 1), (1, -1), (-1, 1), (-1, -1))
        best = max(np.clip(s * a + t * b, 0, None).sum() for s, t in signs)
    elif magnitude == "l2":
        # weight_i(t) = r_i cos(t - phi_i) changes sign at t = phi_i +- pi/2.
        phi = np.arctan2(b, a)
        changes = np.sort(
            np.mod(np.concatenate([phi + np.pi / 2, phi - np.pi / 2]), 2 * np.pi)
        )
        gaps = np.diff(np.concatenate([changes, changes[:1] + 2 * np.pi]))
        angles = changes + gaps / 2
        white = (np.cos(angles)[:, None] * a + np.sin(angles)[:, None] * b) > 0
        best = np.hypot(white @ a, white @ b).max()
    else:
        check_choice("magnitude", magnitude, MAGNITUDES)
    return float(best) if best > 0 else 1.0
