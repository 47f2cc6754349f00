"""The report of ``jaxact bench``: text and Markdown tables, JSON, and a PNG chart."""

from __future__ import annotations

import json
import math
import os
import pathlib
import textwrap
from typing import Any

import numpy as np

from jaxact._src import text
from jaxact.bench.config import MODES, tier_label

Table = tuple[str, list[str], list[list[str]]]  # title, header, rows

# The overhead rule. A timing size is marked when the copy of the same bytes (the
# roofline: the bytes moved with no arithmetic) takes less than this per call. A compiled
# call costs about 10-30 us on a CPU before it moves a byte (a 16-element copy: 13-20 us
# on 2 cores), plus launch and thread start-up per further kernel; below 0.2 ms those
# fixed costs are a large share of every time, so ratios there compare overheads and
# kernel counts rather than throughput (--quick's 2**12 and 2**16 copies take 25-140 us).
OVERHEAD_BOUND_S = 200e-6
OVERHEAD_MARK = "fixed per-call overhead dominates"


def _num(v: float | None, digits: int = 2) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.{digits}f}"


def _ratio(s: dict[str, float] | None, spread: bool) -> str:
    if s is None:
        return "-"
    if not spread:
        return _num(s["median"])
    return f"{_num(s['median'])} ({_num(s['min'])}–{_num(s['max'])})"


def _tiers(result: dict[str, Any]) -> list[str]:
    return list(result["config"]["tiers"])


def _label(tier: str) -> str:
    return tier_label("jaxact", tier)


def copy_times(result: dict[str, Any]) -> dict[tuple[str, int], dict[str, float]]:
    """The copy's median seconds per call: (dtype, log2) -> mode -> median over the rows."""
    out: dict[tuple[str, int], dict[str, list[float]]] = {}
    for row in result["time"]:
        for m in MODES:
            if m in row and "copy" in row[m]["times"]:
                t = row[m]["times"]["copy"]["median_s"]
                out.setdefault((row["dtype"], row["log2"]), {}).setdefault(m, []).append(t)
    return {k: {m: float(np.median(v)) for m, v in d.items()} for k, d in out.items()}


def overhead_dominated(result: dict[str, Any]) -> dict[tuple[str, int], dict[str, float]]:
    """The timing sizes of the overhead rule (:data:`OVERHEAD_BOUND_S`): (dtype, log2) ->
    mode -> the copy's median seconds per call, where some mode's copy is under the bound."""
    return {k: v for k, v in copy_times(result).items() if min(v.values()) < OVERHEAD_BOUND_S}


def overhead_note(result: dict[str, Any]) -> str | None:
    """The note the report carries when :func:`overhead_dominated` marks a size, else None."""
    flagged = overhead_dominated(result)
    if not flagged:
        return None
    sizes = sorted({log2 for _, log2 in flagged})
    times = [t for v in flagged.values() for t in v.values()]
    return (
        "fixed per-call overhead dominates the times at "
        + ", ".join(f"2^{s}" for s in sizes)
        + f" elements: there a copy of the same bytes takes {1e6 * min(times):.0f}–"
        f"{1e6 * max(times):.0f} µs per call. Rule: a size is marked when its copy takes under "
        f"{1e6 * OVERHEAD_BOUND_S:.0f} µs per call; a compiled call costs roughly 10–30 µs on "
        "a CPU before it moves a byte, plus launch and thread start-up for every further "
        "kernel, so at these sizes the ratios compare per-call overhead and kernel counts "
        "rather than throughput, and need not hold at large sizes. For throughput, time 2^20 "
        "elements or more (the default sizes; --quick uses tiny ones to be fast)."
    )


