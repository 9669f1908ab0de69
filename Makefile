# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# PyTorch for `make test-torch`: 2.13.0 is a CPU build on this project's machines; from
# PyPI, Linux wheels of torch pull several GB of CUDA libraries (see README, "Backends").
TORCH ?= torch==2.13.0

# `make test-wheel`: the built wheel, installed (not editable) into a venv of its own.
WHEEL_VENV ?= build/wheel-venv

.PHONY: demo test test-wheel test-jax test-torch test-beam bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed-runtime: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install -e '.[test]'
	touch $@

$(VENV)/.installed-dev: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

$(VENV)/.installed-jax: $(VENV)/.installed-test
	$(BIN)/python -m pip install -e '.[test,jax]'
	touch $@

$(VENV)/.installed-torch: $(VENV)/.installed-test
	$(BIN)/python -m pip install '$(TORCH)'
	touch $@

demo: $(VENV)/.installed-runtime  ## edge detection on the sample images in img/ -> out/
	$(BIN)/keras-edges demo --images img -o out

test: $(VENV)/.installed-test  ## the whole test suite, notebooks included
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The README's workflows against the package as a user installs it: build the wheel,
# install it into a fresh venv (not editable: a file missing from the wheel fails), run
# tests/test_readme_workflows.py with that venv's Python and console script.
test-wheel:  ## the README's workflows, run by the installed wheel
	rm -rf build/dist $(WHEEL_VENV)
	$(PYTHON) -m venv $(WHEEL_VENV)
	$(WHEEL_VENV)/bin/python -m pip wheel --no-deps --wheel-dir build/dist .
	$(WHEEL_VENV)/bin/python -m pip install "$$(ls build/dist/keras_edges-*.whl)[test]"
	KERAS_EDGES_INSTALLED=1 $(WHEEL_VENV)/bin/python -m pytest -p no:cacheprovider \
		tests/test_readme_workflows.py

test-jax: $(VENV)/.installed-jax  ## the `backends` tests under JAX, compared with TensorFlow
	$(BIN)/python -m pytest --backend jax

test-torch: $(VENV)/.installed-torch  ## the same under PyTorch (not in CI: see README)
	$(BIN)/python -m pytest --backend torch

# Apache Beam (`keras-edges detect --runner NAME`): a venv of its own, since Beam's pins
# (protobuf<7, numpy<2.5, pillow<13) would hold the main one back.
BEAM_VENV ?= .venv-beam

$(BEAM_VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(BEAM_VENV)
	$(BEAM_VENV)/bin/python -m pip install --upgrade pip
	$(BEAM_VENV)/bin/python -m pip install -e '.[beam]' 'pytest>=7'
	touch $@

test-beam: $(BEAM_VENV)/.installed  ## the Beam pipeline's tests and the README's Beam command, ~3 min
	$(BEAM_VENV)/bin/python -m pytest tests/test_beam.py keras_edges/beam.py
	$(BEAM_VENV)/bin/python -m pytest tests/test_readme_workflows.py -k FnApiRunner

bench: $(VENV)/.installed-dev  ## side-by-side benchmarks; results go in benchmarks/README.md
	$(BIN)/python benchmarks/bench_detect.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check conftest.py keras_edges tests benchmarks img
	$(BIN)/ruff format --check conftest.py keras_edges tests benchmarks img

clean:
	rm -rf $(VENV) $(BEAM_VENV) out build *.egg-info .pytest_cache
