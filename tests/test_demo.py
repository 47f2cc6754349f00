"""The training demo: the CLI's outputs, the depth study, swap, data parallelism, resume."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap

import chex
import jax
import numpy as np
import pytest
from flax import nnx

from jaxact import cli, demo, monitor
from jaxact import nnx as jn
from jaxact.demo import data as data_lib
from jaxact.demo.model import check_activation
from jaxact.registry import UnknownActivationError

PNG = b"\x89PNG\r\n\x1a\n"
# relu's test accuracy in `jaxact demo --quick` (2 seeds x 10 epochs) must exceed this;
# measured 96.8 % on digits, chance is 10 %.
QUICK_RELU_ACCURACY = 0.93
# The depth study at 32 hidden layers, at initialisation: sigmoid's first-layer gradient is
# below this fraction of the last layer's (measured: 0, it underflows float32) ...
SIGMOID_VANISHING = 1e-6
# ... while relu and selu with their matched init stay within this factor over all 32 layers
# (measured 4.9 and 1.5).
MATCHED_BAND = 10.0
# Same losses on 8 devices as on 1 (relative), 3 epochs: different all-reduce order only.
DEVICES_RTOL = 1e-4

SMALL = demo.TrainConfig(hidden=(32, 32), epochs=3, batch_size=64, checkpoint_every=0)


@pytest.fixture(scope="module")
def digits() -> demo.Dataset:
    return demo.load_digits()


def _json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _png(path: str) -> None:
    with open(path, "rb") as f:
        assert f.read(8) == PNG, path
    assert os.path.getsize(path) > 10_000, path


# ----------------------------------------------------------------------------
# `jaxact demo --quick`: the README's main job.


@pytest.mark.slow
def test_quick_demo_writes_table_json_plots(tmp_path, capsys):
    # `jaxact demo --quick` on the two activations whose results are checked (all eleven
    # defaults take four times as long and check nothing more about the program).
    out = str(tmp_path / "out")
    argv = ["demo", "--quick", "--activations", "relu,sigmoid", "--out", out, "--no-progress"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    files = sorted(os.listdir(out))
    assert {"compare.md", "compare.json", "compare_curves.png", "checkpoints"} <= set(files)
    _png(os.path.join(out, "compare_curves.png"))
    result = _json(os.path.join(out, "compare.json"))
    assert list(result["summary"]) == ["relu", "sigmoid"]
    assert result["seeds"] == demo.QUICK["compare"]["seeds"]
    assert result["config"]["epochs"] == demo.QUICK["compare"]["epochs"]
    for name, runs in result["runs"].items():
        assert len(runs) == result["seeds"]
        for run in runs:
            assert len(run["history"]["test_accuracy"]) == result["config"]["epochs"]
            assert math.isfinite(run["test_loss"]), name
            assert run["step_time_ms"] > 0
            layers = run["health"]["layers"]
            assert len(layers) == len(result["config"]["hidden"])
            for stats in layers.values():
                assert 0 <= stats["dead"] <= 1 and 0 <= stats["saturated"] <= 1
    relu = result["summary"]["relu"]
    assert relu["accuracy_mean"] > QUICK_RELU_ACCURACY, relu
    # sigmoid, the slowest starter, is behind relu after the same quick budget.
    assert result["summary"]["sigmoid"]["accuracy_mean"] < relu["accuracy_mean"]
    table = _text(os.path.join(out, "compare.md"))
    assert result["table"] in table and result["table"] in printed
    for name in ("relu", "sigmoid"):
        assert f"| {name} " in result["table"]
    assert "wrote" in printed and out in printed


# ----------------------------------------------------------------------------
# The depth study.


@pytest.mark.slow
def test_depth_study(digits, tmp_path, capsys):
    # One test for the depth study: its per-layer gradients at width 64 run op by op, so
    # the 32-layer nets and the CLI's shallow ones share their compiled operations.
    sigmoid = demo.init_grad_norms("sigmoid", 32, data=digits)
    assert len(sigmoid) == 32
    assert sigmoid[0] < SIGMOID_VANISHING * sigmoid[-1]
    # Falling layer after layer towards the input, by orders of magnitude.
    assert sigmoid[-1] > 10 * sigmoid[-3] > 100 * sigmoid[-5]
    for name in ("relu", "selu"):
        g = demo.init_grad_norms(name, 32, data=digits)
        assert all(v > 0 for v in g)
        assert max(g) / min(g) < MATCHED_BAND, (name, g)
    # The same relu net with LeCun's init (no factor 2) loses its gradient on the way back.
    lecun = demo.init_grad_norms("relu", 32, data=digits, init="lecun")
    assert lecun[0] < 1e-2 * lecun[-1]

    # `jaxact demo depth`: its files and table.
    out = str(tmp_path)
    argv = ["demo", "depth", "--depths", "1,2", "--epochs", "1", "--activations", "sigmoid,relu"]
    assert cli.main([*argv, "--out", out, "--no-progress"]) == 0
    result = _json(os.path.join(out, "depth.json"))
    assert result["depths"] == [1, 2]
    assert set(result["accuracy"]) == {"sigmoid", "relu"}
    for name in ("sigmoid", "relu"):
        assert len(result["grad_norms"][name]["2"]["matched"]) == 2
        assert len(result["grad_norms"][name]["2"]["lecun"]) == 2
    _png(os.path.join(out, "depth.png"))
    assert result["table"] in _text(os.path.join(out, "depth.md"))
    assert result["table"] in capsys.readouterr().out


# ----------------------------------------------------------------------------
# The swap study.


@pytest.mark.slow
def test_swap_study(tmp_path, digits):
    # Equal epochs before and after the swap: the continued sigmoid arm reuses the first
    # phase's compiled epoch, and so does the learnable swap below.
    cfg = demo.TrainConfig(hidden=(128, 128))
    result = demo.swap(
        "sigmoid",
        "relu",
        epochs=(2, 2),
        seeds=1,
        config=cfg,
        data=digits,
        out=str(tmp_path),
        progress=False,
        verbose=False,
    )
    arms = list(result["final_accuracy"])
    assert arms == ["continue sigmoid", "swap to relu, keep weights", "swap to relu, re-init"]
    at_swap = result["accuracy_at_swap"][0]
    # Continuing changes nothing at the swap; swapping the activation does.
    assert result["accuracy_right_after_swap"]["continue sigmoid"][0] == at_swap
    assert result["accuracy_right_after_swap"]["swap to relu, keep weights"][0] != at_swap
    for arm in arms:
        assert len(result["history_after"][arm][0]) == 2
    # Re-initialised relu trains from scratch and beats 2+2 epochs of sigmoid here.
    assert result["final_accuracy"]["swap to relu, re-init"][0] > 0.8
    _png(os.path.join(str(tmp_path), "swap.png"))
    assert os.path.exists(os.path.join(str(tmp_path), "swap.md"))

    # Swapping in a learnable layer (one PReLU slope per unit) trains on too.
    learnable = demo.swap(
        "sigmoid",
        "prelu",
        epochs=(2, 2),
        seeds=1,
        config=cfg,
        data=digits,
        out=None,
        progress=False,
        verbose=False,
    )
    assert learnable["accuracy_at_swap"] == result["accuracy_at_swap"]
    assert all(math.isfinite(v[0]) for v in learnable["final_accuracy"].values())


def test_swapped_model_has_the_new_activation():
    # The layer surgery only: an abstract model (shapes, no values) is enough.
    from jaxact.demo.studies import _swapped

    model = nnx.eval_shape(lambda: demo.MLP(64, (8, 8), 10, "sigmoid", rngs=nnx.Rngs(0)))
    swapped = _swapped(model, "sigmoid", "relu")
    acts = [m for m in swapped.layers if isinstance(m, jn.Activation)]
    assert [a.fn for a in acts] == ["relu", "relu"]
    assert [m.fn for m in model.layers if isinstance(m, jn.Activation)] == ["sigmoid"] * 2
    prelu = [m for m in _swapped(model, "sigmoid", "prelu").layers if isinstance(m, jn.PReLU)]
    assert len(prelu) == 2 and all(p.negative_slope.shape == (8,) for p in prelu)
    uneven = nnx.eval_shape(lambda: demo.MLP(64, (8, 4), 10, "sigmoid", rngs=nnx.Rngs(0)))
    with pytest.raises(ValueError, match="equal hidden widths"):
        _swapped(uneven, "sigmoid", "prelu")


# ----------------------------------------------------------------------------
# Data parallelism: one mesh code path for 1 and 8 devices.

_DEVICES_SCRIPT = textwrap.dedent(
    """
    import json
    import jax
    from jaxact import demo
    from jaxact.demo import training as T

    # One process with 8 host devices: the same run on a 1-device mesh and on all 8.
    cfg = demo.TrainConfig(hidden=(32, 32), epochs=3, batch_size=64, checkpoint_every=0)
    data = demo.load_digits()
    steps = len(data.y_train) // cfg.batch_size
    out = {"devices": jax.device_count()}
    for name, mesh in (("one", demo.make_mesh(jax.devices()[:1])), ("all", None)):
        record, _ = demo.train("relu", data, cfg, 0, mesh=mesh, progress=False)
        mesh = demo.make_mesh() if mesh is None else mesh
        # The epoch program as train compiled it (same shardings: a cache hit, no compile).
        rep = T._replicated(mesh)
        with jax.numpy_dtype_promotion("standard"):
            g, p, r = T.split(T.init_model("relu", data.num_features, data.num_classes, cfg, 0))
            p, r, x, y = jax.device_put((p, r, data.x_train, data.y_train), rep)
            opt = jax.device_put(T.optimizer(cfg, steps).init(p), rep)
            order = T._order(
                jax.random.key(0), 0, n=len(data.y_train), steps=steps, batch_size=64
            )
            hlo = T._epoch.lower(
                p, r, opt, order, x, y, None,
                graphdef=T._Graph(g), cfg=cfg, steps=steps, mesh=mesh,
            ).compile().as_text()
        out[name] = {"history": record["history"], "devices": record["devices"],
                     "grad_norms": record["health"]["grad_norms"],
                     "all_reduce": "all-reduce" in hlo}
    try:
        demo.train("relu", data, demo.TrainConfig(batch_size=60), 0, progress=False)
    except ValueError as e:
        out["bad_batch"] = str(e)
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_eight_devices_give_the_same_losses_as_one():
    env = dict(os.environ)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run(
        [sys.executable, "-c", _DEVICES_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    one, eight = result["one"], result["all"]
    assert result["devices"] == 8 and one["devices"] == 1 and eight["devices"] == 8
    # The batch really is split: gradients are summed across devices.
    assert eight["all_reduce"] and not one["all_reduce"]
    for key in ("train_loss", "test_loss", "test_accuracy"):
        np.testing.assert_allclose(eight["history"][key], one["history"][key], rtol=DEVICES_RTOL)
    # The end-of-run gradient norms (health) on the replicated model agree too.
    assert eight["grad_norms"].keys() == one["grad_norms"].keys()
    for k, v in one["grad_norms"].items():
        np.testing.assert_allclose(eight["grad_norms"][k], v, rtol=DEVICES_RTOL)
    assert "multiple of the 8 devices" in result["bad_batch"]


# ----------------------------------------------------------------------------
# Checkpoint and resume.


@pytest.mark.slow
def test_resume_reproduces_the_uninterrupted_run(tmp_path, digits):
    cfg = dataclasses_replace(SMALL, epochs=5, checkpoint_every=2)
    full, full_model = demo.train("relu", digits, cfg, 3, progress=False)
    # The table's health figures are the monitor's, run on the trained model.
    stats = nnx.jit(monitor.nnx_health)(full_model, digits.x_test)
    assert list(stats) == list(full["health"]["layers"]) == ["layers/1", "layers/3"]
    # Not all trivially 0: seed 3 leaves one dead unit of 32 in the last layer (measured).
    assert any(0 < float(v["dead"]) < 1 for v in stats.values())
    for k, v in stats.items():
        for field, value in v.items():
            assert full["health"]["layers"][k][field] == pytest.approx(float(value))
    ckpt = str(tmp_path / "ckpt")
    part, _ = demo.train(
        "relu",
        digits,
        cfg,
        3,
        checkpoint_dir=ckpt,
        interrupt_after=3,
        progress=False,
        health=False,
    )
    assert part["epochs_done"] == 3
    resumed, resumed_model = demo.train(
        "relu", digits, cfg, 3, checkpoint_dir=ckpt, resume=True, progress=False, health=False
    )
    assert resumed["epochs_done"] == 5
    for key in ("train_loss", "test_loss", "test_accuracy"):
        assert resumed["history"][key] == full["history"][key]
    chex.assert_trees_all_equal(nnx.state(resumed_model), nnx.state(full_model))
    # A fresh run into the same folder replaces the checkpoints, it does not keep them.
    demo.train(
        "relu",
        digits,
        cfg,
        3,
        checkpoint_dir=ckpt,
        interrupt_after=1,
        progress=False,
        health=False,
    )
    again, _ = demo.train(
        "relu",
        digits,
        cfg,
        3,
        checkpoint_dir=ckpt,
        resume=True,
        interrupt_after=2,
        progress=False,
        health=False,
    )
    assert again["epochs_done"] == 2
    assert again["history"]["test_loss"] == full["history"]["test_loss"][:2]
    # Resuming with another seed is refused instead of silently mixing runs.
    with pytest.raises(ValueError, match="resume"):
        demo.train("relu", digits, cfg, 4, checkpoint_dir=ckpt, resume=True, progress=False)


@pytest.mark.slow  # trains and resumes through the CLI
def test_cli_resume(tmp_path, capsys):
    # The fast lane's run of `jaxact demo` (compare): its files, then a resume that replays them.
    out = str(tmp_path)
    base = ["demo", "--activations", "relu", "--seeds", "1", "--hidden", "8", "--out", out]
    base += ["--no-progress", "--checkpoint-every", "1", "--epochs", "2"]
    assert cli.main(base) == 0
    printed = capsys.readouterr().out
    assert {"compare.md", "compare.json", "compare_curves.png"} <= set(os.listdir(out))
    _png(os.path.join(out, "compare_curves.png"))
    first = _json(os.path.join(out, "compare.json"))
    assert first["table"] in _text(os.path.join(out, "compare.md")) and first["table"] in printed
    (run,) = first["runs"]["relu"]
    assert len(run["history"]["test_accuracy"]) == 2 and math.isfinite(run["test_loss"])
    assert run["devices"] == first["environment"]["devices"] == jax.device_count()
    # Every file written is listed, the checkpoints with their folder's size.
    ckpt = os.path.join(out, "checkpoints", "compare", "")
    assert set(first["files"]) == {
        *(os.path.join(out, n) for n in os.listdir(out) if n != "checkpoints"),
        ckpt,
    }
    assert first["checkpoint_bytes"] > 0
    wrote = next(line for line in printed.splitlines() if line.startswith("wrote "))
    assert f"{ckpt} (" in wrote and all(p in wrote for p in first["files"])
    assert cli.main([*base, "--resume"]) == 0
    again = _json(os.path.join(out, "compare.json"))
    assert again["runs"]["relu"][0]["history"] == run["history"]
    # --checkpoint-every 0 writes no checkpoint (nor their folder).
    other = str(tmp_path / "no-checkpoints")
    argv = ["demo", "--activations", "relu", "--seeds", "1", "--hidden", "8", "--epochs", "2"]
    assert cli.main([*argv, "--no-progress", "--checkpoint-every", "0", "--out", other]) == 0
    assert "checkpoints" not in os.listdir(other)
    files = _json(os.path.join(other, "compare.json"))["files"]
    assert set(files) == {os.path.join(other, n) for n in os.listdir(other)}


def dataclasses_replace(cfg: demo.TrainConfig, **kw) -> demo.TrainConfig:
    import dataclasses

    return dataclasses.replace(cfg, **kw)


# ----------------------------------------------------------------------------
# Data: digits and --data FILE.npz.


def test_digits_split(digits):
    assert digits.num_classes == 10 and digits.num_features == 64
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert abs(len(digits.y_test) / 1797 - data_lib.TEST_FRACTION) < 0.01
    np.testing.assert_allclose(digits.x_train.mean(0), 0, atol=1e-5)
    assert set(np.unique(digits.y_test)) == set(range(10))


def _blobs(n: int = 300, d: int = 5, k: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    x = rng.normal(size=(n, d)) + 3 * np.eye(k, d)[y]
    return x, y + 7  # labels need not start at 0


@pytest.mark.slow
def test_data_npz_trains(tmp_path, capsys):
    x, y = _blobs()
    path = str(tmp_path / "blobs.npz")
    np.savez(path, x=x.reshape(300, 5, 1), y=y)
    out = str(tmp_path / "out")
    argv = ["demo", "--data", path, "--activations", "relu,pau", "--seeds", "1", "--epochs", "3"]
    argv += ["--hidden", "64", "--batch-size", "16", "--out", out, "--no-progress"]
    assert cli.main(argv) == 0
    result = _json(os.path.join(out, "compare.json"))
    assert result["environment"]["data"].startswith("blobs.npz: 240 training and 60 test")
    assert result["summary"]["relu"]["accuracy_mean"] > 0.8


def test_data_npz_with_test_split(tmp_path):
    x, y = _blobs()
    path = str(tmp_path / "split.npz")
    np.savez(path, x=x[:200], y=y[:200], x_test=x[200:], y_test=y[200:])
    ds = demo.load_npz(path)
    assert len(ds.y_train) == 200 and len(ds.y_test) == 100 and ds.num_classes == 3


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x": np.zeros((4, 2))}, "no array 'y'"),
        ({"x": np.zeros((4, 2)), "y": np.zeros(3)}, "shape \\(4,\\)"),
        ({"x": np.array([["a"], ["b"]]), "y": np.zeros(2)}, "numeric"),
        ({"x": np.zeros((4, 2)), "y": np.array([0.5, 1, 0, 1])}, "integer class labels"),
        ({"x": np.zeros(4), "y": np.zeros(4)}, "samples, features"),
        ({"x": np.full((4, 2), np.nan), "y": np.array([0, 1, 0, 1])}, "NaN"),
        ({"x": np.zeros((10, 2)), "y": np.zeros(10)}, "at least 2 classes"),
        (
            {"x": np.zeros((4, 2)), "y": np.array([0, 1, 0, 1]), "x_test": np.zeros((2, 2))},
            "together",
        ),
    ],
)
def test_data_npz_errors(tmp_path, arrays, message):
    path = str(tmp_path / "bad.npz")
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=f"argument 'data'.*{message}"):
        demo.load_npz(path)


