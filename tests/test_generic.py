"""Generic tests run for every row of the name registry.

Shapes and dtypes, agreement of jit/vmap/grad/jacfwd/jacrev/hessian/checkpoint/
scan, single tracing, abstract evaluation of huge inputs, the pinned kink values
and bad-input errors. Tracer leaks: the end-of-session heap scan of
``tests/conftest.py`` (checked here to see a leak).
"""

from __future__ import annotations

import functools
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

from jaxact._src import registry
from tests.accuracy import ALL_ORDERS, ORDERS, REPRESENTATIVES, evaluate, lane

SPECS = registry.SPECS
NAMES = list(SPECS)
ELEMENTWISE = [n for n, s in SPECS.items() if s.kind == "elementwise"]
SMOOTH = [n for n in ELEMENTWISE if SPECS[n].smooth]
DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16]
# The fast lane's rows for the costlier sweeps: piecewise-linear, double-word smooth,
# rational, vector-valued and random.
FAST = ("relu", "silu", "rational")


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


def _scalar_fn(name: str) -> Any:
    return lambda v: call(name, v)


def _shape_and_dtype(name: str, x: Any, y: Any) -> None:
    assert y.dtype == x.dtype, (name, y.dtype, x.dtype)
    if name == "crelu":
        assert y.shape == (*x.shape[:-1], 2 * x.shape[-1]), (name, y.shape)
    elif SPECS[name].kind == "elementwise" or name in ("softmax", "log_softmax", "softmin"):
        assert y.shape == x.shape, (name, y.shape)


def _case(name: str, fast: bool) -> Any:
    """A row's case, on the row's worker (``lane``), also run in the x64 session
    (``tests/test_x64.py``) for the vector-valued rows and one elementwise row per
    family and kind: every elementwise row's f, f', f'' under x64, and the trace of
    its transforms there, are ``tests/test_x64.py``'s sweep."""
    param = lane(name, fast=fast, group=name)
    if SPECS[name].kind != "elementwise" or name in REPRESENTATIVES:
        param = pytest.param(*param.values, marks=[*param.marks, pytest.mark.x64], id=param.id)
    return param


@functools.cache
def _jitted(name: str) -> Any:
    """jit of the row's call, traced at most once per dtype (chex's trace counter)."""
    return jax.jit(chex.assert_max_traces(lambda v: call(name, v), n=1))


# The fast lane: piecewise-linear, double-word and rational elementwise rows, and the
# vector-valued shapes (same shape, doubled axis, halved axis, random).
CALL_FAST = ("relu", "silu", "rational", "softmax", "crelu", "glu", "gumbel_softmax")


