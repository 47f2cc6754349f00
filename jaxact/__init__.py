"""jaxact: activation functions for JAX with numerically stable custom_jvp rules.

Every activation of jax.nn under its jax.nn name and signature (``import jaxact as nn``
works in existing code), the activations of PyTorch, timm, transformers and Keras
(``jaxact.get(name, library)``), and the research activations people ask for.
jax.nn's non-activation utilities (``one_hot``, ``logsumexp``, ``initializers`` ...)
are re-exported unchanged. What is known about each activation (family,
properties, kinks, library names) is in :mod:`jaxact.registry`.
``jaxact.sites(fn, *args)`` lists the activations any JAX function computes (inline
calls, scans and remat included) and ``jaxact.substitute(fn, mapping)`` replaces them.

The submodules load on first use, so ``import jaxact`` needs only jax:
``jaxact.linen`` and ``jaxact.nnx`` (the Flax layers), ``jaxact.memory`` (residual
and scratch bytes), ``jaxact.monitor`` (activation statistics), ``jaxact.bench`` and
``jaxact.demo`` (the benchmark and the training demo).
"""

# ruff: noqa: F403, I001
import typing as _typing

# The families, in registry order; each exports its activations through __all__.
from jaxact._src.relu import *
from jaxact._src.sigmoid import *
from jaxact._src.softplus import *
from jaxact._src.gelu import *
from jaxact._src.swish import *
from jaxact._src.elu import *
from jaxact._src.hard import *
from jaxact._src.gated import *
from jaxact._src.normalizing import *
from jaxact._src.periodic import *
from jaxact._src.rational import *
from jaxact._src.misc import *

from jaxact import registry as registry
from jaxact._src.lean import save_output as save_output
from jaxact._src.precision import (
    get_precision as get_precision,
    precision as precision,
    set_precision as set_precision,
)
from jaxact._src.registry import (
    gain as gain,
    get as get,
    info as info,
    init_for as init_for,
    list_names as list_names,
)
from jax.nn import (
    dot_product_attention as dot_product_attention,
    get_scaled_dot_general_config as get_scaled_dot_general_config,
    initializers as initializers,
    log1mexp as log1mexp,
    logmeanexp as logmeanexp,
    logsumexp as logsumexp,
    one_hot as one_hot,
    scaled_dot_general as scaled_dot_general,
    scaled_matmul as scaled_matmul,
    standardize as standardize,
)

__version__ = "0.1.0"

# Submodules imported on first attribute access (``jaxact.memory.residual_bytes``
# without ``import jaxact.memory``): linen, nnx, monitor and demo import flax.
_SUBMODULES = ("bench", "demo", "linen", "memory", "monitor", "nnx")

# sites, substitute and Site load on first use (with jax.extend: tens of milliseconds of
# every `import jaxact`, the floor of the `jaxact` command's start).
_SITES = ("Site", "sites", "substitute")

if _typing.TYPE_CHECKING:
    from jaxact._src.sites import Site as Site, sites as sites, substitute as substitute
    from jaxact import bench as bench
    from jaxact import demo as demo
    from jaxact import linen as linen
    from jaxact import memory as memory
    from jaxact import monitor as monitor
    from jaxact import nnx as nnx

# Registry objects that used to live at the top level: still reachable, with a
# DeprecationWarning that names their new home.
_MOVED = ("SPECS", "LIBRARY_NAMES", "LIBRARIES", "Kink", "Spec")


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"jaxact.{name}")  # also sets jaxact.<name>
    if name in _SITES:
        from jaxact._src import sites as _sites_module

        value = getattr(_sites_module, name)
        globals()[name] = value
        return value
    if name in _MOVED:
        import warnings

        warnings.warn(
            f"jaxact.{name} is deprecated; use jaxact.registry.{name} (read-only)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(registry, name)
    raise AttributeError(f"module 'jaxact' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES, *_SITES})
