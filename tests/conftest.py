"""Test configuration: strict dtype promotion for every test, and no tracer outlives the tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import jax
import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The docstring examples run in the full suite (CI); the fast lane's tests of the
    # same functions and layers (tests/test_linen.py, test_nnx.py, test_monitor.py, the
    # family tests) stand in for them in daily work.
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _strict_promotion() -> Iterator[None]:
    with jax.numpy_dtype_promotion("strict"):
        yield


def live_tracers(collect: bool = True) -> list[jax.core.Tracer]:
    """The tracers on the heap (after a full garbage collection unless not ``collect``)."""
    if collect:
        gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, jax.core.Tracer)]


@pytest.fixture(scope="session", autouse=True)
def _no_tracer_leaks() -> Iterator[None]:
    # Every test of the session (each worker's share under xdist) has traced its
    # functions under jit, grad, vmap, scan, remat...: a tracer a function kept (a
    # leak) is still on the heap at the end. One scan of the heap, instead of
    # jax.checking_leaks at every trace exit (seconds per function).
    yield
    # A full collection of a test worker's heap takes seconds: only when the heap holds
    # tracers, to tell a leak from garbage not yet collected.
    live = live_tracers(collect=False) and live_tracers()
    assert not live, f"{len(live)} tracers outlived their trace, e.g. {live[:3]}"