@pytest.mark.parametrize("name", [_case(n, fast=n in CALL_FAST) for n in NAMES])
def test_call(name: str) -> None:
    """Shapes and dtypes kept (float32, bfloat16, float16, float64), values finite, jit
    agrees with eager and traces once, integers promoted like jax.nn.

    An elementwise row's jitted values are its accuracy program's (``evaluate``, the
    jit of the same call that its grid runs); its own jit is traced three times over
    (lowered, not compiled again) to count traces.

    Elementwise rows check bfloat16/float16/float64 abstractly (``jax.eval_shape``):
    their values in those dtypes are the half-precision sweeps' (every bit pattern) and
    the float64 grid's; the vector-valued rows run in every dtype.
    """
    x = sample()
    y = call(name, x)  # eager
    _shape_and_dtype(name, x, y)
    chex.assert_tree_all_finite(y)
    elementwise = SPECS[name].kind == "elementwise"
    chex.clear_trace_counter()
    for seed in range(3):
        if elementwise:  # traced here; compiled by the row's accuracy program (below)
            _jitted(name).lower(sample(seed=seed))
        else:
            got = _jitted(name)(sample(seed=seed))
            if seed == 0:
                np.testing.assert_allclose(got, y, rtol=2e-6, atol=1e-7)
    if elementwise:
        if jax.config.jax_enable_x64:
            # An x64 session (JAXACT_TEST_X64=1): the row's own jit, compiled under x64
            # (the grid programs turn x64 off for float32); the values of the two modes
            # are compared by tests/test_x64.py's sweep.
            got = _jitted(name)(x)
        else:
            spec = SPECS[name]
            got = evaluate(spec.fn, np.asarray(x), spec.params, ALL_ORDERS)["f"]
        np.testing.assert_allclose(got, y, rtol=2e-6, atol=1e-7)
    for dtype in (jnp.bfloat16, jnp.float16):
        xd = x.astype(dtype)
        if elementwise:
            _shape_and_dtype(name, xd, jax.eval_shape(lambda v: call(name, v), xd))
        else:
            yd = jax.jit(lambda v: call(name, v))(xd)
            _shape_and_dtype(name, xd, yd)
            chex.assert_tree_all_finite(yd.astype(jnp.float32))
    with jax.enable_x64(True):
        x64 = jax.ShapeDtypeStruct(x.shape, jnp.float64)
        chex.assert_type(jax.eval_shape(lambda v: call(name, v), x64), jnp.float64)
    if elementwise:
        ints = jax.ShapeDtypeStruct((6,), jnp.int32)
        yi = jax.eval_shape(lambda v: call(name, v), ints)
        if name in ("identity", "relu", "hard_tanh"):  # jax.nn keeps integers here
            nn_fn = getattr(jax.nn, name)
            assert yi.dtype == ints.dtype and yi.dtype == jax.eval_shape(nn_fn, ints).dtype, name
        else:  # promoted as jnp promotes, float32 also under x64 (tests/test_promotion.py
            # checks every integer dtype and Python scalars; jax.nn's sigmoid and silu raise)
            assert yi.dtype == jnp.float32 and not yi.weak_type, (name, yi)


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


@pytest.mark.parametrize("name", [_case(n, fast=n in FAST) for n in ELEMENTWISE])
def test_transforms_elementwise(name: str) -> None:
    """jacfwd, jacrev, grad of checkpoint, grad in a scan body (and on one row per family
    and kind the second-order compositions) agree with the reverse-mode derivative.

    On the other rows the same program is traced, not compiled: a transform a row's
    rule cannot take (a non-linear tangent, a Python branch on a tracer, a leaked
    tracer) fails at trace time; the values of the transforms are the same rule
    machinery checked on the representatives, and every row's reverse- and forward-mode
    f' and its f'' are on the mpmath grid (``tests/test_accuracy.py``).
    """
    f = _scalar_fn(name)
    x = sample().ravel()
    second = name in REPRESENTATIVES
    bundle = _transforms(f, second)
    if not second:
        jax.make_jaxpr(bundle)(x, x[:8])
        return
    spec = SPECS[name]
    d1 = jnp.asarray(evaluate(spec.fn, np.asarray(x), spec.params, ALL_ORDERS)["d1"])
    tol = {"rtol": 1e-5, "atol": 1e-6}
    # Eager (op by op) and jitted grad agree.
    np.testing.assert_allclose(jax.vmap(jax.grad(f))(x), d1, rtol=2e-6, atol=1e-7)
    got = bundle(x, x[:8])
    np.testing.assert_allclose(got["jacfwd"], d1, rtol=2e-6, atol=1e-7)
    d1 = d1[:8]
    for key in ("jacrev", "remat", "scanned"):
        np.testing.assert_allclose(got[key], d1, **tol, err_msg=key)
    for key in ("hessian", "fwdfwd", "revfwd"):
        np.testing.assert_allclose(got[key], got["d2"], **tol, err_msg=key)
    np.testing.assert_allclose(got["total"], got["sum"], rtol=1e-5)


