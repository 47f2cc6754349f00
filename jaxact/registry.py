"""The registry: what is known about every activation, read-only.

Each activation declares its facts once, beside its function, and everything
else is derived from these tables:

* ``SPECS``: jaxact name -> :class:`Spec` (family, parameters, properties,
  kinks, piecewise-linearity, library names and presets, jax.nn and PyTorch
  counterparts, paper, init gain).
* ``FUNCTIONS``: every public activation name (rows, aliases such as ``swish``,
  and jax.nn's ``gelu`` dispatcher) -> function; ``ALIASES`` the names that are
  no row of their own; ``DISPATCHERS``: dispatcher -> the row its defaults compute.
* ``LIBRARY_NAMES``: library -> {that library's name, spelled as it spells it ->
  (jaxact name, preset keyword arguments)}; ``LIBRARIES`` lists the libraries.
  ``get`` matches names exactly; a name without a library resolves only where every
  library that uses it means the same function by it (torch's and Keras'
  ``LeakyReLU`` differ: ``get`` lists both).
* ``LIBRARY_FUNCTIONS``: (library, name) -> the function ``get`` returns for that
  name where the library differs from the row in a way arguments cannot express:
  its derivative at a kink (torch's ``leaky_relu'(0)`` is the slope) or its
  argument names (Keras' ``hard_shrink(x, threshold)``). Filed with
  :func:`library_function` beside the row.

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
    ALIASES,
    DISPATCHERS,
    FUNCTIONS,
    KINDS,
    LIBRARIES,
    LIBRARY_FUNCTIONS,
    LIBRARY_NAMES,
    SPECS,
    Kink,
    Spec,
    UnknownActivationError,
    families,
    gain,
    get,
    info,
    init_for,
    libraries_of,
    library_function,
    list_names,
    spec_of,
)

__all__ = [
    "ALIASES",
    "DISPATCHERS",
    "FUNCTIONS",
    "KINDS",
    "LIBRARIES",
    "LIBRARY_FUNCTIONS",
    "LIBRARY_NAMES",
    "SPECS",
    "Kink",
    "Spec",
    "UnknownActivationError",
    "families",
    "gain",
    "get",
    "library_function",
    "info",
    "init_for",
    "libraries_of",
    "list_names",
    "spec_of",
]
