"""The memory rows of ``jaxact bench``: residual and scan-step bytes from :mod:`jaxact.memory`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from jaxact import memory
from jaxact.bench.config import DEFAULT_DTYPES, MEMORY_SHAPE, Fn, as_dtype, check_shape, error


def memory_row(
    fn: Fn,
    baseline: Fn | None = None,
    *,
    dtypes: Sequence[Any] = DEFAULT_DTYPES,
    size: int = memory.RESIDUAL_SIZE,
    scan: bool = True,
    layers: int = MEMORY_SHAPE[0],
    width: int = MEMORY_SHAPE[1],
    batch: int = MEMORY_SHAPE[2],
    body: memory.Body = "act_dot",
    names: tuple[str, str] = ("fn", "baseline"),
) -> dict[str, Any]:
    """Residual bytes per element and scan-step extra temp bytes of ``fn`` (and ``baseline``).

    Deterministic for a given jax/XLA version and backend: residuals are the
    leaves of the ``jax.vjp`` pullback under jit, the scan figure comes from
    ``memory_analysis()`` of the compiled step (nothing runs).

    Args:
      fn: a function of one array.
      baseline: an optional function to compare with.
      dtypes: input dtypes of the residual measurement.
      size: elements of the residual measurement's input.
      scan: whether to measure the float32 scan-MLP step.
      layers: the step's layers.
      width: the step's width.
      batch: the step's batch.
      body: the step's layer body (see :func:`jaxact.memory.scan_mlp`).
      names: the labels of ``fn`` and ``baseline`` in the result.

    Returns:
      ``{"residual_bytes": {dtype: {label: bytes per element}},
      "scan_extra": {label: bytes per element per layer} or None,
      "scan_stacked": {label: bytes each further layer adds per element} or None}``.

    Example:
      >>> import jax
      >>> memory_row(jax.nn.leaky_relu, dtypes=["float32"], scan=False)
      {'residual_bytes': {'float32': {'fn': 1.0}}, 'scan_extra': None, 'scan_stacked': None}
    """
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise error("size", f"must be a positive integer, got {size!r}")
    if not dtypes:
        raise error("dtypes", "must name at least one dtype")
    fns = {names[0]: fn}
    if baseline is not None:
        fns[names[1]] = baseline
    residual: dict[str, dict[str, float]] = {}
    for dt in dtypes:
        d = as_dtype(dt, "dtypes")
        residual[d.name] = {k: memory.residual_bytes(f, d, int(size)) for k, f in fns.items()}
    scan_extra = scan_stacked = None
    if scan:
        layers, width, batch = check_shape((layers, width, batch), "memory_shape")
        mems = {
            k: memory.scan_step_memory(f, layers=layers, width=width, batch=batch, body=body)
            for k, f in fns.items()
        }
        scan_extra = {k: m["extra_per_element"] for k, m in mems.items()}
        scan_stacked = {k: m["stacked_per_element"] for k, m in mems.items()}
    return {"residual_bytes": residual, "scan_extra": scan_extra, "scan_stacked": scan_stacked}
