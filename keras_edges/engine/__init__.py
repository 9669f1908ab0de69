"""Fast paths that read a model's own configuration and compute what it computes.

Each engine is a module with two calls: `plan(model)` returns a hashable description of
the work (or None when the engine cannot run that model) and `run(plan, batch, ...)`
computes it. Each method of `keras_edges.methods` chooses its engine; the model is the
reference.

- `stencil`: the gradient models of `build_edge_model` (Sobel family, trained kernels).
- `canny`: the models of `build_canny_model` (stencil stages + linear-time hysteresis).
- `learned`: the boundary models of `build_boundary_model` (one trace for all sizes).
"""
