"""Generic tests run for every row of the name registry.

Shapes and dtypes, agreement of jit/vmap/grad/jacfwd/jacrev/hessian/checkpoint/
scan, single tracing, no tracer leaks, abstract evaluation of huge inputs,
second-order gradient checks in float64, the pinned kink values, NaN
propagation and bad-input errors.
"""

from __future__ import annotations

import functools
import gc
import inspect
import pathlib
import subprocess
import sys
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax
from jax.test_util import check_grads

from jaxact._src import registry
from tests.accuracy import REPRESENTATIVES, lane

SPECS = registry.SPECS
NAMES = list(SPECS)
ELEMENTWISE = [n for n, s in SPECS.items() if s.kind == "elementwise"]
SMOOTH = [n for n in ELEMENTWISE if SPECS[n].smooth]
DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16]
# The fast lane's rows for the costlier sweeps: piecewise-linear, double-word smooth,
# rational, vector-valued and random.
FAST = ("relu", "gelu_erf", "silu", "rational", "softmax", "gumbel_softmax")


def _extra(name: str, x: Any) -> dict[str, Any]:
    """Arguments a function needs beyond its numeric defaults."""
    if name == "gumbel_softmax":
        return {"key": jax.random.key(0)}
    if name == "meta_acon":
        dtype = getattr(x, "dtype", jnp.float32)
        if not jnp.issubdtype(dtype, jnp.floating):
            dtype = jnp.float32
        c = x.shape[-1] if getattr(x, "ndim", 0) else 6
        return {
            "p1": jnp.ones((c,), dtype),
            "p2": jnp.zeros((c,), dtype),
            "w1": jnp.full((2, c), 0.1, dtype),
            "w2": jnp.full((c, 2), 0.1, dtype),
        }
    return {}


def call(name: str, x: jax.Array, **kw: Any) -> jax.Array:
    spec = SPECS[name]
    return spec.fn(x, **{**spec.params, **_extra(name, x), **kw})


def sample(shape: tuple[int, ...] = (4, 6), dtype: Any = jnp.float32, seed: int = 0) -> jax.Array:
    # Values in [-4, 4] that avoid every kink of the table (kinks sit at
    # multiples of 0.5); shape (4, 6) has an even last axis for the GLU family.
    x = jax.random.uniform(jax.random.key(seed), shape, jnp.float32, -4.0, 4.0)
    x = jnp.where(jnp.abs(x - jnp.round(2 * x) / 2) < 0.02, x + 0.1, x)
    return x.astype(dtype)


@pytest.mark.parametrize(
    "name,dtype",
    [
        lane(
            n,
            d,
            fast=n in REPRESENTATIVES and (d == DTYPES[0] or n == "silu"),
            id=f"{n}-{jnp.dtype(d).name}",
        )
        for n in NAMES
        for d in DTYPES
    ],
)
def test_shape_and_dtype(name: str, dtype: Any) -> None:
    x = sample(dtype=dtype)
    y = call(name, x)
    chex.assert_type(y, dtype)
    if name == "crelu":
        chex.assert_shape(y, (4, 12))
    elif SPECS[name].kind == "elementwise" or name in ("softmax", "log_softmax", "softmin"):
        chex.assert_shape(y, x.shape)
    chex.assert_tree_all_finite(y.astype(jnp.float32))


@pytest.mark.parametrize("name", [lane(n, fast=n in FAST) for n in NAMES])
def test_float64_kept(name: str) -> None:
    with jax.enable_x64(True):
        y = call(name, sample().astype(jnp.float64))
        chex.assert_type(y, jnp.float64)


@pytest.mark.parametrize("name", [lane(n, fast=n in REPRESENTATIVES) for n in ELEMENTWISE])
def test_integer_input_promoted_like_jax_nn(name: str) -> None:
    x = jnp.arange(-3, 3)
    y = call(name, x)
    if name in ("identity", "relu", "hard_tanh"):  # jax.nn keeps integers here
        assert y.dtype == x.dtype and y.dtype == getattr(jax.nn, name)(x).dtype, name
    else:  # jax.nn promotes (or raises: sigmoid, silu); jaxact promotes
        assert jnp.issubdtype(y.dtype, jnp.floating), name


def _scalar_fn(name: str):
    return lambda v: call(name, v)


@functools.cache
def _d1_kernel(name: str) -> Any:
    """jit(vmap(grad f)), compiled once per process and shared by the tests below."""
    return jax.jit(jax.vmap(jax.grad(_scalar_fn(name))))


@pytest.mark.parametrize("name", [lane(n, fast=n in REPRESENTATIVES) for n in NAMES])
def test_jit_agrees(name: str) -> None:
    x = sample()
    np.testing.assert_allclose(jax.jit(_scalar_fn(name))(x), call(name, x), rtol=2e-6, atol=1e-7)


