"""Matplotlib helpers: edges next to their image, kernels as annotated images, training curves.

matplotlib is imported inside the functions, so `import keras_edges.plot` stays cheap. Every
helper returns a `matplotlib.figure.Figure` that is not registered with pyplot: it never pops
up a window and never calls `plt.show()`. In a notebook, make it a cell's value to display it
(once); elsewhere, `fig.savefig("figure.png")`. It renders under any backend, Agg included.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "plot_history",
    "plot_kernels",
    "plot_precision_recall",
    "show_edges",
    "stretch_contrast",
]


def _figure(figsize):
    """A pyplot-free Figure (nothing to close, nothing shown twice in notebooks)."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _as_picture(image, name: str) -> np.ndarray:
    """Turn a path, PIL image, bytes, array or tensor into a `(H, W)` or `(H, W, 3|4)` array."""
    from keras_edges.io import load_image

    if isinstance(image, (str, os.PathLike, bytes, bytearray)) or type(
        image
    ).__module__.startswith("PIL"):
        array = load_image(image, mode="RGB")
        if (
            array[..., :1] == array
        ).all():  # a grey file: one channel, shown with `cmap`
            array = array[..., 0]
        return array
    array = np.asarray(image)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ValueError(
            f"Invalid shape for argument `{name}`. Expected (H, W), (H, W, 1), (H, W, 3), "
            f"(H, W, 4) or a batch of one image. Received: {name}.shape={array.shape}"
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Invalid dtype for argument `{name}`. Expected bool, integer or float pixels. "
            f"Received: {name}.dtype={array.dtype}"
        )
    if array.ndim == 3 and array.dtype.kind == "f":
        array = np.clip(array, 0.0, 1.0)  # matplotlib's range for float colour
    elif array.ndim == 3 and array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    return array