def test_data_errors(tmp_path, capsys):
    with pytest.raises(ValueError, match="no such file"):
        demo.load_npz(str(tmp_path / "missing.npz"))
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(ValueError, match="is not a .npz file; the demo reads"):
        demo.load_npz(str(tmp_path / "junk.npz"))
    with pytest.raises(SystemExit) as e:
        cli.main(["demo", "--data", str(tmp_path / "missing.npz")])
    assert e.value.code == 2
    assert "argument --data: no such file" in capsys.readouterr().err


# ----------------------------------------------------------------------------
# Arguments.


@pytest.mark.parametrize(
    "name, error, message",
    [
        ("softmax", ValueError, "vector"),
        ("gumbel_softmax", ValueError, "vector|random"),
        # The registry's error type (a KeyError too), with one prefix.
        ("nope", UnknownActivationError, "unknown activation 'nope'"),
        (3, TypeError, "must be a name, got 3"),
    ],
)
def test_bad_activation(name, error, message):
    with pytest.raises(error, match=f"^jaxact demo: argument 'activations': .*({message})"):
        check_activation(name)


def test_every_elementwise_table_name_builds():
    from jaxact._src import registry

    for name, spec in registry.SPECS.items():
        if spec.kind == "elementwise":
            assert check_activation(name) == name
    assert check_activation("torch:GELU") == "torch:GELU"


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"epochs": 0}, "epochs"),
        ({"hidden": ()}, "hidden"),
        ({"hidden": (4, 0)}, "hidden"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"target_accuracy": 1.5}, "target_accuracy"),
        ({"checkpoint_every": -1}, "checkpoint_every"),
    ],
)
def test_bad_config(kw, field):
    with pytest.raises(ValueError, match=f"argument '{field}'"):
        demo.TrainConfig(**kw)


def test_bad_study_arguments(digits, capsys):
    with pytest.raises(ValueError, match="argument 'batch_size' must be at most the"):
        demo.train("relu", digits, demo.TrainConfig(batch_size=5000), progress=False)
    with pytest.raises(ValueError, match="argument 'seeds'"):
        demo.compare(["relu"], seeds=0, data=digits, out=None)
    with pytest.raises(ValueError, match="argument 'depths'"):
        demo.depth(["relu"], depths=[0], data=digits, out=None)
    with pytest.raises(ValueError, match="'old' and 'new'"):
        demo.swap("relu", "relu", data=digits, out=None)
    with pytest.raises(ValueError, match="repeats"):
        demo.compare(["relu", "relu"], data=digits, out=None)
    for argv in (
        ["demo", "depth", "--resume"],
        ["demo", "swap", "--activations", "relu"],
        ["demo", "--old", "tanh"],
        ["demo", "--epochs", "1,2"],
        ["demo", "--epochs", "x"],
    ):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        assert e.value.code == 2, argv
    assert "does not apply" in capsys.readouterr().err
