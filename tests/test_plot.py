"""Tests for the matplotlib helpers (keras_edges.plot)."""

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

from keras_edges import build_edge_model, detect_edges, get_kernels, load_image
from keras_edges.plot import (
    plot_history,
    plot_kernels,
    plot_precision_recall,
    show_edges,
    stretch_contrast,
)

from conftest import IMG, ROOT

matplotlib.use("Agg")

RNG = np.random.default_rng(6)
GREY = RNG.random((20, 30)).astype("float32")


def _images(ax):
    """The arrays shown in an axes."""
    return [np.asarray(image.get_array()) for image in ax.get_images()]


def _render(fig, path, dpi=50):
    """Save `fig` as PNG under Agg and return the decoded pixels."""
    fig.savefig(path, dpi=dpi)
    return load_image(path, mode="RGB")


def test_module_imports_without_matplotlib():
    """keras_edges.plot imports with matplotlib unavailable (Keras itself imports it when present)."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'matplotlib':\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import keras_edges.plot\n"
        "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_show_edges_arrays_side_by_side(tmp_path):
    """An image and its edges give two titled, tickless panels holding exactly those arrays."""
    edges = detect_edges(GREY)
    fig = show_edges(GREY, edges, figsize=(6, 2))
    assert len(fig.axes) == 2
    assert [ax.get_title() for ax in fig.axes] == ["image", "edges"]
    np.testing.assert_array_equal(_images(fig.axes[0])[0], GREY)
    np.testing.assert_array_equal(_images(fig.axes[1])[0], edges)
    assert not fig.axes[0].axison
    assert _render(fig, tmp_path / "side.png").shape == (100, 300, 3)


def test_show_edges_computes_edges_from_a_path():
    """With a path and no edges, the photo is shown in colour next to detect_edges(path, ...)."""
    path = IMG / "astronaut.jpg"
    fig = show_edges(path, operator="scharr", normalize=True)
    photo, edges = (_images(ax)[0] for ax in fig.axes)
    np.testing.assert_array_equal(photo, load_image(path, mode="RGB"))
    np.testing.assert_array_equal(
        edges, detect_edges(path, operator="scharr", normalize=True)
    )
    assert fig.axes[1].get_images()[0].get_cmap().name == "gray"


def test_show_edges_grey_file_is_one_channel():
    """A grey file is shown as one channel with the grey colormap."""
    fig = show_edges(IMG / "coins.png")
    assert _images(fig.axes[0])[0].shape == load_image(IMG / "coins.png").shape


def test_show_edges_dict_compares_maps_in_rows(tmp_path):
    """A dict gives one panel per map, titled by its keys, laid out in `ncols` columns."""
    maps = {
        mode: detect_edges(GREY, padding=mode) for mode in ("zeros", "reflect", "valid")
    }
    fig = show_edges(GREY[None, :, :, None], maps, ncols=2, figsize=(4, 4))
    assert [ax.get_title() for ax in fig.axes] == ["image", "zeros", "reflect", "valid"]
    assert [ax.get_subplotspec().get_geometry()[:2] for ax in fig.axes] == [(2, 2)] * 4
    assert _images(fig.axes[3])[0].shape == (18, 28)
    np.testing.assert_array_equal(_images(fig.axes[0])[0], GREY)
    assert _render(fig, tmp_path / "grid.png").shape == (200, 200, 3)


def test_show_edges_list_and_titles():
    """A list of maps takes the given titles, image first; a batch of one is squeezed."""
    fig = show_edges(GREY, [GREY > 0.5, GREY[None, :, :, None]], titles=["a", "b", "c"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    assert _images(fig.axes[1])[0].dtype == bool
    assert _images(fig.axes[2])[0].shape == (20, 30)


def test_show_edges_signed_maps_are_centred():
    """A signed map gets symmetric limits and the chosen colormap; the image stays grey."""
    grad = np.array([[-3.0, 1.0], [0.5, 2.0]])
    fig = show_edges(GREY, {"grad_x": grad, "edges": np.abs(grad)}, cmap="RdBu_r")
    image, signed, magnitude = (ax.get_images()[0] for ax in fig.axes)
    assert image.get_cmap().name == "gray" and signed.get_cmap().name == "RdBu_r"
    assert signed.get_clim() == (-3.0, 3.0)
    assert magnitude.get_clim() == (0.5, 3.0)
    shared = show_edges(GREY, {"grad_x": grad, "edges": np.abs(grad)}, vmax=1.5)
    assert [ax.get_images()[0].get_clim() for ax in shared.axes[1:]] == [
        (-1.5, 1.5),
        (0.0, 1.5),
    ]
    assert shared.axes[0].get_images()[0].get_clim() == (GREY.min(), GREY.max())


def test_show_edges_errors():
    """Wrong titles, options with given edges, and bad shapes are reported."""
    with pytest.raises(ValueError, match=r"Expected 2 titles"):
        show_edges(GREY, GREY, titles=["only one"])
    with pytest.raises(ValueError, match=r"only used when `edges` is None"):
        show_edges(GREY, GREY, operator="sobel")
    with pytest.raises(ValueError, match=r"Received: edges.shape=\(2, 20, 30\)"):
        show_edges(GREY, np.stack([GREY, GREY]))
    with pytest.raises(TypeError, match=r"Expected bool, integer or float"):
        show_edges(np.array([["a", "b"], ["c", "d"]]), GREY)


def test_plot_kernels_pair_annotated(tmp_path):
    """A (kernel_x, kernel_y) pair gives two panels with the kernels, their values and one colour bar."""
    kernel_x, kernel_y = get_kernels("sobel")
    fig = plot_kernels((kernel_x, kernel_y))
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 2 and len(fig.axes) == 3  # plus the colour bar
    assert [ax.get_title() for ax in panels] == ["kernel_x", "kernel_y"]
    np.testing.assert_array_equal(_images(panels[0])[0], kernel_x[:, :, 0, 0])
    np.testing.assert_array_equal(_images(panels[1])[0], kernel_y[:, :, 0, 0])
    texts = [text.get_text() for text in panels[0].texts]
    assert texts == [
        "-1.00",
        "0.00",
        "1.00",
        "-2.00",
        "0.00",
        "2.00",
        "-1.00",
        "0.00",
        "1.00",
    ]
    assert panels[1].get_images()[0].get_clim() == (-2.0, 2.0)
    assert _render(fig, tmp_path / "kernels.png").shape[2] == 3


def test_plot_kernels_learned_vs_true_share_one_scale():
    """(title, kernel) pairs are laid out in `ncols` columns on one symmetric colour scale."""
    sobel_x, sobel_y = get_kernels("sobel")
    scharr_x, scharr_y = get_kernels("scharr")
    pairs = [
        ("sobel x", sobel_x),
        ("sobel y", sobel_y),
        ("scharr x", scharr_x),
        ("scharr y", scharr_y),
    ]
    fig = plot_kernels(pairs, ncols=2, annotate=False)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in panels] == [title for title, _ in pairs]
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in panels} == {(2, 2)}
    assert {ax.get_images()[0].get_clim() for ax in panels} == {(-10.0, 10.0)}
    assert all(not ax.texts for ax in panels)


def test_plot_kernels_from_model_and_channels():
    """A model shows its grad_x/grad_y kernels; a multi-channel kernel is summed over channels."""
    model = build_edge_model("prewitt", channels=3)
    fig = plot_kernels(model)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in panels] == ["grad_x", "grad_y"]
    prewitt_x = get_kernels("prewitt")[0][:, :, 0, 0]
    np.testing.assert_allclose(_images(panels[0])[0], prewitt_x, atol=1e-6)
    np.testing.assert_allclose(_images(panels[1])[0], prewitt_x.T, atol=1e-6)
    single = plot_kernels({"k": np.arange(25.0).reshape(5, 5)})
    assert _images(single.axes[0])[0].shape == (5, 5)


def test_plot_kernels_errors():
    """Unsupported inputs name what is accepted."""
    with pytest.raises(TypeError, match=r"Expected a \(kernel_x, kernel_y\) pair"):
        plot_kernels("sobel")
    with pytest.raises(ValueError, match=r"Expected \(k, k\) or a Conv2D kernel"):
        plot_kernels({"bad": np.zeros((3, 3, 2, 2))})


def test_plot_history_dict(tmp_path):
    """Each metric gets one axes with its train and validation curves over epochs 1..n."""
    history = {
        "loss": [8.0, 2.0, 0.5],
        "val_loss": [9.0, 3.0, 1.0],
        "kernel_error": [1.0, 0.1, 0.0],
    }
    fig = plot_history(history)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "kernel_error"]
    train, validation = fig.axes[0].get_lines()
    assert (train.get_label(), validation.get_label()) == ("train", "validation")
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(train.get_ydata(), history["loss"])
    np.testing.assert_array_equal(validation.get_ydata(), history["val_loss"])
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[1].get_yscale() == "linear"  # a zero value: no log scale
    assert len(fig.axes[1].get_lines()) == 1
    assert _render(fig, tmp_path / "history.png").shape[2] == 3


def test_plot_history_keras_history_and_keys():
    """A Keras History object is read through `.history`; `keys` picks metrics, loss first otherwise."""
    import keras

    history = keras.callbacks.History()
    history.history = {"mae": [3.0, 2.0], "loss": [2.0, 1.0], "val_mae": [4.0, 3.0]}
    assert [ax.get_title() for ax in plot_history(history).axes] == ["loss", "mae"]
    fig = plot_history(history, keys="mae", log=False)
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "linear"
    np.testing.assert_array_equal(fig.axes[0].get_lines()[1].get_ydata(), [4.0, 3.0])


def test_plot_history_errors():
    """A wrong type, an empty history and an unknown key are reported."""
    with pytest.raises(TypeError, match=r"Expected a keras.callbacks.History"):
        plot_history([1.0, 2.0])
    with pytest.raises(ValueError, match=r"holds no metric"):
        plot_history({})
    with pytest.raises(ValueError, match=r"Expected names from \['loss'\]"):
        plot_history({"loss": [1.0]}, keys=["accuracy"])


def test_plot_precision_recall_curves_and_ods_points(tmp_path):
    """Each detector gets its PR curve (zero points dropped), its ODS point and a legend entry."""
    from keras_edges.metrics import summarize_counts

    # one image, two thresholds: counts (matched GT, GT, matched predictions, predictions)
    counts = np.array([[[8, 10, 9, 10], [5, 10, 5, 5]]], float)
    scores = summarize_counts(counts, [0.25, 0.75])
    fig = plot_precision_recall({"a": scores, "b": scores}, title="toy")
    (axes,) = fig.axes
    curves = [line for line in axes.lines if line.get_label().startswith(("a ", "b "))]
    assert [line.get_label().split()[0] for line in curves] == ["a", "b"]
    np.testing.assert_allclose(
        curves[0].get_xdata(), scores.recall[scores.recall + scores.precision > 0]
    )
    np.testing.assert_allclose(
        curves[0].get_ydata(), scores.precision[scores.recall + scores.precision > 0]
    )
    ods_points = [
        line
        for line in axes.lines
        if line.get_marker() == "o" and len(line.get_xdata()) == 1
    ]
    assert len(ods_points) == 2
    np.testing.assert_allclose(
        ods_points[0].get_xydata()[0], [scores.ods_recall, scores.ods_precision]
    )
    assert (
        axes.get_title() == "toy" and f"ODS={scores.ods:.3f}" in curves[0].get_label()
    )
    assert _render(fig, tmp_path / "pr.png").shape[2] == 3


def _figure_script():
    """The README figure script `img/docs/make_figure.py`, imported as a module."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_figure", IMG / "docs" / "make_figure.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_picture(tmp_path, capsys):
    """`img/docs/make_figure.py` writes a small grey PNG; the committed README picture is small."""
    output = tmp_path / "demo.png"
    main = _figure_script().main
    assert main([str(IMG / "coins.png"), "-o", str(output)]) == 0
    assert "KB" in capsys.readouterr().out
    picture = load_image(output, mode="RGBA")
    assert picture.shape[1] > 3 * picture.shape[0] > 200  # four panels in a row
    assert output.stat().st_size < 150_000
    committed = IMG / "docs" / "demo_edges.png"
    assert committed.is_file() and committed.stat().st_size < 150_000
    with pytest.raises(SystemExit) as error:
        main([str(tmp_path / "missing.png"), "-o", str(output)])
    assert error.value.code == 2


def test_stretch_contrast_maps_the_percentile_to_one():
    """The chosen percentile maps to 1, values scale linearly below it, a zero map stays zero."""
    edges = np.linspace(0.0, 0.2, 101).astype("float32")  # percentile q is 0.002 * q
    stretched = stretch_contrast(edges, percentile=50)
    np.testing.assert_allclose(stretched, np.minimum(edges / 0.1, 1.0), atol=1e-6)
    assert stretched.dtype == np.float32
    np.testing.assert_array_equal(stretch_contrast(np.zeros((3, 3))), 0.0)
    sparse = np.zeros((10, 10), "uint8")
    sparse[0, 0] = 200  # the 99.5th percentile is 0: the maximum is the scale
    assert stretch_contrast(sparse).max() == 1.0
    for bad in (0, 101, "high", True):
        with pytest.raises(ValueError, match="Expected a number in \\(0, 100\\]"):
            stretch_contrast(edges, percentile=bad)
