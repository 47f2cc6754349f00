"""The demo's three studies: the seed comparison, the depth study and the swap study."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import jaxact
from jaxact import cli, monitor
from jaxact import nnx as jn
from jaxact._src import registry
from jaxact.demo import data as data_lib
from jaxact.demo import report
from jaxact.demo.cli import DEFAULT_OUT
from jaxact.demo.model import (
    DEFAULT_ACTIVATIONS,
    LEARNABLE,
    MLP,
    check_activation,
    init_of,
)
from jaxact.demo.model import make_activation as _make_activation
from jaxact.demo.training import (
    TrainConfig,
    dumps,
    evaluate,
    folder_lock,
    init_model,
    make_mesh,
    split,
    train,
)

__all__ = [
    "QUICK",
    "compare",
    "depth",
    "swap",
    "init_grad_norms",
    "DEPTH_ACTIVATIONS",
    "DEFAULT_OUT",
]

DEPTH_ACTIVATIONS = ("sigmoid", "tanh", "relu", "selu", "gelu")

# ``quick=True`` settings of each study (anything given explicitly wins).
QUICK: dict[str, dict[str, Any]] = {
    "compare": {"seeds": 2, "epochs": 10},
    "depth": {"depths": (2, 8, 32), "epochs": 4},
    "swap": {"seeds": 2, "epochs": (6, 6)},
    "deploy": {"seeds": 1, "epochs": 10, "finetune_epochs": 1},
}


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _locks_out(study: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Runs the study holding ``out/.jaxact-demo-<study>.lock`` (when ``out`` is not None):
    a second process running the same study into the same folder stops at once with
    ``FolderInUseError`` instead of both writing (and deleting) the same checkpoints and
    files. Different studies write different files and may share a folder. An ``out``
    that cannot be written (a file, or under one) raises ``ValueError`` before anything
    else happens."""

    def wrap(fn: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(fn)
        def locked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            out = kwargs.get("out", DEFAULT_OUT)
            if out is None:
                return fn(*args, **kwargs)
            folder = str(out)
            problem = cli.out_problem(folder)
            if problem is not None:
                raise ValueError(f"jaxact demo: argument 'out': cannot write to {out!r}: {problem}")
            lock = os.path.join(folder, _lock_name(study))
            new_lock, new_folder = not os.path.exists(lock), _first_missing(folder)
            try:
                with folder_lock(folder, _lock_name(study), f"jaxact demo {study}"):
                    return fn(*args, **kwargs)
            except BaseException:
                # Refused or interrupted: no lock file or empty folder of its own left.
                _remove_new(lock if new_lock else None, new_folder)
                raise

        return locked

    return wrap


def _first_missing(folder: str) -> str | None:
    """The outermost folder of ``folder``'s path (itself included) that does not exist."""
    path, missing = os.path.abspath(folder), None
    while not os.path.exists(path):
        path, missing = os.path.dirname(path), path
    return missing


def _remove_new(lock: str | None, top: str | None) -> None:
    """Removes the ``lock`` file, then its folder and the parents up to ``top`` (the
    folders the study created) while they are empty."""
    try:
        if lock is not None:
            os.remove(lock)
            path = os.path.dirname(os.path.abspath(lock))
            while top is not None:
                os.rmdir(path)  # fails unless empty
                if path == top:
                    return
                path = os.path.dirname(path)
    except OSError:
        return


def _say(verbose: bool, *lines: str) -> None:
    if verbose:
        from tqdm import tqdm

        for line in lines:
            tqdm.write(line, file=sys.stdout)


def _pick(value: Any, quick: bool, study: str, key: str, default: Any) -> Any:
    if value is not None:
        return value
    return QUICK[study][key] if quick else default


def _check_seeds(seeds: Any) -> int:
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"jaxact demo: argument 'seeds' must be an int >= 1, got {seeds!r}")
    return seeds


