"""The jaxact demo: why the choice of activation matters, on real data.

Four studies, each a function here and a ``jaxact demo`` subcommand:

- :func:`compare` (``jaxact demo``): the same Flax NNX MLP, initialised for
  each activation, trained with optax AdamW over several seeds on
  scikit-learn's bundled digits; one table of accuracy, loss, convergence
  speed, step time and activation health.
- :func:`depth` (``jaxact demo depth``): plain MLPs from 2 to 32 layers;
  per-layer gradient norms at initialisation and accuracy after a fixed budget.
- :func:`swap` (``jaxact demo swap``): train a sigmoid network, swap its
  activations, train on; keeping the weights against re-initialising.
- :func:`deploy` (``jaxact demo deploy``): quantize each trained network with
  Qwix (int8 and int4 weights, int8 activations, QAT) and prune it (with and
  without a fine-tune); the activations' zeros, range and kurtosis explain the
  outcome. The quantization needs the ``deploy`` extra.

Training is data-parallel over every visible device (``jax.sharding``: a 1-D
mesh, batch sharded, parameters replicated) and checkpointed with orbax.
Needs the ``demo`` extra: ``pip install "jaxact[demo]"``.

The names below load on first use, so that ``jaxact.demo.cli`` (the command's
arguments, imported by ``jaxact demo`` and ``jaxact --help``) needs neither flax
nor the rest of the extra. The studies write to ``jaxact-out/demo`` unless told
otherwise (``out=``, ``--out``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jaxact.demo.data import Dataset as Dataset
    from jaxact.demo.data import load_digits as load_digits
    from jaxact.demo.data import load_npz as load_npz
    from jaxact.demo.deployment import deploy as deploy
    from jaxact.demo.model import DEFAULT_ACTIVATIONS as DEFAULT_ACTIVATIONS
    from jaxact.demo.model import MLP as MLP
    from jaxact.demo.studies import QUICK as QUICK
    from jaxact.demo.studies import compare as compare
    from jaxact.demo.studies import depth as depth
    from jaxact.demo.studies import init_grad_norms as init_grad_norms
    from jaxact.demo.studies import swap as swap
    from jaxact.demo.training import CheckpointError as CheckpointError
    from jaxact.demo.training import FolderInUseError as FolderInUseError
    from jaxact.demo.training import TrainConfig as TrainConfig
    from jaxact.demo.training import evaluate as evaluate
    from jaxact.demo.training import make_mesh as make_mesh
    from jaxact.demo.training import train as train

# Public name -> the module that defines it.
_HOMES = {
    "Dataset": "data",
    "load_digits": "data",
    "load_npz": "data",
    "DEFAULT_ACTIVATIONS": "model",
    "MLP": "model",
    "deploy": "deployment",
    "QUICK": "studies",
    "compare": "studies",
    "depth": "studies",
    "init_grad_norms": "studies",
    "swap": "studies",
    "CheckpointError": "training",
    "FolderInUseError": "training",
    "TrainConfig": "training",
    "evaluate": "training",
    "make_mesh": "training",
    "train": "training",
}

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "MLP",
    "QUICK",
    "CheckpointError",
    "Dataset",
    "FolderInUseError",
    "TrainConfig",
    "compare",
    "deploy",
    "depth",
    "evaluate",
    "init_grad_norms",
    "load_digits",
    "load_npz",
    "make_mesh",
    "swap",
    "train",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'jaxact.demo' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"jaxact.demo.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
