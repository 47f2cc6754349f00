"""The deploy study: quantization with Qwix, magnitude pruning with a masked fine-tune,
activation statistics; its outputs, options and errors."""

from __future__ import annotations

import contextlib
import io
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxact import cli, demo
from jaxact.demo import deployment
from jaxact.demo.model import MLP

PNG = b"\x89PNG\r\n\x1a\n"
# relu's accuracy after int8 weight-only PTQ is within this many points of float32
# (measured in the quick run: 0.00; one test sample is 0.28 points).
INT8_WEIGHTS_POINTS = 1.0
# relu's exact-zero fraction in the quick run must exceed this (measured 48 %: about half
# of its pre-activations are negative) ...
RELU_ZEROS = 0.25
# ... while gelu's is below this (measured 0.1 %): gelu is zero only where its float32
# value underflows, at pre-activations below about -10.1 (the tanh form; its true value
# there is below the smallest normal float32), which a trained net rarely reaches.
GELU_ZEROS = 0.01


def _json(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def quick(tmp_path_factory) -> tuple[dict, str, str]:
    """`jaxact demo deploy --quick` on relu and gelu (all thirteen take six times as long
    and check nothing more about the program): the JSON, the Markdown and stdout."""
    out = str(tmp_path_factory.mktemp("deploy"))
    argv = ["demo", "deploy", "--quick", "--activations", "relu,gelu", "--out", out]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main([*argv, "--no-progress"]) == 0
    with open(os.path.join(out, "deploy.png"), "rb") as f:
        assert f.read(8) == PNG
    assert os.path.getsize(os.path.join(out, "deploy.png")) > 10_000
    with open(os.path.join(out, "deploy.md"), encoding="utf-8") as f:
        md = f.read()
    return _json(os.path.join(out, "deploy.json")), md, printed.getvalue()


@pytest.mark.slow
def test_quick_run_writes_its_outputs(quick):
    result, md, printed = quick
    assert list(result["float32"]) == ["relu", "gelu"]
    assert result["seeds"] == demo.QUICK["deploy"]["seeds"]
    assert result["config"]["epochs"] == demo.QUICK["deploy"]["epochs"]
    assert result["finetune"]["epochs"] == demo.QUICK["deploy"]["finetune_epochs"]
    assert result["sparsities"] == list(deployment.SPARSITIES)
    assert result["formats"] == [*deployment.FORMATS, f"{deployment.QAT}, QAT"]
    assert result["qwix"] and result["quantization_skipped"] is None
    for name in ("relu", "gelu"):
        assert result["float32"][name][0] > 0.9, name
        for fmt in result["formats"]:
            (acc,) = result["quantization"][name][fmt]
            assert 0 <= acc <= 1, (name, fmt)
        assert set(result["stats"][name]) == {"layers/1", "layers/3", "layers/5", "layers/7", "all"}
    # Every table is in the Markdown and on stdout, every activation in each table.
    tables = result["table"].split("\n\n")
    assert len(tables) == 3
    for table in tables:
        assert table in md and table in printed
        assert "| relu " in table and "| gelu " in table
    assert "Qwix" in md and "deploy.png" in md and "wrote" in printed


@pytest.mark.slow
def test_int8_weights_keep_relu_within_one_point(quick):
    result = quick[0]
    (base,) = result["float32"]["relu"]
    (int8,) = result["quantization"]["relu"]["int8 w"]
    print(f"relu: float32 {100 * base:.2f} %, int8 weights {100 * int8:.2f} %")
    assert abs(100 * (int8 - base)) <= INT8_WEIGHTS_POINTS


@pytest.mark.slow
def test_fine_tuning_recovers_what_pruning_lost_and_keeps_the_zeros(quick):
    result = quick[0]
    for name in ("relu", "gelu"):
        p = result["pruning"][name]["0.9"]
        assert p["fine-tuned"][0] > p["pruned"][0] + 0.05, (name, p)
        # The fine-tune moved no pruned weight: the sparsity is what pruning set, exactly.
        hidden = (128, 128, 128, 128)
        sizes = [a * b for a, b in zip((64, *hidden), (*hidden, 10), strict=True)]
        for s in result["sparsities"]:
            expected = sum(round(s * n) for n in sizes) / sum(sizes)
            assert result["sparsity_measured"][name][f"{s:g}"] == [expected], (name, s)


@pytest.mark.slow
def test_relu_has_free_zeros_and_gelu_almost_none(quick):
    stats = quick[0]["stats"]
    print({n: stats[n]["all"]["zero"] for n in stats})
    assert stats["relu"]["all"]["zero"] > RELU_ZEROS
    assert stats["gelu"]["all"]["zero"] < GELU_ZEROS
    for name in ("relu", "gelu"):
        a = stats[name]["all"]
        assert 0 < a["p999"] <= a["max_abs"] and a["kurtosis"] > 1, (name, a)


def _model(activation: str, scale: float) -> MLP:
    """A 64-16-16-10 MLP whose kernels are N(0, scale^2 / fan_in) from numpy."""
    rng = np.random.default_rng(0)

    def init(key, shape, dtype=jnp.float32):
        return jnp.asarray(rng.standard_normal(shape) * scale / np.sqrt(shape[0]), dtype)

    return MLP(64, (16, 16), 10, activation, rngs=nnx.Rngs(0), kernel_init=init)


def test_activation_stats_by_hand():
    x = np.random.default_rng(1).standard_normal((200, 64)).astype(np.float32)
    model = _model("relu", 1.0)
    stats = deployment.activation_stats(model, x)
    z = np.asarray(model.layers[0](jnp.asarray(x)), np.float64)
    y = np.maximum(z, 0)
    first = stats["layers/1"]
    assert first["zero"] == np.mean(z <= 0)
    assert first["max_abs"] == pytest.approx(y.max(), rel=1e-6)
    # The 99.9th percentile, interpolated linearly between the order statistics around it.
    ordered, at = np.sort(y.ravel()), 0.999 * (y.size - 1)
    lo = int(at)
    p999 = ordered[lo] + (at - lo) * (ordered[lo + 1] - ordered[lo])
    assert first["p999"] == pytest.approx(p999, rel=1e-9)
    c = y - y.mean()
    assert first["kurtosis"] == pytest.approx(np.mean(c**4) / np.mean(c**2) ** 2, rel=1e-5)
    # gelu has no exact zero while its pre-activations stay above its underflow point.
    gelu = deployment.activation_stats(_model("gelu", 1.0), x)
    assert all(s["zero"] == 0 for s in gelu.values())


def test_prune_per_layer():
    model = _model("relu", 1.0)
    pruned = deployment.prune(model, 0.75)
    for before, after in zip(model.layers[::2], pruned.layers[::2], strict=True):
        w, p = np.asarray(before.kernel[...]), np.asarray(after.kernel[...])
        assert np.sum(p == 0) == round(0.75 * w.size)
        kept = p != 0
        np.testing.assert_array_equal(p[kept], w[kept])
        # The survivors are the largest magnitudes.
        assert np.abs(w[kept]).min() >= np.abs(w[~kept]).max()
        np.testing.assert_array_equal(np.asarray(after.bias[...]), np.asarray(before.bias[...]))
    # The model itself is untouched.
    assert np.all(np.asarray(model.layers[0].kernel[...]) != 0)


def test_masked_fine_tune_moves_only_the_kept_weights():
    data = demo.load_digits()
    cfg = demo.TrainConfig(hidden=(16, 16), epochs=1, checkpoint_every=0)
    _, model = demo.train("relu", data, cfg, 0, progress=False, health=False)
    pruned = deployment.prune(model, 0.5)
    _, tuned = demo.train(
        "relu", data, cfg, 0, model=pruned, keep=deployment._keep(pruned), progress=False,
        health=False,
    )  # fmt: skip
    for p, t in zip(pruned.layers[::2], tuned.layers[::2], strict=True):
        before, after = np.asarray(p.kernel[...]), np.asarray(t.kernel[...])
        np.testing.assert_array_equal(after[before == 0], 0)
        assert np.mean(after[before != 0] != before[before != 0]) > 0.99


@pytest.mark.slow
def test_without_qwix_the_study_says_so_and_still_prunes(tmp_path, monkeypatch, capsys):
    def missing():
        raise ImportError("No module named 'qwix'")

    monkeypatch.setattr(deployment, "_import_qwix", missing)
    result = demo.deploy(
        ["relu"], epochs=2, finetune_epochs=1, sparsities=[0.5], out=str(tmp_path),
        progress=False,
    )  # fmt: skip
    said = capsys.readouterr().out
    assert result["quantization"] is None
    assert "qwix cannot be imported" in result["quantization_skipped"]
    assert "jaxact[deploy]" in said and "quantization skipped" in said
    assert result["pruning"]["relu"]["0.5"]["fine-tuned"][0] > 0.5
    with open(tmp_path / "deploy.md", encoding="utf-8") as f:
        assert "Quantization: not run" in f.read()
    assert len(result["table"].split("\n\n")) == 2  # pruning and statistics only


def test_bad_options(capsys, tmp_path):
    for kw, arg in (
        ({"sparsities": [0.5, 1.0]}, "sparsities"),
        ({"sparsities": []}, "sparsities"),
        ({"sparsities": ["half"]}, "sparsities"),
        ({"finetune_epochs": 0}, "finetune_epochs"),
        ({"seeds": 0}, "seeds"),
        ({"activations": ["softmax"]}, "activations"),
        ({"activations": ["nope"]}, "activations"),
    ):
        with pytest.raises(ValueError, match=f"jaxact demo: argument '{arg}'"):
            demo.deploy(**kw, out=None)
    out = str(tmp_path / "o")
    for argv, words in (
        (["demo", "deploy", "--sparsities", "0.5,1.5"], "--sparsities"),
        (["demo", "deploy", "--sparsities", "x"], "--sparsities"),
        (["demo", "deploy", "--finetune-epochs", "0"], "--finetune-epochs"),
        (["demo", "--sparsities", "0.5"], "--sparsities does not apply to 'jaxact demo compare'"),
        (["demo", "deploy", "--depths", "2"], "--depths does not apply to 'jaxact demo deploy'"),
    ):
        with pytest.raises(SystemExit) as e:
            cli.main([*argv, "--out", out])
        assert e.value.code == 2, argv
        assert words in capsys.readouterr().err, argv
    assert not os.path.exists(out)


def test_the_command_to_start_over_parses_back_to_the_same_run():
    import argparse
    import shlex

    from jaxact.demo import cli as demo_cli

    def parsed(argv: list[str]) -> argparse.Namespace:
        parser = argparse.ArgumentParser()
        demo_cli.add_arguments(parser)
        return parser.parse_args(argv)

    args = parsed(["deploy", "--sparsities", "0.5,0.95", "--finetune-epochs", "2", "--quick"])
    command = demo_cli._command(args, resume=False)
    assert command.startswith("jaxact demo deploy --quick ")
    assert vars(parsed(shlex.split(command)[2:])) == vars(args)


@pytest.mark.slow
def test_square_layers_as_wide_as_the_batch_quantize_and_fine_tune():
    # (64, 64) kernels and batches of 64: qwix tells a layer's input from its weight by
    # shape where it cannot trace it, so the QAT steps run in batches of another size.
    config = demo.TrainConfig(hidden=(64, 64), epochs=2)
    result = demo.deploy(
        ["relu"], seeds=1, config=config, finetune_epochs=1, sparsities=[0.5], out=None,
        progress=False, verbose=False,
    )  # fmt: skip
    assert result["finetune"]["qat_batch_size"] == 64 + jax.device_count()
    for fmt, (acc,) in result["quantization"]["relu"].items():
        assert acc > 0.5, fmt


def test_a_square_layer_as_wide_as_the_test_set_is_refused_before_training(capsys):
    test_samples = len(demo.load_digits().y_test)
    config = demo.TrainConfig(hidden=(test_samples, test_samples))
    with pytest.raises(ValueError, match=f"argument 'hidden': a square layer {test_samples}"):
        demo.deploy(["relu"], config=config, out=None, progress=False)
    assert "relu " not in capsys.readouterr().out  # nothing trained