def _activation(name: Any, arg: str = "activations") -> str:
    """``check_activation(name)`` with its errors naming the argument ``arg``."""
    if isinstance(name, str) and name not in LEARNABLE:
        try:
            registry.get(name)
        except registry.UnknownActivationError as e:  # the registry's words, the demo's argument
            raise ValueError(
                f"jaxact demo: argument '{arg}': {str(e).removeprefix('jaxact.get: ')}"
            ) from None
    try:
        return check_activation(name)
    except ValueError as e:
        message = str(e).replace("argument 'activations'", f"argument '{arg}'", 1)
        raise ValueError(message) from None


def _activations(names: Any, default: Sequence[str]) -> list[str]:
    if names is None:
        return list(default)
    if isinstance(names, str):
        names = [n for n in names.split(",") if n]
    names = [_activation(n) for n in names]
    if not names:
        raise ValueError("jaxact demo: argument 'activations' names no activation")
    if len(set(names)) != len(names):
        raise ValueError(f"jaxact demo: argument 'activations' repeats a name: {names}")
    return names


def _environment(dataset: data_lib.Dataset, mesh: jax.sharding.Mesh) -> dict[str, Any]:
    return {
        "data": dataset.describe(),
        "devices": int(mesh.devices.size),
        "platform": jax.devices()[0].platform,
        "device_kind": jax.devices()[0].device_kind,
        "jax": jax.__version__,
    }


def _setup(
    data: Any, mesh: jax.sharding.Mesh | None, verbose: bool, head: str
) -> tuple[data_lib.Dataset, jax.sharding.Mesh, dict[str, Any]]:
    """A study's data set, mesh (default: every device) and environment, announced in one
    line that starts with ``head`` and ends with the devices."""
    dataset = data_lib.load(data)
    mesh = make_mesh() if mesh is None else mesh
    env = _environment(dataset, mesh)
    _say(verbose, f"{head}: {env['data']}; {env['devices']} {env['platform']} device(s)")
    return dataset, mesh, env


def _finish(
    result: dict[str, Any],
    t0: float,
    out: str | None,
    verbose: bool,
    markdown: Callable[[dict[str, Any]], str],
    plots: dict[str, Callable[[str], str]],
) -> dict[str, Any]:
    """Stamps the wall time, writes ``<study>.md``, the plots and ``<study>.json`` to
    ``out`` (unless None) and prints the table and everything the study wrote there.

    ``result["files"]`` lists every path the study wrote to: its files, its checkpoint
    folder (ending in a separator; its size on disk in ``result["checkpoint_bytes"]``)
    and the lock file of the study."""
    result["wall_time_s"] = time.perf_counter() - t0
    result["files"] = []
    if out is None:
        _say(verbose, "", result["table"], "", f"wall time {result['wall_time_s']:.1f} s")
        return result
    report.ensure_dir(out)
    study = result["study"]
    files = [report.write_text(os.path.join(out, f"{study}.md"), markdown(result))]
    files += [plot(os.path.join(out, name)) for name, plot in plots.items()]
    json_path = os.path.join(out, f"{study}.json")
    checkpoints = os.path.join(out, "checkpoints", study)
    said = [*files, json_path]
    files.append(json_path)
    if os.path.isdir(checkpoints):
        size = _bytes_under(checkpoints)
        result["checkpoint_bytes"] = size
        files.append(os.path.join(checkpoints, ""))
        said.append(f"{os.path.join(checkpoints, '')} ({_size(size)})")
    lock = os.path.join(out, _lock_name(study))
    files.append(lock)
    said.append(f"and the lock file {lock}")
    result["files"] = files
    report.write_text(json_path, dumps(result))
    _say(verbose, "", result["table"], "", f"wall time {result['wall_time_s']:.1f} s")
    _say(verbose, "wrote " + ", ".join(said[:-1]) + " " + said[-1])
    return result


def _lock_name(study: str) -> str:
    return f".jaxact-demo-{study}.lock"


def _bytes_under(folder: str) -> int:
    """The size of the files under ``folder``."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
    )


def _size(n: int) -> str:
    """``41 MB``, ``3.2 MB``, ``12 kB``, ``512 B`` (decimal units)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n} B"


