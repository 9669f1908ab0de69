"""Outputs that must not depend on the Keras backend, and the models saved for the swap.

`tests/test_backends.py` computes every case of `CASES` under its own backend and
compares it with the same case computed under another backend (TensorFlow, for a run
under JAX or PyTorch), which it gets by running this file as a script:

    KERAS_BACKEND=tensorflow python tests/backend_cases.py OUT [SAVED]

The script writes `OUT/outputs.npz` (every case), saves the models of `saved_models()`
to `OUT/<name>.keras`, and, if SAVED is given, loads the `.keras` files there (saved by
the calling backend) and writes their outputs to `OUT/loaded.npz`. Inputs are drawn from
fixed seeds, so both processes see the same arrays.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _shapes(size=48):
    """An anti-aliased disk, a square and a noisy ellipse in [0, 1], as (3, size, size, 1)."""
    rows, columns = np.mgrid[:size, :size] + 0.5
    disk = np.clip(size / 3 - np.hypot(rows - size / 2, columns - size / 2) + 0.5, 0, 1)
    square = np.zeros((size, size))
    square[size // 4 : 3 * size // 4, size // 5 : 4 * size // 5] = 0.8
    ellipse = ((rows - size / 2) / (size / 3)) ** 2 + (
        (columns - size / 2) / (size / 4)
    ) ** 2 < 1
    noisy = 0.3 + 0.4 * ellipse + np.random.default_rng(0).normal(0, 0.03, (size, size))
    return np.stack([disk, square, noisy])[..., None].astype("float32")


def _noisy_shapes():
    """`_shapes()` plus Gaussian noise: no exact ties between neighbouring magnitudes.

    A float Canny map is the same on every backend up to ties: where two neighbours
    have the same magnitude in exact arithmetic (the two sides of the square's blurred
    step), which one non-maximum suppression keeps depends on the last bit.
    """
    noise = np.random.default_rng(8).normal(0, 0.02, (3, 48, 48, 1))
    return (_shapes() + noise).astype("float32")


def _photo():
    """A 61 x 83 uint8 crop of the camera photo."""
    from keras_edges import load_image

    return load_image(ROOT / "img" / "camera.png")[200:261, 150:233]


def _random(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _call(layer_or_model, inputs):
    import keras

    return keras.ops.convert_to_numpy(layer_or_model(inputs))


def _layer_cases():
    from keras_edges.kernels import PADDING_MODES, get_kernels, gradient_frame
    from keras_edges.layers import (
        BorderPadding,
        GaussianBlur,
        GradientMagnitude,
        GradientOrientation,
        Hysteresis,
        NonMaxSuppression,
        ZeroSum,
    )

    image = _random((2, 7, 9, 3))
    grads = [_random((2, 6, 5, 1), 1), _random((2, 6, 5, 1), 2)]
    magnitude = np.abs(grads[0]) + np.abs(grads[1])
    suppressed = np.where(magnitude > 1.5, magnitude, 0.0).astype("float32")
    frame = gradient_frame(*get_kernels("roberts"))
    cases = {
        f"pad_{mode}": lambda mode=mode: _call(
            BorderPadding(((2, 1), (3, 0)), mode=mode), image
        )
        for mode in PADDING_MODES
    }
    cases.update(
        magnitude_l1=lambda: _call(GradientMagnitude(), grads),
        magnitude_l2=lambda: _call(GradientMagnitude(norm="l2"), grads),
        orientation=lambda: _call(GradientOrientation(frame=frame), grads),
        blur=lambda: _call(GaussianBlur(1.4), _random((2, 17, 19, 3), 4)),
        nms_interpolated=lambda: _call(NonMaxSuppression(), [*grads, magnitude]),
        nms_sectors=lambda: _call(
            NonMaxSuppression(interpolate=False), [*grads, magnitude]
        ),
        hysteresis=lambda: _call(Hysteresis(1.6, 3.0), [suppressed, magnitude]),
        hysteresis_quantiles=lambda: _call(
            Hysteresis(0.5, 0.9, use_quantiles=True), [suppressed, magnitude]
        ),
        zero_sum=lambda: _call(ZeroSum(), _random((3, 3, 2, 1), 3)),
    )
    return cases


def _model_cases():
    from keras_edges import build_canny_model, build_edge_model, detect_edges
    from keras_edges.kernels import KERNELS

    photo = _photo()
    grey = photo[None, :, :, None].astype("float32")  # integer values: exact sums
    shapes = _shapes()
    cases = {}
    for operator in sorted(KERNELS):
        for ksize in sorted(KERNELS[operator]):
            model = build_edge_model(operator, ksize=ksize, padding="symmetric")
            cases[f"edges_{operator}_{ksize}"] = lambda m=model: _call(m, grey)
    noisy = _noisy_shapes()
    gradients = build_edge_model("sobel", output="gradients")
    cases["edges_gradients"] = lambda: _call(gradients, noisy)
    cases["edges_orientation"] = lambda: _orientation_as_vectors(noisy)
    cases["edges_l2_normalized"] = lambda: _call(
        build_edge_model("scharr", magnitude="l2", normalize=True), shapes
    )
    cases["canny_skimage"] = lambda: _call(build_canny_model(), noisy)
    cases["canny_quantiles"] = lambda: _call(
        build_canny_model("prewitt", use_quantiles=True, low=0.7, high=0.9), noisy
    )
    opencv = dict(sigma=0.0, magnitude="l1", padding="replicate", interpolate=False)
    cases["canny_opencv"] = lambda: _call(
        build_canny_model(low=60.0, high=150.0, **opencv), grey
    )
    for engine in ("fast", "model"):
        cases[f"detect_uint8_{engine}"] = lambda e=engine: detect_edges(photo, engine=e)
        cases[f"detect_float_{engine}"] = lambda e=engine: detect_edges(
            shapes, magnitude="l2", engine=e
        )
    cases["detect_canny"] = lambda: detect_edges(photo, method="canny")
    cases["detect_threshold"] = lambda: detect_edges(photo, threshold=0.2)
    boundary = _seeded_boundary_model()
    cases["boundary_model"] = lambda: _call(boundary, _random((2, 37, 45, 3), 12))
    cases["fit_on_arrays"] = lambda: np.stack(fit_on_arrays()[0].get_weights())
    return cases


def _orientation_as_vectors(images):
    """The orientation output turned back into gradient vectors: `|g| (cos, sin)(angle)`.

    An angle is ill-conditioned where the gradient is zero up to rounding (a reflected
    border, a corner): there -pi and pi, or any angle, are equally right. Weighted by the
    magnitude, such pixels count as much as their gradient does.
    """
    from keras_edges import build_edge_model

    angle = _call(build_edge_model("scharr", output="orientation"), images)
    grad_x, grad_y = np.moveaxis(
        _call(build_edge_model("scharr", output="gradients"), images), -1, 0
    )
    magnitude = np.hypot(grad_x, grad_y)[..., None]
    return np.stack([magnitude * np.cos(angle), magnitude * np.sin(angle)])


def fit_on_arrays(epochs=20):
    """The trainable Prewitt model fitted with SGD on arrays to Sobel targets, and its history.

    Plain SGD: Adam divides by the root of the squared gradient, which turns components
    that are zero up to rounding into full steps of either sign.
    """
    import keras
    import scipy.ndimage

    from keras_edges import build_edge_model, get_kernels

    images = np.random.default_rng(7).uniform(size=(16, 20, 20)).astype("float32")
    kernel_x, kernel_y = (k[:, :, 0, 0] for k in get_kernels("sobel"))
    targets = np.hypot(
        *(
            scipy.ndimage.correlate(
                images.astype("float64"), kernel[None], mode="mirror"
            )
            for kernel in (kernel_x, kernel_y)
        )
    ).astype("float32")[..., None]
    # L2, not L1: |g| has a kink at g = 0 that rounding sends either way, and so would
    # the gradients of pixels whose response is zero up to the last bit.
    model = build_edge_model("prewitt", magnitude="l2", trainable=True)
    model.compile(optimizer=keras.optimizers.SGD(0.3), loss="mse")
    history = model.fit(
        images[..., None],
        targets,
        batch_size=8,
        epochs=epochs,
        shuffle=False,
        verbose=0,
    )
    return model, history


def cases() -> dict:
    """Every case: name -> a function returning a NumPy array."""
    return {**_layer_cases(), **_model_cases()}


# Cases whose arithmetic is exact (copies, integer sums, comparisons of exact numbers):
# equal bit for bit on every backend. The others agree to float32 tolerance.
EXACT = (
    "pad_",
    "hysteresis",
    "edges_prewitt",
    "edges_roberts",
    "edges_scharr",
    "edges_sobel",
    "canny_opencv",
    "detect_uint8_",
    "detect_threshold",
)


def _seeded_boundary_model():
    """`build_boundary_model()` with weights drawn from a fixed seed (same on every backend)."""
    from keras_edges import build_boundary_model

    model = build_boundary_model()
    rng = np.random.default_rng(11)
    model.set_weights(
        [
            0.2 * rng.standard_normal(w.shape).astype("float32")
            for w in model.get_weights()
        ]
    )
    return model


def saved_models() -> dict:
    """Models saved under one backend and loaded under another: name -> (model, input)."""
    from keras_edges import build_canny_model, build_edge_model

    trained = build_edge_model("sobel", ksize=5, trainable=True, magnitude="l2")
    trained.set_weights([_random((5, 5, 1, 1), 4), _random((5, 5, 1, 1), 5)])
    return {
        "boundary": (_seeded_boundary_model(), _random((2, 37, 45, 3), 12)),
        "trained": (trained, _shapes()),
        "canny": (
            build_canny_model("scharr", sigma=1.4, interpolate=False),
            _noisy_shapes(),
        ),
        "channels_first": (
            build_edge_model("sobel", channels=3, data_format="channels_first"),
            _random((2, 3, 11, 13), 6),
        ),
    }


def run_saved(folder: Path, names=None) -> dict:
    """Load the `.keras` models `names` (all) of `saved_models()` from `folder` and run them."""
    import keras

    import keras_edges  # noqa: F401 - registers the layers

    outputs = {}
    for name, (_, inputs) in saved_models().items():
        if names is None or name in names:
            model = keras.saving.load_model(folder / f"{name}.keras", safe_mode=True)
            outputs[name] = _call(model, inputs)
    return outputs


def main(out: str, saved: str | None = None) -> None:
    out = Path(out)
    np.savez(out / "outputs.npz", **{name: run() for name, run in cases().items()})
    for name, (model, _) in saved_models().items():
        model.save(out / f"{name}.keras")
    if saved is not None:
        np.savez(out / "loaded.npz", **run_saved(Path(saved)))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(*sys.argv[1:])
