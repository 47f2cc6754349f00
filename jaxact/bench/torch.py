"""Optional PyTorch candidates for the timings: eager and ``torch.compile``.

PyTorch is never a dependency: :func:`torch_module` imports it if it can and
says why it is or is not used; the counterpart of each activation is the
registry's ``torch`` fact (a ``torch.nn.functional`` name and keyword arguments).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import registry
from jaxact.bench.config import Array


def torch_module(enabled: bool) -> tuple[Any, str]:
    """(torch or None, a note saying why it is or is not used)."""
    if not enabled:
        return None, "PyTorch comparison off (--no-torch)"
    try:
        import torch  # type: ignore[import-not-found]
    except Exception as e:  # ImportError, or a broken install
        return None, f"PyTorch comparison skipped: import torch failed ({type(e).__name__})"
    platform_ = jax.devices()[0].platform
    if platform_ == "cpu":
        return torch, f"PyTorch {torch.__version__} on CPU (eager and torch.compile)"
    if platform_ == "gpu" and torch.cuda.is_available():
        return torch, f"PyTorch {torch.__version__} on CUDA (eager and torch.compile)"
    return None, f"PyTorch comparison skipped: no PyTorch device matches JAX's {platform_!r}"


def torch_extra(torch: Any, name: str, notes: list[str]) -> Callable[..., dict[str, Any]] | None:
    """A ``time_function(extra=...)`` hook adding torch eager and torch.compile candidates."""
    spec = registry.spec_of(name)
    if spec is None or spec.torch is None:
        return None
    attr, kwargs = spec.torch
    f = functools.partial(getattr(torch.nn.functional, attr), **kwargs)
    device = "cpu" if jax.devices()[0].platform == "cpu" else "cuda"

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def extra(mode: str, xs: list[Array], gs: list[Array]) -> dict[str, Any]:
        tdtype = getattr(torch, str(xs[0].dtype))

        def to_torch(a: Array, grad: bool) -> Any:
            host = np.array(a.astype(jnp.float32), copy=True)  # writable, torch's own memory
            t = torch.from_numpy(host).to(device, tdtype)
            return t.requires_grad_(grad)

        txs = [to_torch(a, mode != "fwd") for a in xs]
        tgs = [to_torch(a, False) for a in gs]
        out: dict[str, Any] = {}
        for label in ("torch", "torch.compile"):
            try:
                h = f if label == "torch" else torch.compile(f)

                def call(i: int, h: Any = h) -> None:
                    x = txs[i % len(txs)]
                    if mode == "fwd":
                        with torch.no_grad():
                            h(x)
                    else:
                        y = h(x)
                        torch.autograd.grad(y, x, tgs[i % len(tgs)])
                    sync()

                t0 = time.perf_counter()
                call(0)  # torch.compile compiles on the first call
                out[label] = (call, time.perf_counter() - t0)
            except Exception as e:  # a missing compiler, an unsupported dtype ...
                notes.append(f"{label} {name} {mode} skipped: {type(e).__name__}: {e}"[:200])
        return out

    return extra