def _hidden_grad_norms(grad_norms: dict[str, float], depth: int) -> list[float]:
    """Gradient norms of the hidden ``Linear`` layers (``layers/0, 2, ...``), input first."""
    return [grad_norms[f"layers/{2 * i}"] for i in range(depth)]


def _health_summary(records: Sequence[dict[str, Any]], depth: int) -> dict[str, Any]:
    layers = [r["health"]["layers"] for r in records]
    dead = [max(v["dead"] for v in h.values()) for h in layers]
    saturated = [float(np.mean([v["saturated"] for v in h.values()])) for h in layers]
    keys = list(layers[0])
    std = [float(np.mean([h[k]["std"] for h in layers])) for k in keys]
    grads = [_hidden_grad_norms(r["health"]["grad_norms"], depth) for r in records]
    ratio = [_ratio(g[0], g[-1]) for g in grads]
    return {
        "dead_worst_layer": float(np.mean(dead)),
        "saturated_mean": float(np.mean(saturated)),
        "output_std_per_layer": std,
        "grad_norm_first_over_last": float(np.median(ratio)),
    }


@_locks_out("compare")
def compare(
    activations: Sequence[str] | str | None = None,
    *,
    seeds: int | None = None,
    epochs: int | None = None,
    config: TrainConfig | None = None,
    data: Any = None,
    out: str | None = DEFAULT_OUT,
    quick: bool = False,
    resume: bool = False,
    fresh: bool = False,
    progress: bool = True,
    verbose: bool = True,
    mesh: jax.sharding.Mesh | None = None,
    interrupt_after: int | None = None,
) -> dict[str, Any]:
    """Trains the same MLP with each activation over several seeds and tabulates them.

    For each activation: test accuracy (mean ± std over seeds), final test loss,
    epochs to reach ``config.target_accuracy``, the training step time, and the
    health monitor at the end of training (dead units in the worst layer,
    saturated units, each layer's output std, the gradient norm of the first
    hidden layer over the last's). Writes ``compare.md``, ``compare.json`` and
    ``compare_curves.png`` to ``out`` (None: write nothing, no checkpoints).

    Args:
      activations: names (or a comma-separated string); default
        ``DEFAULT_ACTIVATIONS``. ``"prelu"`` and ``"pau"`` are learnable layers.
      seeds: runs per activation (seeds 0, 1, ...); default 5 (quick: 2).
      epochs: overrides ``config.epochs``; default 30 (quick: 10).
      config: a ``TrainConfig`` (model widths, batch size, optimiser, target, checkpoints).
      data: None (scikit-learn's digits), a ``.npz`` path or a ``Dataset``.
      out: the output folder (default ``jaxact-out/demo``; checkpoints go to
        ``out/checkpoints/compare``, none with ``config.checkpoint_every == 0``), locked
        for the study (another process comparing into it gets ``FolderInUseError``).
      quick: the quick settings of ``QUICK["compare"]``.
      resume: continue each run from its latest checkpoint in ``out`` (verified
        against its digests; a damaged one raises ``CheckpointError`` naming its folder).
      fresh: delete the checkpoints first, readable or not, and train every run from
        scratch (what a run without ``resume`` does, asked for explicitly).
      progress: progress bars.
      verbose: print the table and where the files are.
      mesh: the 1-D ``"data"`` mesh (default: every visible device).
      interrupt_after: stop every run after this many epochs (tests resumption).

    Returns:
      ``{"summary": {activation: figures}, "runs": {activation: [records]},
      "table": markdown, "files": [paths], "wall_time_s", "config", "environment"}``;
      ``files`` lists everything written to ``out``, the checkpoint folder (its size
      in ``"checkpoint_bytes"``) and the study's lock file included.
    """
    t0 = time.perf_counter()
    if resume and fresh:
        raise ValueError("jaxact demo: arguments 'resume' and 'fresh' exclude each other")
    names = _activations(activations, DEFAULT_ACTIVATIONS)
    n_seeds = _check_seeds(_pick(seeds, quick, "compare", "seeds", 5))
    cfg = config or TrainConfig()
    cfg = dataclasses.replace(cfg, epochs=_pick(epochs, quick, "compare", "epochs", cfg.epochs))
    dataset, mesh, env = _setup(data, mesh, verbose, "jaxact demo")
    runs: dict[str, list[dict[str, Any]]] = {}
    summary: dict[str, dict[str, Any]] = {}
    for name in names:
        runs[name] = []
        for seed in range(n_seeds):
            folder = None
            if out is not None:
                folder = os.path.join(out, "checkpoints", "compare", name, f"seed{seed}")
                if not cfg.checkpoint_every and not os.path.isdir(folder):
                    folder = None  # nothing to save, nothing to delete
            record, _ = train(
                name,
                dataset,
                cfg,
                seed,
                mesh=mesh,
                checkpoint_dir=folder,
                resume=resume and folder is not None,
                fresh=fresh,
                progress=progress,
                interrupt_after=interrupt_after,
            )
            runs[name].append(record)
        summary[name] = _summarize(runs[name], cfg)
        s = summary[name]
        _say(
            verbose,
            f"  {name:<11} accuracy {100 * s['accuracy_mean']:.2f} ± "
            f"{100 * s['accuracy_std']:.2f} %   loss {s['test_loss_mean']:.4f}",
        )
    table = _compare_table(summary, cfg, n_seeds)
    result: dict[str, Any] = {
        "study": "compare",
        "config": cfg.to_json(),
        "seeds": n_seeds,
        "environment": env,
        "summary": summary,
        "runs": runs,
        "table": table,
    }
    title = f"{dataset.name}: MLP {list(cfg.hidden)}, {n_seeds} seeds"
    return _finish(
        result,
        t0,
        out,
        verbose,
        _compare_md,
        {"compare_curves.png": lambda path: report.plot_curves(path, runs, title)},
    )


