"""The real libraries' activations, called as a user of each library calls them, for
comparisons with jaxact's names (tests/test_compat.py).

Every name of ``jaxact.registry.LIBRARY_NAMES`` for torch, transformers and Keras has
a :class:`Case` here: how that library's own function or module (default
construction) is reached, the arguments a call needs beyond the input (the same
arguments go to jaxact's preset), and the input's shape. Values and first
derivatives (vector-Jacobian products with a fixed cotangent) come back as numpy
arrays of the input's dtype.

The libraries are imported when a case is run: the ``compat`` extra installs them
(``pip install -e ".[compat]"``).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")

# Library -> the module that must import for its cases to run.
MODULES = {"torch": "torch", "transformers": "transformers", "keras": "keras"}


@dataclasses.dataclass(frozen=True)
class Case:
    """How one library name is called.

    lib, name: the library and its name for the function.
    args: positional arguments after the input (both sides get them).
    kind: "elementwise" (1-D grid), "vector" (rows of 8 along the last axis) or
      "channels" (N, C, H, W: torch's Softmax2d acts along C).
    """

    lib: str
    name: str
    args: tuple[Any, ...] = ()
    kind: str = "elementwise"
    kwargs: tuple[tuple[str, Any], ...] = ()

    @property
    def id(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.kwargs)
        return f"{self.lib}:{self.name}" + (f"({extra})" if extra else "")


VECTOR = {
    "softmax",
    "Softmax",
    "log_softmax",
    "LogSoftmax",
    "softmin",
    "Softmin",
    "glu",
    "GLU",
    "sparsemax",
}
# Arguments the library's function requires (no default), given to both sides.
REQUIRED = {
    ("torch", "threshold"): (0.5, -1.0),
    ("torch", "Threshold"): (0.5, -1.0),
    ("keras", "threshold"): (0.5, -1.0),
}
# Names that are not comparable value by value: random functions.
RANDOM = {("torch", "gumbel_softmax"): "random: a draw of Gumbel noise"}


def case(lib: str, name: str, **kwargs: Any) -> Case:
    kind = "vector" if name in VECTOR else "elementwise"
    if (lib, name) == ("torch", "Softmax2d"):
        kind = "channels"
    return Case(lib, name, REQUIRED.get((lib, name), ()), kind, tuple(kwargs.items()))


# Calls with the library's own argument names (beyond default construction).
ARGUMENT_CASES = (
    case("keras", "relu", negative_slope=0.1),
    case("keras", "relu", max_value=4.0),
    case("keras", "relu", max_value=6.0),
    case("keras", "relu", threshold=0.5),
    case("keras", "relu", negative_slope=0.1, max_value=4.0, threshold=-0.5),
    case("keras", "ReLU", negative_slope=0.2, max_value=3.0),
    case("keras", "leaky_relu", negative_slope=0.1),
    case("keras", "gelu", approximate=True),
    case("keras", "hard_shrink", threshold=1.0),
    case("keras", "soft_shrink", threshold=1.0),
    case("keras", "elu", alpha=0.5),
    case("keras", "squareplus", b=2.0),
    case("torch", "gelu", approximate="tanh"),
    case("torch", "GELU", approximate="tanh"),
    case("torch", "leaky_relu", negative_slope=0.2),
    case("torch", "hardtanh", min_val=-2.0, max_val=3.0),
    case("torch", "softplus", beta=2.0, threshold=10.0),
    case("torch", "celu", alpha=2.0),
    case("torch", "softmax", dim=0),
    case("torch", "log_softmax", dim=0),
    case("torch", "Softmin", dim=0),
    case("torch", "glu", dim=0),
)


# --- torch and transformers -------------------------------------------------------


@functools.cache
def _torch() -> Any:
    import torch

    return torch


def _torch_callable(lib: str, name: str) -> Callable[..., Any]:
    torch = _torch()
    F, nn = torch.nn.functional, torch.nn
    if lib == "transformers":
        from transformers.activations import ACT2FN

        module = ACT2FN[name].eval()  # a new module, default construction
        # In the input's dtype, as in a model; but xielu's default module keeps its
        # parameters in bfloat16 (its preset reproduces the rounded values).
        return module if name == "xielu" else lambda x: module.to(x.dtype)(x)
    if name[0].isupper():
        cls = getattr(nn, name)
        if name == "Threshold":
            return lambda x, t, v: cls(t, v)(x)
        # RReLU: the eval-mode slope; PReLU's weight in the input's dtype, as in a model
        return lambda x, **kw: cls(**kw).eval().to(x.dtype)(x)
    fn = getattr(F, name)  # softmax & co. without dim: torch's legacy choice by rank
    if name == "prelu":
        return lambda x: fn(x, torch.tensor([0.25], dtype=x.dtype))
    return fn


def _torch_eval(c: Case, x: np.ndarray, w: np.ndarray) -> tuple:
    torch = _torch()
    fn = _torch_callable(c.lib, c.name)  # its parameters keep their dtype, as in a model
    t = torch.tensor(x, requires_grad=True)
    y = fn(t, *c.args, **dict(c.kwargs))
    (g,) = torch.autograd.grad(y, t, torch.tensor(w, dtype=y.dtype))
    return y.detach().numpy(), g.numpy()


# --- Keras 3 on the jax backend ---------------------------------------------------


def _keras_callable(c: Case, dtype: str) -> Callable[..., Any]:
    import keras

    if c.name[0].isupper():  # a layer, constructed with the arguments; it computes in its dtype
        layer = getattr(keras.layers, c.name)(dtype=dtype, **dict(c.kwargs))
        return lambda x, *args: layer(x)
    fn = keras.activations.get(c.name)
    return lambda x, *args: fn(x, *args, **dict(c.kwargs))


def _keras_eval(c: Case, x: np.ndarray, w: np.ndarray) -> tuple:
    import jax
    import keras

    floatx = keras.config.floatx()
    keras.config.set_floatx(x.dtype.name)
    try:
        fn = _keras_callable(c, x.dtype.name)
        # Keras mixes dtypes where jax's strict promotion (the tests' setting) refuses.
        with jax.enable_x64(x.dtype == np.float64), jax.numpy_dtype_promotion("standard"):
            y, vjp = jax.vjp(lambda v: fn(v, *c.args), jax.numpy.asarray(x))
            (g,) = vjp(jax.numpy.asarray(w, y.dtype))
            return np.asarray(y), np.asarray(g)
    finally:
        keras.config.set_floatx(floatx)


def reference(c: Case, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The library's values and ``w``-weighted first derivatives at ``x``."""
    if c.lib == "keras":
        return _keras_eval(c, x, w)
    return _torch_eval(c, x, w)


def jaxact_eval(c: Case, x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """jaxact's preset for the name, at the same points, in the same dtype."""
    import jax

    import jaxact

    fn = jaxact.get(f"{c.lib}:{c.name}")
    with jax.enable_x64(x.dtype == np.float64):
        y, vjp = jax.vjp(lambda v: fn(v, *c.args, **dict(c.kwargs)), jax.numpy.asarray(x))
        (g,) = vjp(jax.numpy.asarray(w, y.dtype))
        return np.asarray(y), np.asarray(g)


# --- the grid ---------------------------------------------------------------------

# Kinks and thresholds of the catalogue (0, the shrink and clip points, hard_sigmoid's
# +-3, relu6's 6, softplus's 20 and gelu_10's +-10), each with its neighbours.
_KINKS = (0.0, 0.5, 1.0, 2.0, 3.0, 6.0, 10.0, 20.0)
_LARGE = (50.0, 88.0, 100.0, 1e3, 1e4, 1e6, 1e10, 1e30)


def grid(dtype: Any) -> np.ndarray:
    """±30 in steps of 1/4, every kink with its float neighbours, large magnitudes."""
    dtype = np.dtype(dtype)
    pts = [np.arange(-120, 121, dtype=np.float64) / 4]
    for k in _KINKS:
        for v in (k, -k):
            kv = np.asarray(v, dtype)
            pts.append(np.array([np.nextafter(kv, -np.inf), kv, np.nextafter(kv, np.inf)], dtype))
    pts.append(np.array([*_LARGE, *(-v for v in _LARGE)]))
    return np.unique(np.concatenate([p.astype(dtype) for p in pts]))


def inputs(c: Case, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """The input and the cotangent for a case."""
    rng = np.random.default_rng(0)
    if c.kind == "elementwise":
        x = grid(dtype)
        return x, np.ones_like(x)
    rows = [
        rng.normal(size=8) * 3,
        np.linspace(-30, 30, 8),
        np.zeros(8),
        np.array([1e-8, 0, 0, 0, 0, 0, 0, 0]),
        np.array([40.0, -40.0, 0.5, 0.5, 3.0, -3.0, 100.0, -100.0]),
        np.array([-1e4, 1e4, 0.0, 1.0, -1.0, 2.0, -2.0, 30.0]),
    ]
    x = np.stack(rows)
    if c.kind == "channels":
        x = rng.normal(size=(2, 5, 2, 4)) * 4
    x = x.astype(dtype)
    shape = list(x.shape)
    if c.name.lower() == "glu":
        shape[axis(c)] //= 2
    return x, rng.normal(size=shape).astype(dtype)


def axis(c: Case) -> int:
    """The axis a vector-valued case acts along."""
    if c.kind == "channels":
        return -3
    kwargs = dict(c.kwargs)
    return int(kwargs.get("dim", kwargs.get("axis", -1)))
