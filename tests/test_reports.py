"""The reports' tables and plots (jaxact/demo/report.py, jaxact/bench/report.py), fed small
synthetic results: no training, no timing. Sorted tables that mark the best and the rows
within noise of it, distinguishable plot styles, a stated band, underflow marks, a
readable bench chart and the note that fixed per-call overhead dominates tiny sizes."""

from __future__ import annotations

import colorsys
import copy
import math
import pathlib
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgb

from jaxact.bench import report as bench_report
from jaxact.demo import report

PNG = b"\x89PNG\r\n\x1a\n"
# The demo's default activations (jaxact.demo.model.DEFAULT_ACTIVATIONS, which imports flax).
DEFAULTS = (
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "prelu",
    "elu",
    "selu",
    "gelu",
    "silu",
    "mish",
    "pau",
)
# Test accuracy (mean, std) per activation: within noise of tanh (the best, 96.9 ± 0.4)
# are elu, gelu and mish (their mean + std reaches 96.5); relu, silu and sigmoid are not.
ACCURACY = {
    "sigmoid": (0.9365, 0.006),
    "tanh": (0.9690, 0.004),
    "relu": (0.9560, 0.003),
    "leaky_relu": (0.9580, 0.002),
    "prelu": (0.9580, 0.005),
    "elu": (0.9670, 0.003),
    "selu": (0.9590, 0.003),
    "gelu": (0.9640, 0.002),
    "silu": (0.9540, 0.003),
    "mish": (0.9600, 0.006),
    "pau": (0.9620, 0.001),
}
WITHIN = {"tanh", "elu", "gelu", "mish"}
MAX_TABLE_WIDTH = 100  # columns


def _summary(seeds: int = 5) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "accuracy_mean": m,
            "accuracy_std": s,
            "test_loss_mean": 0.1 + i / 100,
            "epochs_to_target_mean": None if name == "sigmoid" else 7.5 + i,
            "reached_target": 0 if name == "sigmoid" else seeds - (i % 2),
            "step_time_ms": 0.8 + i / 10,
            "dead_worst_layer": 0.05 * i,
            "saturated_mean": 0.01 * i,
            "output_std_per_layer": [0.5, 0.3],
            "grad_norm_first_over_last": 1.23 * 10.0 ** (i - 5),
        }
        for i, (name, (m, s)) in enumerate(ACCURACY.items())
    }


def _runs(seeds: int = 3, epochs: int = 6) -> dict[str, list[dict[str, Any]]]:
    """Runs whose final accuracies have ACCURACY's mean and std (3 seeds: m + s, m - s, m)."""
    runs = {}
    for name, (m, s) in ACCURACY.items():
        records = []
        for seed in range(seeds):
            final = m + s * (1, -1, 0)[seed % 3] if seeds > 1 else m
            acc = final - (final - 0.5) * np.exp(-np.arange(1, epochs + 1) / 2)
            loss = 0.1 + np.exp(-np.arange(1, epochs + 1) / 2)
            records.append(
                {
                    "history": {"test_accuracy": acc.tolist(), "test_loss": loss.tolist()},
                    "test_accuracy": float(acc[-1]),
                    "test_loss": float(loss[-1]),
                }
            )
        runs[name] = records
    return runs