def _summarize(records: Sequence[dict[str, Any]], cfg: TrainConfig) -> dict[str, Any]:
    acc_mean, acc_std = report.mean_std([r["test_accuracy"] for r in records])
    reached = [r["epochs_to_target"] for r in records if r["epochs_to_target"] is not None]
    s: dict[str, Any] = {
        "accuracy_mean": acc_mean,
        "accuracy_std": acc_std,
        "test_loss_mean": report.mean_std([r["test_loss"] for r in records])[0],
        "epochs_to_target_mean": float(np.mean(reached)) if reached else None,
        "reached_target": len(reached),
        "step_time_ms": float(np.mean([r["step_time_ms"] for r in records])),
    }
    if all("health" in r for r in records):
        s.update(_health_summary(records, len(cfg.hidden)))
    return s


def _compare_table(summary: dict[str, dict[str, Any]], cfg: TrainConfig, n_seeds: int) -> str:
    return report.compare_table(summary, cfg.target_accuracy, n_seeds)


def _compare_md(result: dict[str, Any]) -> str:
    cfg, env = result["config"], result["environment"]
    return "\n".join(
        [
            "# jaxact demo: activation comparison",
            "",
            f"Data: {env['data']}. Model: MLP with hidden widths {cfg['hidden']}, "
            "initialised with `jaxact.init_for(activation)`; AdamW "
            f"(peak learning rate {cfg['learning_rate']:g}, weight decay {cfg['weight_decay']:g}, "
            f"{cfg['warmup_epochs']} warm-up epoch(s), cosine decay), batch {cfg['batch_size']}, "
            f"{cfg['epochs']} epochs, {result['seeds']} seeds (mean ± std). "
            f"{env['devices']} {env['platform']} device(s) ({env['device_kind']}), "
            f"jax {env['jax']}.",
            "",
            result["table"],
            "",
            "Health columns: at the end of training on the test set. *dead*: share of units whose "
            "derivative is 0 for every test sample, in the worst layer; *saturated*: share of "
            "entries where a bounded activation's derivative is below 1 % of its maximum, mean "
            "over layers; *grad 1/last*: gradient norm of the first hidden layer's "
            "parameters over the last hidden layer's, on the training set (median over "
            "seeds); each layer's output std is in `compare.json`. Step time: median epoch "
            "time over steps, compiling epochs excluded.",
            "",
            f"Wall time {result['wall_time_s']:.1f} s. Curves: `compare_curves.png`.",
        ]
    )


