"""Which functions ``jaxact bench`` measures: rows of the registry and their jax.nn twins."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Iterable

from jaxact._src import registry
from jaxact.bench.config import Array, Fn, error


def jax_nn_counterpart(name: str) -> Fn | None:
    """jax.nn's version of the jaxact activation ``name`` (the registry's ``jax_nn``),
    or None if jax.nn has none.

    Args:
      name: a jaxact activation name or alias.

    Returns:
      A function of one array, or None.
    """
    spec = registry.spec_of(name)
    return None if spec is None else spec.jax_nn


def _with_required_params(fn: Callable[..., Array], params: dict[str, float]) -> Fn:
    # Defaults stay defaults; only parameters without a default (prelu's slope,
    # threshold's value) are filled in from the registry.
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return fn
    required = {
        k: v
        for k, v in params.items()
        if k in sig.parameters and sig.parameters[k].default is inspect.Parameter.empty
    }
    return functools.partial(fn, **required) if required else fn


def _elementwise_names() -> list[str]:
    return [n for n, s in registry.SPECS.items() if s.kind == "elementwise"]


def resolve_functions(names: Iterable[str] | str | None = None) -> list[tuple[str, Fn, Fn | None]]:
    """The (name, jaxact function, jax.nn function or None) rows to benchmark.

    Args:
      names: jaxact names (a list or a comma-separated string). None: every
        elementwise activation. The name ``jax.nn`` stands for every
        elementwise activation jax.nn also has. Aliases (``gelu``, ``swish``
        ...) are accepted.

    Returns:
      One tuple per function, in the order given.

    Raises:
      ValueError: for an unknown or non-elementwise name, naming it.
    """
    everything = _elementwise_names()
    if names is None:
        wanted = everything
    else:
        if isinstance(names, str):
            names = names.split(",")
        wanted = []
        for raw in names:
            n = raw.strip()
            if not n:
                continue
            if n == "jax.nn":
                wanted += [m for m in everything if jax_nn_counterpart(m) is not None]
            else:
                wanted.append(n)
        if not wanted:
            raise error("functions", "must name at least one activation")
    rows: list[tuple[str, Fn, Fn | None]] = []
    seen: set[str] = set()
    for n in wanted:
        if n in seen:
            continue
        seen.add(n)
        if n in registry.SPECS:
            spec = registry.SPECS[n]
            if spec.kind != "elementwise":
                raise error(
                    "functions",
                    f"takes elementwise activations; {n!r} is of kind {spec.kind!r}",
                )
            fn = _with_required_params(spec.fn, dict(spec.params))
        elif n in registry.ALIASES:
            fn = registry.ALIASES[n]
        else:
            close = difflib.get_close_matches(n, [*everything, *registry.ALIASES], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise error("functions", f"has an unknown activation {n!r}{hint}")
        rows.append((n, fn, jax_nn_counterpart(n)))
    return rows
