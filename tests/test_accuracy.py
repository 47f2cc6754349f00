"""The mpmath grid, the half-precision sweeps and the limits of every elementwise activation.

One test per row of the family test modules ``tests.test_<family>``. Each module
gives ``MP_REFS`` (name -> Ref), ``FNS`` (name -> jaxact function, called with the
Ref's params), ``LIMITS`` (name -> (f(-inf), f(+inf), f'(-inf), f'(+inf), f''(-inf),
f''(+inf)), NaN where there is no limit) and optionally ``ULP_EXCEPTIONS`` and
``BAD_EXCEPTIONS``, keyed by (name, dtype name, order).

Every row runs in both precision tiers: the accurate tier against ``BOUNDS`` and the
modules' exceptions, the fast tier against its own bounds and the measured
``FAST_ULP_EXCEPTIONS`` (``tests.accuracy``); no tier has bad points.

A row's dtypes run in one test because they share compiled programs
(``tests.accuracy.evaluate``): the float64 program is the grid's and the reference
of both half-precision sweeps, and the limits read the grid's programs.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import jaxact
from jaxact import registry
from jaxact._src.precision import TIERS as _ALL_TIERS
from tests.accuracy import (
    ALL_ORDERS,
    FAST_ULP_EXCEPTIONS,
    PIECEWISE_LINEAR,
    REPRESENTATIVES,
    TIER_BOUNDS,
    check_grid,
    check_half,
    evaluate,
    lane,
)

# The family test modules that hold references (the vector-valued families test
# their own way); every elementwise row must have one (test_registry checks).
MODULES = {
    family: module
    for family in registry.families()
    if hasattr(module := importlib.import_module(f"tests.test_{family}"), "MP_REFS")
}
_NAMES = [name for module in MODULES.values() for name in module.MP_REFS]
assert len(_NAMES) == len(set(_NAMES)), "MP_REFS names must be unique across families"
ELEMENTWISE = [n for n, s in registry.SPECS.items() if s.kind == "elementwise"]
LIMITS = {n: row for m in MODULES.values() for n, row in getattr(m, "LIMITS", {}).items()}
GRIDS = ("float32", "float64")
TIERS = tuple(t for t in _ALL_TIERS if t != "auto")  # auto is one of these per dtype
HALVES = ("bfloat16", "float16")


def _cases():
    # Per precision tier. The fast lane: the family representatives
    # (tests.accuracy.REPRESENTATIVES) in float32, and silu's bfloat16 sweep; the slow
    # lane: the other dtypes of those, and every other reference in every dtype.
    for family, module in MODULES.items():
        for name in module.MP_REFS:
            if name == "silu":
                lanes = [(("float32", "bfloat16"), True), (("float64", "float16"), False)]
            elif name in REPRESENTATIVES:
                lanes = [(("float32",), True), (("float64", "bfloat16", "float16"), False)]
            else:
                lanes = [((*GRIDS, *HALVES), False)]
            for tier in TIERS:
                for dtypes, fast in lanes:
                    yield lane(
                        family,
                        name,
                        dtypes,
                        tier,
                        fast=fast,
                        id=f"{name}-{tier}-{'-'.join(dtypes)}",
                        group=name,
                    )


def test_every_elementwise_row_has_references_and_limits() -> None:
    # MP_REFS also holds parameter variants of rows (e.g. celu_alpha).
    assert set(ELEMENTWISE) <= set(_NAMES)
    assert sorted(LIMITS) == sorted(ELEMENTWISE)
    assert all(len(row) == 6 for row in LIMITS.values())


def _close(got: float, want: float, dtype: str) -> bool:
    if math.isnan(want):
        return math.isnan(got)
    w = float(np.asarray(want, dtype))  # the limit rounded to the dtype
    return got == w or abs(got - w) <= 2 * float(np.finfo(dtype).eps) * abs(w)


def check_limits(name: str, dtype: str) -> None:
    """f, f', f'' at -inf and +inf are the recorded limits; NaN in gives NaN out
    (f'' of the piecewise-linear rows is 0: their backward pass keeps a one-byte
    code that carries no derivative)."""
    spec = registry.SPECS[name]
    xs = np.asarray([-np.inf, np.inf, np.nan], dtype)
    got = evaluate(spec.fn, xs, spec.params, ALL_ORDERS)
    for order, key in enumerate(("f", "d1", "d2")):
        lo, hi, at_nan = (float(v) for v in got[key])
        want = LIMITS[name][2 * order : 2 * order + 2]
        assert _close(lo, want[0], dtype) and _close(hi, want[1], dtype), (name, key, lo, hi)
        if key == "d2" and name in PIECEWISE_LINEAR:
            assert at_nan == 0.0, (name, key, at_nan)
        else:
            assert math.isnan(at_nan), (name, key, at_nan)
    # Forward mode agrees with reverse mode at the limits too.
    assert _close(float(got["d1_fwd"][0]), LIMITS[name][2], dtype), (name, "d1_fwd")
    assert _close(float(got["d1_fwd"][1]), LIMITS[name][3], dtype), (name, "d1_fwd")


@pytest.mark.parametrize("family,name,dtypes,tier", list(_cases()))
def test_accuracy(family: str, name: str, dtypes: tuple[str, ...], tier: str) -> None:
    module = MODULES[family]
    args = (
        module.FNS[name],
        module.MP_REFS[name],
    )
    ulp = FAST_ULP_EXCEPTIONS if tier == "fast" else getattr(module, "ULP_EXCEPTIONS", None)
    exceptions = (ulp, getattr(module, "BAD_EXCEPTIONS", None))
    with jaxact.precision(tier):  # type: ignore[arg-type]
        for dtype in dtypes:
            if dtype in GRIDS:
                check_grid(*args, dtype, *exceptions, name, bounds=TIER_BOUNDS[tier])
                if name in LIMITS:  # a registry row (not a parameter variant)
                    check_limits(name, dtype)
            else:
                check_half(*args, dtype, *exceptions, name)


def test_fast_exceptions_name_rows_and_exceed_the_bounds() -> None:
    # Every recorded exception is a real row, dtype and order, and needed: it allows
    # more than the fast tier's bound (a stale entry would hide nothing, but would
    # state a wrong bound in the docs).
    for (name, dtype, order), (allowed, why) in FAST_ULP_EXCEPTIONS.items():
        assert name in _NAMES and dtype in GRIDS and order in TIER_BOUNDS["fast"], name
        assert allowed > TIER_BOUNDS["fast"][order] and why, (name, dtype, order)
