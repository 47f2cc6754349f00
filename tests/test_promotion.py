"""Integer and Python-scalar inputs follow jax.numpy's promotion and weak typing.

For every row (and the dispatcher ``gelu``), in the mode the session runs in (x64 off,
or on with ``JAXACT_TEST_X64=1``: ``tests/test_x64.py`` runs this file so):

* an integer array gives what a jnp unary float function gives (``jnp.exp``): float32
  for integers of up to 32 bits, float64 for 64-bit ones under x64, strongly typed;
  ``identity``, ``relu`` and ``hard_tanh`` keep integer dtypes, as in jax.nn;
* a Python scalar or a weakly typed array gives a weakly typed result of the default
  float dtype, as ``jnp.exp(2.5)`` does;
* the values are those of the same numbers given as floats of that dtype, and grad,
  jit and vmap take Python scalars.

jax.nn follows jnp for most of its names; where it does not (``NN_DEVIATIONS``),
jaxact follows jnp and the table says how jax.nn differs.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxact._src import registry
from tests.accuracy import REPRESENTATIVES
from tests.test_generic import _extra

SPECS = registry.SPECS
NAMES = [*SPECS, *registry.DISPATCHERS]
INTEGERS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
# jax.nn keeps integer dtypes (and weak typing) in these.
KEEP_INTEGERS = ("identity", "relu", "hard_tanh")
# Integers in [-4, 4] (unsigned: [0, 4]), shape (4, 6): an even last axis for the GLUs.
INTS = np.arange(-11, 13).reshape(4, 6) // 3
SCALARS = (-2, 0, 3, -1.5, 0.0, 2.5)

# How jax.nn (jax 0.10.2) differs from jax.numpy's promotion on its own names; jaxact
# follows jnp there. Keys: the row; values: the input kinds where jax.nn differs.
NN_DEVIATIONS = {
    # jnp.where(x > 0, x, <Python-float expression>): an integer array gives a weakly
    # typed default float (float32, float64 under x64) instead of a strong float32.
    **dict.fromkeys(
        (
            "elu",
            "selu",
            "celu",
            "relu6",
            "leaky_relu",
            "sparse_plus",
            "sparse_sigmoid",
            "hard_sigmoid",
            "hard_silu",
        ),
        {"integer"},
    ),
    # lax.logistic (sigmoid, silu) and glu's sigmoid reject integers (TypeError).
    "sigmoid": {"integer", "weak"},
    "silu": {"integer", "weak"},
    "glu": {"integer", "weak"},
    # jax.nn.gelu's result is never weakly typed (not even for Python scalars).
    "gelu": {"weak"},
    "gelu_tanh": {"weak"},
    "gelu_erf": {"weak"},
    # Weakly typed arrays give strongly typed results.
    "softmax": {"weak"},
    "log_softmax": {"weak"},
}


def lane(name: str, fast: bool) -> Any:
    """A case of ``name``: the fast lane's also runs under x64 (tests/test_x64.py), the
    others are slow."""
    marks = [pytest.mark.x64] if fast else [pytest.mark.slow]
    return pytest.param(name, marks=[*marks, pytest.mark.xdist_group(name)])


def _fn(name: str) -> Any:
    fn = registry.FUNCTIONS[name]
    params = SPECS[name].params if name in SPECS else {}

    def f(x: Any) -> Any:
        # Extra arguments (meta_acon's weights) in the dtype x is promoted to: the same
        # numbers for an integer x and for its float version.
        like = jax.eval_shape(lambda: jnp.exp(x))
        return fn(x, **{**params, **_extra(name, like)})

    return f


def _elementwise(name: str) -> bool:
    return SPECS[name].kind == "elementwise" if name in SPECS else True


def _typed(s: Any) -> tuple[str, bool]:
    return str(s.dtype), bool(s.weak_type)


def expected(name: str, x: Any) -> tuple[str, bool]:
    """jax.numpy's (dtype, weak_type) for ``x``: a unary float function's, or for the
    rows that keep integers ``jnp.maximum(x, 0)``'s."""
    op = (lambda v: jnp.maximum(v, 0)) if name in KEEP_INTEGERS else jnp.exp
    return _typed(jax.eval_shape(lambda: op(x)))


def _integers(dtype: Any) -> np.ndarray:
    """INTS as a numpy array of ``dtype`` (their absolute values if unsigned)."""
    return (np.abs(INTS) if np.dtype(dtype).kind == "u" else INTS).astype(dtype)


def _weak_array(value: Any) -> jax.Array:
    """A weakly typed (4, 6) array of ``value`` (a Python number)."""
    a = jnp.broadcast_to(jnp.asarray(value), INTS.shape)
    assert a.weak_type
    return a


