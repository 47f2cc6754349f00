"""The deploy study: which activations survive quantization and pruning.

Each activation's MLP is trained as in :func:`jaxact.demo.compare`, then deployed
three ways, and the statistics of its activations that explain the outcome are
measured:

- **quantization** with Qwix (``qwix``, Google's quantization library for JAX and
  Flax): post-training quantization (PTQ) to int8 weights, int8 weights with int8
  activations, int4 weights with int8 activations, and the last after a short
  quantization-aware fine-tune (QAT);
- **magnitude pruning** of every ``Linear`` kernel, per layer, at each sparsity,
  with and without a short fine-tune that keeps the pruned weights at zero;
- **activation statistics** of every hidden layer on the test set, from
  :func:`jaxact.monitor.outputs`: the exact-zero fraction (sparsity for free), the
  range (max ``|y|``, 99.9th percentile of ``|y|``) and the kurtosis.

Needs the ``deploy`` extra (``pip install "jaxact[deploy]"``: the demo's packages
and qwix). Without qwix the study says so and runs the pruning and the statistics.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import time
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from jaxact import monitor
from jaxact.demo import data as data_lib
from jaxact.demo import report
from jaxact.demo.cli import DEFAULT_OUT
from jaxact.demo.model import DEFAULT_ACTIVATIONS
from jaxact.demo.studies import (
    _activations,
    _check_seeds,
    _finish,
    _locks_out,
    _pick,
    _say,
    _setup,
)
from jaxact.demo.training import TrainConfig, split, train

__all__ = [
    "DEPLOY_ACTIVATIONS",
    "FORMATS",
    "QAT",
    "SPARSITIES",
    "activation_stats",
    "deploy",
    "prune",
]

# The compare study's activations plus the two bounded ones quantization favours.
DEPLOY_ACTIVATIONS = (*DEFAULT_ACTIVATIONS, "relu6", "hard_swish")
SPARSITIES = (0.5, 0.8, 0.9)
# Post-training quantization formats: name -> (weight qtype, activation qtype or None).
FORMATS: dict[str, tuple[str, str | None]] = {
    "int8 w": ("int8", None),
    "int8 w + int8 a": ("int8", "int8"),
    "int4 w + int8 a": ("int4", "int8"),
}
# The format fine-tuned with quantization in the loop.
QAT = "int4 w + int8 a"
# The fine-tunes' peak learning rates, as fractions of the training's: QAT adjusts a
# trained network to its quantization grid; a pruned one has to relearn.
QAT_LR = 0.1
PRUNE_LR = 1.0


# Flax's deprecation warnings for the API qwix (0.1.8) itself calls: qwix's to fix, not
# the user's, so they are silenced around qwix's calls (and only there).
_QWIX_USES_DEPRECATED = (
    r"The 'm\.iter_modules\(\)' method is deprecated",
    r"'\.value' (access|setter) is now deprecated",
    r"'VariableState' was removed",
)


@contextlib.contextmanager
def _qwix_quietly() -> Iterator[None]:
    with warnings.catch_warnings():
        for message in _QWIX_USES_DEPRECATED:
            warnings.filterwarnings("ignore", message, DeprecationWarning)
        yield


def _import_qwix() -> ModuleType:
    return importlib.import_module("qwix")


def _qwix() -> tuple[ModuleType | None, str | None]:
    """``(qwix, None)``, or ``(None, why)`` when it cannot be imported."""
    try:
        return _import_qwix(), None
    except Exception as e:  # ImportError, or a qwix that fails on import
        return None, (
            f"quantization skipped: qwix cannot be imported ({type(e).__name__}: {e}); "
            "install it with pip install 'jaxact[deploy]'"
        )


def _rule(qwix: ModuleType, fmt: str) -> Any:
    weights, acts = FORMATS[fmt]
    return qwix.QuantizationRule(
        module_path=".*",
        weight_qtype=weights,
        act_qtype=acts,
        # Static activation scales, calibrated once on the training set: what a
        # deployed integer model runs with (dynamic scales cost a reduction per call).
        act_static_scale=acts is not None or None,
    )


def _square_widths(features: int, hidden: Sequence[int], classes: int) -> set[int]:
    """The widths ``w`` of the MLP's square (``w x w``) kernels.

    Where Qwix (0.1.8) cannot trace a ``Linear``'s input back (in the QAT steps, and
    run eagerly), it tells input from weight by shape: a ``(rows, w)`` input of a
    ``(w, w)`` kernel with ``rows == w`` passes for a second weight and fails. The
    study keeps its row counts off these widths.
    """
    widths = [features, *hidden, classes]
    return {a for a, b in zip(widths[:-1], widths[1:], strict=True) if a == b}


def _off(rows: int, square: set[int], step: int) -> int:
    """The first of ``rows, rows + step, ...`` that is no square width."""
    while rows in square:
        rows += step
    return rows


def _ptq(qwix: ModuleType, model: nnx.Module, fmt: str, x_calib: Any) -> nnx.Module:
    """The PTQ model of ``model`` (a copy); its activation scales from ``x_calib``."""
    provider = qwix.PtqProvider([_rule(qwix, fmt)])
    with _qwix_quietly():
        return qwix.quantize_model(model, provider, x_calib)  # type: ignore[no-any-return]


def _qat(
    qwix: ModuleType,
    name: str,
    model: nnx.Module,
    data: data_lib.Dataset,
    cfg: TrainConfig,
    seed: int,
    mesh: jax.sharding.Mesh,
    progress: bool,
    x: Any,
) -> nnx.Module:
    """Fine-tunes ``model`` with ``QAT`` fake quantization, then converts it to PTQ.

    The activation scales are calibrated on ``x`` (the training set) before the
    fine-tune and then frozen (the quantization statistics are not updated in the
    training steps); the weights are quantized afresh in every forward pass, with the
    straight-through gradient. The converted model keeps those scales.
    """
    with _qwix_quietly():
        qt = qwix.quantize_model(model, qwix.QtProvider([_rule(qwix, QAT)]), x)
        qt(x)  # collects the activation statistics of the training set
        qt.set_attributes(disable_quant_stats_update=True)
        _, tuned = train(
            name, data, cfg, seed, mesh=mesh, model=qt, progress=progress, health=False
        )
    return _ptq(qwix, tuned, QAT, x)


def _accuracy(model: nnx.Module, data: data_lib.Dataset) -> float:
    """Test accuracy, run eagerly: each quantized model is a class of its own, which
    ``evaluate``'s compiled program would be compiled again for (one way for every model)."""
    with jax.numpy_dtype_promotion("standard"), _qwix_quietly():
        logits = model(jnp.asarray(data.x_test))
    return float(np.mean(np.argmax(np.asarray(logits), -1) == data.y_test))


