"""Tables and plots of the demo's studies (matplotlib's Agg canvas: no display needed).

Every plot draws each activation in the style :func:`styles` gives it: one hue per
family (``jaxact.registry``'s), a shade, a line style and a marker per member, so
the curves of one family look related and every curve can still be told apart in
colour, in grey and in print. Legends sit outside the axes.
"""

from __future__ import annotations

import colorsys
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "Style",
    "compare_table",
    "curves_figure",
    "depth_figure",
    "family",
    "markdown_table",
    "mean_std",
    "noise_group",
    "plot_curves",
    "plot_deploy",
    "plot_depth",
    "plot_swap",
    "styles",
]

# Demo activations that are no registry row, and the row whose family they belong to
# (``pau`` is a Padé activation unit, jaxact.nnx.Rational).
_ROWS = {"pau": "rational"}
# Line styles and markers for the members of one family, in order; a family longer
# than the list gets dash patterns of its own.
_LINESTYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
BEST, NEAR = "★", "≈"  # the marks of the best row and of the rows within noise of it


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


def noise_group(means: Sequence[float], stds: Sequence[float]) -> tuple[int, list[bool]]:
    """The best entry (highest mean) and which entries are within noise of it.

    Entry ``i`` is within noise of the best ``b`` when their mean ± std ranges
    overlap: ``means[i] + stds[i] >= means[b] - stds[b]`` (the best is too). NaN
    means are never best nor within noise.

    Returns:
      ``(b, within)``: the index of the best (-1 when every mean is NaN) and one
      bool per entry.
    """
    m = np.asarray(means, dtype=np.float64)
    s = np.nan_to_num(np.asarray(stds, dtype=np.float64), nan=0.0)
    if m.size == 0 or np.isnan(m).all():
        return -1, [False] * m.size
    b = int(np.nanargmax(m))
    floor = m[b] - s[b]
    return b, [bool(np.isfinite(v) and v + e >= floor) for v, e in zip(m, s, strict=True)]


def family(name: str) -> str:
    """The registry family of a demo activation (``"other"`` for a name without a row)."""
    from jaxact import registry

    try:
        spec = registry.spec_of(_ROWS.get(name, name))
    except (KeyError, ValueError):
        spec = None
    return spec.family if spec is not None else "other"


class Style(NamedTuple):
    """How one activation is drawn: ``color`` (RGB), ``linestyle``, ``marker``."""

    color: tuple[float, float, float]
    linestyle: Any
    marker: str


def _hues(n: int) -> list[tuple[float, float, float]]:
    from matplotlib import colormaps

    tab10 = [tuple(colormaps["tab10"](i)[:3]) for i in range(10)]
    # Past ten families, tab20's light hues (odd entries): distinct from tab10's.
    light = [tuple(colormaps["tab20"](2 * i + 1)[:3]) for i in range(10)]
    hues = tab10 + light
    return [hues[i % len(hues)] for i in range(n)]  # type: ignore[misc]


def _shade(rgb: tuple[float, float, float], j: int, k: int) -> tuple[float, float, float]:
    """Member ``j`` of ``k`` in a family: the family's hue, darker to lighter."""
    if k == 1:
        return rgb
    h, _, s = colorsys.rgb_to_hls(*rgb)
    light = 0.28 + 0.34 * j / (k - 1)
    return colorsys.hls_to_rgb(h, light, s)


def _linestyle(j: int) -> Any:
    if j < len(_LINESTYLES):
        return _LINESTYLES[j]
    return (0, (1 + j - len(_LINESTYLES), 1.5))


def styles(names: Sequence[str]) -> dict[str, Style]:
    """A distinct :class:`Style` per activation, grouped by family.

    Each family (in the order it first appears) gets a hue; its members get
    shades of it, and distinct line styles and markers, so no two activations
    share a (colour, line style) pair.

    Returns:
      name -> style, ordered family by family (the legend's order).
    """
    families: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        families.setdefault(family(name), []).append(name)
    out: dict[str, Style] = {}
    for members, hue in zip(families.values(), _hues(len(families)), strict=True):
        for j, name in enumerate(members):
            out[name] = Style(
                _shade(hue, j, len(members)), _linestyle(j), _MARKERS[j % len(_MARKERS)]
            )
    return out