def _check_nn(name: str, kind: str, x: Any, want: tuple[str, bool]) -> None:
    """jax.nn's version gives jnp's answer too, or its difference is in NN_DEVIATIONS."""
    nn = SPECS[name].jax_nn if name in SPECS else getattr(jax.nn, name, None)
    if nn is None:
        return
    # jax.nn mixes Python floats and integers (standard promotion), and its softmax
    # casts -inf to the integer dtype (numpy warns).
    try:
        with jax.numpy_dtype_promotion("standard"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got: Any = _typed(jax.eval_shape(lambda: nn(x)))
    except TypeError:
        got = "TypeError"
    if got != want:
        assert kind in NN_DEVIATIONS.get(name, ()), (name, kind, "jax.nn", got, "jnp", want)


@pytest.mark.x64
def test_reference_is_jnp_promotion() -> None:
    # The facts the reference (``expected``) stands for, in the session's mode.
    x64 = bool(jax.config.jax_enable_x64)
    default = "float64" if x64 else "float32"
    assert expected("tanh", np.zeros(3, np.int32)) == ("float32", False)
    assert expected("tanh", np.zeros(3, np.int8)) == ("float32", False)
    assert expected("tanh", np.zeros(3, np.int64)) == (default, False)
    assert expected("tanh", 2) == (default, True)
    assert expected("tanh", 2.5) == (default, True)
    assert expected("tanh", np.float32(2.5)) == ("float32", False)
    assert expected("relu", np.zeros(3, np.uint8)) == ("uint8", False)
    assert expected("relu", 2) == ("int64" if x64 else "int32", True)


@pytest.mark.x64
@pytest.mark.parametrize("name", NAMES)
def test_integer_arrays_promote_as_jnp(name: str) -> None:
    f = _fn(name)
    shape = jax.eval_shape(f, INTS.astype(np.float32)).shape
    for dtype in INTEGERS:
        x = _integers(dtype)
        want = expected(name, x)
        got = jax.eval_shape(lambda: f(x))  # noqa: B023
        assert (_typed(got), got.shape) == (want, shape), (name, np.dtype(dtype).name)
        _check_nn(name, "integer", x, want)
        xj = jnp.asarray(x)  # a jax array: its dtype canonical (int64 is int32 without x64)
        assert _typed(jax.eval_shape(f, xj)) == expected(name, xj), (name, xj.dtype)


@pytest.mark.x64
@pytest.mark.parametrize("name", NAMES)
def test_python_scalars_and_weak_arrays_give_weak_results(name: str) -> None:
    f = _fn(name)
    inputs: list[Any] = [_weak_array(2.5), _weak_array(2)]
    if _elementwise(name):
        inputs += [2, 2.5, jnp.asarray(2.5), jnp.asarray(-3)]
    for x in inputs:
        want = expected(name, x)
        if name == "meta_acon":  # its float32 weight arrays are strongly typed, as in jnp
            want = (want[0], False)
        # A closure: a Python scalar reaches the function as itself, not as a tracer.
        got = jax.eval_shape(lambda: f(x))  # noqa: B023
        assert _typed(got) == want, (name, x, _typed(got), want)
        _check_nn(name, "weak", x, want)
    # Strongly typed scalars stay strongly typed.
    if _elementwise(name):
        assert _typed(jax.eval_shape(lambda: f(np.float32(2.5)))) == ("float32", False), name
        assert _typed(jax.eval_shape(lambda: f(jnp.float32(2.5)))) == ("float32", False), name


@pytest.mark.parametrize(
    "name", [lane(n, fast=n in REPRESENTATIVES or n in KEEP_INTEGERS) for n in NAMES]
)
def test_integer_and_scalar_values_are_the_float_values(name: str) -> None:
    """The same numbers as floats of the promoted dtype give the same values, bit for bit
    (eager: the same operations on the same numbers)."""
    f = _fn(name)
    for dtype in (np.int8, np.int32, np.uint16, np.int64):
        x = _integers(dtype)
        y = f(x)
        want_dtype = expected(name, x)[0]
        np.testing.assert_array_equal(y, f(jnp.asarray(x, want_dtype)), err_msg=f"{name} {dtype}")
    if not _elementwise(name):
        return
    default = jnp.dtype(jnp.result_type(float))
    for v in SCALARS:
        y = f(v)
        assert _typed(y) == expected(name, v), (name, v, _typed(y))
        np.testing.assert_array_equal(y, f(jnp.asarray(v, default)), err_msg=f"{name} {v}")


@pytest.mark.parametrize(
    "name",
    [lane(n, fast=n in REPRESENTATIVES) for n in NAMES if _elementwise(n)],
)
def test_grad_jit_vmap_take_python_scalars(name: str) -> None:
    f = _fn(name)
    default = jnp.dtype(jnp.result_type(float))
    strong = jnp.asarray(1.75, default)
    g = jax.grad(f)(1.75)
    assert _typed(g) == (default.name, True), (name, _typed(g))
    np.testing.assert_array_equal(g, jax.grad(f)(strong))
    y = jax.jit(f)(1.75)  # a weakly typed tracer
    assert _typed(y) == (default.name, True), (name, _typed(y))
    np.testing.assert_allclose(y, f(strong), rtol=4 * float(jnp.finfo(default).eps))
    weak = _weak_array(1.75)
    yv = jax.vmap(f)(weak)
    assert _typed(yv) == (default.name, True), (name, _typed(yv))
    np.testing.assert_allclose(
        yv, f(jnp.asarray(weak, default)), rtol=4 * float(jnp.finfo(default).eps)
    )