def prune(model: nnx.Module, sparsity: float) -> nnx.Module:
    """A copy of an MLP with each ``Linear`` kernel's smallest-magnitude weights set to 0.

    Per layer: every kernel loses ``round(sparsity * size)`` weights (ties broken by
    position); biases and activation parameters are kept.
    """
    pruned = nnx.clone(model)
    for _, module in nnx.iter_modules(pruned):
        if isinstance(module, nnx.Linear):
            w = module.kernel[...]
            k = int(round(sparsity * w.size))
            order = jnp.argsort(jnp.abs(w).ravel(), stable=True)
            mask = jnp.ones(w.size, w.dtype).at[order[:k]].set(0).reshape(w.shape)
            module.kernel[...] = w * mask
    return pruned


def _keep(model: nnx.Module) -> Any:
    """The fine-tune's keep tree (``training.optimizer``): 0 where a kernel is exactly 0."""
    params = split(model)[1]
    return jax.tree.map(
        lambda p: (p != 0).astype(p.dtype) if p.ndim >= 2 else jnp.ones_like(p), params
    )


def _sparsity(model: nnx.Module) -> float:
    """The fraction of exact zeros over every ``Linear`` kernel."""
    kernels = [m.kernel[...] for _, m in nnx.iter_modules(model) if isinstance(m, nnx.Linear)]
    zeros = sum(int(jnp.sum(k == 0)) for k in kernels)
    return zeros / sum(k.size for k in kernels)