# ----------------------------------------------------------------------------
# The comparison table.


def _percent(v: float | None) -> str:
    return "-" if v is None or math.isnan(v) else f"{100 * v:.1f}%"


def compare_table(
    summary: Mapping[str, Mapping[str, Any]], target_accuracy: float, seeds: int
) -> str:
    """The comparison's table, best first, and the line saying how to read it.

    Rows are sorted by mean test accuracy (ties: lower test loss first). The best
    is marked ★ and the activations within noise of it ≈ (see :func:`noise_group`);
    a line under the table states the rule and how many are within noise.

    Args:
      summary: activation -> the figures of ``jaxact.demo.compare``'s summary
        (``accuracy_mean``, ``accuracy_std``, ``test_loss_mean``,
        ``epochs_to_target_mean``, ``reached_target``, ``step_time_ms`` and,
        optionally, the health figures ``dead_worst_layer``, ``saturated_mean``,
        ``grad_norm_first_over_last``).
      target_accuracy: the accuracy the epochs column counts up to (0.95 = 95 %).
      seeds: runs per activation.
    """
    names = list(summary)
    keys = {
        n: (
            -summary[n]["accuracy_mean"]
            if math.isfinite(summary[n]["accuracy_mean"])
            else math.inf,
            summary[n]["test_loss_mean"],
        )
        for n in names
    }
    names.sort(key=lambda n: keys[n])
    means = [summary[n]["accuracy_mean"] for n in names]
    best, within = noise_group(means, [summary[n]["accuracy_std"] for n in names])
    noisy = seeds > 1
    target = f"{100 * target_accuracy:g}%"
    health = any("dead_worst_layer" in s for s in summary.values())
    header = ["activation", "test acc. (%)", "loss", f"epochs to {target}", "step ms"]
    if health:
        header += ["dead", "saturated", "grad 1/last"]
    rows = []
    for i, name in enumerate(names):
        s = summary[name]
        mark = BEST if i == best else (NEAR if noisy and within[i] else "")
        if s["epochs_to_target_mean"] is None:
            epochs = "never"
        else:
            epochs = f"{s['epochs_to_target_mean']:.1f}"
            if s["reached_target"] < seeds:
                epochs += f" ({s['reached_target']}/{seeds})"
        row = [
            f"{name} {mark}".rstrip(),
            f"{100 * s['accuracy_mean']:.2f} ± {100 * s['accuracy_std']:.2f}",
            f"{s['test_loss_mean']:.4f}",
            epochs,
            f"{s['step_time_ms']:.3f}",
        ]
        if health:
            row += [
                _percent(s.get("dead_worst_layer")),
                _percent(s.get("saturated_mean")),
                f"{s.get('grad_norm_first_over_last', math.nan):.3g}",
            ]
        rows.append(row)
    if not noisy:
        rule = (
            f"Sorted by test accuracy, best first; {BEST} best. One seed: no spread, so "
            "nothing says which differences are noise."
        )
    else:
        k = sum(within)
        rule = (
            f"Sorted by test accuracy (mean ± std over {seeds} seeds), best first. {BEST} best; "
            f"{NEAR} within noise of the best: its mean ± std overlaps the best's (mean + std ≥ "
            f"the best's mean − std). {k - 1} of the other {len(names) - 1} activations are "
            "within noise of the best"
            + (f": {seeds} seeds do not tell them apart." if k > 1 else ".")
        )
    return markdown_table(header, rows) + "\n\n" + textwrap.fill(rule, 100)


# ----------------------------------------------------------------------------
# Plots.


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


def _band_text(seeds: int) -> str:
    if seeds > 1:
        return f"lines: mean over {seeds} seeds; bands: ± 1 standard deviation over seeds"
    return "one seed: lines are that run (no band)"