def _time_tables(result: dict[str, Any], spread: bool) -> list[Table]:
    tables = []
    flagged = overhead_dominated(result)
    tiers = _tiers(result)
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in result["time"]:
        groups.setdefault((row["dtype"], row["log2"]), []).append(row)
    torch_labels = ["torch", "torch.compile"]
    has_torch = any(
        lbl in ex
        for row in result["time"]
        for m in MODES
        if m in row
        for ex in (row[m].get("ratio_extra") or {}).values()
        for lbl in torch_labels
    )
    per_mode = 2 * len(tiers) + (2 * len(tiers) if has_torch else 0)
    for (dtype, log2), rows in groups.items():
        head = ["function"]
        for m in MODES:
            head += [f"{m} ÷ copy ({t})" for t in tiers]
            head += [f"{m} ÷ jax.nn ({t})" for t in tiers]
            if has_torch:
                head += [f"{m} ÷ {lbl} ({t})" for t in tiers for lbl in torch_labels]
        for what in ("GB/s", "ms", "compile ms"):
            head += [f"{what} fwd / fwd+bwd ({t})" for t in tiers]
        body = []
        for row in rows:
            cells = [row["function"]]
            for m in MODES:
                part = row.get(m)
                if part is None:
                    cells += ["-"] * per_mode
                    continue
                base = part["ratio_baseline"] or {}
                cells += [_ratio(part["ratio_copy"].get(_label(t)), spread) for t in tiers]
                cells += [_ratio(base.get(t), spread) for t in tiers]
                if has_torch:
                    ex = part.get("ratio_extra") or {}
                    cells += [
                        _ratio((ex.get(t) or {}).get(lbl), spread)
                        for t in tiers
                        for lbl in torch_labels
                    ]
            for key, scale, digits in (
                ("gbps", 1.0, 1),
                ("median_s", 1e3, 3),
                ("compile_s", 1e3, 0),
            ):
                for t in tiers:
                    ts = [row[m]["times"][_label(t)] if m in row else None for m in MODES]
                    cells.append(
                        " / ".join(_num(x[key] * scale if x else None, digits) for x in ts)
                    )
            body.append(cells)
        # The roofline row: the copy's median time over all rows of this group.
        copy = ["copy (roofline)"]
        gb, ms = [], []
        for m in MODES:
            samples = [r[m]["times"]["copy"]["median_s"] for r in rows if m in r]
            med = float(np.median(samples)) if samples else None
            nbytes = rows[0][m]["bytes"] if m in rows[0] else None
            copy += ["1.00"] * len(tiers) + ["-"] * (per_mode - len(tiers))
            gb.append(_num(nbytes / med / 1e9 if med and nbytes else None, 1))
            ms.append(_num(med * 1e3 if med else None, 3))
        rest = [" / ".join(gb)] * len(tiers) + [" / ".join(ms)] * len(tiers)
        body.append([*copy, *rest, *(["-"] * len(tiers))])
        title = f"Time, {dtype}, 2^{log2} elements ({rows[0]['buffers']} rotating inputs)"
        if (dtype, log2) in flagged:
            title += f" — {OVERHEAD_MARK} (see the note)"
        tables.append((title, head, body))
    return tables


def _step_tables(result: dict[str, Any], spread: bool) -> list[Table]:
    """One training-step table per dtype."""
    dtypes = dict.fromkeys(row["dtype"] for row in result["step"])
    return [
        _step_table({**result, "step": [r for r in result["step"] if r["dtype"] == d]}, spread)
        for d in dtypes
    ]


def _step_table(result: dict[str, Any], spread: bool) -> Table:
    tiers = _tiers(result)
    mine = [_label(t) for t in tiers]
    head = [
        "function",
        *(f"step ÷ jax.nn ({t})" for t in tiers),
        *(f"step ÷ identity (jaxact {t})" for t in tiers),
        "step ÷ identity (jax.nn)",
        "ms " + " / ".join([*(f"jaxact {t}" for t in tiers), "jax.nn", "identity"]),
        "compile s " + " / ".join([*(f"jaxact {t}" for t in tiers), "jax.nn"]),
    ]
    body = []
    for row in result["step"]:
        t = row["times"]
        ri = row["ratio_identity"]
        base = row["ratio_baseline"] or {}
        body.append(
            [
                row["function"],
                *(_ratio(base.get(tier), spread) for tier in tiers),
                *(_ratio(ri.get(k), spread) for k in mine),
                _ratio(ri.get("jax.nn"), spread),
                " / ".join(
                    _num(t[k]["median_s"] * 1e3 if k in t else None, 1)
                    for k in (*mine, "jax.nn", "identity")
                ),
                " / ".join(
                    _num(t[k]["compile_s"] if k in t else None, 2) for k in (*mine, "jax.nn")
                ),
            ]
        )
    first = result["step"][0] if result["step"] else {}
    title = (
        f"Training step, {first.get('layers')}-layer scan MLP, width {first.get('width')}, "
        f"batch {first.get('batch')}, {first.get('dtype')}, jit(grad)"
    )
    return title, head, body


