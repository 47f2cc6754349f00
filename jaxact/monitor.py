"""Activation health: dead units, saturation and output statistics per activation.

:func:`health` works on any JAX function (``model.apply``, an nnx Module, a plain
function): it finds the activation sites with :func:`jaxact.sites` -- inline
calls, scans and remat included -- and adds the gradient norm arriving at each.
:func:`nnx_health` and :func:`linen_health` see jaxact's activation layers only
(by their place in the module tree). The statistics are the same.

Call :func:`nnx_health` or :func:`linen_health` in a training loop (every N steps,
under ``jax.jit`` / ``nnx.jit`` if you like) to see, for every jaxact activation
layer of a model, how much of it is doing useful work:

- ``dead``: the fraction of units (features along the last axis) that are never
  active over the batch: the activation's derivative ``f'(z)`` is exactly 0 at
  every sample. ``f'`` is computed from the layer's recorded input ``z`` with
  ``jax.jvp`` of the layer (tangent ones), so it is the derivative the optimiser
  sees, kink conventions and learnable parameters included.
- ``saturated``: for bounded activations (``Spec.bounded``: sigmoid, tanh,
  hard_tanh, relu6, ...) the fraction of entries with
  ``|f'(z)| < 1e-2 * max |f'|``, the maximum taken over ``SATURATION_GRID``
  points of ``[-SATURATION_RANGE, SATURATION_RANGE]``; 0 for unbounded ones.
- ``mean``, ``std``: of the layer's output over all its entries (in float32).

``dead`` and ``saturated`` are NaN for layers whose activation is not
elementwise (softmax, glu, ``meta_acon``: a vector activation's ``f'`` is a
matrix) or is random (``gumbel_softmax``, ``rrelu`` in training).

Layers found: every :class:`jaxact.nnx.Activation` / :class:`jaxact.linen.Activation`,
jaxact's learnable activation layers (``PReLU``, ``Swish``, ``Snake``, ...,
``Rational``, ``MetaACON``) and flax's own ``PReLU``. They are named by their path
in the module tree (``"layers/1"`` in nnx, ``"layers_1"`` in linen; ``"(root)"``
for the model itself). A layer called more than once gets one entry per call,
the later ones suffixed ``"#2"``, ``"#3"`` ... :func:`grad_norms` gives the
gradient norm per module and :func:`format_health` prints a table.

Importing this module imports flax.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax import nnx

from jaxact._src import layers, registry
from jaxact._src import sites as _sites
from jaxact._src.registry import Spec

Array = jax.Array
Stats = dict[str, dict[str, Array]]

__all__ = ["health", "outputs", "nnx_health", "linen_health", "grad_norms", "format_health"]

# The reference range of ``saturated``: max |f'| over this many points of [-R, R].
SATURATION_RANGE = 10.0
SATURATION_GRID = 2001
# Entries with |f'(z)| below this fraction of the reference maximum are saturated.
SATURATION_THRESHOLD = 1e-2

_ROOT = "(root)"


# ----------------------------------------------------------------------------
# Which layers, and what they compute.


def _layer_info(module: Any) -> tuple[bool, Spec | None] | None:
    """(is random, the registry row) for a jaxact activation layer, None for other modules."""
    computes = layers.layer_activation(module)
    if computes is None:
        return None
    fn, random = computes
    return random, registry.spec_of(fn)


# ----------------------------------------------------------------------------
# The statistics of one call.


def _layer_stats(
    f: Callable[[Array], Array], z: Any, y: Any, random: bool, spec: Spec | None
) -> dict[str, Array]:
    """Statistics of one call ``y = f(z)`` of a layer (``f`` the layer as a function of z).

    A callable that is not in the name table (``spec`` None) is taken to be
    elementwise and unbounded.
    """
    y32 = jnp.asarray(y).astype(jnp.float32)
    stats = {"mean": jnp.mean(y32), "std": jnp.std(y32)}
    if random or (spec is not None and spec.kind != "elementwise"):
        nan = jnp.full((), jnp.nan, jnp.float32)
        return {"dead": nan, "saturated": nan, **stats}
    z, _ = layers.compute_dtype(None, z, "jaxact.monitor")
    _, dz = jax.jvp(f, (z,), (jnp.ones_like(z),))
    slope = jnp.abs(jnp.asarray(dz).astype(jnp.float32))
    units = slope.reshape(-1, slope.shape[-1]) if slope.ndim else slope.reshape(1, 1)
    dead = jnp.mean(jnp.all(units == 0, axis=0).astype(jnp.float32))
    if spec is not None and spec.bounded:
        grid = jnp.linspace(-SATURATION_RANGE, SATURATION_RANGE, SATURATION_GRID, dtype=z.dtype)
        _, dgrid = jax.jvp(f, (grid,), (jnp.ones_like(grid),))
        peak = jnp.max(jnp.abs(jnp.asarray(dgrid).astype(jnp.float32)))
        saturated = jnp.mean((slope < SATURATION_THRESHOLD * peak).astype(jnp.float32))
    else:
        saturated = jnp.zeros((), jnp.float32)
    return {"dead": dead, "saturated": saturated, **stats}


def _key(path: tuple[Any, ...], stats: Stats) -> str:
    """The entry name of a call: the path, suffixed ``#n`` for the n-th call of a layer."""
    base = "/".join(str(p) for p in path) or _ROOT
    key, n = base, 1
    while key in stats:
        n += 1
        key = f"{base}#{n}"
    return key


