"""Precision tiers: which kernels an activation is traced with.

* ``"fast"``: stable formulas on XLA's own elementary functions (``exp``,
  ``expm1``, ``log1p``, ``tanh``, ``erf``, ...). The formulas keep the tails,
  limits and kink conventions (nothing overflows, underflows early or cancels);
  the last few ulps are XLA's.
* ``"accurate"``: the double-word kernels of :mod:`jaxact._src.elementary` and
  ``dw``, a few ulps from the truth in every order.
* ``"auto"`` (the default): accurate for float64 inputs, fast otherwise
  (bfloat16 and float16 compute in float32, so they take the fast kernels too).

The tier is a trace-time choice, held in a JAX user context
(:func:`jax.make_user_context`): it is part of the key of JAX's tracing and
compilation caches, so a function traced under one tier keeps that tier, and the
same jitted function called under another tier is traced again for it.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

import jax
import jax.numpy as jnp

Tier = Literal["fast", "accurate", "auto"]
TIERS: tuple[str, ...] = ("fast", "accurate", "auto")
ENV = "JAXACT_PRECISION"
F = TypeVar("F", bound=Callable[..., Any])


def _check(tier: Any, where: str) -> str:
    if not isinstance(tier, str) or tier not in TIERS:
        raise ValueError(
            f"jaxact.{where}: argument 'tier' must be one of {', '.join(map(repr, TIERS))}, "
            f"got {tier!r}"
        )
    return tier


def _from_env() -> str:
    value = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if value not in TIERS:
        raise ValueError(
            f"jaxact: environment variable {ENV} must be one of {', '.join(TIERS)}, got {value!r}"
        )
    return value


_TIER = jax.make_user_context(_from_env())


class precision:  # noqa: N801 (a function-like API name)
    """Sets the precision tier inside a ``with`` block or a decorated function.

    Args:
      tier: ``"fast"``, ``"accurate"`` or ``"auto"``.

    Example:
      >>> import jax.numpy as jnp, jaxact
      >>> with jaxact.precision("accurate"):
      ...     y = jaxact.gelu(jnp.ones(3))
      >>> @jaxact.precision("fast")
      ... def step(x):
      ...     return jaxact.silu(x)

    The tier applies to what is traced inside: a ``jax.jit`` function first
    called inside the block is compiled with it (and traced again when called
    under another tier).
    """

    def __init__(self, tier: Tier) -> None:
        self.tier = _check(tier, "precision")
        self._local = threading.local()  # one stack of entered contexts per thread

    def __enter__(self) -> precision:
        ctx = _TIER(self.tier)
        ctx.__enter__()
        stack = self._local.__dict__.setdefault("stack", [])
        stack.append(ctx)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._local.stack.pop().__exit__(*exc)

    def __call__(self, fn: F) -> F:
        """As a decorator: ``fn`` runs under this tier (re-entrant, thread-safe)."""
        tier = self.tier

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _TIER(tier):
                return fn(*args, **kwargs)

        return cast(F, wrapper)

    def __repr__(self) -> str:
        return f"jaxact.precision({self.tier!r})"


def set_precision(tier: Tier) -> None:
    """Sets the process default tier (the starting value comes from ``JAXACT_PRECISION``).

    A ``precision(...)`` block still overrides it inside the block.
    """
    _TIER.set_global(_check(tier, "set_precision"))


def get_precision() -> str:
    """The tier in effect here: ``"fast"``, ``"accurate"`` or ``"auto"``."""
    return cast(str, _TIER.value)


@functools.cache
def _is_f64(dtype: Any) -> bool:
    return jnp.dtype(dtype) == jnp.dtype(jnp.float64)


def fast(dtype: Any) -> bool:
    """True when a kernel computing in ``dtype`` should take the fast tier now."""
    tier = _TIER.value
    return tier == "fast" or (tier == "auto" and not _is_f64(dtype))


def resolved(dtype: Any) -> str:
    """The tier (``"fast"`` or ``"accurate"``) a kernel computing in ``dtype`` takes now."""
    return "fast" if fast(dtype) else "accurate"


__all__ = ["precision", "set_precision", "get_precision", "TIERS"]
