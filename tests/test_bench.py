"""Tests of ``jaxact bench`` (jaxact/bench/): report files, fields, memory figures, errors.

Timings are noisy, so nothing here asserts a speed: only that every number exists,
is finite and positive, and that the deterministic memory figures of jax.nn match.
All runs are tiny (2**10 elements, a few repeats). The model blocks are checked for
what they compute: jaxact's and jax.nn's version of each block agree on the same
parameters.
"""

from __future__ import annotations

import json
import math
import pathlib
import runpy
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact import bench, cli
from jaxact._src.registry import SPECS
from jaxact.bench import blocks

ROOT = pathlib.Path(__file__).resolve().parents[1]
TINY = ["--sizes", "10", "--repeats", "3", "--warmup", "1", "--buffers", "4"]
TINY += ["--step-shape", "2,32,64", "--no-torch"]
PNG = b"\x89PNG\r\n\x1a\n"
TIERS = ("fast", "accurate")  # the default --tiers
QUICK_BLOCKS = bench.config.QUICK_BLOCK_SHAPE
MINE = tuple(f"jaxact ({t})" for t in TIERS)  # jaxact's labels in the results


def _positive(v: Any) -> bool:
    return isinstance(v, float) and math.isfinite(v) and v > 0


def _check_ratio(r: dict[str, float]) -> None:
    assert set(r) == {"min", "median", "max"}
    assert all(_positive(v) for v in r.values()), r
    assert r["min"] <= r["median"] <= r["max"]


def _check_times(t: dict[str, Any], gbps: bool = True) -> None:
    for key in ("median_s", "min_s", "max_s", "compile_s"):
        assert _positive(t[key]), (key, t)
    assert t["min_s"] <= t["median_s"] <= t["max_s"]
    if gbps:
        assert _positive(t["gbps"])