# ----------------------------------------------------------------------------
# NNX.


class _Probe(nnx.Module):
    """Stands in for a layer in the monitor's private copy of a model; records its calls."""

    def __init__(self, layer: nnx.Module, record: Callable[..., None]):
        self.layer = layer
        self.record = record

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        y = self.layer(*args, **kwargs)
        self.record(self.layer, args, kwargs, y)
        return y


def _set_child(parent: Any, key: Any, value: Any) -> None:
    if isinstance(parent, nnx.Module) and isinstance(key, str):
        setattr(parent, key, value)
    else:
        parent[key] = value


def _child(parent: Any, key: Any) -> Any:
    if isinstance(parent, nnx.Module) and isinstance(key, str):
        return getattr(parent, key)
    return parent[key]


def nnx_health(model: nnx.Module, x: Any, **kwargs: Any) -> Stats:
    """Health statistics of every jaxact activation layer of an NNX model on a batch.

    Runs ``model(x, **kwargs)`` on a private copy of the model in which each
    activation layer is wrapped to record its input and output (the model and its
    state, e.g. batch statistics and RNG counters, are left unchanged), then
    computes per layer (see the module docstring for the exact definitions):
    ``dead`` (fraction of units whose derivative is 0 at every sample),
    ``saturated`` (bounded activations: fraction of entries with
    ``|f'| < 1e-2 * max |f'|``; else 0), ``mean`` and ``std`` of the output.
    Works under ``jax.jit`` and ``nnx.jit``; costs about one forward pass plus
    one ``jvp`` of each activation.

    Limits: a layer shared at several paths is recorded under the first path
    ``nnx.iter_graph`` gives (calls through its other paths are not recorded);
    layers inside ``nnx.scan``/``nnx.vmap`` bodies are not supported; the
    activations of :class:`jaxact.nnx.GatedMLP` and functions called inline in
    ``__call__`` are not layers and are not reported.

    Args:
      model: an NNX module containing jaxact activation layers (or one itself).
      x: the batch (first argument of the model's ``__call__``).
      **kwargs: further keyword arguments of the model's ``__call__``.

    Returns:
      ``{path: {"dead", "saturated", "mean", "std"}}`` of float32 scalars, in
      call order; ``dead`` and ``saturated`` are NaN for vector and random
      activations.

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> import jaxact.nnx as jn
      >>> from jaxact.monitor import nnx_health
      >>> model = nnx.Sequential(jn.Activation("relu"), jn.Activation("sigmoid"))
      >>> stats = nnx_health(model, jnp.array([[-1.0, 2.0], [-3.0, 40.0]]))
      >>> {k: round(float(v), 4) for k, v in stats["layers/0"].items()}
      {'dead': 0.5, 'saturated': 0.0, 'mean': 10.5, 'std': 17.0514}
      >>> float(stats["layers/1"]["saturated"])  # sigmoid(40): flat
      0.25
    """
    stats: Stats = {}

    def recorder(path: tuple[Any, ...], random: bool, spec: Spec | None) -> Callable[..., None]:
        def record(layer: Any, args: tuple[Any, ...], kw: dict[str, Any], y: Any) -> None:
            def f(z: Array) -> Array:
                return layer(z, *args[1:], **kw)

            stats[_key(path, stats)] = _layer_stats(f, args[0], y, random, spec)

        return record

    root = _layer_info(model)
    if root is not None:
        y = model(x, **kwargs)
        recorder((), *root)(model, (x,), kwargs, y)
        return stats
    copy = nnx.clone(model)
    found: list[tuple[tuple[Any, ...], Any]] = []
    for path, node in nnx.iter_graph(copy):
        info = _layer_info(node) if isinstance(node, nnx.Module) else None
        if info is not None:
            found.append((tuple(path), info))
    found.sort(key=lambda item: len(item[0]))
    wrapped: list[tuple[Any, ...]] = []
    for path, info in found:
        if any(path[: len(w)] == w for w in wrapped):
            continue  # inside a layer already wrapped
        parent = copy
        for part in path[:-1]:
            parent = _child(parent, part)
        layer = _child(parent, path[-1])
        _set_child(parent, path[-1], _Probe(layer, recorder(path, *info)))
        wrapped.append(path)
    copy(x, **kwargs)
    return stats


