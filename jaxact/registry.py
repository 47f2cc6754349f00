"""The registry: what is known about every activation, read-only.

Each activation declares its facts once, beside its function, and everything
else is derived from these tables:

* ``SPECS``: jaxact name -> :class:`Spec` (family, parameters, properties,
  kinks, piecewise-linearity, library names and presets, jax.nn and PyTorch
  counterparts, paper, init gain).
* ``FUNCTIONS``: every public activation name (rows, aliases such as ``swish``,
  and jax.nn's ``gelu`` dispatcher) -> function.
* ``LIBRARY_NAMES``: library -> {that library's name -> (jaxact name, preset
  keyword arguments)}; ``LIBRARIES`` lists the libraries.

All mappings are read-only views. Lookups: :func:`get`, :func:`info`,
:func:`list_names`, :func:`spec_of`, :func:`gain`, :func:`init_for`, :func:`families`.

Example:
  >>> from jaxact import registry
  >>> registry.SPECS["mish"].family
  'swish'
  >>> registry.LIBRARY_NAMES["keras"]["leaky_relu"][1]["negative_slope"]
  0.2
"""

from jaxact._src.registry import (
    ALIASES as ALIASES,
)
from jaxact._src.registry import (
    FUNCTIONS as FUNCTIONS,
)
from jaxact._src.registry import (
    KINDS as KINDS,
)
from jaxact._src.registry import (
    LIBRARIES as LIBRARIES,
)
from jaxact._src.registry import (
    LIBRARY_NAMES as LIBRARY_NAMES,
)
from jaxact._src.registry import (
    SPECS as SPECS,
)
from jaxact._src.registry import (
    Kink as Kink,
)
from jaxact._src.registry import (
    Spec as Spec,
)
from jaxact._src.registry import (
    families as families,
)
from jaxact._src.registry import (
    gain as gain,
)
from jaxact._src.registry import (
    get as get,
)
from jaxact._src.registry import (
    info as info,
)
from jaxact._src.registry import (
    init_for as init_for,
)
from jaxact._src.registry import (
    libraries_of as libraries_of,
)
from jaxact._src.registry import (
    list_names as list_names,
)
from jaxact._src.registry import (
    spec_of as spec_of,
)

__all__ = [
    "ALIASES",
    "FUNCTIONS",
    "KINDS",
    "LIBRARIES",
    "LIBRARY_NAMES",
    "SPECS",
    "Kink",
    "Spec",
    "families",
    "gain",
    "get",
    "info",
    "init_for",
    "libraries_of",
    "list_names",
    "spec_of",
]