@pytest.mark.slow
def test_cli_full_report(
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One tiny run of every section but the model blocks (test_cli_blocks runs those, in
    # parallel), then the Python API's step and memory rows and the speed script on the
    # same shapes: one worker draws their argument sets once.
    args = ["bench", "--quick", "--functions", "silu,prelu", *TINY, "--out", str(tmp_path)]
    args += ["--time", "--step", "--memory"]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "Time, float32, 2^10 elements" in printed and str(tmp_path) in printed
    _check_files(tmp_path)
    data = json.loads((tmp_path / "bench.json").read_text())
    _check_time_rows(data["time"])
    _check_step_and_memory_rows(data)
    _check_step_time_and_memory_row_on_user_lambda()
    _check_speed_script_memory_only(tmp_path / "speed", monkeypatch, capsys)


def _check_files(out: pathlib.Path) -> None:
    assert (out / "bench.png").read_bytes()[:8] == PNG
    md = (out / "bench.md").read_text()
    assert "Time, float32, 2^10 elements" in md and "Time, bfloat16, 2^10 elements" in md
    assert "Training step" in md and "Memory, bytes per element" in md
    assert "| silu |" in md and "| prelu |" in md
    data = json.loads((out / "bench.json").read_text())
    assert set(data) >= {"machine", "config", "definitions", "notes", "time", "step", "memory"}
    assert data["machine"]["platform"] == jax.devices()[0].platform
    assert data["machine"]["jax"] == jax.__version__
    assert data["machine"]["cores"] >= 1 and data["machine"]["device_kind"]
    assert data["config"]["functions"] == ["silu", "prelu"]
    assert any("PyTorch" in n for n in data["notes"])  # --no-torch says so


def _check_time_rows(rows: list[dict[str, Any]]) -> None:
    keys = {(r["function"], r["dtype"], r["log2"]) for r in rows}
    assert keys == {(f, d, 10) for f in ("silu", "prelu") for d in ("float32", "bfloat16")}
    for row in rows:
        assert row["size"] == 1024 and row["buffers"] == 4 and row["repeats"] == 3
        itemsize = jnp.dtype(row["dtype"]).itemsize
        has_nn = row["function"] != "prelu"
        assert row["tiers"] == list(TIERS)
        for mode, moved in (("fwd", 2), ("fwd+bwd", 4)):
            part = row[mode]
            assert part["bytes"] == moved * 1024 * itemsize
            expected = {*MINE, "copy", "jax.nn"} if has_nn else {*MINE, "copy"}
            assert set(part["times"]) == expected
            for t in part["times"].values():
                _check_times(t)
            assert set(part["ratio_copy"]) == expected - {"copy"}
            for r in part["ratio_copy"].values():
                _check_ratio(r)
            if has_nn:
                assert set(part["ratio_baseline"]) == set(TIERS)
                for r in part["ratio_baseline"].values():
                    _check_ratio(r)
            else:
                assert part["ratio_baseline"] is None


def _check_step_rows(rows: list[dict[str, Any]], names: tuple[str, str], shape: tuple) -> None:
    # The first function has a jax.nn counterpart, the second has none.
    assert [r["function"] for r in rows] == list(names)
    for row in rows:
        assert (row["layers"], row["width"], row["batch"]) == shape
        assert set(row["times"]) >= {*MINE, "identity"}
        for t in row["times"].values():
            _check_times(t, gbps=False)
        assert set(row["ratio_identity"]) == set(row["times"]) - {"identity"}
        for r in row["ratio_identity"].values():
            _check_ratio(r)
    assert set(rows[0]["ratio_baseline"]) == set(TIERS)
    for r in rows[0]["ratio_baseline"].values():
        _check_ratio(r)
    assert rows[1]["ratio_baseline"] is None


def _check_step_and_memory_rows(data: dict[str, Any]) -> None:
    # One step table per dtype of the run.
    assert {r["dtype"] for r in data["step"]} == set(data["config"]["dtypes"])
    for dtype in data["config"]["dtypes"]:
        rows = [r for r in data["step"] if r["dtype"] == dtype]
        _check_step_rows(rows, ("silu", "prelu"), (2, 32, 64))
    memory = {r["function"]: r for r in data["memory"]}
    silu = memory["silu"]
    for dtype, itemsize in (("float32", 4), ("bfloat16", 2)):
        # jaxact's silu keeps x alone; jax.nn's keeps at least as much.
        assert silu["residual_bytes"][dtype]["jaxact"] == itemsize
        assert silu["residual_bytes"][dtype]["jaxact"] <= silu["residual_bytes"][dtype]["jax.nn"]
    for key in ("scan_extra", "scan_stacked"):
        assert 0 < silu[key]["jaxact"] <= silu[key]["jax.nn"], key
    assert "jax.nn" not in memory["prelu"]["residual_bytes"]["float32"]
    for row in memory.values():
        for v in [*row["scan_extra"].values(), *row["scan_stacked"].values()]:
            assert math.isfinite(v)


def test_time_function_on_user_lambda() -> None:
    r = bench.time_function(
        lambda x: jnp.sin(x) * x,
        baseline=jnp.sin,
        size=1 << 10,
        dtype=jnp.bfloat16,
        repeats=3,
        warmup=1,
        buffers=3,
    )
    assert (r["size"], r["dtype"], r["buffers"]) == (1024, "bfloat16", 3)
    for mode, moved in (("fwd", 2), ("fwd+bwd", 4)):
        assert r[mode]["bytes"] == moved * 1024 * 2
        assert set(r[mode]["times"]) == {"fn", "baseline", "copy"}
        for t in r[mode]["times"].values():
            _check_times(t)
        _check_ratio(r[mode]["ratio_baseline"])
        _check_ratio(r[mode]["ratio_copy"]["fn"])
    fwd_only = bench.time_function(jnp.tanh, size=64, repeats=2, warmup=0, modes=["fwd"])
    assert "fwd+bwd" not in fwd_only and fwd_only["fwd"]["ratio_baseline"] is None


def _check_step_time_and_memory_row_on_user_lambda() -> None:
    def swish(h: jax.Array) -> jax.Array:
        return h * jax.nn.sigmoid(h)

    shape = {"layers": 2, "width": 32, "batch": 64}  # TINY's --step-shape
    s = bench.step_time(swish, jax.nn.silu, **shape, repeats=2, warmup=1, buffers=2)
    assert set(s["times"]) == {"fn", "baseline", "identity"}
    _check_ratio(s["ratio_baseline"])
    # The scan figures of memory_row are checked through `--memory` (test_speed_script_memory_only).
    m = bench.memory_row(jnp.sin, jax.nn.relu, dtypes=["float32", "bfloat16"], scan=False)
    assert m["residual_bytes"]["float32"]["fn"] == 4.0  # sin keeps cos(x)
    assert m["residual_bytes"]["bfloat16"]["fn"] == 2.0
    assert m["residual_bytes"]["float32"]["baseline"] > 0
    assert m["scan_extra"] is None and m["scan_stacked"] is None


def test_resolve_functions() -> None:
    rows = bench.resolve_functions(None)
    assert len(rows) == sum(s.kind == "elementwise" for s in SPECS.values())
    nn_rows = bench.resolve_functions("jax.nn")
    assert {"relu", "gelu_tanh", "gelu_erf", "silu"} <= {r[0] for r in nn_rows}
    assert all(r[2] is not None for r in nn_rows)
    (name, fn, theirs), *_ = bench.resolve_functions(["gelu"])
    assert name == "gelu" and theirs is SPECS["gelu_tanh"].jax_nn  # the dispatcher's default
    x = jnp.linspace(-3.0, 3.0, 7)
    _, prelu, none = bench.resolve_functions("prelu")[0]
    assert none is None and prelu(x).shape == x.shape  # required slope filled in


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--sizes", "40"], "--sizes"),
        (["--sizes", "a,b"], "--sizes"),
        (["--dtypes", "float64"], "--dtypes"),
        (["--repeats", "0"], "--repeats"),
        (["--step-shape", "8,128"], "--step-shape"),
        (["--functions", "nosuch"], "unknown activation 'nosuch'"),
        (["--functions", "rellu"], "did you mean relu"),
        (["--functions", "softmax"], "elementwise"),
        (["--tiers", "fast,exact"], "argument --tiers: expected comma-separated precision tiers"),
        (["--tiers", ""], "argument --tiers"),
    ],
)
def test_cli_bad_arguments(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["bench", "--memory", *argv])
    assert e.value.code == 2
    assert needle in capsys.readouterr().err