# ----------------------------------------------------------------------------
# Linen.


def _as_function(
    module: nn.Module, variables: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> Callable[[Array], Array]:
    """An unbound linen layer as a function of its first argument."""

    def f(z: Array) -> Array:
        return cast(Array, module.apply(variables, z, *args[1:], **kwargs))

    return f


def linen_health(module: nn.Module, variables: Any, x: Any, **kwargs: Any) -> Stats:
    """Health statistics of every jaxact activation layer of a linen model on a batch.

    Runs ``module.apply(variables, x, **kwargs)`` under ``nn.intercept_methods``,
    recording the input and output of each activation layer's ``__call__``, then
    computes per layer ``dead``, ``saturated``, ``mean`` and ``std`` as
    :func:`nnx_health` does (definitions in the module docstring). Works under
    ``jax.jit``.

    Limits: layers inside lifted transforms (``nn.scan``, ``nn.vmap``,
    ``nn.remat``) are not supported; activations of :class:`jaxact.linen.GatedMLP`
    and functions called inline (``nn.relu(x)``) are not layers and are not
    reported.

    Args:
      module: a linen module containing jaxact activation layers (or one itself).
      variables: its variables (``{"params": ...}``, plus other collections).
      x: the batch.
      **kwargs: further arguments of ``apply``: the module's keyword arguments
        (``train=False``), ``rngs``, ``mutable`` (the updated state is dropped).

    Returns:
      ``{path: {"dead", "saturated", "mean", "std"}}`` of float32 scalars, in
      call order; ``dead`` and ``saturated`` are NaN for vector and random
      activations.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import flax.linen as nn
      >>> import jaxact.linen as jl
      >>> from jaxact.monitor import linen_health
      >>> model = nn.Sequential([nn.Dense(3), jl.Activation("relu")])
      >>> x = jnp.ones((4, 2))
      >>> variables = model.init(jax.random.key(0), x)
      >>> stats = linen_health(model, variables, x)
      >>> list(stats), sorted(stats["layers_1"])
      (['layers_1'], ['dead', 'mean', 'saturated', 'std'])
    """
    calls: list[tuple[Any, ...]] = []

    def interceptor(next_fun: Callable[..., Any], args: Any, kw: Any, context: Any) -> Any:
        y = next_fun(*args, **kw)
        mdl = context.module
        info = _layer_info(mdl) if context.method_name == "__call__" else None
        if info is not None and args:
            # The bound module's variables and an unbound clone: the layer as a
            # function of its input, evaluated after apply (outside the interceptor).
            detached = mdl.clone(parent=None, name=None)
            calls.append((mdl.path, info, detached, mdl.variables, args, kw, y))
        return y

    with nn.intercept_methods(interceptor):
        module.apply(variables, x, **kwargs)

    stats: Stats = {}
    inner: set[tuple[Any, ...]] = set()
    for path, (random, spec), detached, layer_vars, args, kw, y in calls:
        if any(path[: len(p)] == p and path != p for p in inner):
            continue  # a layer inside another jaxact layer
        inner.add(tuple(path))
        f = _as_function(detached, layer_vars, args, kw)
        stats[_key(tuple(path), stats)] = _layer_stats(f, args[0], y, random, spec)
    return stats


# ----------------------------------------------------------------------------
# Any JAX function: the activation sites.


def _slope(f: Callable[[Array], Array], z: Array) -> Array:
    """|f'(z)| in float32, by ``jax.jvp`` (the derivative the optimiser sees)."""
    _, dz = jax.jvp(f, (z,), (jnp.ones_like(z),))
    return jnp.abs(jnp.asarray(dz).astype(jnp.float32))


def _site_stats(f: Callable[[Array], Array], z: Array, y: Array, spec: Spec) -> dict[str, Array]:
    """Per-call statistics of a site, in a form that combines over the calls of a scan."""
    z, y = jax.lax.stop_gradient(z), jax.lax.stop_gradient(y)
    y32 = jnp.asarray(y).astype(jnp.float32)
    out = {"mean": jnp.mean(y32), "var": jnp.var(y32)}
    width = z.shape[-1] if z.ndim else 1
    if spec.kind != "elementwise":
        out["dead"] = jnp.full((width,), jnp.nan, jnp.float32)
        out["saturated"] = jnp.full((), jnp.nan, jnp.float32)
        return out
    slope = _slope(f, z)
    out["dead"] = jnp.all(slope.reshape(-1, width) == 0, axis=0).astype(jnp.float32)
    if spec.bounded:
        grid = jnp.linspace(-SATURATION_RANGE, SATURATION_RANGE, SATURATION_GRID, dtype=z.dtype)
        peak = jnp.max(_slope(f, grid.reshape((-1,) + (1,) * max(z.ndim - 1, 0))))
        out["saturated"] = jnp.mean((slope < SATURATION_THRESHOLD * peak).astype(jnp.float32))
    else:
        out["saturated"] = jnp.zeros((), jnp.float32)
    return out


def _combine(stats: dict[str, Array], grad: Array | None) -> dict[str, Array]:
    """Statistics over every call of a site (the leading axes: one per scan around it).

    Every call sees the same number of entries, so the mean of the per-call means
    is the mean, and the variance is the mean variance plus the variance of the means.
    """
    mean = jnp.mean(stats["mean"])
    var = jnp.mean(stats["var"]) + jnp.var(stats["mean"])
    nan = jnp.full((), jnp.nan, jnp.float32)
    norm = nan if grad is None else jnp.sqrt(jnp.sum(jnp.square(grad.astype(jnp.float32))))
    return {
        "dead": jnp.mean(stats["dead"]),
        "saturated": jnp.mean(stats["saturated"]),
        "mean": mean,
        "std": jnp.sqrt(jnp.maximum(var, 0.0)),
        "grad_norm": norm,
    }


def _default_loss(out: Any) -> Array:
    """The output itself when it is a float scalar, else the sum over the float
    outputs of half their mean square."""
    leaves = [jnp.asarray(v) for v in jax.tree.leaves(out)]
    floats = [v for v in leaves if jnp.issubdtype(v.dtype, jnp.floating)]
    if len(floats) == 1 and floats[0].shape == ():
        return floats[0].astype(jnp.float32)
    return sum(
        (0.5 * jnp.mean(jnp.square(v.astype(jnp.float32))) for v in floats),
        jnp.zeros((), jnp.float32),
    )


def _labels(found: list[_sites.Site]) -> list[str]:
    """One key per site: its path (or source line), with the activation where a path
    holds several, and ``#n`` for repeats."""
    per_where: dict[str, int] = {}
    for site in found:
        per_where[site.where] = per_where.get(site.where, 0) + 1
    labels: list[str] = []
    for site in found:
        base = site.where if per_where[site.where] == 1 else f"{site.where}:{site.name}"
        key, n = base, 1
        while key in labels:
            n += 1
            key = f"{base}#{n}"
        labels.append(key)
    return labels


def health(
    fn: Callable[..., Any],
    *args: Any,
    loss: Callable[[Any], Array] | None = None,
    where: Any = None,
    **kwargs: Any,
) -> Stats:
    """Health statistics of every activation site of any JAX function.

    The sites are those of :func:`jaxact.sites` (inline calls, scans, remat,
    jaxact's own functions and layers, jax.nn's and flax's), for any model:
    ``model.apply`` with its variables (linen), an nnx ``Module`` itself or a
    function of its ``nnx.split`` state, a plain function. Per site:

    - ``dead``: the fraction of units (features along the last axis) whose
      derivative ``f'(z)`` is exactly 0 at every sample of the batch (for a site
      inside a scan, every call's units count separately);
    - ``saturated``: for bounded activations, the fraction of entries with
      ``|f'(z)| < 1e-2 * max |f'|`` (as in :func:`nnx_health`); 0 for unbounded ones;
    - ``mean``, ``std``: of its output, over all entries of all its calls (float32);
    - ``grad_norm``: the L2 norm of the gradient of ``loss`` arriving at its
      output (over all its calls).

    ``dead`` and ``saturated`` are NaN for vector activations (softmax ...);
    every number is NaN for a site inside a ``while_loop`` (its calls cannot be
    collected), and ``grad_norm`` is NaN everywhere when ``fn`` cannot be
    differentiated in reverse mode (a ``while_loop`` on the way to the output).
    Works under ``jax.jit`` (the keys are fixed per input shape; a jitted call
    returns them sorted, as ``jit`` does with every dict).

    Args:
      fn: the function, called as ``fn(*args, **kwargs)``.
      loss: ``loss(output) -> scalar`` whose gradient is measured. By default the
        output itself when it is a scalar, else ``sum(0.5 * mean(out ** 2))`` over
        the float outputs: pass your training loss to see your gradients.
      where: which sites to measure (as in :func:`jaxact.substitute`).

    Returns:
      ``{key: {"dead", "saturated", "mean", "std", "grad_norm"}}`` of float32
      scalars, one entry per site in :func:`jaxact.sites` order. The key is the
      site's module path (``"layers/1"`` for an nnx model, ``"ResNet/Block_0"``
      in linen) or ``file:line`` where the framework gives no path, suffixed with
      the activation where one path holds several sites and ``#n`` for repeats.
      :func:`format_health` prints it.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from jaxact.monitor import health
      >>> def f(x):
      ...     return jnp.tanh(jax.nn.relu(x) * 30.0)
      >>> stats = health(f, jnp.array([[-1.0, 2.0], [-3.0, 4.0]]))
      >>> [(key.split(":")[-1], float(v["dead"])) for key, v in stats.items()]
      [('relu', 0.5), ('tanh', 0.5)]

      (relu: the first unit is negative at both samples; tanh: the second unit
      saturates to a slope of exactly 0 in float32.)
    """
    if loss is not None and not callable(loss):
        raise TypeError(
            f"jaxact.monitor.health: argument 'loss' must be callable, got {type(loss).__name__}"
        )
    keep = _sites._site_filter(where, "monitor.health")
    tr = _sites.trace(fn, args, kwargs, "monitor.health")
    found = [s for s in tr.sites if keep(s)]
    templates = _sites.templates_of(tr)
    measured = [s for s in found if s.count is not None]

    def hook(x: Array, y: Array, site: _sites.Site, params: Any, probe: Any) -> Any:
        t = templates[site.index]

        def f(z: Array) -> Array:
            return t.call(z, params)

        stats = _site_stats(f, x, y, registry.SPECS[site.name])
        return y + probe.astype(y.dtype), stats

    actions: dict[int, _sites.Action] = {s.index: ("hook", hook) for s in measured}
    probes = {s.index: jnp.zeros((*s.scans, *s.shape), s.dtype) for s in measured}
    objective = _default_loss if loss is None else loss

    def run(probes: dict[int, Array]) -> tuple[Array, dict[int, Any]]:
        out, extras = _sites.evaluate(tr, actions, "monitor.health", probes)
        value = jnp.asarray(objective(out))
        if value.shape != () or not jnp.issubdtype(value.dtype, jnp.floating):
            raise ValueError(
                "jaxact.monitor.health: argument 'loss' must return a float scalar, got "
                f"shape {value.shape} dtype {value.dtype}"
            )
        return value, extras

    try:
        grads, extras = jax.grad(run, has_aux=True)(probes)
    except ValueError as e:  # a while_loop with a dynamic trip count: forward only
        if "Reverse-mode" not in str(e):
            raise
        grads = {}
        _, extras = run(probes)
    nan = jnp.full((), jnp.nan, jnp.float32)
    result: Stats = {}
    for key, site in zip(_labels(found), found, strict=True):
        if site.index in extras:
            result[key] = _combine(extras[site.index], grads.get(site.index))
        else:
            result[key] = {k: nan for k in ("dead", "saturated", "mean", "std", "grad_norm")}
    return result


def outputs(
    fn: Callable[..., Any], *args: Any, where: Any = None, **kwargs: Any
) -> dict[str, Array]:
    """The output of every activation site of any JAX function, as computed in one call.

    The sites and their keys are those of :func:`health`; the function runs forward
    only, unchanged. Use it for statistics :func:`health` does not give: ranges and
    percentiles (what decides an activation's quantization error), exact zeros (free
    sparsity), histograms.

    Args:
      fn: the function, called as ``fn(*args, **kwargs)``.
      where: which sites (as in :func:`jaxact.substitute`).

    Returns:
      ``{key: output}``: each site's output with its own dtype and shape; for a
      site inside scans, one leading axis per scan around it (outermost first).

    Raises:
      ValueError: a selected site is inside a ``while_loop`` (its calls cannot be
        collected); select the others with ``where``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from jaxact.monitor import outputs
      >>> def f(x):
      ...     return jnp.tanh(jax.nn.relu(x) * 30.0)
      >>> {k.split(":")[-1]: v.tolist() for k, v in outputs(f, jnp.array([-1.0, 2.0])).items()}
      {'relu': [0.0, 2.0], 'tanh': [0.0, 1.0]}
    """
    keep = _sites._site_filter(where, "monitor.outputs")
    tr = _sites.trace(fn, args, kwargs, "monitor.outputs")
    found = [s for s in tr.sites if keep(s)]
    loose = [s for s in found if s.count is None]
    if loose:
        raise ValueError(
            "jaxact.monitor.outputs: the outputs of sites inside a while_loop cannot be "
            f"collected: {[s.where for s in loose]}; select the others with 'where'"
        )

    def hook(x: Array, y: Array, site: _sites.Site, params: Any, probe: Any) -> Any:
        return y, jax.lax.stop_gradient(y)

    _, extras = _sites.evaluate(tr, {s.index: ("hook", hook) for s in found}, "monitor.outputs")
    return {key: extras[s.index] for key, s in zip(_labels(found), found, strict=True)}


# ----------------------------------------------------------------------------
# Gradient norms and printing.


def _part(key: Any) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def grad_norms(grads: Any, depth: int | None = None) -> dict[str, Array]:
    """The L2 norm of the gradients of each module of a model.

    Leaves are grouped by their path without the last key (the parameter name),
    so each module that owns parameters (``"layers/0"`` in nnx, ``"Dense_0"`` in
    linen) gets the norm over all of its parameters; ``depth=1`` groups by
    top-level submodule instead.

    Args:
      grads: a gradient pytree: an ``nnx.State`` (from ``nnx.grad``), a linen
        params dict, or linen variables ``{"params": ...}`` (unwrapped).
      depth: group by the first ``depth`` keys of each path instead.

    Returns:
      ``{path: norm}`` of float32 scalars (``"(root)"`` for parameters at the top).

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxact.monitor import grad_norms
      >>> grads = {"params": {"Dense_0": {"kernel": jnp.full((2, 2), 1.0), "bias": jnp.zeros(2)},
      ...                     "Dense_1": {"kernel": jnp.array([[3.0], [4.0]])}}}
      >>> {k: float(v) for k, v in grad_norms(grads).items()}
      {'Dense_0': 2.0, 'Dense_1': 5.0}
    """
    if isinstance(grads, Mapping) and list(grads) == ["params"]:
        grads = grads["params"]
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise ValueError(f"jaxact grad_norms: argument 'depth' must be an int >= 1, got {depth!r}")
    squares: dict[str, Array] = {}
    leaves = jax.tree_util.tree_flatten_with_path(
        grads, is_leaf=lambda v: isinstance(v, nnx.Variable)
    )[0]
    for path, leaf in leaves:
        if isinstance(leaf, nnx.Variable):
            leaf = leaf.get_value()
        parts = [_part(k) for k in path]
        group = parts[:-1] if depth is None else parts[:depth]
        key = "/".join(group) or _ROOT
        total = jnp.sum(jnp.square(jnp.asarray(leaf).astype(jnp.float32)))
        squares[key] = squares[key] + total if key in squares else total
    return {k: jnp.sqrt(v) for k, v in squares.items()}


def format_health(stats: Mapping[str, Mapping[str, Any]]) -> str:
    """A printable table of :func:`nnx_health` / :func:`linen_health` statistics.

    ``dead`` and ``saturated`` are shown as percentages, ``-`` where not defined.

    Args:
      stats: the statistics (concrete values: call outside ``jit``).

    Returns:
      The table, one line per layer, without a trailing newline.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxact.monitor import format_health
      >>> stats = {"layers/1": {"dead": jnp.array(0.25), "saturated": jnp.array(0.0),
      ...                       "mean": jnp.array(0.5), "std": jnp.array(1.25)},
      ...          "layers/3": {"dead": jnp.array(jnp.nan), "saturated": jnp.array(jnp.nan),
      ...                       "mean": jnp.array(0.125), "std": jnp.array(0.0625)}}
      >>> print(format_health(stats))
      layer       dead  saturated        mean         std
      layers/1   25.0%       0.0%         0.5        1.25
      layers/3       -          -       0.125      0.0625
    """

    def percent(v: Any) -> str:
        v = float(v)
        return "-" if math.isnan(v) else f"{100 * v:.1f}%"

    width = max([len("layer"), *(len(k) for k in stats)])
    grads = any("grad_norm" in row for row in stats.values())
    head = f"{'layer':<{width}}  {'dead':>6}  {'saturated':>9}  {'mean':>10}  {'std':>10}"
    lines = [head + (f"  {'grad norm':>10}" if grads else "")]
    for name, row in stats.items():
        line = (
            f"{name:<{width}}  {percent(row['dead']):>6}  {percent(row['saturated']):>9}  "
            f"{float(row['mean']):>10.4g}  {float(row['std']):>10.4g}"
        )
        if grads:
            line += f"  {float(row.get('grad_norm', math.nan)):>10.4g}"
        lines.append(line)
    return "\n".join(lines)