# ----------------------------------------------------------------------------
# The depth study.


def _lecun(key: Any, shape: Any, dtype: Any = jnp.float32) -> Any:
    return jax.nn.initializers.lecun_normal()(key, shape, dtype)


def init_grad_norms(
    activation: str,
    depth: int,
    *,
    width: int = 64,
    data: Any = None,
    seed: int = 0,
    init: str = "matched",
) -> list[float]:
    """Per-layer gradient norms of a fresh ``depth``-layer MLP on the training set.

    Args:
      activation: a demo activation.
      depth: the number of hidden layers (all ``width`` wide).
      width: the hidden width.
      data: None (digits), a ``.npz`` path or a ``Dataset``.
      seed: initialises the model.
      init: ``"matched"`` (``jaxact.init_for(activation)``) or ``"lecun"``
        (LeCun normal for every activation).

    Returns:
      ``‖∂loss/∂(W, b)‖`` of each hidden ``Linear`` layer, the input layer first
      (cross-entropy on the whole training set).
    """
    if init not in ("matched", "lecun"):
        raise ValueError(f"jaxact demo: argument 'init' must be 'matched' or 'lecun', got {init!r}")
    dataset = data_lib.load(data)
    cfg = TrainConfig(hidden=(width,) * depth)
    with jax.numpy_dtype_promotion("standard"):
        model = init_model(
            activation,
            dataset.num_features,
            dataset.num_classes,
            cfg,
            seed,
            kernel_init=_lecun if init == "lecun" else None,
        )
        norms = _grads_at(model, dataset)
    return _hidden_grad_norms(norms, depth)


def _grads_at(model: MLP, dataset: data_lib.Dataset) -> dict[str, float]:
    import optax

    graphdef, params, rest = split(model)
    x, y = jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train)

    def loss_of(p: Any) -> Any:
        logits = nnx.merge(graphdef, p, rest)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    g = jax.grad(loss_of)(params)
    return {k: float(v) for k, v in monitor.grad_norms(g).items()}


