"""x64 mode (``jax_enable_x64``) is a first-class mode.

Under x64, every elementwise row on float32, bfloat16 and float16 inputs keeps the
input's shape and dtype, and computes what it computes without x64.

A Python-float constant is float64 under x64: a kernel that lets one promote a
float32 intermediate computes in the wrong dtype, and bit-level code (bitcasts)
then changes shapes (elu and selu once returned an extra axis of two words).

The sweep below runs every elementwise row under x64: f, f', f'' and the half
dtypes against the values without x64, and the trace of its transforms (jacfwd,
jacrev, remat, scan). The generic checks (``tests/test_generic.py``: shapes and dtypes
of float32, half, float64 and integer inputs, values, jit/vmap/grad agreement, bad
inputs; for the vector-valued rows and one elementwise row per family and kind) and
the promotion checks (``tests/test_promotion.py``: integer and Python-scalar inputs)
are marked ``x64``; :func:`test_generic_checks_pass_under_x64` runs them in a fresh
interpreter with x64 on for the whole session (``JAXACT_TEST_X64=1``, read by
``tests/conftest.py``), as ``pytest -m x64`` with that variable set would.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact import registry
from tests.test_generic import _transforms

# Rows that need arguments without defaults, or a key.
NEEDS_ARGS = {"prelu", "threshold", "rrelu"}
ROWS = [
    name
    for name, spec in registry.SPECS.items()
    if spec.kind == "elementwise" and name not in NEEDS_ARGS
]
X = np.array([-30.0, -1.5, -0.3, -1e-39, 0.0, 1e-39, 0.7, 2.0, 40.0], np.float32)
HALF = (jnp.bfloat16, jnp.float16)


def _program(fn):
    """f, f' and f'' at every point of a float32 ``x``, and f at ``x`` in each half
    dtype: one program (traced afresh in each mode, as jit keys on the x64 flag)."""
    g = jax.grad(fn)

    def run(x):
        orders = (fn(x), jax.vmap(g)(x), jax.vmap(jax.grad(g))(x))
        return orders, tuple(fn(x.astype(dt)) for dt in HALF)

    return jax.jit(run)


@pytest.mark.slow
@pytest.mark.parametrize("name", ROWS)
def test_x64_mode_keeps_float32_and_half_inputs(name):
    fn = jaxact.registry.SPECS[name].fn
    program = _program(fn)
    want, want_half = jax.tree.map(np.asarray, program(jnp.asarray(X)))
    with jax.enable_x64(True):
        got, got_half = program(jnp.asarray(X))
        # jacfwd, jacrev, remat and a scan over the row trace under x64 (a scan's carry
        # that a float64 constant promotes fails there); the x64 session runs their
        # values on one row per family (tests/test_generic.py).
        x = jnp.asarray(X)
        jax.make_jaxpr(_transforms(fn, second=False))(x, x[:8])
    for order, (a, b) in enumerate(zip(got, want, strict=True)):
        assert a.shape == X.shape and a.dtype == jnp.float32, (name, order, a.shape, a.dtype)
        # The same numbers, up to the rounding of a constant taken in float64: 2 ulp
        # scaled to max(|f|, 1) (xielu's f' at -1.5 cancels 0.62 to 0.12: 4 ulp of it).
        tol = 2 * np.finfo(np.float32).eps * np.maximum(np.abs(b), 1.0)
        ok = (np.asarray(a) == b) | (np.abs(np.asarray(a) - b) <= tol)
        assert np.all(ok | (np.isnan(a) & np.isnan(b))), (name, order)
    for dt, y, expected in zip(HALF, got_half, want_half, strict=True):
        assert y.shape == X.shape and y.dtype == dt, (name, dt, y.shape, y.dtype)
        a, b = np.asarray(y, np.float32), expected.astype(np.float32)
        assert np.all((a == b) | (np.isnan(a) & np.isnan(b))), (name, dt)


def test_x64_mode_elu_and_selu_keep_their_shape():
    # The shape bug itself, in the fast lane: a (1, 2) float32 input, as reported.
    x = jnp.array([[-1.0, -2.0]], jnp.float32)
    expected = {f: np.asarray(f(x)) for f in (jaxact.elu, jaxact.selu, jaxact.celu)}
    with jax.enable_x64(True):
        for f, want in expected.items():
            for dt in (jnp.float32, *HALF):
                y = f(x.astype(dt))
                assert y.shape == (1, 2) and y.dtype == dt, (f.__name__, dt, y.shape)
            np.testing.assert_array_equal(np.asarray(f(x)), want)


@pytest.mark.x64
def test_session_x64_mode_follows_the_environment() -> None:
    # Runs in both sessions: x64 is on exactly when JAXACT_TEST_X64=1 (tests/conftest.py).
    x64 = os.environ.get("JAXACT_TEST_X64", "") == "1"
    assert jax.config.jax_enable_x64 == x64
    assert jnp.dtype(jnp.result_type(float)) == (jnp.float64 if x64 else jnp.float32)


# The files whose ``x64`` tests run under x64 (the elementwise sweep above compares the
# two modes itself and is not among them).
X64_FILES = ("tests/test_generic.py", "tests/test_promotion.py", "tests/test_x64.py")


@pytest.mark.slow
def test_generic_checks_pass_under_x64() -> None:
    root = pathlib.Path(__file__).resolve().parents[1]
    env = {**os.environ, "JAXACT_TEST_X64": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:xdist", "-m", "x64"]
    out = subprocess.run(
        [*command, *X64_FILES],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    text = out.stdout + out.stderr
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.MULTILINE)
    # Exit code 5: no test collected (a marker expression that matches nothing) fails too.
    assert out.returncode == 0, (
        f"pytest -m x64 under JAXACT_TEST_X64=1 exited with {out.returncode}; "
        f"{len(failed)} failing: {failed[:30] or 'none reported'}\n{text[-3000:]}"
    )
    passed = re.search(r"(\d+) passed", text)
    # Every row's generic checks ran (several tests per row).
    assert passed is not None and int(passed.group(1)) > 4 * len(registry.SPECS), text[-3000:]