def show_edges(
    image,
    edges=None,
    *,
    titles=None,
    cmap: str = "gray",
    vmax: float | None = None,
    ncols: int | None = None,
    figsize: tuple[float, float] | None = None,
    **options,
):
    """Draw an image and its edge map(s) side by side, without axes ticks.

    Args:
        image: What `detect_edges` takes for one image: a path, a PIL image, bytes, an array
            or tensor `(H, W)`, `(H, W, C)` or `(1, H, W, C)`. Files are read with
            `load_image` (colour kept for display).
        edges: One edge map, a list of maps, or a dict `{title: map}` to compare several
            (e.g. border modes). `None` computes `detect_edges(image, **options)`.
        titles: Panel titles, image first; defaults to `"image"` and `"edges"` (or the
            dict's keys).
        cmap: Colormap for one-channel edge panels (the image is drawn grey or in
            colour). Maps with negative values, such as gradients, get limits symmetric
            about zero: use a diverging colormap such as `"RdBu_r"` for them.
        vmax: One upper limit for all edge panels (brighter results and one shared
            scale for comparisons); default: each panel's own maximum.
        ncols: Panels per row (default: all in one row).
        figsize: Figure size in inches; default 4 inches per panel.
        **options: Passed to `detect_edges` when `edges` is None (e.g. `operator`,
            `normalize`, `threshold`).

    Returns:
        The `matplotlib.figure.Figure`, one axes per panel.

    Raises:
        ValueError: If a panel has an unsupported shape, `titles` has the wrong length,
            or `options` are given together with `edges`.

    Example:
    >>> fig = show_edges(np.eye(8), np.eye(8) * 2)
    >>> [ax.get_title() for ax in fig.axes]
    ['image', 'edges']
    """
    if edges is None:
        from keras_edges.detect import detect_edges

        edges = detect_edges(image, **options)
    elif options:
        raise ValueError(
            "Invalid arguments: detection options are only used when `edges` is None. "
            f"Received: edges and {sorted(options)}"
        )
    if isinstance(edges, dict):
        names, maps = ["image", *map(str, edges)], list(edges.values())
    elif isinstance(edges, (list, tuple)):
        maps = list(edges)
        names = ["image"] + [f"edges {i + 1}" for i in range(len(maps))]
    else:
        names, maps = ["image", "edges"], [edges]
    if titles is not None:
        titles = [titles] if isinstance(titles, str) else list(titles)
        if len(titles) != len(names):
            raise ValueError(
                f"Invalid value for argument `titles`. Expected {len(names)} titles (the image, "
                f"then each edge map). Received: titles={titles!r}"
            )
        names = titles
    panels = [_as_picture(image, "image")] + [_as_picture(m, "edges") for m in maps]
    ncols = len(panels) if ncols is None else max(1, min(int(ncols), len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = _figure(figsize or (4.0 * ncols, 4.0 * nrows * _aspect(panels[0])))
    for index, (title, panel) in enumerate(zip(names, panels)):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        limits = {}
        if (
            index
            and panel.ndim == 2
            and panel.dtype.kind in "if"
            and panel.size
            and panel.min() < 0
        ):
            bound = float(np.abs(panel).max()) if vmax is None else float(vmax)
            # Signed maps (gradients) get zero in the middle.
            limits = {"vmin": -bound, "vmax": bound}
        elif index and panel.ndim == 2 and panel.dtype != np.bool_ and vmax is not None:
            limits = {"vmin": 0.0, "vmax": float(vmax)}
        colours = None if panel.ndim == 3 else ("gray" if index == 0 else cmap)
        ax.imshow(panel, cmap=colours, interpolation="nearest", **limits)
        ax.set_title(title)
        ax.set_axis_off()
    return fig


def _aspect(array: np.ndarray) -> float:
    """Height over width, bounded so a figure stays readable."""
    return float(np.clip(array.shape[0] / max(array.shape[1], 1), 0.25, 4.0))


def _as_kernel(kernel, name: str) -> np.ndarray:
    """A `(k, k)` float kernel from `(k, k)` or a Conv2D kernel `(k, k, C, 1)` (summed over C)."""
    array = np.asarray(kernel, dtype="float64")
    if array.ndim == 4 and array.shape[3] == 1:
        array = array.sum(axis=(2, 3))  # the response to a grey image repeated over C
    if array.ndim != 2:
        raise ValueError(
            f"Invalid shape for kernel {name!r}. Expected (k, k) or a Conv2D kernel (k, k, C, 1). "
            f"Received: shape={array.shape}"
        )
    return array


def _kernel_panels(kernels) -> list[tuple[str, np.ndarray]]:
    """Normalise the accepted kernel inputs to a list of (title, (k, k) array)."""
    if hasattr(kernels, "get_layer"):  # a model from build_edge_model
        kernels = {
            name: kernels.get_layer(name).get_weights()[0]
            for name in ("grad_x", "grad_y")
        }
    if isinstance(kernels, dict):
        pairs = list(kernels.items())
    elif (
        isinstance(kernels, (list, tuple))
        and kernels
        and all(
            isinstance(item, (list, tuple))
            and len(item) == 2
            and isinstance(item[0], str)
            for item in kernels
        )
    ):
        pairs = list(kernels)
    elif (
        isinstance(kernels, (list, tuple))
        and len(kernels) == 2
        and np.ndim(kernels[0]) >= 2
    ):
        pairs = [("kernel_x", kernels[0]), ("kernel_y", kernels[1])]
    elif np.ndim(kernels) >= 2 and not isinstance(kernels, (list, tuple)):
        pairs = [("kernel", kernels)]
    else:
        raise TypeError(
            "Invalid type for argument `kernels`. Expected a (kernel_x, kernel_y) pair, one "
            "kernel array, a list of (title, kernel) pairs, a dict or an edge model. "
            f"Received: kernels of type {type(kernels).__name__}"
        )
    return [(str(title), _as_kernel(kernel, str(title))) for title, kernel in pairs]


def plot_kernels(
    kernels,
    *,
    ncols: int | None = None,
    annotate: bool = True,
    fmt: str = "{:.2f}",
    cmap: str = "RdBu_r",
    figsize: tuple[float, float] | None = None,
):
    """Draw convolution kernels as images with their values written in the cells.

    All panels share one colour scale, symmetric about zero (blue negative, red positive),
    so learned and true kernels can be compared by eye.

    Args:
        kernels: `(kernel_x, kernel_y)` as `get_kernels` returns, one kernel array, a list
            of `(title, kernel)` pairs or a dict `{title: kernel}`, or an edge model (its
            `grad_x` and `grad_y` kernels). Each kernel is `(k, k)` or a Conv2D kernel
            `(k, k, C, 1)`, drawn summed over `C`.
        ncols: Panels per row (default: all in one row).
        annotate: Write each value in its cell.
        fmt: Format of the written values.
        cmap: A diverging colormap.
        figsize: Figure size in inches; default 2.6 inches per panel.

    Returns:
        The `matplotlib.figure.Figure`, one axes per kernel plus a shared colour bar.

    Raises:
        TypeError: If `kernels` is none of the accepted kinds.
        ValueError: If a kernel is not two-dimensional (after summing channels).

    Example:
    >>> fig = plot_kernels(get_kernels("sobel"))
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['kernel_x', 'kernel_y']
    """
    panels = _kernel_panels(kernels)
    ncols = len(panels) if ncols is None else max(1, min(int(ncols), len(panels)))
    nrows = -(-len(panels) // ncols)
    fig = _figure(figsize or (2.6 * ncols + 0.8, 2.6 * nrows))
    scale = max(float(np.abs(kernel).max()) for _, kernel in panels) or 1.0
    axes = []
    for index, (title, kernel) in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, index + 1)
        image = ax.imshow(
            kernel, cmap=cmap, vmin=-scale, vmax=scale, interpolation="nearest"
        )
        ax.set_title(title)
        ax.set_xticks(range(kernel.shape[1]))
        ax.set_yticks(range(kernel.shape[0]))
        if annotate:
            for (row, col), value in np.ndenumerate(kernel):
                colour = "white" if abs(value) > 0.6 * scale else "black"
                ax.text(
                    col,
                    row,
                    fmt.format(value),
                    ha="center",
                    va="center",
                    color=colour,
                    fontsize=9,
                )
        axes.append(ax)
    fig.colorbar(image, ax=axes, shrink=0.8)
    return fig


def plot_history(
    history, *, keys=None, log: bool = True, figsize: tuple[float, float] | None = None
):
    """Plot training curves: one axes per metric, with its `val_` curve when there is one.

    Args:
        history: A Keras `History` (what `model.fit` returns) or a dict `{name: [value per
            epoch]}`, e.g. `{"loss": [...], "val_loss": [...], "kernel_error": [...]}`.
        keys: The metrics to draw (without `val_`); default: all, `loss` first.
        log: Use a log scale for metrics whose values are all positive.
        figsize: Figure size in inches; default 4.5 by 3.2 inches per metric.

    Returns:
        The `matplotlib.figure.Figure`, one axes per metric, epochs counted from 1.

    Raises:
        TypeError: If `history` is neither a History nor a dict.
        ValueError: If it holds no metric, or `keys` names a metric it does not hold.

    Example:
    >>> fig = plot_history({"loss": [4.0, 2.0, 1.0], "val_loss": [5.0, 3.0, 2.0]})
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['train', 'validation']
    """
    records = getattr(history, "history", history)
    if not isinstance(records, dict):
        raise TypeError(
            "Invalid type for argument `history`. Expected a keras.callbacks.History or a "
            f"dict of per-epoch values. Received: history of type {type(history).__name__}"
        )
    available = [name for name in records if not name.startswith("val_")]
    available += [
        name[4:]
        for name in records
        if name.startswith("val_") and name[4:] not in records
    ]
    available = sorted(available, key=lambda name: name != "loss")  # stable: loss first
    if keys is None:
        keys = available
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        missing = [key for key in keys if key not in available]
        if missing:
            raise ValueError(
                f"Invalid value for argument `keys`. Expected names from {available}. "
                f"Received: keys={keys!r}"
            )
    if not keys:
        raise ValueError(
            f"Invalid value for argument `history`: it holds no metric. Received: {records!r}"
        )
    fig = _figure(figsize or (4.5 * len(keys), 3.2))
    for index, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), index + 1)
        everything = []
        for name, label in ((key, "train"), (f"val_{key}", "validation")):
            if name in records:
                values = np.asarray(records[name], dtype="float64").ravel()
                ax.plot(
                    np.arange(1, len(values) + 1),
                    values,
                    marker="o",
                    markersize=3,
                    label=label,
                )
                everything.append(values)
        values = np.concatenate(everything)
        if log and values.size and (values > 0).all():
            ax.set_yscale("log")
        ax.set_title(key)
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
        ax.legend()
    return fig