@_locks_out("depth")
def depth(
    activations: Sequence[str] | str | None = None,
    *,
    depths: Sequence[int] | None = None,
    width: int = 64,
    epochs: int | None = None,
    seeds: int = 1,
    config: TrainConfig | None = None,
    data: Any = None,
    out: str | None = DEFAULT_OUT,
    quick: bool = False,
    progress: bool = True,
    verbose: bool = True,
    mesh: jax.sharding.Mesh | None = None,
) -> dict[str, Any]:
    """Plain MLPs of increasing depth: gradient norms at init and accuracy after a budget.

    For each activation and depth: the gradient norm of every hidden layer of a
    fresh net, with the matched initialisation (``jaxact.init_for``) and with
    LeCun normal for comparison, and the test accuracy after ``epochs`` epochs
    of training (matched init; mean over ``seeds``). Writes ``depth.md``,
    ``depth.json`` and ``depth.png`` to ``out``.

    Args:
      activations: default ``DEPTH_ACTIVATIONS`` (sigmoid, tanh, relu, selu, gelu).
      depths: hidden-layer counts; default (2, 4, 8, 16, 32) (quick: (2, 8, 32)).
      width: every hidden layer's width.
      epochs: the training budget per net; default 10 (quick: 4).
      seeds: training runs per activation and depth.
      config: other training settings (``hidden`` and ``epochs`` are set here).
      data, out, quick, progress, verbose, mesh: as in :func:`compare`.

    Returns:
      ``{"grad_norms": {activation: {depth: {"matched": [...], "lecun": [...]}}},
      "accuracy": {activation: {depth: [...]}}, "table", "files", "wall_time_s"}``.
    """
    t0 = time.perf_counter()
    names = _activations(activations, DEPTH_ACTIVATIONS)
    depth_list = list(_pick(depths, quick, "depth", "depths", (2, 4, 8, 16, 32)))
    if not depth_list or any(
        not isinstance(d, int) or isinstance(d, bool) or d < 1 for d in depth_list
    ):
        raise ValueError(f"jaxact demo: argument 'depths' must be positive ints, got {depths!r}")
    depth_list = sorted(set(depth_list))
    n_epochs = _pick(epochs, quick, "depth", "epochs", 10)
    n_seeds = _check_seeds(seeds)
    base = config or TrainConfig()
    dataset, mesh, env = _setup(data, mesh, verbose, "jaxact demo depth")
    norms: dict[str, dict[int, dict[str, list[float]]]] = {}
    accuracy: dict[str, dict[int, list[float]]] = {}
    for name in names:
        norms[name], accuracy[name] = {}, {}
        for d in depth_list:
            norms[name][d] = {
                init: init_grad_norms(name, d, width=width, data=dataset, init=init)
                for init in ("matched", "lecun")
            }
            cfg = dataclasses.replace(
                base, hidden=(width,) * d, epochs=n_epochs, checkpoint_every=0
            )
            accuracy[name][d] = [
                train(name, dataset, cfg, seed, mesh=mesh, progress=progress, health=False)[0][
                    "test_accuracy"
                ]
                for seed in range(n_seeds)
            ]
        deepest = norms[name][depth_list[-1]]["matched"]
        _say(
            verbose,
            f"  {name:<8} accuracy by depth "
            + " ".join(f"{d}:{100 * np.mean(accuracy[name][d]):.1f}%" for d in depth_list)
            + f"   depth {depth_list[-1]} grad norm layer 1 / last "
            + _fmt_ratio(_ratio(deepest[0], deepest[-1])),
        )
    table = _depth_table(norms, accuracy, depth_list)
    result: dict[str, Any] = {
        "study": "depth",
        "width": width,
        "depths": depth_list,
        "epochs": n_epochs,
        "seeds": n_seeds,
        "environment": env,
        "grad_norms": norms,
        "accuracy": accuracy,
        "table": table,
    }
    deepest_norms = {n: norms[n][depth_list[-1]] for n in names}
    title = f"{dataset.name}: plain MLPs of width {width}, {n_epochs} epochs each"
    return _finish(
        result,
        t0,
        out,
        verbose,
        _depth_md,
        {
            "depth.png": lambda path: report.plot_depth(
                path, deepest_norms, accuracy, depth_list[-1], title
            )
        },
    )


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else (math.inf if a > 0 else math.nan)


def _fmt_ratio(r: float) -> str:
    return "0 (underflow)" if r == 0 else f"{r:.2g}"


def _depth_table(
    norms: dict[str, dict[int, dict[str, list[float]]]],
    accuracy: dict[str, dict[int, list[float]]],
    depth_list: list[int],
) -> str:
    deepest = depth_list[-1]
    header = [
        "activation",
        *(f"acc. depth {d} (%)" for d in depth_list),
        f"grad layer 1 / {deepest}, matched init",
        "max / min over layers",
        f"grad layer 1 / {deepest}, LeCun init",
    ]
    rows = []
    for name in norms:
        g = norms[name][deepest]["matched"]
        lecun = norms[name][deepest]["lecun"]
        rows.append(
            [
                name,
                *(f"{100 * np.mean(accuracy[name][d]):.1f}" for d in depth_list),
                _fmt_ratio(_ratio(g[0], g[-1])),
                f"{_ratio(max(g), min(g)):.3g}",
                _fmt_ratio(_ratio(lecun[0], lecun[-1])),
            ]
        )
    return report.markdown_table(header, rows)


