"""Every layer, builder and engine gives the TensorFlow backend's outputs (tests/backend_cases.py).

Run under JAX or PyTorch (`pytest --backend jax`, `make test-jax`, `make test-torch`):
each case is computed here and, in a subprocess, under TensorFlow; integer-exact cases
agree bit for bit, the others to float32 tolerance. Models saved by either backend load
in safe mode under the other and give the same outputs.
"""

import os
import subprocess
import sys

import backend_cases
import keras
import numpy as np
import pytest

from conftest import ROOT, TOLERANCE

pytestmark = pytest.mark.backends("jax", "torch")

CASES = backend_cases.cases()


@pytest.fixture(scope="module")
def tensorflow(tmp_path_factory):
    """The TensorFlow backend's outputs, and the outputs of the models saved here, loaded there."""
    mine = tmp_path_factory.mktemp("saved_here")
    for name, (model, _) in backend_cases.saved_models().items():
        model.save(mine / f"{name}.keras")
    out = tmp_path_factory.mktemp("tensorflow")
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "PYTHONPATH": str(ROOT)}
    script = ROOT / "tests" / "backend_cases.py"
    done = subprocess.run(
        [sys.executable, str(script), str(out), str(mine)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def _assert_agree(name, actual, expected):
    assert actual.shape == expected.shape and actual.dtype == expected.dtype, name
    if name.startswith(backend_cases.EXACT) or actual.dtype == np.bool_:
        np.testing.assert_array_equal(actual, expected, err_msg=name)
    else:
        np.testing.assert_allclose(
            actual, expected, **TOLERANCE["float32"], err_msg=name
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_equal_the_tensorflow_backend(tensorflow, name):
    """The case's output equals TensorFlow's: bit for bit where exact, else to float32 tolerance."""
    with np.load(tensorflow / "outputs.npz") as reference:
        _assert_agree(name, CASES[name](), reference[name])


@pytest.mark.parametrize("name", sorted(backend_cases.saved_models()))
def test_models_saved_under_one_backend_load_under_the_other(tensorflow, name):
    """A .keras file saved under TensorFlow loads here in safe mode, and ours loads there."""
    model, inputs = backend_cases.saved_models()[name]
    expected = keras.ops.convert_to_numpy(model(inputs))
    loaded_here = backend_cases.run_saved(tensorflow, [name])[name]
    with np.load(tensorflow / "loaded.npz") as loaded_there:
        _assert_agree(name, loaded_there[name], expected)
    _assert_agree(name, loaded_here, expected)


def test_fit_on_arrays_moves_prewitt_towards_sobel():
    """`model.fit` on NumPy arrays trains the trainable variant: the loss falls 5x in 40 steps."""
    model, history = backend_cases.fit_on_arrays()
    losses = history.history["loss"]
    assert losses[-1] < losses[0] / 5, losses
    kernel_x = model.get_layer("grad_x").get_weights()[0][:, :, 0, 0]
    assert (
        -1.8 < kernel_x[1, 0] < -1.6 and 1.6 < kernel_x[1, 2] < 1.8
    )  # Prewitt 1, Sobel 2