def activation_stats(model: nnx.Module, x: Any) -> dict[str, dict[str, float]]:
    """Per activation site of ``model`` on the inputs ``x`` (:func:`jaxact.monitor.outputs`).

    Returns:
      ``{site: {"zero", "max_abs", "p999", "kurtosis"}}``: the fraction of entries
      exactly 0, the largest ``|y|``, the 99.9th percentile of ``|y|`` and the
      kurtosis ``E[(y - mean)^4] / var^2`` (3 for a normal distribution; larger:
      heavier tails, outliers that stretch a quantizer's range), over all entries.
    """
    with jax.numpy_dtype_promotion("standard"):
        outs = monitor.outputs(model, jnp.asarray(x))
    stats = {}
    for key, y in outs.items():
        v = np.asarray(y, dtype=np.float64).ravel()
        a = np.abs(v)
        centred = v - v.mean()
        var = float(np.mean(centred**2))
        stats[key] = {
            "zero": float(np.mean(v == 0)),
            "max_abs": float(a.max()),
            "p999": float(np.quantile(a, 0.999)),
            "kurtosis": float(np.mean(centred**4) / var**2) if var > 0 else float("nan"),
        }
    return stats


def _check_sparsities(values: Any) -> list[float]:
    try:
        out = sorted({float(v) for v in values})
        ok = bool(out) and all(0 < v < 1 for v in out)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            "jaxact demo: argument 'sparsities' must be fractions in (0, 1), e.g. 0.5,0.8,0.9, "
            f"got {values!r}"
        )
    return out


def _check_finetune(epochs: Any) -> int:
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(
            f"jaxact demo: argument 'finetune_epochs' must be an int >= 1, got {epochs!r}"
        )
    return epochs


def _points(values: Sequence[float], base: Sequence[float]) -> tuple[float, float]:
    """Mean ± std over seeds of the accuracy change, in percentage points (to 1e-9: a
    change of nothing is 0, not -0)."""
    m, s = report.mean_std([100 * (v - b) for v, b in zip(values, base, strict=True)])
    return round(m, 9) + 0.0, round(s, 9) + 0.0