def plot_precision_recall(scores, *, title: str | None = None):
    """Draw precision-recall curves with iso-F contours and each curve's ODS point.

    matplotlib is imported here; the figure is not registered with pyplot (nothing pops
    up), so save it with `figure.savefig(path)` or make it a notebook cell's value.

    Args:
        scores: A `BoundaryScores`, or a dict `{label: BoundaryScores}` for several curves.
        title: Optional figure title.

    Returns:
        A `matplotlib.figure.Figure`.

    Example:
    >>> from keras_edges.metrics import summarize_counts
    >>> counts = np.array([[[8, 10, 9, 10], [5, 10, 5, 5]]], float)
    >>> figure = plot_precision_recall({"toy": summarize_counts(counts, [0.25, 0.75])})
    >>> figure.axes[0].get_xlabel()
    'Recall'
    """
    from keras_edges.metrics import BoundaryScores

    if isinstance(scores, BoundaryScores):
        scores = {"": scores}
    figure = _figure((5, 5))
    axes = figure.add_subplot()
    grid = np.linspace(0.01, 1, 200)
    for level in np.arange(0.1, 1.0, 0.1):  # iso-F contours: p = f r / (2 r - f)
        recall = grid[2 * grid > level]
        precision = level * recall / (2 * recall - level)
        inside = precision <= 1
        axes.plot(
            recall[inside], precision[inside], color="0.85", linewidth=0.8, zorder=0
        )
    for label, each in scores.items():
        name = f"{label} " if label else ""
        keep = each.recall + each.precision > 0
        line = axes.plot(
            each.recall[keep],
            each.precision[keep],
            linewidth=1.8,
            marker="" if keep.sum() > 1 else "o",
            label=f"{name}ODS={each.ods:.3f} OIS={each.ois:.3f} AP={each.ap:.3f}",
        )[0]
        axes.plot(
            [each.ods_recall],
            [each.ods_precision],
            "o",
            color=line.get_color(),
            markersize=6,
        )
    axes.set(
        xlim=(0, 1), ylim=(0, 1), xlabel="Recall", ylabel="Precision", aspect="equal"
    )
    axes.grid(True, linewidth=0.3)
    axes.legend(loc="lower left", fontsize=8)
    if title:
        axes.set_title(title)
    return figure


