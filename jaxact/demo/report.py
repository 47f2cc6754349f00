"""Tables and plots of the demo's studies (matplotlib's Agg canvas: no display needed)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["markdown_table", "mean_std", "plot_curves", "plot_depth", "plot_swap"]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with columns padded for reading as plain text too."""
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep, *(line(r) for r in cells[1:])])


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    a = np.asarray(values, dtype=np.float64)
    if a.size == 0:
        return math.nan, math.nan
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def _figure(ncols: int, width: float = 6.0, height: float = 4.2) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, axes


def _colors(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(n)]


def _band(ax: Any, x: np.ndarray, runs: np.ndarray, label: str, color: Any, **kw: Any) -> None:
    mean = runs.mean(0)
    ax.plot(x, mean, label=label, color=color, lw=1.6, **kw)
    if len(runs) > 1:
        std = runs.std(0, ddof=1)
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.15, lw=0)


def plot_curves(path: str, runs: Mapping[str, Sequence[Mapping[str, Any]]], title: str) -> str:
    """Test loss and test accuracy per epoch, mean ± std over seeds, one line per activation."""
    fig, (ax_loss, ax_acc) = _figure(2)
    for (name, records), color in zip(runs.items(), _colors(len(runs)), strict=True):
        loss = np.array([r["history"]["test_loss"] for r in records])
        acc = np.array([r["history"]["test_accuracy"] for r in records])
        epochs = np.arange(1, loss.shape[1] + 1)
        _band(ax_loss, epochs, loss, name, color)
        _band(ax_acc, epochs, 100 * acc, name, color)
    ax_loss.set(xlabel="epoch", ylabel="test loss (cross-entropy)", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)")
    finals = [float(np.mean([r["test_accuracy"] for r in rs])) for rs in runs.values()]
    tops = [max(r["history"]["test_accuracy"]) for rs in runs.values() for r in rs]
    if finals:
        ax_acc.set_ylim(max(0.0, 100 * min(finals) - 10), min(100.0, 100 * max(tops) + 1))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize=8, ncol=2, loc="lower right")
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    return path


def plot_depth(
    path: str,
    norms: Mapping[str, Mapping[str, Sequence[float]]],
    accuracy: Mapping[str, Mapping[int, Sequence[float]]],
    depth: int,
    title: str,
) -> str:
    """Left: per-layer gradient norm at init for the deepest nets (log scale), matched
    init solid, LeCun dashed. Right: test accuracy against depth."""
    fig, (ax_g, ax_a) = _figure(2)
    names = list(norms)
    for name, color in zip(names, _colors(len(names)), strict=True):
        for init, style in (("matched", "-"), ("lecun", "--")):
            g = np.asarray(norms[name][init], dtype=np.float64)
            if g.size:
                label = f"{name} ({'matched init' if init == 'matched' else 'LeCun init'})"
                ax_g.plot(np.arange(1, g.size + 1), g, style, color=color, label=label, lw=1.5)
        depths = sorted(accuracy[name])
        acc = np.array([np.mean(accuracy[name][d]) for d in depths])
        ax_a.plot(depths, 100 * acc, "o-", color=color, label=name, lw=1.5)
    ax_g.set(
        xlabel=f"hidden layer (1 = next to the input), depth {depth}",
        ylabel="‖∂loss/∂W‖ at initialisation",
        yscale="log",
    )
    from matplotlib.ticker import FixedLocator, NullLocator

    ax_a.set_xscale("log", base=2)
    ax_a.set(xlabel="hidden layers", ylabel="test accuracy (%)")
    ticks = sorted({d for a in accuracy.values() for d in a})
    ax_a.xaxis.set_major_locator(FixedLocator(ticks))
    ax_a.xaxis.set_minor_locator(NullLocator())
    ax_a.xaxis.set_major_formatter("{x:.0f}")
    for ax in (ax_g, ax_a):
        ax.grid(alpha=0.3)
    ax_g.legend(fontsize=7, ncol=2)
    ax_a.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    return path


def plot_swap(
    path: str,
    before: Sequence[Sequence[float]],
    arms: Mapping[str, Sequence[Sequence[float]]],
    after_swap: Mapping[str, Sequence[float]],
    title: str,
) -> str:
    """Test accuracy per epoch: the first phase, then each arm after the swap."""
    fig, (ax,) = _figure(1, width=7.5)
    first = np.asarray(before, dtype=np.float64)
    e1 = first.shape[1]
    _band(ax, np.arange(1, e1 + 1), 100 * first, "before the swap", "black")
    for (name, runs), color in zip(arms.items(), _colors(len(arms)), strict=True):
        a = np.asarray(runs, dtype=np.float64)
        # Epoch e1 (the swap) shows the accuracy right after swapping, before training.
        start = np.asarray(after_swap[name], dtype=np.float64)[:, None]
        _band(ax, np.arange(e1, e1 + a.shape[1] + 1), 100 * np.hstack([start, a]), name, color)
    ax.axvline(e1, color="grey", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    return path


def write_text(path: str, text: str) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    return path


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path