@_locks_out("deploy")
def deploy(
    activations: Sequence[str] | str | None = None,
    *,
    seeds: int | None = None,
    epochs: int | None = None,
    finetune_epochs: int | None = None,
    sparsities: Sequence[float] | None = None,
    config: TrainConfig | None = None,
    data: Any = None,
    out: str | None = DEFAULT_OUT,
    quick: bool = False,
    progress: bool = True,
    verbose: bool = True,
    mesh: jax.sharding.Mesh | None = None,
) -> dict[str, Any]:
    """Trains each activation's MLP, then quantizes it (Qwix) and prunes it.

    Per activation and seed: the float32 test accuracy; the accuracy after PTQ to
    each of ``FORMATS`` (activation scales calibrated on the training set) and after
    ``finetune_epochs`` of QAT for ``QAT``; the accuracy after per-layer magnitude
    pruning at each sparsity, before and after ``finetune_epochs`` of fine-tuning with
    the pruned weights held at zero; and :func:`activation_stats` on the test set.
    The fine-tunes use AdamW, without warm-up, at ``QAT_LR`` and ``PRUNE_LR`` times the
    training's peak learning rate. Writes
    ``deploy.md``, ``deploy.json`` and ``deploy.png`` to ``out``.

    Args:
      activations: default ``DEPLOY_ACTIVATIONS`` (compare's eleven, relu6, hard_swish).
      seeds: runs per activation; default 3 (quick: 1).
      epochs: the training budget; default ``config.epochs`` (30; quick: 10).
      finetune_epochs: epochs of each fine-tune; default 3 (quick: 1).
      sparsities: fractions of each kernel pruned; default (0.5, 0.8, 0.9).
      config, data, out, quick, progress, verbose, mesh: as in :func:`compare`.

    Returns:
      ``{"float32", "quantization", "pruning", "stats", "sparsity_measured",
      "table", "files", "wall_time_s", ...}``. ``quantization`` is None (and
      ``quantization_skipped`` says why) when qwix cannot be imported.
    """
    t0 = time.perf_counter()
    names = _activations(activations, DEPLOY_ACTIVATIONS)
    n_seeds = _check_seeds(_pick(seeds, quick, "deploy", "seeds", 3))
    n_ft = _check_finetune(_pick(finetune_epochs, quick, "deploy", "finetune_epochs", 3))
    levels = _check_sparsities(SPARSITIES if sparsities is None else sparsities)
    base = config or TrainConfig()
    n_epochs = _pick(epochs, quick, "deploy", "epochs", base.epochs)
    cfg = dataclasses.replace(base, epochs=n_epochs, checkpoint_every=0)
    cfg_qat, cfg_prune = (
        dataclasses.replace(
            cfg, epochs=n_ft, learning_rate=scale * cfg.learning_rate, warmup_epochs=0
        )
        for scale in (QAT_LR, PRUNE_LR)
    )
    dataset, mesh, env = _setup(data, mesh, verbose, "jaxact demo deploy")
    qwix, skipped = _qwix()
    if skipped:
        _say(verbose, f"jaxact demo deploy: {skipped}")
    formats = [*FORMATS, f"{QAT}, QAT"]
    square = _square_widths(dataset.num_features, cfg.hidden, dataset.num_classes)
    whole = sorted(square & {len(dataset.y_train), len(dataset.y_test)})
    if qwix is not None and whole:
        raise ValueError(
            f"jaxact demo: argument 'hidden': a square layer {whole[0]} wide, as many as the "
            "samples of the training or test set, which qwix cannot quantize (it takes the "
            "layer's whole-set input for a second weight); choose another width"
        )
    # The QAT steps run in batches of a size qwix cannot mistake either (_square_widths).
    cfg_qat = dataclasses.replace(
        cfg_qat, batch_size=_off(cfg_qat.batch_size, square, int(mesh.devices.size))
    )
    x_calib = jnp.asarray(dataset.x_train)
    accuracy: dict[str, list[float]] = {}
    quant: dict[str, dict[str, list[float]]] = {}
    pruning: dict[str, dict[str, dict[str, list[float]]]] = {}
    measured: dict[str, dict[str, list[float]]] = {}
    stats: dict[str, list[dict[str, dict[str, float]]]] = {}
    for name in names:
        accuracy[name], stats[name] = [], []
        quant[name] = {f: [] for f in formats}
        pruning[name] = {f"{s:g}": {"pruned": [], "fine-tuned": []} for s in levels}
        measured[name] = {f"{s:g}": [] for s in levels}
        for seed in range(n_seeds):
            _, model = train(name, dataset, cfg, seed, mesh=mesh, progress=progress, health=False)
            accuracy[name].append(_accuracy(model, dataset))
            stats[name].append(activation_stats(model, dataset.x_test))
            if qwix is not None:
                with jax.numpy_dtype_promotion("standard"):
                    for fmt in FORMATS:
                        ptq = _ptq(qwix, model, fmt, x_calib)
                        quant[name][fmt].append(_accuracy(ptq, dataset))
                    tuned = _qat(qwix, name, model, dataset, cfg_qat, seed, mesh, progress, x_calib)
                    quant[name][formats[-1]].append(_accuracy(tuned, dataset))
            for s in levels:
                key = f"{s:g}"
                pruned = prune(model, s)
                pruning[name][key]["pruned"].append(_accuracy(pruned, dataset))
                _, tuned = train(
                    name,
                    dataset,
                    cfg_prune,
                    seed,
                    mesh=mesh,
                    model=pruned,
                    keep=_keep(pruned),
                    progress=progress,
                    health=False,
                )
                pruning[name][key]["fine-tuned"].append(_accuracy(tuned, dataset))
                measured[name][key].append(_sparsity(tuned))
        _say(verbose, "  " + _line(name, accuracy[name], quant[name], pruning[name], qwix))
    summary_stats = {n: _mean_stats(stats[n]) for n in names}
    table = _tables(names, accuracy, quant if qwix else None, pruning, summary_stats, n_seeds)
    result: dict[str, Any] = {
        "study": "deploy",
        "config": cfg.to_json(),
        "finetune": {
            "epochs": n_ft,
            "qat_learning_rate": cfg_qat.learning_rate,
            "qat_batch_size": cfg_qat.batch_size,
            "prune_learning_rate": cfg_prune.learning_rate,
        },
        "seeds": n_seeds,
        "test_samples": len(dataset.y_test),
        "sparsities": levels,
        "formats": formats,
        "environment": env,
        "qwix": getattr(qwix, "__version__", None) if qwix else None,
        "float32": accuracy,
        "quantization": quant if qwix else None,
        "quantization_skipped": skipped,
        "pruning": pruning,
        "sparsity_measured": measured,
        "stats": summary_stats,
        "stats_per_seed": stats,
        "table": table,
    }
    title = f"{dataset.name}: MLP {list(cfg.hidden)}, {n_seeds} seed(s)"
    return _finish(
        result,
        t0,
        out,
        verbose,
        _deploy_md,
        {"deploy.png": lambda path: report.plot_deploy(path, result, title)},
    )