def _transforms(f: Any, second: bool) -> Any:
    """The first-derivative transforms of a scalar ``f`` (and with ``second`` its
    second-derivative compositions) in one jit: one trace and compilation per function."""

    def all_of(x: jax.Array, x8: jax.Array) -> dict[str, Any]:
        def body(carry: jax.Array, v: jax.Array) -> tuple[jax.Array, jax.Array]:
            return carry + f(v), jax.grad(f)(v)

        total, scanned = lax.scan(body, jnp.float32(0), x8)
        out = {
            "jacfwd": jnp.diagonal(jax.jacfwd(f)(x)),
            "jacrev": jnp.diagonal(jax.jacrev(f)(x8)),
            "remat": jax.vmap(jax.grad(jax.checkpoint(f)))(x8),
            "scanned": scanned,
            "total": total,
            "sum": jnp.sum(jax.vmap(f)(x8)),
        }
        if second:
            out["d2"] = jax.vmap(jax.grad(jax.grad(f)))(x8)
            out["hessian"] = jax.vmap(jax.hessian(f))(x8)
            out["fwdfwd"] = jax.vmap(jax.jacfwd(jax.jacfwd(f)))(x8)
            out["revfwd"] = jax.vmap(jax.jacrev(jax.jacfwd(f)))(x8)
        return out

    return jax.jit(all_of)


@pytest.mark.parametrize("name", [lane(n, fast=n in FAST) for n in ELEMENTWISE])
def test_transforms_elementwise(name: str) -> None:
    f = _scalar_fn(name)
    x = sample().ravel()
    d1 = _d1_kernel(name)(x)
    tol = {"rtol": 1e-5, "atol": 1e-6}
    # Eager (op by op) and jitted grad agree with the forward-mode Jacobian.
    np.testing.assert_allclose(jax.vmap(jax.grad(f))(x), d1, rtol=2e-6, atol=1e-7)
    # The second-order compositions (fwd-over-rev, fwd-over-fwd, rev-over-fwd) exercise
    # the rule machinery, the same for every row of a family: one row per family and
    # kind; every row's f'' itself is checked against mpmath by the accuracy grid.
    second = name in REPRESENTATIVES
    got = _transforms(f, second)(x, x[:8])
    np.testing.assert_allclose(got["jacfwd"], d1, rtol=2e-6, atol=1e-7)
    d1 = d1[:8]
    for key in ("jacrev", "remat", "scanned"):
        np.testing.assert_allclose(got[key], d1, **tol, err_msg=key)
    for key in ("hessian", "fwdfwd", "revfwd") if second else ():
        np.testing.assert_allclose(got[key], got["d2"], **tol, err_msg=key)
    np.testing.assert_allclose(got["total"], got["sum"], rtol=1e-5)