def test_python_bad_arguments() -> None:
    with pytest.raises(ValueError, match="argument 'size'"):
        bench.time_function(jnp.tanh, size=0)
    with pytest.raises(ValueError, match="argument 'repeats'"):
        bench.time_function(jnp.tanh, repeats=0)
    with pytest.raises(ValueError, match="argument 'dtype'"):
        bench.time_function(jnp.tanh, dtype=jnp.int32)
    with pytest.raises(ValueError, match="same shape and dtype"):
        bench.time_function(jnp.sum, size=16)
    with pytest.raises(ValueError, match="argument 'sizes'"):
        bench.run(["relu"], sizes=[2], sections=["time"])
    with pytest.raises(ValueError, match="argument 'sections'"):
        bench.run(["relu"], sections=["speed"])
    with pytest.raises(ValueError, match="argument 'functions'"):
        bench.run("relu,nosuch", sections=["memory"])
    with pytest.raises(ValueError, match="argument 'step_shape'"):
        bench.step_time(jnp.tanh, layers=0)
    with pytest.raises(ValueError, match="argument 'tiers' must be among fast, accurate, auto"):
        bench.run(["relu"], sections=["memory"], tiers=["fast", "exact"])
    with pytest.raises(ValueError, match="argument 'tiers'"):
        bench.step_time(jnp.tanh, tiers=[])
    with pytest.raises(ValueError, match="argument 'block_shape'"):
        bench.run(["relu"], sections=["blocks"], block_shape=(2, 16, 30, 4, 2, 8, 8))
    with pytest.raises(ValueError, match="argument 'blocks'"):
        blocks.block_time("mlp", shape=QUICK_BLOCKS)