def _line(
    name: str,
    acc: list[float],
    quant: dict[str, list[float]],
    pruning: dict[str, dict[str, list[float]]],
    qwix: Any,
) -> str:
    parts = [f"{name:<11} float32 {100 * np.mean(acc):.2f} %"]
    if qwix is not None:
        parts += [f"{f} {_points(v, acc)[0]:+.2f}" for f, v in quant.items()]
    deepest = list(pruning)[-1]
    p = pruning[deepest]
    parts.append(
        f"pruned {float(deepest):.0%} {_points(p['pruned'], acc)[0]:+.2f} "
        f"(fine-tuned {_points(p['fine-tuned'], acc)[0]:+.2f})"
    )
    return "   ".join(parts)


def _mean_stats(per_seed: list[dict[str, dict[str, float]]]) -> dict[str, Any]:
    """Per site: each statistic's mean over seeds; plus ``"all"``: over the sites."""
    sites = list(per_seed[0])
    out: dict[str, Any] = {
        site: {k: float(np.mean([s[site][k] for s in per_seed])) for k in per_seed[0][site]}
        for site in sites
    }
    out["all"] = {
        "zero": float(np.mean([out[s]["zero"] for s in sites])),
        "max_abs": float(np.max([out[s]["max_abs"] for s in sites])),
        "p999": float(np.max([out[s]["p999"] for s in sites])),
        "kurtosis": float(np.max([out[s]["kurtosis"] for s in sites])),
    }
    return out


def _pm(mean_std: tuple[float, float], seeds: int) -> str:
    m, s = mean_std
    return f"{m:+.2f}" if seeds == 1 else f"{m:+.2f} ± {s:.2f}"


