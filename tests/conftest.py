"""Test configuration: strict dtype promotion for every test, no tracer outlives the tests,
and x64 for the whole session with JAXACT_TEST_X64=1."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator

import jax
import pytest

# One compilation cache per test session, shared by its xdist workers and the
# subprocesses tests start: a program that several tests (or both workers) compile,
# such as a row's accuracy program or a layer's forward pass built afresh by two
# tests, is compiled once. Its key is the program itself (its StableHLO without
# debug info, the compile options, jaxlib's version), so a hit gives the executable a
# compile would have produced. The session's controller makes the directory and
# removes it at the end; a directory the user set in JAX_COMPILATION_CACHE_DIR is
# used instead, and kept.
_CACHE = {
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}


# JAXACT_TEST_X64=1 runs the session with x64 on (jax_enable_x64), set before any test
# module is imported, so before anything is traced: float32, half-precision, integer
# and Python-scalar inputs must then keep the dtypes they have without x64
# (tests/test_x64.py runs the generic checks so).
X64 = os.environ.get("JAXACT_TEST_X64", "") == "1"
if X64:
    jax.config.update("jax_enable_x64", True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "x64: the checks tests/test_x64.py also runs with JAXACT_TEST_X64=1 (-m x64)"
    )
    if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):  # xdist workers inherit it
        directory = tempfile.mkdtemp(prefix="jaxact-test-compilation-cache-")
        config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))
        os.environ["JAX_COMPILATION_CACHE_DIR"] = directory
        os.environ.update(_CACHE)
    # jax read its environment when conftest imported it.
    jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


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
    # isinstance reads each object's __class__; some of torch's deprecated objects
    # warn when it is read (the compat tests import torch).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
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