def test_blocks_skipped_without_flax(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench.suite, "has_flax", lambda: False)
    result = bench.run(["relu"], sections=["blocks"], tiers=["accurate"])
    assert result["blocks"] == [] and result["config"]["tiers"] == ["accurate"]
    assert any("flax is not installed" in n for n in result["notes"])


def test_torch_skipped_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    mod, note = bench.torch.torch_module(True)
    assert mod is None and "skipped" in note
    mod, note = bench.torch.torch_module(False)
    assert mod is None and "--no-torch" in note


def _run_script(module: str, argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", [module, *argv])
    monkeypatch.syspath_prepend(str(ROOT))
    with pytest.raises(SystemExit) as e:
        runpy.run_module(module, run_name="__main__")
    return int(e.value.code or 0)


def _check_speed_script_memory_only(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # benchmarks/speed.py is `jaxact bench`; --memory alone runs the memory section only.
    argv = ["--memory", "--functions", "relu", "--dtypes", "float32", "--out", str(tmp_path)]
    assert _run_script("benchmarks.speed", argv, monkeypatch) == 0
    printed = capsys.readouterr().out
    assert "Memory, bytes per element" in printed and str(tmp_path) in printed
    assert "Time," not in printed and "Training step" not in printed
    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["time"] == [] and data["step"] == []
    (row,) = data["memory"]
    residual = row["residual_bytes"]["float32"]
    assert row["function"] == "relu" and residual["jaxact"] <= residual["jax.nn"]
    for key in ("scan_extra", "scan_stacked"):
        assert set(row[key]) == {"jaxact", "jax.nn"}
        assert 0 < row[key]["jaxact"] <= row[key]["jax.nn"], key
    assert (tmp_path / "bench.png").read_bytes()[:8] == PNG


@pytest.mark.slow
def test_step_floor_script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Times the default 8-layer step (a few seconds): a smoke test of the program.
    argv = ["--functions", "silu", "--repeats", "1"]
    assert _run_script("benchmarks.step_floor", argv, monkeypatch) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith("silu") for line in lines)
    assert "(d = x + 1)" in lines[0] and "(d = y)" in lines[1]
    assert _run_script("benchmarks.step_floor", ["--functions", "relu"], monkeypatch) == 2
    assert "argument --functions: unknown ['relu']" in capsys.readouterr().err


class _FakeTensor:
    """Just enough of a torch tensor for the PyTorch code path (numpy underneath)."""

    def __init__(self, a: Any) -> None:
        self.a = a

    def to(self, device: str, dtype: Any) -> _FakeTensor:
        return _FakeTensor(self.a.astype(dtype))

    def requires_grad_(self, flag: bool) -> _FakeTensor:
        return self


def _fake_torch() -> Any:
    import contextlib
    import types

    relu = lambda t: _FakeTensor(np.maximum(t.a, 0))  # noqa: E731
    return types.SimpleNamespace(
        __version__="0.fake",
        float32=np.float32,
        from_numpy=_FakeTensor,
        no_grad=contextlib.nullcontext,
        compile=lambda f: f,
        cuda=types.SimpleNamespace(is_available=lambda: False),
        autograd=types.SimpleNamespace(grad=lambda y, x, g: (g,)),
        nn=types.SimpleNamespace(functional=types.SimpleNamespace(relu=relu)),
    )


@pytest.mark.slow  # full suite; the fast lane keeps this file's other checks
def test_torch_code_path_with_a_fake_torch(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    # Real PyTorch is optional and absent here; a numpy stand-in checks the plumbing.
    monkeypatch.setitem(sys.modules, "torch", _fake_torch())
    result = bench.run(
        "relu,prelu",
        dtypes=["float32"],
        sizes=[8],
        repeats=2,
        warmup=0,
        sections=["time", "step"],
        step_shape=(2, 32, 64),  # TINY's: the full report draws the same argument sets
    )
    assert "PyTorch 0.fake on CPU" in result["notes"][0]
    _check_step_rows(result["step"], ("relu", "prelu"), (2, 32, 64))
    relu, prelu = result["time"]
    for mode in ("fwd", "fwd+bwd"):
        assert set(relu[mode]["times"]) == {*MINE, "jax.nn", "copy", "torch", "torch.compile"}
        assert set(relu[mode]["ratio_extra"]) == set(TIERS)
        for per_tier in relu[mode]["ratio_extra"].values():
            assert set(per_tier) == {"torch", "torch.compile"}
            for r in per_tier.values():
                _check_ratio(r)
        assert "ratio_extra" not in prelu[mode]  # no torch counterpart
    paths = bench.write_report(result, tmp_path)
    assert set(paths) == {"json", "markdown", "png"}
    md = (tmp_path / "bench.md").read_text()
    assert "fwd ÷ torch.compile (accurate)" in md and "Training step, 2-layer scan MLP" in md
    assert "Memory" not in md and "Model blocks" not in md


def test_integer_list_arguments() -> None:
    # The one parser behind `jaxact bench --sizes` and `jaxact demo --epochs/--hidden/--depths`.
    import argparse

    from jaxact._src.text import int_list
    from jaxact.bench import cli as bench_cli
    from jaxact.demo import cli as demo_cli

    assert int_list("1, 2,") == [1, 2] == demo_cli._ints("1,2")
    assert bench_cli._log2_list("4,30") == [4, 30]
    for bad in ("", "a", "1.5", ","):
        with pytest.raises(argparse.ArgumentTypeError, match=f"integers, got {bad!r}"):
            demo_cli._ints(bad)
    for bad in ("3", "31", "20,x"):
        with pytest.raises(argparse.ArgumentTypeError, match="between 4 and 30"):
            bench_cli._log2_list(bad)


def _block_variables(block: Any, shape: tuple[int, ...], dtype: str, seed: int) -> Any:
    # (params, state, x) in the shapes blocks.init_block gives, drawn with numpy (no program
    # to compile); kernels scaled by 1/sqrt(fan-in) so activations stay O(1).
    rng = np.random.default_rng(seed)
    d = jnp.dtype(dtype)

    def draw(leaf: Any) -> np.ndarray:
        fan_in = max(leaf.size // leaf.shape[-1], 1)
        return (rng.standard_normal(leaf.shape) / np.sqrt(fan_in)).astype(d)

    params, state, x = jax.eval_shape(lambda: blocks.init_block(block, shape, dtype))
    ones = jax.tree.map(lambda v: np.ones(v.shape, v.dtype), state)  # BatchNorm's averages
    return jax.tree.map(draw, params), ones, rng.standard_normal(x.shape).astype(d)


@pytest.mark.slow  # builds and differentiates every block
def test_blocks_agree_with_jax_nn() -> None:
    # Each block built with jaxact's activations (traced under each tier) computes what the
    # one built with jax.nn's computes, on the same parameters and input: the benchmark
    # compares like with like. One program for every case (one compile, not thirty).
    dtypes = ("float32", "bfloat16")
    cases = {}
    for i, name in enumerate(blocks.BLOCKS):
        for dtype in dtypes:
            theirs, shape = blocks.make_block(name, "jax.nn", QUICK_BLOCKS, dtype)
            mine, _ = blocks.make_block(name, "jaxact", QUICK_BLOCKS, dtype)
            cases[name, dtype] = (theirs, mine, _block_variables(theirs, shape, dtype, i))

    def outputs(variables: dict[str, Any]) -> dict[str, jax.Array]:
        out = {}
        for (name, dtype), (theirs, mine, _) in cases.items():
            params, state, x = variables[f"{name} {dtype}"]
            out[f"{name} {dtype} jax.nn"] = blocks.apply_block(theirs, params, state, x)
            for tier in TIERS:
                with jaxact.precision(tier):
                    y = blocks.apply_block(mine, params, state, x)
                out[f"{name} {dtype} {tier}"] = y
        return out

    out = jax.jit(outputs)({f"{n} {d}": c[2] for (n, d), c in cases.items()})
    tolerance = {"float32": 1e-5, "bfloat16": 2e-2}
    for name, dtype in cases:
        ref = out[f"{name} {dtype} jax.nn"]
        assert ref.dtype == jnp.dtype(dtype)
        ref = np.asarray(ref.astype(jnp.float32))
        assert np.all(np.isfinite(ref)) and np.max(np.abs(ref)) > 0.1, (name, dtype)
        tol = tolerance[dtype]
        for tier in TIERS:
            y = out[f"{name} {dtype} {tier}"]
            assert y.shape == ref.shape and y.dtype == jnp.dtype(dtype)
            np.testing.assert_allclose(
                np.asarray(y.astype(jnp.float32)),
                ref,
                rtol=tol,
                atol=tol * float(np.max(np.abs(ref))),
                err_msg=f"{name} {dtype} {tier}",
            )


@pytest.mark.slow  # compiles and times a model block
def test_block_time_one_block() -> None:
    # The Python API on one block; the whole section runs in test_cli_blocks.
    r = blocks.block_time(
        "mlp_gelu_tanh", dtype="float32", shape=QUICK_BLOCKS, tiers=["fast"], repeats=2, warmup=1
    )
    assert (r["block"], r["dtype"], r["tiers"]) == ("mlp_gelu_tanh", "float32", ["fast"])
    assert r["input_shape"] == [2, 16, 32]
    assert set(r["times"]) == {"jax.nn", "jaxact (fast)"}
    for t in r["times"].values():
        _check_times(t, gbps=False)
    assert set(r["ratio_baseline"]) == {"fast"}
    _check_ratio(r["ratio_baseline"]["fast"])
    d = 32
    assert r["params"] == 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d)  # LayerNorm, 2 Dense


@pytest.mark.slow  # about 16 s: 15 programs of value_and_grad compiled on 2 cores
def test_cli_blocks(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    # One dtype: the section's code is the same for each (test_blocks_agree_with_jax_nn
    # builds every block in both dtypes).
    args = ["bench", "--blocks", "--quick", "--repeats", "2", "--dtypes", "float32"]
    args += ["--out", str(tmp_path)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "Model blocks" in printed and "Time," not in printed and "Memory" not in printed
    data = json.loads((tmp_path / "bench.json").read_text())
    assert data["time"] == data["step"] == data["memory"] == []
    assert data["config"]["tiers"] == list(TIERS)
    assert data["config"]["block_shape"] == QUICK_BLOCKS._asdict()
    rows = {(r["block"], r["dtype"]): r for r in data["blocks"]}
    assert set(rows) == {(b, "float32") for b in blocks.BLOCKS}
    for row in rows.values():
        assert set(row["times"]) == {"jax.nn", *MINE}
        for t in row["times"].values():
            _check_times(t, gbps=False)
        assert set(row["ratio_baseline"]) == set(TIERS)
        for r in row["ratio_baseline"].values():
            _check_ratio(r)
    md = (tmp_path / "bench.md").read_text()
    assert "| step ÷ jax.nn (fast) | step ÷ jax.nn (accurate) |" in md
    for b, d in rows:
        assert f"| {b} | {d} |" in md
    assert (tmp_path / "bench.png").read_bytes()[:8] == PNG