@pytest.mark.parametrize(
    "name", [lane(n, fast=n in ("glu", "softmax")) for n in NAMES if n not in ELEMENTWISE]
)
def test_transforms_vector(name: str) -> None:
    x = sample((2, 6))
    out = jax.eval_shape(lambda v: call(name, v), x)
    w = jnp.linspace(-1.0, 1.0, out.size).reshape(out.shape)

    def loss(v: jax.Array) -> jax.Array:
        return jnp.sum(call(name, v) * w)

    stacked = jnp.stack([x, x + 0.5])

    @jax.jit
    def all_of(v: jax.Array, rows: jax.Array) -> dict[str, Any]:  # one compilation
        return {
            "grad": jax.grad(loss)(v),
            "jacfwd": jax.jacfwd(loss)(v),
            "remat": jax.grad(jax.checkpoint(loss))(v),
            "vmap": jax.vmap(lambda r: call(name, r))(rows),
        }

    got = all_of(x, stacked)
    g = jax.grad(loss)(x)  # eager
    for key in ("grad", "jacfwd", "remat"):
        np.testing.assert_allclose(got[key], g, rtol=1e-5, atol=1e-6, err_msg=key)
    for i in range(2):
        np.testing.assert_allclose(got["vmap"][i], call(name, stacked[i]), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", [lane(n, fast=n in REPRESENTATIVES) for n in NAMES])
def test_traced_once(name: str) -> None:
    chex.clear_trace_counter()
    f = jax.jit(chex.assert_max_traces(lambda v: call(name, v), n=1))
    for seed in range(3):
        f(sample(seed=seed)).block_until_ready()


_LEAK_SCRIPT = """
import gc, sys
import jax, jax.numpy as jnp
from tests.test_generic import NAMES, call, sample
for name in NAMES:  # the forward and the backward trace of every row, in one jit each
    jax.jit(jax.grad(lambda v: jnp.sum(call(name, v))))(sample()).block_until_ready()
gc.collect()
live = [o for o in gc.get_objects() if isinstance(o, jax.core.Tracer)]
print("checked", len(NAMES), "live tracers", len(live))
"""


def test_no_tracer_leaks() -> None:
    # After tracing every row, no tracer may be alive: one scan of the heap at the end
    # (jax.checking_leaks scans it at every trace exit, ~2 s per row). A fresh
    # interpreter, so that nothing else a test worker holds is counted.
    root = pathlib.Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", _LEAK_SCRIPT],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"checked {len(NAMES)} live tracers 0" in out.stdout, out.stdout


def test_leaked_tracer_is_detected() -> None:
    # The check above must be able to fail: a function that keeps its tracer.
    kept = []
    jax.jit(lambda v: kept.append(v) or v)(jnp.ones(2))
    gc.collect()
    assert any(isinstance(o, jax.core.Tracer) for o in gc.get_objects())


@pytest.mark.parametrize("name", NAMES)
def test_huge_input_is_abstract(name: str) -> None:
    # A 10^12-element input: tracing must not allocate it (it would need 4 TB).
    big = jax.ShapeDtypeStruct((10**6, 10**6), jnp.float32)
    jaxpr = jax.make_jaxpr(lambda v: call(name, v))(big)
    assert jaxpr.out_avals[0].shape[0] == 10**6


# Numerical against automatic derivatives to order 2, in both modes: the rule
# machinery again, on one smooth row per family (every row's f' and f'' are on the
# mpmath grid, and test_transforms_elementwise checks fwd against rev for every row).
@pytest.mark.parametrize(
    "name", [lane(n, fast=n in ("silu", "sine")) for n in SMOOTH if n in REPRESENTATIVES]
)
def test_check_grads_order2_float64(name: str) -> None:
    with jax.enable_x64(True):
        x = sample((5,), seed=3).astype(jnp.float64)
        # Jitted: the numerical and automatic derivatives of the whole function, each
        # compiled once, instead of op-by-op dispatch of every primitive.
        check_grads(jax.jit(lambda v: call(name, v)), (x,), order=2, modes=("fwd", "rev"), eps=1e-6)


KINKED = [n for n, s in SPECS.items() if s.kinks]
# The fast lane pins the kinks of the first kinked row of each family.
KINK_REPS = tuple({SPECS[n].family: n for n in reversed(KINKED)}.values())[:4]


@pytest.mark.parametrize("name", [lane(n, fast=n in KINK_REPS) for n in KINKED])
def test_kinks(name: str) -> None:
    """Every pinned value of the registry, and that it is a one-sided limit there."""
    spec = SPECS[name]
    for order in sorted({k.order for k in spec.kinks}):
        kinks = [k for k in spec.kinks if k.order == order]
        f = _scalar_fn(name)
        for _ in range(order):
            f = jax.grad(f)
        for dtype in (jnp.float32, jnp.float64):
            with jax.enable_x64(dtype == jnp.float64):
                xs = np.asarray([k.x for k in kinks], dtype)
                h = 1e-9 * np.maximum(1.0, np.abs(xs))
                if dtype == jnp.float32:
                    got = np.asarray(jax.vmap(f)(jnp.asarray(xs)))
                else:
                    pts = jnp.asarray(np.concatenate([xs, xs - h, xs + h]))
                    got, left, right = np.split(np.asarray(jax.vmap(f)(pts)), 3)
            for i, k in enumerate(kinks):
                want = float(np.asarray(k.value, dtype))
                # Exact, up to the rounding of a pinned value that is itself computed
                # (rational's f''(0)); the branches a policy chooses between differ by O(1).
                tol = 2 * np.spacing(np.asarray(abs(want), dtype))
                assert abs(float(got[i]) - want) <= tol, (name, k, dtype, float(got[i]))
                if dtype == jnp.float64:
                    # The convention picks a side: the value is the left or the right limit.
                    sides = (float(left[i]), float(right[i]))
                    close = [abs(k.value - v) <= 1e-6 * max(1.0, abs(v)) for v in sides]
                    assert any(close), (name, k, sides)


BAD_X = ([1.0, 2.0], (1.0,), "x", None, np.array([True]), np.array([1 + 2j]))


@pytest.mark.parametrize("name", NAMES)
def test_bad_input_names_function_and_argument(name: str) -> None:
    for bad in BAD_X:
        with pytest.raises(TypeError) as err:
            call(name, bad)
        assert name in str(err.value) and "'x'" in str(err.value), (name, bad)


def test_every_function_documented_with_example() -> None:
    for name, fn in registry.FUNCTIONS.items():
        doc = inspect.getdoc(fn) or ""
        assert ">>>" in doc and "Args:" in doc and "Returns:" in doc, name