def _tables(
    names: list[str],
    accuracy: dict[str, list[float]],
    quant: dict[str, dict[str, list[float]]] | None,
    pruning: dict[str, dict[str, dict[str, list[float]]]],
    stats: dict[str, Any],
    seeds: int,
) -> str:
    parts = []
    if quant is not None:
        formats = list(quant[names[0]])
        header = ["activation", "float32 (%)", *(f"{f} (Δ pts)" for f in formats)]
        rows = []
        for n in names:
            m, s = report.mean_std(accuracy[n])
            acc = f"{100 * m:.2f}" if seeds == 1 else f"{100 * m:.2f} ± {100 * s:.2f}"
            rows.append([n, acc, *(_pm(_points(quant[n][f], accuracy[n]), seeds) for f in formats)])
        parts.append(report.markdown_table(header, rows))
    levels = list(pruning[names[0]])
    header = ["activation"]
    for key in levels:
        header += [f"{float(key):.0%} pruned (Δ pts)", f"{float(key):.0%} + fine-tune"]
    rows = []
    for n in names:
        row = [n]
        for key in levels:
            p = pruning[n][key]
            row += [
                _pm(_points(p["pruned"], accuracy[n]), seeds),
                _pm(_points(p["fine-tuned"], accuracy[n]), seeds),
            ]
        rows.append(row)
    parts.append(report.markdown_table(header, rows))
    header = [
        "activation",
        "exact zeros (%)",
        "max abs(y)",
        "p99.9 abs(y)",
        "max / p99.9",
        "kurtosis",
    ]
    rows = []
    for n in names:
        a = stats[n]["all"]
        rows.append(
            [
                n,
                f"{100 * a['zero']:.1f}",
                f"{a['max_abs']:.3g}",
                f"{a['p999']:.3g}",
                f"{a['max_abs'] / a['p999']:.2f}" if a["p999"] > 0 else "-",
                f"{a['kurtosis']:.3g}",
            ]
        )
    parts.append(report.markdown_table(header, rows))
    return "\n\n".join(parts)


def _deploy_md(result: dict[str, Any]) -> str:
    env, cfg, ft = result["environment"], result["config"], result["finetune"]
    seeds = result["seeds"]
    spread = "mean ± std over seeds" if seeds > 1 else "one seed"
    quant = (
        "Quantization: Qwix "
        f"{result['qwix'] or ''} post-training quantization of every `Linear` (weights "
        "per output channel, absmax; activations, the inputs of each `Linear`, with one "
        "static absmax scale per layer calibrated on the training set: the mean over the "
        "samples of each sample's max |x|), and for the int4 case a quantization-aware "
        f"fine-tune of {ft['epochs']} epochs (AdamW, peak {ft['qat_learning_rate']:g}; the "
        "activation scales frozen, weights fake-quantized with the straight-through "
        "gradient) converted to the same PTQ model. Columns: accuracy change from float32 "
        f"in percentage points, {spread}."
        if result["quantization"] is not None
        else f"Quantization: not run: {result['quantization_skipped']}."
    )
    tables = result["table"].split("\n\n")
    q_table = [tables.pop(0), ""] if result["quantization"] is not None else []
    return "\n".join(
        [
            "# jaxact demo deploy: which activations survive quantization and pruning",
            "",
            f"Data: {env['data']}. MLP {cfg['hidden']} trained {cfg['epochs']} epochs with "
            f"AdamW per activation; {seeds} seed(s). One test sample is "
            f"{100 / result['test_samples']:.2f} accuracy points: changes that small are the "
            "resolution of the measurement.",
            "",
            "## Quantization",
            "",
            quant,
            "",
            *q_table,
            "## Magnitude pruning",
            "",
            "Per layer: each `Linear` kernel (hidden and head) loses its smallest-magnitude "
            "weights; biases and activation parameters are kept. *+ fine-tune*: "
            f"{ft['epochs']} epochs of AdamW (peak {ft['prune_learning_rate']:g}, cosine decay) "
            "with the updates of "
            "the pruned weights masked to zero (an optax transform), so the sparsity "
            "holds (measured after the fine-tune: `sparsity_measured` in deploy.json). "
            f"Accuracy change from float32 in percentage points, {spread}.",
            "",
            tables[0],
            "",
            "## Activation statistics",
            "",
            "Every hidden activation's output on the test set (`jaxact.monitor.outputs`), "
            "mean over seeds: exact zeros, mean over layers; max abs(y), p99.9 abs(y) (99.9th "
            "percentile of abs(y)) and kurtosis (E[(y-μ)^4]/σ^4, 3 for a normal distribution), the "
            "largest over layers. Per layer: `stats` in deploy.json.",
            "",
            tables[1],
            "",
            f"Wall time {result['wall_time_s']:.1f} s. Plot: `deploy.png`.",
        ]
    )