@pytest.mark.x64
@pytest.mark.parametrize(
    "name", [lane(n, fast=n == "softmax") for n in NAMES if n not in ELEMENTWISE]
)
def test_transforms_vector(name: str) -> None:
    x = sample((2, 6))
    out = jax.eval_shape(lambda v: call(name, v), x)
    w = jnp.linspace(-1.0, 1.0, out.size, dtype=out.dtype).reshape(out.shape)

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
            "rows": [call(name, r) for r in rows],
        }

    # Reverse mode (plain and rematerialized) against forward mode, vmap against one
    # call per row; the eager call of every row is test_call's.
    got = all_of(x, stacked)
    for key in ("grad", "remat"):
        np.testing.assert_allclose(got[key], got["jacfwd"], rtol=1e-5, atol=1e-6, err_msg=key)
    for i in range(2):
        np.testing.assert_allclose(got["vmap"][i], got["rows"][i], rtol=1e-6, atol=1e-7)


_LEAK_SCRIPT = """
import jax, jax.numpy as jnp
from tests.conftest import live_tracers
kept = []
jax.jit(lambda v: kept.append(v) or v)(jnp.ones(2))
found = len(live_tracers(collect=False)), len(live_tracers())
kept.clear()
print("kept", *found, "released", len(live_tracers()))
"""


def test_leaked_tracer_is_detected() -> None:
    # The session's end-of-run scan (tests/conftest.py) must be able to fail: a tracer a
    # function keeps is seen (with and without a collection first), and is gone once
    # released. A fresh interpreter: a test worker's heap takes seconds to scan.
    root = pathlib.Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", _LEAK_SCRIPT],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "kept 1 1 released 0" in out.stdout, out.stdout


@pytest.mark.x64
@pytest.mark.parametrize("name", [lane(n, fast=n in REPRESENTATIVES) for n in NAMES])
def test_huge_input_is_abstract(name: str) -> None:
    # A 10^12-element input: tracing must not allocate it (it would need 4 TB).
    big = jax.ShapeDtypeStruct((10**6, 10**6), jnp.float32)
    jaxpr = jax.make_jaxpr(lambda v: call(name, v))(big)
    assert jaxpr.out_avals[0].shape[0] == 10**6


KINKED = [n for n, s in SPECS.items() if s.kinks]
# The fast lane pins the kinks of the first kinked row of two families.
KINK_REPS = tuple({SPECS[n].family: n for n in reversed(KINKED)}.values())[:2]


@pytest.mark.parametrize("name", [lane(n, fast=n in KINK_REPS, group=n) for n in KINKED])
def test_kinks(name: str) -> None:
    """Every pinned value of the registry, and that it is a one-sided limit there."""
    spec = SPECS[name]
    for order in sorted({k.order for k in spec.kinks}):
        kinks = [k for k in spec.kinks if k.order == order]
        for dtype in (np.float32, np.float64):
            xs = np.asarray([k.x for k in kinks], dtype)
            h = 1e-9 * np.maximum(1.0, np.abs(xs))
            pts = np.concatenate([xs, xs - h, xs + h]) if dtype == np.float64 else xs
            # The row's grid programs (tests.accuracy.evaluate), shared with its other tests.
            values = evaluate(spec.fn, pts, spec.params, ALL_ORDERS)[ORDERS[order]]
            got, left, right = np.split(values, 3) if dtype == np.float64 else (values, 0, 0)
            for i, k in enumerate(kinks):
                want = float(np.asarray(k.value, dtype))
                # Exact, up to the rounding of a pinned value that is itself computed
                # (rational's f''(0)); the branches a policy chooses between differ by O(1).
                tol = 2 * np.spacing(np.asarray(abs(want), dtype))
                assert abs(float(got[i]) - want) <= tol, (name, k, dtype, float(got[i]))
                if dtype == np.float64:
                    # The convention picks a side: the value is the left or the right limit.
                    sides = (float(left[i]), float(right[i]))
                    close = [abs(k.value - v) <= 1e-6 * max(1.0, abs(v)) for v in sides]
                    assert any(close), (name, k, sides)


BAD_X = ([1.0, 2.0], (1.0,), "x", None, np.array([True]), np.array([1 + 2j]))


@pytest.mark.x64
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