def _blocks_table(result: dict[str, Any], spread: bool) -> Table:
    tiers = _tiers(result)
    mine = [_label(t) for t in tiers]
    head = [
        "block",
        "dtype",
        *(f"step ÷ jax.nn ({t})" for t in tiers),
        "ms " + " / ".join(["jax.nn", *(f"jaxact {t}" for t in tiers)]),
        "compile s " + " / ".join(["jax.nn", *(f"jaxact {t}" for t in tiers)]),
        "params",
    ]
    body = []
    for row in result["blocks"]:
        t = row["times"]
        body.append(
            [
                row["block"],
                row["dtype"],
                *(_ratio(row["ratio_baseline"].get(tier), spread) for tier in tiers),
                " / ".join(
                    _num(t[k]["median_s"] * 1e3 if k in t else None, 2) for k in ("jax.nn", *mine)
                ),
                " / ".join(
                    _num(t[k]["compile_s"] if k in t else None, 2) for k in ("jax.nn", *mine)
                ),
                f"{row['params']:,}",
            ]
        )
    b = result["config"]["block_shape"]
    title = (
        "Model blocks, jit(value_and_grad) over parameters and input, jaxact's activations "
        f"vs jax.nn's: tokens {b['batch']}x{b['seq']}, width {b['width']}, {b['heads']} heads; "
        f"ResNet images {b['images']}x{b['side']}x{b['side']}x{b['channels']} (NHWC). The "
        "scan MLP of every elementwise activation is the training-step table"
    )
    return title, head, body


def _memory_table(result: dict[str, Any]) -> Table:
    dtypes = list(result["memory"][0]["residual_bytes"]) if result["memory"] else []
    head = ["function"]
    for d in dtypes:
        head += [f"residual {d} jaxact", f"residual {d} jax.nn"]
    head += [
        "scan stacked f32 jaxact",
        "scan stacked f32 jax.nn",
        "scan extra f32 jaxact",
        "scan extra f32 jax.nn",
    ]
    body = []
    for row in result["memory"]:
        cells = [row["function"]]
        for d in dtypes:
            r = row["residual_bytes"][d]
            cells += [_num(r.get("jaxact"), 3), _num(r.get("jax.nn"), 3)]
        st = row.get("scan_stacked") or {}
        cells += [_num(st.get("jaxact"), 3), _num(st.get("jax.nn"), 3)]
        s = row["scan_extra"] or {}
        cells += [_num(s.get("jaxact"), 3), _num(s.get("jax.nn"), 3)]
        body.append(cells)
    shape = result["config"]["memory_shape"]
    title = (
        "Memory, bytes per element: residuals of jax.vjp under jit; scan stacked = compiled temp "
        "bytes each further layer adds per element (the residuals a deeper net stacks); scan "
        "extra = compiled temp bytes per element per layer over the identity, one-off buffers "
        f"included ({shape['layers']}-layer scan MLP, "
        f"width {shape['width']}, batch {shape['batch']})"
    )
    return title, head, body


def _tables(result: dict[str, Any], spread: bool) -> list[Table]:
    tables = _time_tables(result, spread)
    if result["step"]:
        tables.extend(_step_tables(result, spread))
    if result.get("blocks"):
        tables.append(_blocks_table(result, spread))
    if result["memory"]:
        tables.append(_memory_table(result))
    return tables


