"""`python -m keras_edges.cli`: the `keras-edges` command."""

import sys

from keras_edges.cli import main

sys.exit(main())
