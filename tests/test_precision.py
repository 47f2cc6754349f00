"""Precision tiers: the public API, trace-time resolution, jit caching, layers.

The tiers' accuracy is tested row by row in ``tests/test_accuracy.py`` and their
residual budgets in ``tests/test_residuals.py``; here: that the switch works.
"""

from __future__ import annotations

import os
import subprocess
import sys

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact._src import precision as precision_lib

# Inputs where the tiers' kernels round differently (the left tails, where the fast
# tier's gelu_tanh is tens of ulps from the accurate one, and the middle).
XS = np.concatenate([np.linspace(-12, 4, 257), [-9.75, -9.5, -3.3, 0.4]]).astype(np.float32)


def _in(tier: str, fn, x):  # noqa: ANN001, ANN202
    with jaxact.precision(tier):  # type: ignore[arg-type]
        return np.asarray(fn(x))


def _all_eqns(jaxpr) -> int:  # noqa: ANN001
    """Equations in a jaxpr and every jaxpr nested in it (jit, custom_jvp bodies)."""
    total = 0
    for eqn in jaxpr.eqns:
        total += 1
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            total += _all_eqns(sub)
    return total


def _size(tier: str, fn, x) -> int:  # noqa: ANN001
    with jaxact.precision(tier):  # type: ignore[arg-type]
        return _all_eqns(jax.make_jaxpr(jax.grad(lambda v: jnp.sum(fn(v))))(x).jaxpr)


def test_default_is_auto_unless_the_environment_says_otherwise() -> None:
    assert jaxact.get_precision() == os.environ.get("JAXACT_PRECISION", "auto")


def test_context_manager_nests_and_restores_after_errors() -> None:
    before = jaxact.get_precision()
    with jaxact.precision("fast"):
        assert jaxact.get_precision() == "fast"
        with jaxact.precision("accurate"):
            assert jaxact.get_precision() == "accurate"
        assert jaxact.get_precision() == "fast"
        with pytest.raises(RuntimeError), jaxact.precision("accurate"):
            raise RuntimeError("inside")
        assert jaxact.get_precision() == "fast"
    assert jaxact.get_precision() == before


def test_decorator_sets_the_tier_for_the_call_only() -> None:
    @jaxact.precision("accurate")
    def inside() -> str:
        return jaxact.get_precision()

    with jaxact.precision("fast"):
        assert inside() == "accurate"
        assert inside() == "accurate"  # re-entrant: the same object twice
        assert jaxact.get_precision() == "fast"


def test_one_decorated_function_in_two_threads_keeps_each_threads_tier() -> None:
    import threading

    seen: dict[str, list[str]] = {"fast": [], "accurate": []}
    barrier = threading.Barrier(2)

    @jaxact.precision("accurate")
    def inside() -> str:
        barrier.wait(timeout=10)  # both threads inside at once
        return jaxact.get_precision()

    def run(tier: str) -> None:
        with jaxact.precision(tier):  # type: ignore[arg-type]
            seen[tier].append(inside())
            seen[tier].append(jaxact.get_precision())

    threads = [threading.Thread(target=run, args=(t,)) for t in seen]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"fast": ["accurate", "fast"], "accurate": ["accurate", "accurate"]}


def test_set_precision_changes_the_process_default_and_blocks_override_it() -> None:
    before = jaxact.get_precision()
    try:
        jaxact.set_precision("accurate")
        assert jaxact.get_precision() == "accurate"
        with jaxact.precision("fast"):
            assert jaxact.get_precision() == "fast"
        assert jaxact.get_precision() == "accurate"
    finally:
        jaxact.set_precision(before)  # type: ignore[arg-type]
    assert jaxact.get_precision() == before


@pytest.mark.parametrize("bad", ["FAST", "exact", "", None, 1])
def test_unknown_tiers_raise_naming_the_function_and_argument(bad) -> None:  # noqa: ANN001
    for call, name in ((jaxact.precision, "precision"), (jaxact.set_precision, "set_precision")):
        with pytest.raises(ValueError) as info:
            call(bad)
        msg = str(info.value)
        assert f"jaxact.{name}" in msg and "'tier'" in msg and "'fast'" in msg, msg


def test_tiers_compute_different_kernels() -> None:
    # The fast tier's programs are smaller (XLA's elementary functions, no double
    # words) and their values differ from the accurate tier's somewhere.
    x = jnp.asarray(XS)
    for fn in (jaxact.gelu_tanh, jaxact.gelu_erf, jaxact.silu, jaxact.tanh):
        fast, accurate = _size("fast", fn, x), _size("accurate", fn, x)
        assert fast < accurate, (fn.__name__, fast, accurate)
    assert np.any(_in("fast", jaxact.gelu_tanh, x) != _in("accurate", jaxact.gelu_tanh, x))


