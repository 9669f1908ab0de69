"""`python -m keras_edges`: the `keras-edges` command."""

import sys

from keras_edges.cli import main

if __name__ == "__main__":  # worker processes import this module again
    sys.exit(main())