def _rows(table: str) -> list[list[str]]:
    lines = [ln for ln in table.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


# ----------------------------------------------------------------------------
# The comparison table.


def test_noise_group() -> None:
    best, within = report.noise_group([0.90, 0.95, 0.93, math.nan], [0.01, 0.01, 0.005, 0.0])
    assert best == 1
    # 0.93 + 0.005 < 0.95 - 0.01; 0.90 + 0.01 likewise; NaN never.
    assert within == [False, True, False, False]
    assert report.noise_group([0.93, 0.95, 0.936], [0.02, 0.01, 0.005])[1] == [True] * 3
    assert report.noise_group([math.nan], [0.0]) == (-1, [False])


def test_compare_table_sorted_best_and_noise_marked() -> None:
    summary = _summary()
    shuffled = dict(reversed(list(summary.items())))
    table = report.compare_table(shuffled, target_accuracy=0.95, seeds=5)
    rows = _rows(table)
    names = [r[0].split()[0] for r in rows]
    assert names == sorted(ACCURACY, key=lambda n: -ACCURACY[n][0])
    assert rows[0][0] == f"tanh {report.BEST}"
    for row, name in zip(rows[1:], names[1:], strict=True):
        assert row[0] == (f"{name} {report.NEAR}" if name in WITHIN else name), row
    # Mean ± std in one column; sigmoid never reached the target.
    assert rows[0][1] == "96.90 ± 0.40"
    assert rows[-1][3] == "never"
    # The rule, and how many are within noise, stated under the table.
    text = " ".join(table.split("\n\n")[-1].split())
    assert "within noise of the best: its mean ± std overlaps the best's" in text
    assert f"{len(WITHIN) - 1} of the other {len(ACCURACY) - 1} activations" in text
    assert max(len(line) for line in table.splitlines()) <= MAX_TABLE_WIDTH


def test_compare_table_one_seed_and_no_health() -> None:
    summary = _summary(seeds=1)
    for s in summary.values():
        s["accuracy_std"] = 0.0
        for key in ("dead_worst_layer", "saturated_mean", "grad_norm_first_over_last"):
            del s[key]
    table = report.compare_table(summary, target_accuracy=0.95, seeds=1)
    assert report.NEAR not in table.split("\n\n")[0]
    assert "One seed" in table
    header = table.splitlines()[0]
    assert "dead" not in header and "activation" in header


# ----------------------------------------------------------------------------
# Plot styles.


def _hue(rgb: Any) -> float:
    return colorsys.rgb_to_hls(*to_rgb(rgb))[0]


def test_styles_distinct_and_grouped_by_family() -> None:
    st = report.styles(DEFAULTS)
    assert set(st) == set(DEFAULTS)
    pairs = {(s.color, str(s.linestyle)) for s in st.values()}
    assert len(pairs) == len(DEFAULTS)
    assert len({s.color for s in st.values()}) == len(DEFAULTS)
    # Ordered family by family; one hue per family, distinct line styles inside one.
    fams = [report.family(n) for n in st]
    assert fams == sorted(fams, key=fams.index)
    assert report.family("pau") == "rational" and report.family("gelu") == "gelu"
    for fam in set(fams):
        members = [s for n, s in st.items() if report.family(n) == fam]
        assert len({round(_hue(s.color), 3) for s in members}) == 1, fam
        assert len({str(s.linestyle) for s in members}) == len(members), fam
    hues = {round(_hue(st[n].color), 3) for n in ("sigmoid", "relu", "elu", "gelu", "silu")}
    assert len(hues) == 5
    # A family longer than the list of line styles still gets distinct ones.
    many = report.styles(["relu", "relu6", "leaky_relu", "prelu", "rrelu", "relu2", "crelu"])
    assert len({str(s.linestyle) for s in many.values()}) == 7


def test_curves_figure_styles_legend_and_band(tmp_path: pathlib.Path) -> None:
    runs = _runs()
    fig = report.curves_figure(runs, "digits")
    ax_loss, ax_acc, ax_final = fig.axes
    for ax in (ax_loss, ax_acc):
        lines = ax.get_lines()
        assert [ln.get_label() for ln in lines] == list(report.styles(DEFAULTS))
        assert len({(ln.get_color(), str(ln.get_linestyle())) for ln in lines}) == len(DEFAULTS)
        assert ax.get_legend() is None  # no legend over the data
    # One legend for the figure, with every activation (and a heading per family).
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert set(DEFAULTS) <= set(texts) and "relu family" in texts
    # The band is explained, with its seed count.
    assert "bands: ± 1 standard deviation over seeds" in fig._suptitle.get_text()
    assert "mean over 3 seeds" in fig._suptitle.get_text()
    # The final-accuracy panel: best first, the best and the within-noise ones marked.
    labels = [t.get_text() for t in ax_final.get_yticklabels()]
    assert labels[0] == f"tanh {report.BEST}"
    assert {t.split()[0] for t in labels if t.endswith(report.NEAR)} == WITHIN - {"tanh"}
    path = report.plot_curves(str(tmp_path / "curves.png"), runs, "digits")
    assert pathlib.Path(path).read_bytes()[:8] == PNG


def test_curves_one_seed_says_no_band() -> None:
    fig = report.curves_figure(_runs(seeds=1), "digits")
    assert "one seed" in fig._suptitle.get_text()
    labels = [t.get_text() for t in fig.axes[2].get_yticklabels()]
    assert not any(t.endswith(report.NEAR) for t in labels)


def _depth_inputs(underflow: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    layers = np.arange(1, 9, dtype=np.float64)
    sigmoid = 10.0 ** (-(8 - layers) * 4)
    lecun = 10.0 ** (-(8 - layers) * 6)
    if underflow:
        sigmoid[:3] = 0.0  # underflowed in the first three layers
        lecun[:7] = 0.0  # only the last layer left: a single point
    norms = {
        "sigmoid": {"matched": sigmoid.tolist(), "lecun": lecun.tolist()},
        "relu": {"matched": [0.1] * 8, "lecun": (0.1 * 0.5 ** (8 - layers)).tolist()},
    }
    accuracy = {n: {2: [0.9], 8: [0.5 if n == "sigmoid" else 0.85]} for n in norms}
    return norms, accuracy


def test_depth_figure_marks_underflow(tmp_path: pathlib.Path) -> None:
    norms, accuracy = _depth_inputs(underflow=True)
    fig = report.depth_figure(norms, accuracy, 8, "digits")
    ax_g = fig.axes[0]
    marks = [ln for ln in ax_g.get_lines() if ln.get_marker() == "v"]
    # One row of ▼ per series with zeros, at the layers that underflowed.
    assert sorted(len(ln.get_xdata()) for ln in marks) == [3, 7]
    assert any("underflowed to 0" in t.get_text() for t in ax_g.texts)
    # Every drawn gradient series shows its points (a lone last layer stays visible).
    for ln in ax_g.get_lines():
        assert ln.get_marker() not in (None, "None", ""), ln.get_label()
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[:2] == ["sigmoid", "relu"] and "gradient = 0 (underflow)" in texts
    for handle in legend.legend_handles:  # every entry shows a line or a marker
        assert handle.get_linestyle() not in ("None", "") or handle.get_marker() != "None"
    path = report.plot_depth(str(tmp_path / "depth.png"), norms, accuracy, 8, "digits")
    assert pathlib.Path(path).read_bytes()[:8] == PNG


def test_depth_figure_without_underflow_has_no_mark() -> None:
    norms, accuracy = _depth_inputs(underflow=False)
    fig = report.depth_figure(norms, accuracy, 8, "digits")
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "v"]
    assert not any("underflow" in t.get_text() for t in fig.axes[0].texts)
    assert "gradient = 0 (underflow)" not in [t.get_text() for t in fig.legends[0].get_texts()]


def test_plot_swap_states_band(tmp_path: pathlib.Path) -> None:
    before = [[0.5, 0.7, 0.8], [0.52, 0.69, 0.81]]
    arms = {"continue": [[0.82, 0.84], [0.83, 0.85]], "swap": [[0.8, 0.86], [0.81, 0.87]]}
    after = {"continue": [0.8, 0.81], "swap": [0.6, 0.62]}
    path = report.plot_swap(str(tmp_path / "swap.png"), before, arms, after, "digits")
    assert pathlib.Path(path).read_bytes()[:8] == PNG


# ----------------------------------------------------------------------------
# The bench report.


def _times(median_s: float) -> dict[str, float]:
    return {
        "median_s": median_s,
        "min_s": median_s,
        "max_s": median_s,
        "compile_s": 0.01,
        "gbps": 1.0,
    }


def _ratio(v: float) -> dict[str, float]:
    return {"min": v, "median": v, "max": v}


def bench_result(functions: int = 6, log2s: tuple[int, ...] = (12,), copy_s: float = 30e-6):
    """A synthetic ``jaxact.bench.run`` result: the time, step and memory sections, one
    dtype, the copy taking ``copy_s`` per call at every size (fwd; fwd+bwd twice that)."""
    tiers = ["fast", "accurate"]
    mine = [f"jaxact ({t})" for t in tiers]
    names = [f"fn{i}" for i in range(functions)]
    time_rows, step_rows, memory_rows = [], [], []
    for log2 in log2s:
        for i, name in enumerate(names):
            row: dict[str, Any] = {"function": name, "log2": log2, "size": 1 << log2}
            row.update(dtype="float32", buffers=4, repeats=3, tiers=tiers)
            for m, scale in (("fwd", 1.0), ("fwd+bwd", 2.0)):
                ratio = 1.0 + ((i * 7) % functions) / 4  # not in run order
                labels = {lbl: ratio for lbl in mine} | {"jax.nn": 1.1}
                row[m] = {
                    "bytes": 8 << log2,
                    "times": {"copy": _times(copy_s * scale)}
                    | {k: _times(copy_s * scale * v) for k, v in labels.items()},
                    "ratio_copy": {k: _ratio(v) for k, v in labels.items()},
                    "ratio_baseline": {t: _ratio(ratio / 1.1) for t in tiers},
                }
            time_rows.append(row)
    for i, name in enumerate(names):
        step_rows.append(
            {
                "function": name,
                "layers": 2,
                "width": 32,
                "batch": 64,
                "dtype": "float32",
                "times": {k: _times(1e-3) for k in (*mine, "jax.nn", "identity")},
                "ratio_identity": {k: _ratio(1.0 + i / 10) for k in (*mine, "jax.nn")},
                "ratio_baseline": {t: _ratio(1.0) for t in tiers},
            }
        )
        memory_rows.append(
            {
                "function": name,
                "residual_bytes": {"float32": {"jaxact": 4.0, "jax.nn": 8.0}},
                "scan_extra": {"jaxact": 1.0, "jax.nn": 2.0},
                "scan_stacked": {"jaxact": 4.0, "jax.nn": 8.0},
            }
        )
    machine = {"device_kind": "cpu", "platform": "cpu", "cpu": "test", "usable_cores": 2}
    machine |= {"cores": 2, "jax": "0", "jaxlib": "0", "os": "linux", "date": "today"}
    return {
        "machine": machine,
        "config": {
            "functions": names,
            "dtypes": ["float32"],
            "sizes_log2": list(log2s),
            "repeats": 3,
            "warmup": 1,
            "tiers": tiers,
            "sections": ["time", "step", "memory"],
            "memory_shape": {"layers": 8, "width": 256, "batch": 1024},
        },
        "definitions": {},
        "notes": [],
        "time": time_rows,
        "step": step_rows,
        "blocks": [],
        "memory": memory_rows,
        "elapsed_s": 1.0,
    }


def test_bench_overhead_note_for_tiny_sizes() -> None:
    result = bench_result(log2s=(12, 16), copy_s=30e-6)
    text = bench_report.format_tables(result)
    assert text.startswith("Note: fixed per-call overhead dominates the times at 2^12, 2^16")
    assert "under 200 µs per call" in " ".join(text.split())
    assert (
        f"2^12 elements (4 rotating inputs) — {bench_report.OVERHEAD_MARK} (see the note)" in text
    )
    md = bench_report.format_tables(result, markdown=True)
    assert md.startswith("**Note:** fixed per-call overhead dominates")
    # One size above the bound, one below: only the small one is marked.
    mixed = bench_result(log2s=(12, 20))
    for row in mixed["time"]:
        if row["log2"] == 20:
            for m in ("fwd", "fwd+bwd"):
                row[m]["times"]["copy"] = _times(2e-3)
    text = bench_report.format_tables(mixed)
    assert "dominates the times at 2^12 elements" in text
    assert f"2^20 elements (4 rotating inputs) — {bench_report.OVERHEAD_MARK}" not in text


def test_bench_no_overhead_note_for_large_sizes(tmp_path: pathlib.Path) -> None:
    result = bench_result(log2s=(20, 22), copy_s=1e-3)
    assert bench_report.overhead_note(result) is None
    assert "overhead" not in bench_report.format_tables(result)
    paths = bench_report.write_report(copy.deepcopy(result), tmp_path)
    assert "overhead" not in paths["markdown"].read_text()


def test_bench_plot_sorted_tall_legend_above(tmp_path: pathlib.Path) -> None:
    result = bench_result(functions=57, copy_s=30e-6)
    fig = bench_report._plot(result, tmp_path / "bench.png")
    assert (tmp_path / "bench.png").read_bytes()[:8] == PNG
    # Panels: fwd, fwd+bwd, step, memory; 3 bars a row keep their height: the figure grows.
    assert len(fig.axes) == 4
    width, height = fig.get_size_inches()
    assert height >= 57 * (3 * bench_report.BAR_IN + bench_report.GAP_IN)
    fig.canvas.draw()
    for ax in fig.axes:
        legend = ax.get_legend()
        # The legend (with the panel's title) sits above the bars, not over them.
        assert legend.get_window_extent().y0 >= ax.get_window_extent().y1
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == 57
    # Sorted by the first series (jaxact's default tier), smallest on top.
    fwd = fig.axes[0]
    first = {
        r["function"]: r["fwd"]["ratio_copy"]["jaxact (fast)"]["median"] for r in result["time"]
    }
    order = [t.get_text() for t in fwd.get_yticklabels()]
    assert [first[n] for n in order] == sorted(first.values())
    # The tiny size's overhead is flagged on the chart too.
    assert bench_report.OVERHEAD_MARK in fwd.get_legend().get_title().get_text()


def test_bench_sort_panel_puts_missing_last() -> None:
    order = bench_report.sort_panel(["a", "b", "c", "d"], {"x": [2.0, None, 1.0, math.nan]})
    assert order == [2, 0, 1, 3]


@pytest.mark.parametrize("copy_s", [30e-6, 1e-3])
def test_bench_write_report_files(tmp_path: pathlib.Path, copy_s: float) -> None:
    paths = bench_report.write_report(bench_result(copy_s=copy_s), tmp_path)
    assert paths["png"].read_bytes()[:8] == PNG
    assert ("fixed per-call overhead" in paths["markdown"].read_text()) == (copy_s < 200e-6)