def machine_line(m: dict[str, Any]) -> str:
    return (
        f"{m['device_kind']} ({m['platform']}), CPU {m['cpu']}, {m['usable_cores']} usable of "
        f"{m['cores']} cores, jax {m['jax']} / jaxlib {m['jaxlib']}, {m['os']}, {m['date']}"
    )


def format_tables(result: dict[str, Any], markdown: bool = False) -> str:
    """The result as text tables (terminal: medians only) or Markdown (median (min–max))."""
    parts = []
    note = overhead_note(result)
    if note:
        parts += ["**Note:** " + note if markdown else textwrap.fill("Note: " + note, 100), ""]
    for title, head, body in _tables(result, spread=markdown):
        if not body:
            continue
        parts.append(("### " if markdown else "") + title)
        if markdown:
            parts.append("")
        parts.append(text.format_rows(head, body, markdown))
        parts.append("")
    return "\n".join(parts)


def _markdown_report(result: dict[str, Any]) -> str:
    c = result["config"]
    lines = [
        "# jaxact bench",
        "",
        f"Machine: {machine_line(result['machine'])}.",
        "",
        f"Sections: {', '.join(c['sections'])}. Functions: {len(c['functions'])}; "
        f"dtypes {', '.join(c['dtypes'])}; sizes "
        + ", ".join(f"2^{s}" for s in c["sizes_log2"])
        + f"; {c['repeats']} repeats after {c['warmup']} warm-up calls; jaxact traced "
        "under the precision tiers " + ", ".join(c["tiers"]) + " (one candidate each); "
        f"run took {result['elapsed_s']:.0f} s.",
        "",
        "Ratios are `median (min–max)` over repeats of per-repeat time ratios of "
        "round-robin interleaved calls (< 1: faster than the reference).",
        "",
    ]
    lines += [f"- **{k}**: {v}" for k, v in result["definitions"].items()]
    lines += [""]
    if result["notes"]:
        lines += ["Notes:", ""] + [f"- {n}" for n in result["notes"]] + [""]
    lines.append(format_tables(result, markdown=True))
    return "\n".join(lines)


Panel = tuple[str, list[str], dict[str, list[float | None]]]  # title, row labels, series


def _panels(result: dict[str, Any]) -> list[Panel]:
    """What bench.png draws: one panel per mode of the time section (the first dtype's
    largest size), the training step, the model blocks and the residual memory."""
    panels: list[Panel] = []
    mine = [_label(t) for t in _tiers(result)]
    if result["time"]:
        d0 = result["config"]["dtypes"][0]
        big = max(r["log2"] for r in result["time"] if r["dtype"] == d0)
        rows = [r for r in result["time"] if r["dtype"] == d0 and r["log2"] == big]
        flag = (
            f"\n{OVERHEAD_MARK} (see bench.md's note)"
            if (d0, big) in overhead_dominated(result)
            else ""
        )
        for m in MODES:
            if all(m in r for r in rows):
                series = {
                    who: [(r[m]["ratio_copy"].get(who) or {}).get("median") for r in rows]
                    for who in (*mine, "jax.nn")
                }
                title = f"{m} time ÷ copy, {d0}, 2^{big} elements{flag}"
                panels.append((title, [r["function"] for r in rows], series))
    if result["step"]:
        first = result["step"][0]["dtype"]
        rows = [r for r in result["step"] if r["dtype"] == first]
        series = {
            who: [(r["ratio_identity"].get(who) or {}).get("median") for r in rows]
            for who in (*mine, "jax.nn")
        }
        panels.append(
            (f"training step ÷ identity step, {first}", [r["function"] for r in rows], series)
        )
    if result.get("blocks"):
        rows = result["blocks"]
        series = {
            _label(t): [(r["ratio_baseline"].get(t) or {}).get("median") for r in rows]
            for t in _tiers(result)
        }
        labels = [f"{r['block']} {r['dtype']}" for r in rows]
        panels.append(("model-block step, jaxact ÷ jax.nn", labels, series))
    if result["memory"]:
        rows = result["memory"]
        d0 = next(iter(rows[0]["residual_bytes"]))
        series = {
            who: [r["residual_bytes"][d0].get(who) for r in rows] for who in ("jaxact", "jax.nn")
        }
        panels.append((f"residual bytes per element, {d0}", [r["function"] for r in rows], series))
    return panels