def _band(ax: Any, x: np.ndarray, runs: np.ndarray, label: str, style: Style) -> None:
    """The mean over ``runs`` (one row per seed) and a band of ± 1 sample std."""
    mean = runs.mean(0)
    ax.plot(
        x,
        mean,
        label=label,
        color=style.color,
        linestyle=style.linestyle,
        marker=style.marker,
        markersize=3.5,
        markevery=max(1, len(x) // 8),
        lw=1.5,
    )
    if len(runs) > 1:
        std = runs.std(0, ddof=1)
        ax.fill_between(x, mean - std, mean + std, color=style.color, alpha=0.12, lw=0)


def _family_legend(fig: Any, st: Mapping[str, Style]) -> Any:
    """One legend for the figure, right of the axes: a heading per family, then its members."""
    from matplotlib.lines import Line2D

    families = {name: family(name) for name in st}
    headed = len(set(families.values())) > 1
    handles, texts, heads = [], [], []
    current = None
    for name, s in st.items():
        if headed and families[name] != current:
            current = families[name]
            handles.append(Line2D([], [], linestyle="none"))
            texts.append(f"{current} family")
            heads.append(len(texts) - 1)
        handles.append(
            Line2D([], [], color=s.color, linestyle=s.linestyle, marker=s.marker, markersize=4)
        )
        texts.append(name)
    legend = fig.legend(
        handles, texts, loc="outside right upper", fontsize=8, handlelength=3.2, frameon=False
    )
    for i in heads:
        legend.get_texts()[i].set_fontweight("bold")
    return legend


def plot_curves(path: str, runs: Mapping[str, Sequence[Mapping[str, Any]]], title: str) -> str:
    """Writes :func:`curves_figure` to ``path`` (a PNG) and returns ``path``."""
    curves_figure(runs, title).savefig(path, dpi=110)
    return path


def curves_figure(runs: Mapping[str, Sequence[Mapping[str, Any]]], title: str) -> Any:
    """Test loss and accuracy per epoch (mean ± std over seeds) and the final accuracies.

    Left: test loss (log scale); middle: test accuracy; right: the final test
    accuracy of each activation, mean ± 1 std over seeds, best on top, with the
    best's ± 1 std shaded (an error bar reaching into it is within noise, as in
    :func:`compare_table`). One legend on the right, grouped by family.
    """
    st = styles(list(runs))
    fig, (ax_loss, ax_acc, ax_fin) = _figure(3, width=4.6, height=4.4)
    seeds = max((len(r) for r in runs.values()), default=0)
    for name, style in st.items():
        records = runs[name]
        loss = np.array([r["history"]["test_loss"] for r in records], dtype=np.float64)
        acc = np.array([r["history"]["test_accuracy"] for r in records], dtype=np.float64)
        epochs = np.arange(1, loss.shape[1] + 1)
        _band(ax_loss, epochs, loss, name, style)
        _band(ax_acc, epochs, 100 * acc, name, style)
    ax_loss.set(xlabel="epoch", ylabel="test loss (cross-entropy)", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)")
    finals = {n: mean_std([r["test_accuracy"] for r in runs[n]]) for n in runs}
    tops = [max(r["history"]["test_accuracy"]) for rs in runs.values() for r in rs]
    if finals:
        low = min(m for m, _ in finals.values())
        ax_acc.set_ylim(max(0.0, 100 * low - 10), min(100.0, 100 * max(tops) + 1))
    order = sorted(finals, key=lambda n: -finals[n][0] if math.isfinite(finals[n][0]) else 1)
    best, within = noise_group([finals[n][0] for n in order], [finals[n][1] for n in order])
    if best >= 0:
        m, s = finals[order[best]]
        if s > 0:
            ax_fin.axvspan(100 * (m - s), 100 * (m + s), color="0.88", lw=0)
    ticks = []
    for i, name in enumerate(order):
        m, s = finals[name]
        style = st[name]
        ax_fin.errorbar(
            100 * m, i, xerr=100 * s, fmt=style.marker, color=style.color, capsize=3, ms=5
        )
        mark = BEST if i == best else (NEAR if seeds > 1 and within[i] else "")
        ticks.append(f"{name} {mark}".rstrip())
    ax_fin.set_yticks(range(len(order)), ticks, fontsize=8)
    ax_fin.set_ylim(len(order) - 0.5, -0.5)
    ax_fin.set(xlabel="final test accuracy (%), mean ± 1 std")
    ax_fin.set_title(
        f"{BEST} best, {NEAR} within noise: error bar reaches\nthe shaded best ± 1 std"
        if seeds > 1
        else f"{BEST} best",
        fontsize=8,
    )
    for ax in (ax_loss, ax_acc, ax_fin):
        ax.grid(alpha=0.3)
    _family_legend(fig, st)
    fig.suptitle(f"{title}\n{_band_text(seeds)}", fontsize=10)
    return fig


def _underflow_rows(ax: Any) -> None:
    """Room under the lowest value of a log axis for the underflow marks."""
    lo, hi = ax.get_ylim()
    span = math.log10(hi / lo)
    ax.set_ylim(lo / 10 ** (0.22 * span), hi)


def plot_depth(
    path: str,
    norms: Mapping[str, Mapping[str, Sequence[float]]],
    accuracy: Mapping[str, Mapping[int, Sequence[float]]],
    depth: int,
    title: str,
) -> str:
    """Writes :func:`depth_figure` to ``path`` (a PNG) and returns ``path``."""
    depth_figure(norms, accuracy, depth, title).savefig(path, dpi=110)
    return path


def depth_figure(
    norms: Mapping[str, Mapping[str, Sequence[float]]],
    accuracy: Mapping[str, Mapping[int, Sequence[float]]],
    depth: int,
    title: str,
) -> Any:
    """Left: per-layer gradient norm at init for the deepest nets (log scale), matched
    init solid, LeCun dashed; a layer whose gradient underflowed to 0 is a ▼ at the
    bottom of the axis (filled: matched init, open: LeCun). Right: test accuracy
    against depth. One legend on the right: colour and marker per activation, line
    style per initialisation."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, NullLocator

    st = styles(list(norms))
    fig, (ax_g, ax_a) = _figure(2, width=5.4, height=4.4)
    underflows: list[tuple[Style, str, np.ndarray]] = []
    for name, style in st.items():
        for init, ls in (("matched", "-"), ("lecun", "--")):
            g = np.asarray(norms[name][init], dtype=np.float64)
            if not g.size:
                continue
            layers = np.arange(1, g.size + 1)
            shown = np.where(np.isfinite(g) & (g > 0), g, np.nan)
            if np.isfinite(shown).any():
                ax_g.plot(
                    layers,
                    shown,
                    linestyle=ls,
                    color=style.color,
                    marker=style.marker,
                    markersize=3,
                    lw=1.4,
                )
            if (g == 0).any():
                underflows.append((style, init, layers[g == 0]))
        depths = sorted(accuracy[name])
        acc = np.array([np.mean(accuracy[name][d]) for d in depths])
        ax_a.plot(depths, 100 * acc, color=style.color, marker=style.marker, lw=1.5)
    ax_g.set(
        xlabel=f"hidden layer (1 = next to the input), depth {depth}",
        ylabel="‖∂loss/∂W‖ at initialisation",
        yscale="log",
    )
    extra: list[tuple[Any, str]] = []
    if underflows:
        _underflow_rows(ax_g)
        transform = ax_g.get_xaxis_transform()  # x: layer, y: axes fraction
        for k, (style, init, where) in enumerate(underflows):
            y = 0.03 + 0.035 * (k % 5)
            ax_g.plot(
                where,
                np.full(where.shape, y),
                linestyle="none",
                marker="v",
                markersize=5,
                color=style.color,
                markerfacecolor=style.color if init == "matched" else "none",
                transform=transform,
                clip_on=False,
            )
        ax_g.text(
            0.99,
            0.03 + 0.035 * min(len(underflows), 5),
            "▼ gradient underflowed to 0 (float32; no point on a log axis)\n"
            "filled: matched init, open: LeCun init",
            transform=ax_g.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
        )
        extra.append(
            (Line2D([], [], linestyle="none", marker="v", color="0.3"), "gradient = 0 (underflow)")
        )
    ax_a.set_xscale("log", base=2)
    ax_a.set(xlabel="hidden layers", ylabel="test accuracy (%)")
    ticks = sorted({d for a in accuracy.values() for d in a})
    ax_a.xaxis.set_major_locator(FixedLocator(ticks))
    ax_a.xaxis.set_minor_locator(NullLocator())
    ax_a.xaxis.set_major_formatter("{x:.0f}")
    for ax in (ax_g, ax_a):
        ax.grid(alpha=0.3)
    # Line style is the initialisation here: an activation is its colour and marker.
    handles = [Line2D([], [], color=s.color, marker=s.marker, markersize=4) for s in st.values()]
    labels = list(st)
    handles += [
        Line2D([], [], color="0.3", linestyle="-"),
        Line2D([], [], color="0.3", linestyle="--"),
    ]
    labels += ["gradients: matched init", "gradients: LeCun init"]
    handles += [h for h, _ in extra]
    labels += [t for _, t in extra]
    fig.legend(handles, labels, loc="outside right upper", fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=10)
    return fig


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
    black = Style((0.0, 0.0, 0.0), "-", "o")
    _band(ax, np.arange(1, e1 + 1), 100 * first, "before the swap", black)
    for i, ((name, runs), color) in enumerate(zip(arms.items(), _colors(len(arms)), strict=True)):
        a = np.asarray(runs, dtype=np.float64)
        # Epoch e1 (the swap) shows the accuracy right after swapping, before training.
        start = np.asarray(after_swap[name], dtype=np.float64)[:, None]
        style = Style(tuple(color[:3]), _linestyle(i + 1), _MARKERS[(i + 1) % len(_MARKERS)])
        _band(ax, np.arange(e1, e1 + a.shape[1] + 1), 100 * np.hstack([start, a]), name, style)
    ax.axvline(e1, color="grey", ls=":", lw=1)
    ax.set(xlabel="epoch", ylabel="test accuracy (%)")
    ax.grid(alpha=0.3)
    fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    fig.suptitle(f"{title}\n{_band_text(first.shape[0])}", fontsize=10)
    fig.savefig(path, dpi=110)
    return path


def plot_deploy(path: str, result: Mapping[str, Any], title: str) -> str:
    """Accuracy change from float32 per activation: against the quantization format
    (when quantization ran), and against the sparsity, without and with fine-tuning."""
    names = list(result["float32"])
    st = styles(names)
    quant = result["quantization"]
    levels = list(result["pruning"][names[0]])
    panels = (["quantization"] if quant is not None else []) + ["pruned", "fine-tuned"]
    fig, axes = _figure(len(panels), width=4.6, height=4.4)

    def drop(values: Sequence[float], base: Sequence[float]) -> float:
        return float(np.mean([100 * (v - b) for v, b in zip(values, base, strict=True)]))

    for ax, panel in zip(axes, panels, strict=True):
        for name, s in st.items():
            base = result["float32"][name]
            if panel == "quantization":
                labels = ["float32", *quant[name]]
                ys = [0.0, *(drop(quant[name][f], base) for f in quant[name])]
                xs: list[float] = list(range(len(labels)))
            else:
                xs = [0.0, *(100 * float(k) for k in levels)]
                ys = [0.0, *(drop(result["pruning"][name][k][panel], base) for k in levels)]
            ax.plot(
                xs, ys, color=s.color, linestyle=s.linestyle, marker=s.marker,
                markersize=3.5, lw=1.4,
            )  # fmt: skip
        if panel == "quantization":
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels([t.replace(", ", "\n").replace(" + ", "\n+ ") for t in labels])
            ax.tick_params(axis="x", labelsize=7)
            ax.set(title="post-training quantization (Qwix)", xlabel="format (w: weights, a: acts)")
        else:
            what = "no fine-tune" if panel == "pruned" else "fine-tuned, zeros kept"
            ax.set(title=f"magnitude pruning, {what}", xlabel="sparsity of each kernel (%)")
        ax.set(ylabel="test accuracy change (points)")
        ax.axhline(0, color="grey", lw=0.8)
        # A change within one test sample is the resolution of the accuracy itself.
        one = 100 / result["test_samples"]
        ax.axhspan(-one, one, color="grey", alpha=0.15, lw=0)
        ax.grid(alpha=0.3)
    _family_legend(fig, st)
    seeds = result["seeds"]
    fig.suptitle(
        f"{title}\nmean over {seeds} seed(s); grey band: ± one test sample "
        f"({100 / result['test_samples']:.2f} points)",
        fontsize=10,
    )
    fig.savefig(path, dpi=110)
    return path


def write_text(path: str, text: str) -> str:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text if text.endswith("\n") else text + "\n")
    return path


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path
