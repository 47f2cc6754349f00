"""The jaxact demo: why the choice of activation matters, on real data.

Three studies, each a function here and a ``jaxact demo`` subcommand:

- :func:`compare` (``jaxact demo``): the same Flax NNX MLP, initialised for
  each activation, trained with optax AdamW over several seeds on
  scikit-learn's bundled digits; one table of accuracy, loss, convergence
  speed, step time and activation health.
- :func:`depth` (``jaxact demo depth``): plain MLPs from 2 to 32 layers;
  per-layer gradient norms at initialisation and accuracy after a fixed budget.
- :func:`swap` (``jaxact demo swap``): train a sigmoid network, swap its
  activations, train on; keeping the weights against re-initialising.

Training is data-parallel over every visible device (``jax.sharding``: a 1-D
mesh, batch sharded, parameters replicated) and checkpointed with orbax.
Needs the ``demo`` extra: ``pip install "jaxact[demo]"``.
"""

from jaxact.demo.data import Dataset, load_digits, load_npz
from jaxact.demo.model import DEFAULT_ACTIVATIONS, MLP
from jaxact.demo.studies import QUICK, compare, depth, init_grad_norms, swap
from jaxact.demo.training import TrainConfig, evaluate, make_mesh, train

__all__ = [
    "DEFAULT_ACTIVATIONS",
    "MLP",
    "QUICK",
    "Dataset",
    "TrainConfig",
    "compare",
    "depth",
    "evaluate",
    "init_grad_norms",
    "load_digits",
    "load_npz",
    "make_mesh",
    "swap",
    "train",
]