def sort_panel(labels: list[str], series: dict[str, list[float | None]]) -> list[int]:
    """Row order of a panel: by its first series, smallest (fastest, leanest) first, rows
    without a value last; ties keep the run's order."""
    first = next(iter(series.values()), [])

    def key(i: int) -> tuple[bool, float]:
        v = first[i] if i < len(first) else None
        ok = v is not None and math.isfinite(v)
        return (not ok, v if ok and v is not None else 0.0)

    return sorted(range(len(labels)), key=key)


# Heights in inches: each bar, the gap between rows, and the room for titles and axes.
BAR_IN, GAP_IN, FRAME_IN = 0.085, 0.09, 2.2


def _plot(result: dict[str, Any], path: pathlib.Path) -> Any:
    """Draws bench.png: horizontal bars, one row per function sorted within each panel,
    the legend and the panel title above the bars, the x axis labelled at top and bottom.
    The figure grows with the rows and bars, so every bar keeps its height. Returns the
    figure (None when there is nothing to draw)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import LogLocator, NullFormatter

    panels = _panels(result)
    if not panels:
        return None
    tall = max(len(p[1]) * (BAR_IN * max(len(p[2]), 1) + GAP_IN) for p in panels)
    fig = Figure(figsize=(4.6 * len(panels), max(3.5, tall + FRAME_IN)), layout="constrained")
    FigureCanvasAgg(fig)
    colors = {"jax.nn": "0.55", "jaxact": "tab:blue"}
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for i, (title, labels, series) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        order = sort_panel(labels, series)
        ypos = np.arange(len(order))
        k = max(len(series), 1)
        h = 0.8 / k
        for j in range(0, len(order), 2):  # every other row shaded, to read across
            ax.axhspan(j - 0.5, j + 0.5, color="0.95", lw=0, zorder=0)
        for j, (label, values) in enumerate(series.items()):
            vals = np.array([np.nan if values[o] is None else values[o] for o in order], float)
            color = colors.get(label, palette[j % len(palette)])
            ax.barh(ypos + (j - (k - 1) / 2) * h, vals, height=h, label=label, color=color)
        ax.set_yticks(ypos, [labels[o] for o in order], fontsize=7)
        ax.set_ylim(len(order) - 0.5, -0.5)  # first row on top, no empty margin
        ax.tick_params(axis="x", labelsize=7, top=True, labeltop=True)
        ax.grid(axis="x", alpha=0.3)
        if "÷" in title:  # ratios: a log axis, so 0.5x and 2x are as far from 1x
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
            ax.xaxis.set_major_formatter("{x:g}")
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.axvline(1.0, color="black", linewidth=0.8)
        ax.legend(
            title=title + "\n(sorted; lower is better)",
            title_fontsize=8,
            fontsize=7,
            ncol=k,
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            borderaxespad=2.4,  # clear of the x tick labels on top
            frameon=False,
            alignment="left",  # the title over the entries' left edge
        )
    fig.suptitle(f"jaxact bench — {machine_line(result['machine'])}", fontsize=8)
    fig.savefig(path, dpi=110)
    return fig


def write_report(result: dict[str, Any], out: str | os.PathLike[str]) -> dict[str, pathlib.Path]:
    """Writes ``bench.json``, ``bench.md`` and ``bench.png`` (if matplotlib is installed).

    Args:
      result: what :func:`run` returned.
      out: the output folder (created if needed).

    Returns:
      ``{"json", "markdown"[, "png"]}`` -> path written.
    """
    folder = pathlib.Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "bench.json", "markdown": folder / "bench.md"}
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        result["notes"].append("no PNG chart: matplotlib is not installed")
    else:
        paths["png"] = folder / "bench.png"
        _plot(result, paths["png"])
    paths["json"].write_text(json.dumps(result, indent=1, allow_nan=False) + "\n")
    paths["markdown"].write_text(_markdown_report(result) + "\n")
    return paths
