"""What every family keeps, tested once over the data of the family test modules.

Each family test module ``tests/test_<family>.py`` holds the facts of its
activations; the test bodies live here, one of each:

* ``PARAM_CASES``: :class:`tests.accuracy.ParamCase` rows, derivatives in the
  numeric parameters (and mixed partials) against mpmath jets.
* ``BAD_ARGS``: ``(name, exception, argument, kwargs)``: ``jaxact.<name>`` called
  on ``kwargs`` (``x`` defaults to a 2x3 array of ones) raises ``exception``
  with a message that names the function and the argument.

The generic properties that need no per-activation data (shapes, dtypes, bad
``x``, transforms, kinks) are in ``tests/test_generic.py``; ``LIMITS`` (the limits
at +-inf and NaN) are checked with the mpmath grid in ``tests/test_accuracy.py``,
from the same compiled programs.
"""

from __future__ import annotations

import importlib
from typing import Any

import jax
import jax.numpy as jnp
import mpmath as mp
import pytest

from jaxact import registry
from tests import mpjet
from tests.accuracy import ParamCase, lane, raises_named

MODULES = {
    family: importlib.import_module(f"tests.test_{family}") for family in registry.families()
}
ELEMENTWISE = [n for n, s in registry.SPECS.items() if s.kind == "elementwise"]
PARAM_CASES: list[ParamCase] = [c for m in MODULES.values() for c in getattr(m, "PARAM_CASES", [])]
BAD_ARGS = [row for m in MODULES.values() for row in getattr(m, "BAD_ARGS", [])]


def _first_of_family(case: ParamCase) -> bool:
    """Whether the case is its family's first parameter case (the fast lane's)."""
    family = registry.SPECS[case.name].family
    return case is next(c for c in PARAM_CASES if registry.SPECS[c.name].family == family)


def _mp_params(case: ParamCase, jet_of: str | None = None) -> dict[str, Any]:
    out = {k: mp.mpf(v) for k, v in case.params.items()}
    if jet_of is not None:
        out[jet_of] = mpjet.Jet(case.params[jet_of], 1, 0)
    return out


def _shifted(case: ParamCase, p: str, h: Any) -> dict[str, Any]:
    out = {k: mp.mpf(v) for k, v in case.params.items()}
    out[p] += h
    return out


@pytest.mark.parametrize("case", [lane(c, fast=_first_of_family(c), id=c.id) for c in PARAM_CASES])
def test_param_derivatives(case: ParamCase) -> None:
    fn = case.fn or registry.SPECS[case.name].fn
    wrt = list(case.wrt or case.params)
    with jax.enable_x64(True):
        p = {k: jnp.float64(v) for k, v in case.params.items()}
        xs = jnp.asarray(case.xs, jnp.float64)

        def of_params(q: dict[str, jax.Array], x: jax.Array) -> jax.Array:
            return fn(x, **{**p, **{k: q[k] for k in wrt}})

        d_p = jax.grad(of_params)
        d_xp = jax.grad(lambda q, x: jax.grad(lambda t: of_params(q, t))(x))
        q = {k: p[k] for k in wrt}
        grads = jax.jit(jax.vmap(d_p, (None, 0)))(q, xs)
        mixed = jax.jit(jax.vmap(d_xp, (None, 0)))(q, xs) if case.mixed else None
    for k in wrt:
        for i, x in enumerate(case.xs):
            got = float(grads[k][i])
            want = float(mpjet.lift(case.ref(mp.mpf(x), **_mp_params(case, k))).d)
            assert abs(got - want) <= case.rel * abs(want) + case.abs, (case.id, k, x, got, want)
            if mixed is None:
                continue
            # d/dp of f'(x): a central difference in p of the jet's f' (error ~h^2).
            h = mp.mpf("1e-20")

            def d1(shift: Any, x: float = x, k: str = k) -> Any:
                return mpjet.lift(case.ref(mpjet.Jet(x, 1, 0), **_shifted(case, k, shift))).d

            want = float((d1(h) - d1(-h)) / (2 * h))
            got = float(mixed[k][i])
            assert abs(got - want) <= 1e-10 * abs(want) + 1e-12, (case.id, "mixed", k, x, got, want)


@pytest.mark.parametrize(
    "name,exc,arg,kwargs", BAD_ARGS, ids=[f"{r[0]}-{r[2]}-{i}" for i, r in enumerate(BAD_ARGS)]
)
def test_bad_arguments_named(name: str, exc: type[Exception], arg: str, kwargs: dict) -> None:
    kw = dict(kwargs)
    x = kw.pop("x", jnp.ones((2, 3)))
    raises_named(exc, name, arg, lambda: registry.FUNCTIONS[name](x, **kw))