def _depth_md(result: dict[str, Any]) -> str:
    env = result["environment"]
    return "\n".join(
        [
            "# jaxact demo depth: vanishing gradients and how init + activation fix them",
            "",
            f"Data: {env['data']}. Plain MLPs (no normalisation) of width {result['width']} "
            f"with {', '.join(map(str, result['depths']))} hidden layers; gradient norms "
            "of each hidden layer's parameters at initialisation on the whole training set; "
            f"accuracy after {result['epochs']} epochs of AdamW with the matched "
            f"initialisation `jaxact.init_for(activation)` (mean over {result['seeds']} "
            "seed(s)).",
            "",
            result["table"],
            "",
            "*grad layer 1 / L*: gradient norm next to the input over the one next to the "
            "output, at initialisation: far below 1 means gradients vanish on their way "
            "back; 0 means they underflowed float32 before reaching the first layer. "
            "*max / min*: the spread over all layers. Per-layer curves: `depth.png`.",
            "",
            f"Wall time {result['wall_time_s']:.1f} s.",
        ]
    )


# ----------------------------------------------------------------------------
# The swap study.


def _reinit(model: Any, activation: str, seed: int) -> None:
    """Redraws every Linear layer with the initialisation matched to ``activation``."""
    key = jax.random.fold_in(jax.random.key(seed), 2)
    linears = [m for m in model.layers if isinstance(m, nnx.Linear)]
    for i, layer in enumerate(linears):
        init = jaxact.init_for("linear") if i == len(linears) - 1 else init_of(activation)
        kernel = layer.kernel[...]
        layer.kernel[...] = init(jax.random.fold_in(key, i), kernel.shape, kernel.dtype)
        if layer.bias is not None:
            layer.bias[...] = jnp.zeros_like(layer.bias[...])


def _swapped(model: Any, old: str, new: str) -> MLP:
    replacement: Any = new
    if new in LEARNABLE:
        hidden = [m.out_features for m in list(model.layers)[:-1] if isinstance(m, nnx.Linear)]
        if len(set(hidden)) != 1:
            raise ValueError(
                f"jaxact demo: argument 'new': swapping in the learnable {new!r} needs equal "
                f"hidden widths, got {hidden}"
            )
        replacement = _make_activation(new, hidden[0])[0]
    swapped: MLP = jn.swap_activations(model, old, replacement)
    return swapped


