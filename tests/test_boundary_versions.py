"""Tests for the learned detector's versions: architectures and shipped weights by name."""

import hashlib
import json

import keras
import numpy as np
import pytest
from test_export import run_tflite

from keras_edges import export_model
from keras_edges.cli import main
from keras_edges.models import (
    BOUNDARY_VERSIONS,
    DEFAULT_BOUNDARY_VERSION,
    PRETRAINED_WEIGHTS,
    build_boundary_model,
    pretrained_weights,
)

RNG = np.random.default_rng(0)

# The versions whose weights are installed (v1 always is; v2 once a run has shipped them).
SHIPPED = [
    version for version in BOUNDARY_VERSIONS if pretrained_weights(version).is_file()
]


def _stage4_parameters(width: int, inputs: int = 64) -> int:
    """Parameters that depend on the last stage's width (hand count of the graph).

    The 1x1 expansion (kernel and bias), three blocks of a bias-free 3x3 pixel-difference
    depthwise convolution and a 1x1 pointwise one (kernel and bias), and the side output's
    1x1 reduction to 8 channels (its kernel only: its bias does not depend on the width).
    """
    expand = inputs * width + width
    blocks = 3 * (9 * width + width * width + width)
    return expand + blocks + 8 * width


def test_versions_differ_only_in_the_last_stage():
    """v2 widens only the 1/8-resolution stage (64 -> 128): the hand count of the change."""
    v1 = build_boundary_model(version="v1").count_params()
    v2 = build_boundary_model(version="v2").count_params()
    assert v1 == 43_401
    assert v2 - v1 == _stage4_parameters(128) - _stage4_parameters(64)
    assert v2 < 100_000


def test_default_is_v1_and_pinning_it_loads_the_same_weights():
    """`version="v1"` is today's default model with today's weights, file and all."""
    assert DEFAULT_BOUNDARY_VERSION == "v1"
    assert pretrained_weights("v1") == PRETRAINED_WEIGHTS
    default = build_boundary_model(pretrained=True)
    pinned = build_boundary_model(version="v1", pretrained=True)
    for a, b in zip(default.get_weights(), pinned.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "options, error, message",
    [
        (dict(version="v9"), ValueError, "version"),
        (dict(version="v2", pretrained=True, blocks=2), ValueError, "of version 'v2'"),
        (
            dict(version="v1", pretrained=True, widths=(16, 32, 64, 128)),
            ValueError,
            "v1",
        ),
    ],
)
def test_bad_versions_are_reported(options, error, message):
    """An unknown version, or pretrained weights with another architecture, is refused."""
    with pytest.raises(error, match=message):
        build_boundary_model(**options)


def test_missing_weights_name_the_file_and_the_versions_that_have_them(
    tmp_path, monkeypatch
):
    """Pretrained weights that are not installed raise FileNotFoundError naming the file."""
    from keras_edges import models

    monkeypatch.setattr(models, "_WEIGHTS", tmp_path)
    with pytest.raises(
        FileNotFoundError,
        match="boundaries_v2.weights.h5.*versions with weights: \\[\\]",
    ):
        build_boundary_model(version="v2", pretrained=True)


def test_learn_refuses_an_unknown_version(tmp_path, capsys):
    """`keras-edges learn --model-version v9` stops before reading any data."""
    with pytest.raises(SystemExit):
        main(
            [
                "learn",
                "--bsds",
                str(tmp_path),
                "--model-version",
                "v9",
                "-o",
                str(tmp_path / "run"),
            ]
        )
    assert "--model-version must be one of v1, v2, got 'v9'" in capsys.readouterr().err


@pytest.mark.parametrize("version", SHIPPED)
def test_shipped_weights_have_their_provenance(version):
    """Each shipped file is < 1 MB, named by SHA-256 in its JSON, of its architecture."""
    path = pretrained_weights(version)
    provenance = json.loads(
        path.with_name(path.name.replace(".weights.h5", ".json")).read_text()
    )
    assert path.stat().st_size < 1_000_000
    assert provenance["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    model = build_boundary_model(version=version, pretrained=True)
    assert provenance["parameters"] == model.count_params()


@pytest.mark.parametrize("version", SHIPPED)
def test_shipped_versions_load_in_safe_mode(tmp_path, version):
    """Each version with weights saves and loads in safe mode, without custom_objects."""
    model = build_boundary_model(version=version, pretrained=True)
    model.save(tmp_path / "boundaries.keras")
    loaded = keras.saving.load_model(tmp_path / "boundaries.keras", safe_mode=True)
    batch = RNG.uniform(size=(2, 37, 53, 3)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(loaded(batch)), np.asarray(model(batch)), rtol=1e-6, atol=1e-6
    )


@pytest.mark.slow
@pytest.mark.parametrize("version", SHIPPED)
def test_shipped_versions_export_to_tflite(tmp_path, version):
    """Each version with weights exports to TFLite with the Keras probabilities."""
    model = build_boundary_model(version=version, pretrained=True)
    target = export_model(model, tmp_path / "boundaries.tflite", format="tflite")
    batch = RNG.uniform(size=(1, 37, 53, 3)).astype(np.float32)
    np.testing.assert_allclose(
        run_tflite(target, batch), np.asarray(model(batch)), rtol=1e-4, atol=1e-5
    )
