"""Speed and memory of jaxact's activations against jax.nn (``jaxact bench``).

Forward and forward+backward time under jit as ratios to a plain copy and to
jax.nn, the scan-MLP training step, and the residual-memory table; writes JSON,
Markdown and a PNG chart. Same options as ``jaxact bench`` (see
``jaxact/bench/__init__.py`` for the protocol and the definitions).

    python -m benchmarks.speed [--quick] [--functions relu,silu] [--memory] [--out DIR]
"""

from __future__ import annotations

import sys

from jaxact.bench import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m benchmarks.speed"))