def stretch_contrast(edges, *, percentile: float = 99.5) -> np.ndarray:
    """Scale an edge map so that its `percentile`-th percentile becomes 1, clipped to [0, 1].

    Most pixels of a photo's edge magnitude are near 0 and a few strong edges set the
    full scale, so the raw map looks nearly black; stretched, the thin edges show. This
    is for display only: the values are no longer magnitudes.

    Args:
        edges: An edge map (any shape, bool, integer or float).
        percentile: The percentile, in (0, 100], that maps to 1.

    Returns:
        A float32 array of the same shape, in [0, 1]; all zeros for an all-zero map.

    Example:
    >>> stretch_contrast(np.array([0, 1, 2, 4, 8]), percentile=75).tolist()
    [0.0, 0.25, 0.5, 1.0, 1.0]
    """
    if (
        isinstance(percentile, bool)
        or not isinstance(percentile, (int, float, np.number))
        or not 0 < percentile <= 100
    ):
        raise ValueError(
            "Invalid value for argument `percentile`. Expected a number in (0, 100]. "
            f"Received: percentile={percentile!r}"
        )
    edges = np.asarray(edges, np.float32)
    scale = float(np.percentile(edges, percentile)) if edges.size else 0.0
    scale = scale if scale > 0 else float(edges.max(initial=0.0)) or 1.0
    return np.clip(edges / np.float32(scale), 0.0, 1.0)
