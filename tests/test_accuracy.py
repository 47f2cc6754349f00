"""The mpmath grid and the half-precision sweep of every elementwise activation.

One test of each, parametrized over every (family, name) of the family test
modules ``tests.test_<family>``. Each module gives ``MP_REFS`` (name -> Ref),
``FNS`` (name -> jaxact function, called with the Ref's params) and optionally
``ULP_EXCEPTIONS`` and ``BAD_EXCEPTIONS``, keyed by (name, dtype name, order).
"""

from __future__ import annotations

import importlib

import pytest

from jaxact import registry
from tests.accuracy import REPRESENTATIVES, check_grid, check_half, lane

# The family test modules that hold references (the vector-valued families test
# their own way); every elementwise row must have one (test_registry checks).
MODULES = {
    family: module
    for family in registry.families()
    if hasattr(module := importlib.import_module(f"tests.test_{family}"), "MP_REFS")
}
_NAMES = [name for module in MODULES.values() for name in module.MP_REFS]
assert len(_NAMES) == len(set(_NAMES)), "MP_REFS names must be unique across families"


def _cases(dtypes, fast_dtype):
    # The fast lane: the family representatives (tests.accuracy.REPRESENTATIVES) in
    # one dtype; the slow lane: every reference in every dtype.
    return [
        lane(
            family,
            name,
            dtype,
            fast=name in REPRESENTATIVES and dtype == fast_dtype,
            id=f"{name}-{dtype}",
        )
        for family, module in MODULES.items()
        for name in module.MP_REFS
        for dtype in dtypes
    ]


def _check(check, family, name, dtype):
    module = MODULES[family]
    check(
        module.FNS[name],
        module.MP_REFS[name],
        dtype,
        getattr(module, "ULP_EXCEPTIONS", None),
        getattr(module, "BAD_EXCEPTIONS", None),
        name,
    )


@pytest.mark.parametrize("family,name,dtype", _cases(("float32", "float64"), "float32"))
def test_grid(family, name, dtype):
    _check(check_grid, family, name, dtype)


@pytest.mark.parametrize("family,name,dtype", _cases(("bfloat16", "float16"), "bfloat16"))
def test_half_sweep(family, name, dtype):
    _check(check_half, family, name, dtype)
