"""keras_edges: edge detection as Keras models, exact, fast and trainable.

The public API is every name in the `__all__` of the modules below; each name is
listed once, there. `import keras_edges` is light (no TensorFlow): a name is imported
from its module on first use, so `keras-edges --help` answers at once.

The package's Keras layers register themselves with Keras as soon as both are imported,
in either order (`import keras_edges` then `import keras`, or the reverse), so saved
models load with `keras.saving.load_model(path)` in safe mode, without
`custom_objects`, on every path: a script, a notebook, `python -m keras_edges.cli`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__version__ = "0.1.0"

# The modules whose `__all__` make up the public API, lightest first (the first five
# need only NumPy, SciPy and Pillow).
_PUBLIC_MODULES = (
    "io",
    "kernels",
    "nms",
    "metrics",
    "datasets",
    "plot",
    "layers",
    "models",
    "methods",
    "detect",
    "export",
    "train",
)


def _public_names() -> list[str]:
    names = []
    for module in _PUBLIC_MODULES:
        names += importlib.import_module(f"keras_edges.{module}").__all__
    return sorted(names)


def __getattr__(name):
    if name == "__all__":  # `from keras_edges import *`, `keras_edges.__all__`
        value = _public_names()
    elif name.startswith("_"):
        raise AttributeError(f"module 'keras_edges' has no attribute {name!r}")
    else:
        for module_name in _PUBLIC_MODULES:
            module = importlib.import_module(f"keras_edges.{module_name}")
            if name in module.__all__:
                value = getattr(module, name)
                break
        else:
            raise AttributeError(f"module 'keras_edges' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__getattr__("__all__")))


class _RegisterLayersAfterKeras(importlib.abc.MetaPathFinder):
    """Import `keras_edges.layers` (which registers the layers) right after `keras`.

    Finds nothing itself: it asks the other finders for `keras`'s spec and wraps its
    loader so that the layers register as soon as Keras has finished importing. It
    removes itself on first use.
    """

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:  # another thread got here first
            return None
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_module_then_register(module):
            exec_module(module)
            importlib.import_module("keras_edges.layers")

        spec.loader.exec_module = exec_module_then_register
        return spec


if "keras" in sys.modules:
    importlib.import_module("keras_edges.layers")
else:
    sys.meta_path.insert(0, _RegisterLayersAfterKeras())