@pytest.mark.parametrize(
    "dtype,resolved",
    [("float64", "accurate"), ("float32", "fast"), ("bfloat16", "fast"), ("float16", "fast")],
)
@pytest.mark.parametrize(
    "x64", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["x32", "x64"]
)
def test_auto_is_accurate_for_float64_and_fast_otherwise(
    dtype: str, resolved: str, x64: bool
) -> None:
    # The input's dtype decides, not the x64 mode: float32 under x64 is still fast.
    with jax.enable_x64(x64 or dtype == "float64"):
        x = jnp.asarray(XS.astype(dtype))
        got = _in("auto", jax.grad(lambda v: jnp.sum(jaxact.gelu_tanh(v))), x)
        want = _in(resolved, jax.grad(lambda v: jnp.sum(jaxact.gelu_tanh(v))), x)
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.dtype(dtype)
    # Half precision computes in float32, which is what the kernels see.
    compute = "float64" if dtype == "float64" else "float32"
    with jaxact.precision("auto"):
        assert precision_lib.resolved(compute) == resolved
    for tier in ("fast", "accurate"):
        with jaxact.precision(tier):  # type: ignore[arg-type]
            assert precision_lib.resolved(compute) == tier


def test_the_tier_is_part_of_the_jit_cache_key() -> None:
    # One jitted function called under each tier: traced once per tier, and each call
    # gives exactly that tier's values (a stale trace would give the other tier's).
    traces = []

    @jax.jit
    def f(x: jax.Array) -> jax.Array:
        traces.append(jaxact.get_precision())
        return jaxact.gelu_tanh(x)

    x = jnp.asarray(XS)
    fast = _in("fast", f, x)
    accurate = _in("accurate", f, x)
    again = _in("fast", f, x)
    assert traces == ["fast", "accurate"]
    np.testing.assert_array_equal(fast, _in("fast", lambda v: jaxact.gelu_tanh(v), x))
    np.testing.assert_array_equal(accurate, _in("accurate", lambda v: jaxact.gelu_tanh(v), x))
    np.testing.assert_array_equal(again, fast)
    assert np.any(fast != accurate)


def test_a_compiled_function_keeps_its_tier() -> None:
    x = jnp.asarray(XS)
    with jaxact.precision("accurate"):
        compiled = jax.jit(jaxact.gelu_tanh).lower(x).compile()
    with jaxact.precision("fast"):
        got = np.asarray(compiled(x))
    np.testing.assert_array_equal(got, _in("accurate", jaxact.gelu_tanh, x))


def test_flax_layers_follow_the_context() -> None:
    pytest.importorskip("flax")
    from flax import nnx

    import jaxact.linen as jl
    import jaxact.nnx as jn

    x = jnp.asarray(XS)
    linen = jl.Activation("gelu_tanh")
    params = linen.init(jax.random.key(0), x)
    layer = jn.Activation("gelu_tanh", rngs=nnx.Rngs(0))
    for tier in ("fast", "accurate"):
        want = _in(tier, jaxact.gelu_tanh, x)
        np.testing.assert_array_equal(_in(tier, lambda v: linen.apply(params, v), x), want)
        np.testing.assert_array_equal(_in(tier, layer, x), want)


def _run(env_value: str | None, code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "JAXACT_PRECISION"}
    if env_value is not None:
        env["JAXACT_PRECISION"] = env_value
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # a fresh interpreter
def test_environment_variable_is_read_at_import() -> None:
    code = (
        "import jax.numpy as jnp, numpy as np, jaxact\n"
        "x = jnp.linspace(-12.0, 4.0, 257)\n"
        "a = np.asarray(jaxact.gelu_tanh(x))\n"
        "with jaxact.precision('accurate'):\n"
        "    b = np.asarray(jaxact.gelu_tanh(x))\n"
        "print(jaxact.get_precision(), bool(np.array_equal(a, b)))\n"
    )
    out = _run(" Accurate ", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["accurate", "True"]
    out = _run(None, code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["auto", "False"]


@pytest.mark.slow  # a fresh interpreter
def test_a_bad_environment_variable_names_itself() -> None:
    out = _run("quick", "import jaxact")
    assert out.returncode != 0
    assert "JAXACT_PRECISION" in out.stderr and "'quick'" in out.stderr, out.stderr
