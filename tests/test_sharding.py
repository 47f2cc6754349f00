"""Sharding, recompilation and hyperparameter gradients, for every registry row.

* Every row's value and input gradient on a 2 x 4 mesh (auto and explicit axis
  types; jit with in/out shardings on sharded inputs, shard_map; and for the fast
  lane's rows and the first row of every other family, the jit on host inputs and
  eager execution on sharded arrays) equals one device's to 1 ulp (or a measured
  bound, with its reason): ``tests/sharding_cases.py``, in a fresh interpreter
  with 8 host devices.
* A new Python-number value of a numeric hyperparameter compiles nothing new.
* The gradient with respect to every numeric hyperparameter is finite and equals
  central finite differences (float64).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import sharding_cases
from tests.accuracy import lane
from tests.test_generic import SPECS, call, sample

SHARDED_FAST = sharding_cases.FAST
SHARDED_SLOW = tuple(n for n in SPECS if n not in SHARDED_FAST)


@pytest.mark.parametrize(
    "rows",
    # A fresh interpreter with 8 host devices (about 20 s even for the sample): the full
    # suite only; the fast lane's in-process tests below shard the hyperparameters.
    [lane(SHARDED_FAST, fast=False, id="sample"), lane(SHARDED_SLOW, fast=False, id="rest")],
)
def test_sharded_equals_one_device(rows: tuple[str, ...]) -> None:
    """Value and gradient on a 2 x 4 mesh, auto and explicit axes, to 1 ulp."""
    root = pathlib.Path(__file__).resolve().parents[1]
    flags = os.environ.get("XLA_FLAGS", "")
    env = {
        **os.environ,
        "XLA_FLAGS": f"{flags} --xla_force_host_platform_device_count=8".strip(),
        "JAX_PLATFORMS": "cpu",
    }
    out = subprocess.run(
        [sys.executable, "-W", "error", "-m", "tests.sharding_cases", *rows],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = out.stdout.splitlines()
    failed = [line for line in lines if line.startswith(("FAIL", "FIXED"))]
    assert out.returncode == 0 and not failed, "\n".join(failed) or out.stderr[-3000:]
    # Every row ran: 2 axis types x its modes x (value, grad).
    cases = sum(sharding_cases.cases_per_row(n) for n in rows)
    assert f"CASES {cases} FAILURES 0" in lines, out.stdout[-3000:]


_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


@contextlib.contextmanager
def compilations() -> Iterator[list[str]]:
    """The names of the programs compiled (or fetched from the persistent cache) inside."""
    names: list[str] = []

    def listener(event: str, duration: float, **kwargs: Any) -> None:
        if event == _COMPILE_EVENT:
            names.append(str(kwargs.get("fun_name", "?")))

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        yield names
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)


def test_compile_counter_counts() -> None:
    # The counter must see a compilation: a new program is compiled once, then reused.
    x = jnp.ones(3)
    fn = jax.jit(lambda v: v * 3.0 + 0.5)
    with compilations() as first:
        fn(x)
    with compilations() as again:
        fn(x)
    assert len(first) == 1 and not again, (first, again)


PARAMS = [(n, p) for n, s in SPECS.items() for p in s.params]
PARAM_FAST = ("sine", "swiglu", "leaky_relu", "snake_beta", "entmax_bisect", "threshold")


def _values(default: float) -> list[float]:
    """Three nearby Python floats (a 1% step, the sign kept)."""
    return [default * (1 + 0.01 * k) if default else 0.01 * k for k in (1, 2, 3)]


@pytest.mark.parametrize(
    "name,param", [lane(n, p, fast=n in PARAM_FAST, id=f"{n}-{p}") for n, p in PARAMS]
)
def test_new_python_scalar_does_not_recompile(name: str, param: str) -> None:
    """Eager calls with new Python-float values of a hyperparameter reuse the first
    call's programs (``sine`` compiled a program per ``w0``)."""
    x = sample()
    first, *others = _values(SPECS[name].params[param])
    jax.block_until_ready(call(name, x, **{param: first}))
    with compilations() as names:
        for value in others:
            jax.block_until_ready(call(name, x, **{param: value}))
    assert not names, f"{name}: new {param} values compiled {names}"


@pytest.mark.parametrize(
    "name,param", [lane(n, p, fast=n in PARAM_FAST, id=f"{n}-{p}") for n, p in PARAMS]
)
def test_hyperparameter_gradient(name: str, param: str) -> None:
    """d/dparam of a weighted sum of outputs: finite, and equal to central finite
    differences in float64 (``swiglu``'s ``beta`` gradient failed to broadcast)."""
    default = SPECS[name].params[param]
    with jax.enable_x64(True):
        x = sample((3, 6), jnp.float64, seed=3)  # away from every kink; even last axis
        g = jax.random.normal(jax.random.key(1), jax.eval_shape(lambda v: call(name, v), x).shape)
        g = g.astype(jnp.float64)

        def objective(p: jax.Array) -> jax.Array:
            return jnp.sum(call(name, x, **{param: p}) * g)

        # A step of 1e-5 (relative above 1); for tiny defaults (smu1's mu, xielu's
        # eps) a step of 1e-3 of their size, which keeps their sign.
        h = (
            1e-5 * max(1.0, abs(default))
            if abs(default) > 1e-3 or not default
            else 1e-3 * abs(default)
        )

        @jax.jit  # one program for the gradient and both differences
        def both(p: jax.Array) -> tuple[jax.Array, jax.Array]:
            return jax.grad(objective)(p), (objective(p + h) - objective(p - h)) / (2 * h)

        grad, fd = map(float, both(jnp.asarray(default, jnp.float64)))
        scale = float(jnp.sum(jnp.abs(g)))
    assert np.isfinite(grad), (name, param, grad)
    assert abs(grad - fd) <= 1e-6 * (abs(fd) + 1e-3 * scale), (name, param, grad, fd)