@_locks_out("swap")
def swap(
    old: str = "sigmoid",
    new: str = "relu",
    *,
    epochs: tuple[int, int] | None = None,
    seeds: int | None = None,
    config: TrainConfig | None = None,
    data: Any = None,
    out: str | None = DEFAULT_OUT,
    quick: bool = False,
    progress: bool = True,
    verbose: bool = True,
    mesh: jax.sharding.Mesh | None = None,
) -> dict[str, Any]:
    """Trains an ``old`` network, swaps its activations to ``new``, trains on.

    Three arms continue from the network trained for ``epochs[0]`` epochs, each
    for ``epochs[1]`` more with a fresh optimiser (same schedule): *continue*
    (``old`` kept), *swap, keep weights* (``jaxact.nnx.swap_activations``, the
    trained weights kept) and *swap, re-init* (swapped, then every layer redrawn
    with ``jaxact.init_for(new)``: what was learned is discarded). Reports the
    accuracy at the swap, right after it (before any training) and at the end.
    Writes ``swap.md``, ``swap.json`` and ``swap.png`` to ``out``.

    Args:
      old, new: demo activations.
      epochs: ``(before, after)`` the swap; default (15, 15) (quick: (6, 6)).
      seeds: default 3 (quick: 2).
      config, data, out, quick, progress, verbose, mesh: as in :func:`compare`.
    """
    t0 = time.perf_counter()
    old, new = _activation(old, "old"), _activation(new, "new")
    if old == new:
        raise ValueError(f"jaxact demo: arguments 'old' and 'new' are both {old!r}")
    e1, e2 = _pick(epochs, quick, "swap", "epochs", (15, 15))
    n_seeds = _check_seeds(_pick(seeds, quick, "swap", "seeds", 3))
    base = config or TrainConfig()
    dataset, mesh, env = _setup(data, mesh, verbose, f"jaxact demo swap: {old} → {new}")
    arms = {
        f"continue {old}": "continue",
        f"swap to {new}, keep weights": "keep",
        f"swap to {new}, re-init": "reinit",
    }
    before: list[list[float]] = []
    at_swap: list[float] = []
    histories: dict[str, list[list[float]]] = {a: [] for a in arms}
    right_after: dict[str, list[float]] = {a: [] for a in arms}
    final: dict[str, list[float]] = {a: [] for a in arms}
    final_loss: dict[str, list[float]] = {a: [] for a in arms}
    cfg1 = dataclasses.replace(base, epochs=e1, checkpoint_every=0)
    cfg2 = dataclasses.replace(base, epochs=e2, checkpoint_every=0)
    for seed in range(n_seeds):
        record, trained = train(
            old, dataset, cfg1, seed, mesh=mesh, progress=progress, health=False
        )
        before.append(record["history"]["test_accuracy"])
        at_swap.append(record["test_accuracy"])
        for arm, kind in arms.items():
            if kind == "continue":
                model, act = nnx.clone(trained), old
            else:
                model, act = _swapped(trained, old, new), new
                if kind == "reinit":
                    _reinit(model, new, seed)
            right_after[arm].append(evaluate(model, dataset)[1])
            rec, _ = train(
                act, dataset, cfg2, seed, mesh=mesh, progress=progress, model=model, health=False
            )
            histories[arm].append(rec["history"]["test_accuracy"])
            final[arm].append(rec["test_accuracy"])
            final_loss[arm].append(rec["test_loss"])
    header = [
        "arm",
        f"accuracy at the swap (epoch {e1}, %)",
        "right after the swap (%)",
        f"after {e2} more epochs (%)",
        "final test loss",
    ]

    def pm(values: Sequence[float]) -> str:
        m, s = report.mean_std(values)
        return f"{100 * m:.2f} ± {100 * s:.2f}"

    rows = [
        [
            arm,
            pm(at_swap),
            pm(right_after[arm]),
            pm(final[arm]),
            f"{report.mean_std(final_loss[arm])[0]:.4f}",
        ]
        for arm in arms
    ]
    table = report.markdown_table(header, rows)
    result: dict[str, Any] = {
        "study": "swap",
        "old": old,
        "new": new,
        "epochs": [e1, e2],
        "seeds": n_seeds,
        "config": cfg1.to_json(),
        "environment": env,
        "before": before,
        "accuracy_at_swap": at_swap,
        "accuracy_right_after_swap": right_after,
        "history_after": histories,
        "final_accuracy": final,
        "final_test_loss": final_loss,
        "table": table,
    }
    title = f"{dataset.name}: {old} for {e1} epochs, then {e2} more"
    return _finish(
        result,
        t0,
        out,
        verbose,
        _swap_md,
        {"swap.png": lambda path: report.plot_swap(path, before, histories, right_after, title)},
    )


def _swap_md(result: dict[str, Any]) -> str:
    env, cfg = result["environment"], result["config"]
    old, new = result["old"], result["new"]
    e1, e2 = result["epochs"]
    return "\n".join(
        [
            f"# jaxact demo swap: {old} → {new}",
            "",
            f"Data: {env['data']}. MLP {cfg['hidden']} trained with {old} for {e1} "
            f"epochs, then each arm trained {e2} more epochs with a fresh AdamW "
            f"(same schedule); {result['seeds']} seeds (mean ± std). *keep weights*: "
            "`jaxact.nnx.swap_activations(model, old, new)` on the trained model; "
            "*re-init*: swapped, then every layer redrawn with `jaxact.init_for(new)`.",
            "",
            result["table"],
            "",
            f"Wall time {result['wall_time_s']:.1f} s. Curves: `swap.png`.",
        ]
    )
