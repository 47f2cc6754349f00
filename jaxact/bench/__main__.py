"""``python -m jaxact.bench``: the ``jaxact bench`` command on its own."""

import sys

from jaxact.bench.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m jaxact.bench"))
