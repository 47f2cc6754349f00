"""The demo's network: a plain NNX MLP whose activation and initialisation go together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flax import nnx

import jaxact
from jaxact import nnx as jn
from jaxact._src import layers, registry

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "LEARNABLE",
    "check_activation",
    "init_of",
    "make_activation",
    "MLP",
]

# The activations ``jaxact demo`` compares by default.
DEFAULT_ACTIVATIONS = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "prelu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "mish",
    "pau",
)

# Names the demo builds as learnable layers: name -> (layer factory taking the
# width, the activation whose gain sets the initialisation).
LEARNABLE: dict[str, tuple[Callable[[int], nnx.Module], str]] = {
    # One slope per unit, PyTorch's and He et al.'s initial 0.25.
    "prelu": (lambda width: jn.PReLU("torch", num_channels=width), "prelu"),
    # A Padé activation unit initialised to leaky_relu (degrees (5, 4), version A).
    "pau": (lambda width: jn.Rational("leaky_relu"), "leaky_relu"),
}


def check_activation(name: Any) -> str:
    """Validates a demo activation: a learnable name or an elementwise registry name."""
    if not isinstance(name, str):
        raise TypeError(f"jaxact demo: argument 'activations': each must be a name, got {name!r}")
    if name in LEARNABLE:
        return name
    try:
        registry.get(name)
    except ValueError as e:
        raise registry.relabel(e, "jaxact demo", "activations") from None
    spec = registry.spec_of(name)
    if spec is not None and spec.kind != "elementwise":
        raise ValueError(
            f"jaxact demo: argument 'activations': {name!r} is a {spec.kind} activation; "
            "the demo's MLP needs an elementwise one"
        )
    if layers.needs_key(name, {}):
        raise ValueError(
            f"jaxact demo: argument 'activations': {name!r} is random; the demo needs a "
            "deterministic activation"
        )
    return name


def init_of(name: str) -> Callable[..., Any]:
    """The kernel initializer matched to a demo activation (``jaxact.init_for``)."""
    return jaxact.init_for(LEARNABLE[name][1] if name in LEARNABLE else name)


def make_activation(name: str, width: int) -> tuple[nnx.Module, Callable[..., Any]]:
    """The activation layer for ``name`` and the kernel initializer matched to it."""
    layer = LEARNABLE[name][0](width) if name in LEARNABLE else jn.Activation(name)
    return layer, init_of(name)


class MLP(nnx.Sequential):
    """``Linear → activation`` repeated for each hidden width, then a ``Linear`` head.

    Every hidden ``Linear`` uses ``jaxact.init_for(activation)`` (He for the
    ReLU family, LeCun for SELU and sigmoid, ...) unless ``kernel_init`` is
    given; biases start at zero. No normalisation, no dropout: the activation
    alone decides how signals and gradients travel.

    An ``nnx.Sequential``: ``layers[0], layers[2], ...`` are the ``Linear``
    layers, ``layers[1], layers[3], ...`` the activation layers (``"layers/1"``,
    ``"layers/3"``, ... in health reports).

    Example:
      >>> from flax import nnx
      >>> import jax.numpy as jnp
      >>> from jaxact.demo.model import MLP
      >>> model = MLP(64, (8, 8), 10, "relu", rngs=nnx.Rngs(0))
      >>> model(jnp.ones((5, 64))).shape
      (5, 10)
    """

    def __init__(
        self,
        num_features: int,
        hidden: Sequence[int],
        num_classes: int,
        activation: str,
        *,
        rngs: nnx.Rngs,
        kernel_init: Callable[..., Any] | None = None,
    ):
        activation = check_activation(activation)
        modules: list[nnx.Module] = []
        width_in = num_features
        for width in hidden:
            act, init = make_activation(activation, width)
            modules.append(nnx.Linear(width_in, width, kernel_init=kernel_init or init, rngs=rngs))
            modules.append(act)
            width_in = width
        # The head feeds a softmax: LeCun (scale 1) keeps the initial logits O(1).
        modules.append(
            nnx.Linear(width_in, num_classes, kernel_init=jaxact.init_for("linear"), rngs=rngs)
        )
        super().__init__(*modules)
        self.activation = activation
