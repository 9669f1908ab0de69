"""Doctests see `np` and the public API, as a user's session would (`pytest keras_edges` alone)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    """Give every doctest `np` and the names of `keras_edges.__all__`."""
    import keras_edges

    doctest_namespace["np"] = np
    for name in keras_edges.__all__:
        doctest_namespace[name] = getattr(keras_edges, name)
