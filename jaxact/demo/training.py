"""Data-parallel training of the demo MLP with optax, checkpointed with orbax.

One code path for one device and many: a 1-D ``Mesh`` over the devices (axis
``"data"``), the parameters and optimiser state replicated, each batch sharded
along its batch axis; XLA inserts the gradient all-reduce. One epoch is one
compiled ``lax.scan`` over its batches, so Python is not in the step loop; the
compiled functions are cached per architecture, so every seed after the first
reuses them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, cast

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxact import monitor
from jaxact.demo.data import Dataset
from jaxact.demo.model import MLP

try:  # POSIX; elsewhere the demo runs without folder locks
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "TrainConfig",
    "CheckpointError",
    "FolderInUseError",
    "folder_lock",
    "make_mesh",
    "init_model",
    "train",
    "evaluate",
    "evaluate_health",
    "split",
    "summarize",
]

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """How one network is trained (hashable: it keys the compiled functions).

    Attributes:
      hidden: the hidden layer widths of the MLP.
      epochs: passes over the training set.
      batch_size: samples per step (a multiple of the number of devices); the
        last incomplete batch of an epoch is dropped.
      learning_rate: AdamW's peak learning rate.
      weight_decay: AdamW's decoupled weight decay, on the kernels only.
      warmup_epochs: linear warm-up from 0, then cosine decay to 1 % of the peak.
      target_accuracy: the test accuracy whose first epoch is reported.
      checkpoint_every: save an orbax checkpoint every this many epochs (and at
        the end); 0 saves none (and a run without resume still deletes the old ones).
    """

    hidden: tuple[int, ...] = (128, 128, 128, 128)
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 1
    target_accuracy: float = 0.95
    checkpoint_every: int = 5

    def __post_init__(self) -> None:
        def bad(field: str, why: str) -> ValueError:
            value = getattr(self, field)
            return ValueError(f"jaxact demo: argument '{field}' {why}, got {value!r}")

        def integer(field: str, low: int) -> None:
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise bad(field, f"must be an int >= {low}")

        object.__setattr__(self, "hidden", tuple(self.hidden))
        if not self.hidden or any(
            not isinstance(w, int) or isinstance(w, bool) or w < 1 for w in self.hidden
        ):
            raise bad("hidden", "must be one or more positive int widths")
        integer("epochs", 1)
        integer("batch_size", 1)
        integer("warmup_epochs", 0)
        integer("checkpoint_every", 0)
        for field in ("learning_rate", "weight_decay"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise bad(field, "must be a finite number >= 0")
        if not 0 < self.target_accuracy <= 1:
            raise bad("target_accuracy", "must be in (0, 1]")

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def make_mesh(devices: Any = None) -> Mesh:
    """A 1-D mesh with axis ``"data"`` over ``devices`` (default: every visible device)."""
    devices = jax.devices() if devices is None else list(devices)
    return Mesh(np.array(devices), ("data",))


def _replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def optimizer(
    cfg: TrainConfig, steps_per_epoch: int, keep: Any = None
) -> optax.GradientTransformation:
    """AdamW with linear warm-up and cosine decay; no weight decay on biases/activations.

    ``keep``: a pytree like the parameters of 0/1 arrays; the updates are multiplied
    by it (after AdamW's weight decay), so a weight whose entry is 0 never changes: a
    pruned weight stays exactly zero while the others fine-tune.
    """
    total = cfg.epochs * steps_per_epoch
    warmup = min(cfg.warmup_epochs * steps_per_epoch, total - 1)
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, cfg.learning_rate, warmup, total, end_value=0.01 * cfg.learning_rate
    )
    adamw = optax.adamw(
        schedule,
        weight_decay=cfg.weight_decay,
        mask=lambda tree: jax.tree.map(lambda p: p.ndim >= 2, tree),
    )
    if keep is None:
        return adamw
    frozen = optax.stateless(lambda updates, params: jax.tree.map(jnp.multiply, updates, keep))
    return optax.chain(adamw, frozen)


class _Graph:
    """A GraphDef as a static jit argument: hashed by its text, equal when equal.

    (A GraphDef whose modules hold dicts, e.g. ``Activation.params``, has no hash.)
    """

    def __init__(self, graphdef: Any):
        self.graphdef = graphdef
        self._hash = hash(repr(graphdef))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Graph) and bool(self.graphdef == other.graphdef)


def _loss(graph: _Graph, params: Any, rest: Any, x: Array, y: Array) -> tuple[Array, Array]:
    logits = nnx.merge(graph.graphdef, params, rest)(x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    correct = jnp.mean((jnp.argmax(logits, -1) == y).astype(jnp.float32))
    return loss, correct


@functools.partial(jax.jit, static_argnames=("n", "steps", "batch_size"))
def _order(shuffle: Array, epoch: Array, *, n: int, steps: int, batch_size: int) -> Array:
    """The sample indices of one epoch's batches, ``(steps, batch_size)``.

    A program of its own, shared by every architecture trained on the same data
    (the permutation costs a quarter of a small network's epoch program to compile).
    """
    order = jax.random.permutation(jax.random.fold_in(shuffle, epoch), n)
    return order[: steps * batch_size].reshape(steps, batch_size)


@functools.partial(jax.jit, static_argnames=("graphdef", "cfg", "steps", "mesh"))
def _epoch(
    params: Any,
    rest: Any,
    opt_state: Any,
    order: Array,
    x: Array,
    y: Array,
    keep: Any,
    *,
    graphdef: _Graph,
    cfg: TrainConfig,
    steps: int,
    mesh: Mesh,
) -> tuple[Any, Any, Array]:
    """One pass over the batches ``x[order]``: ``steps`` AdamW steps in a scan; returns
    the mean batch loss. ``keep``: as in :func:`optimizer` (None: every weight trains)."""
    tx = optimizer(cfg, steps, keep)
    batches = NamedSharding(mesh, P(None, "data"))
    xb = jax.lax.with_sharding_constraint(x[order], batches)
    yb = jax.lax.with_sharding_constraint(y[order], batches)

    def step(carry: Any, batch: tuple[Array, Array]) -> tuple[Any, Array]:
        params, opt_state = carry
        (loss, _), grads = jax.value_and_grad(
            lambda p: _loss(graphdef, p, rest, *batch), has_aux=True
        )(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), (xb, yb))
    return params, opt_state, losses.mean()


@functools.partial(jax.jit, static_argnames=("graphdef",))
def _evaluate(
    params: Any, rest: Any, x: Array, y: Array, *, graphdef: _Graph
) -> tuple[Array, Array]:
    return _loss(graphdef, params, rest, x, y)


def split(model: nnx.Module) -> tuple[Any, Any, Any]:
    """``(graphdef, params, rest)``: the trainable ``nnx.Param`` state and everything else."""
    return cast(tuple[Any, Any, Any], nnx.split(model, nnx.Param, ...))


def init_model(
    activation: str,
    num_features: int,
    num_classes: int,
    cfg: TrainConfig,
    seed: int,
    kernel_init: Callable[..., Any] | None = None,
) -> MLP:
    """The MLP for ``activation``, initialised from ``seed``."""
    return MLP(
        num_features,
        cfg.hidden,
        num_classes,
        activation,
        rngs=nnx.Rngs(jax.random.fold_in(jax.random.key(seed), 0)),
        kernel_init=kernel_init,
    )


def evaluate(model: nnx.Module, data: Dataset) -> tuple[float, float]:
    """``(test loss, test accuracy)`` of a model on the data set's test split."""
    graphdef, params, rest = split(model)
    with jax.numpy_dtype_promotion("standard"):
        loss, acc = _evaluate(
            params,
            rest,
            jnp.asarray(data.x_test),
            jnp.asarray(data.y_test),
            graphdef=_Graph(graphdef),
        )
    return float(loss), float(acc)


def _floats(tree: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _floats(v) if isinstance(v, Mapping) else float(v) for k, v in tree.items()}


def _grad_norms(graph: _Graph, params: Any, rest: Any, x: Array, y: Array) -> dict[str, Array]:
    grads = jax.grad(lambda p: _loss(graph, p, rest, x, y)[0])(params)
    return monitor.grad_norms(grads)


@functools.partial(jax.jit, static_argnames=("graph",))
def _health(
    params: Any,
    rest: Any,
    x_test: Array,
    y_test: Array,
    x_train: Array,
    y_train: Array,
    *,
    graph: _Graph,
) -> tuple[Any, dict[str, Array]]:
    model = nnx.merge(graph.graphdef, params, rest)

    def loss(logits: Array) -> Array:
        return optax.softmax_cross_entropy_with_integer_labels(logits, y_test).mean()

    sites = monitor.health(model, x_test, loss=loss)
    return sites, _grad_norms(graph, params, rest, x_train, y_train)


def evaluate_health(model: nnx.Module, data: Dataset) -> dict[str, Any]:
    """The health monitor on the test set and per-layer gradient norms on the training set.

    ``layers``: :func:`jaxact.monitor.health` per activation site (``"layers/1"``,
    ...), the arriving gradient norm that of the test loss; ``grad_norms``: the
    training-loss gradient norm per parameterised layer.

    One compiled program (cached per architecture) for both: run eagerly, the
    monitor and the backward pass compile each of their many small operations.
    """
    graphdef, params, rest = split(model)
    with jax.numpy_dtype_promotion("standard"):
        layers, norms = _health(
            params,
            rest,
            jnp.asarray(data.x_test),
            jnp.asarray(data.y_test),
            jnp.asarray(data.x_train),
            jnp.asarray(data.y_train),
            graph=_Graph(graphdef),
        )
    return {"layers": _floats(layers), "grad_norms": _floats(norms)}


MANIFEST = "jaxact-manifest.json"
"""The file in a run's checkpoint folder that names its latest complete checkpoint and
holds the size and SHA-256 digest of each of its files, and the digest of each saved
array and of the record."""
LOCK = ".jaxact-demo.lock"
_MANIFEST_FORMAT = 1


class CheckpointError(ValueError):
    """A run's checkpoint cannot be resumed: missing, incomplete, unreadable, altered or
    written by another run.

    ``folder`` is the run's checkpoint folder and ``problem`` says in a few words what
    is wrong with it; ``str(error)`` is one line naming both and the way out
    (``fresh=True``, the CLI's ``--fresh``, which deletes the run's checkpoints).
    """

    def __init__(self, folder: str, problem: str):
        self.folder = folder
        self.problem = problem
        super().__init__(
            f"jaxact demo: argument 'resume': checkpoint folder {folder!r} cannot be resumed: "
            f"{problem}; start it afresh with fresh=True (jaxact demo --fresh), which deletes "
            "its checkpoints"
        )


class FolderInUseError(RuntimeError):
    """Another process holds the lock of a demo output or checkpoint folder.

    ``message`` names the folder and its holder (``folder {path!r} is in use by another
    jaxact demo compare (pid 123)``); ``str(error)`` adds what to do.
    """

    def __init__(self, folder: str, who: str, holder: str):
        self.folder = folder
        pid = f" (pid {holder})" if holder.isdigit() else ""
        self.message = f"folder {folder!r} is in use by another {who}{pid}"
        super().__init__(
            f"jaxact demo: {self.message}; wait for it to finish or use another folder"
        )


@contextlib.contextmanager
def folder_lock(folder: str, name: str = LOCK, who: str = "jaxact demo") -> Iterator[None]:
    """Holds an exclusive lock on ``folder/name`` (created with ``folder``) for the block.

    ``who`` is what :class:`FolderInUseError` calls the holder.

    Raises :class:`FolderInUseError` at once when another process (or another open
    of the same lock in this one) holds it. The lock is ``flock``'s: the system drops
    it when its holder exits, however it ends. Without ``fcntl`` (Windows) nothing is
    locked.
    """
    os.makedirs(folder, exist_ok=True)
    if fcntl is None:  # pragma: no cover - not POSIX
        yield
        return
    with open(os.path.join(folder, name), "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            raise FolderInUseError(os.path.abspath(folder), who, f.read().strip()) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        yield  # closing the file releases the lock


def _digest(a: Any) -> dict[str, Any]:
    """``{"dtype", "shape", "sha256"}`` of an array: the digest covers all three."""
    host = np.ascontiguousarray(jax.device_get(a))
    h = hashlib.sha256(f"{host.dtype.name}{host.shape}".encode())
    h.update(host.tobytes())
    return {"dtype": host.dtype.name, "shape": list(host.shape), "sha256": h.hexdigest()}


def _record_digest(record: Mapping[str, Any]) -> str:
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _file_digests(folder: str) -> dict[str, dict[str, Any]]:
    """``{relative path: {"size", "sha256"}}`` of every file under ``folder``."""
    files = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            files[rel] = {"size": os.path.getsize(path), "sha256": h.hexdigest()}
    return files


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Holds back Ctrl-C (SIGINT) until the block ends, then raises ``KeyboardInterrupt``.

    Around orbax's saves and the manifest: interrupted midway, orbax's background
    threads print tracebacks at exit and a save is left half done; deferred, the save
    finishes (a fraction of a second) and the run can resume from it. Only where Python's
    own handler is installed, in the main thread (a handler of the caller's is kept).
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def _is_step(name: str) -> bool:
    """An orbax step folder (``12``) or an unfinished one (``12.orbax-checkpoint-tmp-...``)."""
    head, _, tail = name.partition(".")
    return head.isdigit() and (not tail or tail.startswith("orbax-checkpoint-tmp"))


# What orbax and tensorstore raise for a missing, truncated or garbled file: OSError
# (FileNotFoundError), ValueError (tensorstore's status errors, JSONDecodeError),
# KeyError (a metadata entry missing) and a bare Exception (orbax's wrapper of a failed
# tensorstore read). Anything else (TypeError, AttributeError, ...) is a bug and not caught.
_READ_ERRORS = (OSError, ValueError, KeyError)


def _unreadable(e: Exception) -> bool:
    return type(e) is Exception or isinstance(e, _READ_ERRORS)


class _Checkpoints:
    """orbax checkpoints of one run, verified: the flat state leaves plus a JSON record.

    The run's folder holds orbax step folders (one at a time) and :data:`MANIFEST`,
    written once orbax has finished a step: that step, the size and SHA-256 digest of
    every file orbax wrote for it, and the digest of each saved array and of the
    record. A restore checks the files before orbax reads them (a truncated or
    missing file can fail orbax's reads midway, with its background reads still
    reporting errors afterwards), then the digests of what it restored; a step the
    manifest does not name is incomplete and never restored. A new run writes a
    manifest naming no step, so that a folder without one was emptied, damaged or
    written by an older jaxact. The folder is locked while the run uses it.
    """

    def __init__(self, directory: str, *, resume: bool):
        import orbax.checkpoint as ocp

        self._ocp = ocp
        self.directory = os.path.abspath(directory)
        self.step: int | None = None
        self._manifest: dict[str, Any] = {}
        existed = os.path.isdir(self.directory)
        self._stack = contextlib.ExitStack()
        with _interrupts_deferred():
            self._open(existed, resume, ocp)

    def _open(self, existed: bool, resume: bool, ocp: Any) -> None:
        self._stack.enter_context(folder_lock(self.directory))
        try:
            if resume and existed:
                self._manifest = self._read_manifest()
                self.step = self._manifest["step"]
                # Steps the manifest does not name: unfinished saves of an interrupted run,
                # or the previous step of one interrupted while deleting it.
                self._delete_steps(keep=self.step)
                if self.step is not None:
                    self._check_files()
            else:
                self._delete_steps(keep=None)
                self._write_manifest({"format": _MANIFEST_FORMAT, "step": None})
            try:
                self.manager = ocp.CheckpointManager(
                    self.directory,
                    options=ocp.CheckpointManagerOptions(max_to_keep=None, create=True),
                    item_names=("state", "record"),
                )
            except Exception as e:
                if not _unreadable(e):
                    raise
                raise self.error(f"orbax cannot open it ({type(e).__name__})") from e
        except BaseException:
            self._stack.close()
            raise

    def error(self, problem: str) -> CheckpointError:
        return CheckpointError(self.directory, problem)

    def _delete_steps(self, keep: int | None) -> None:
        for name in os.listdir(self.directory):
            path = os.path.join(self.directory, name)
            if _is_step(name) and name != str(keep) and os.path.isdir(path):
                shutil.rmtree(path)

    def _read_manifest(self) -> dict[str, Any]:
        path = os.path.join(self.directory, MANIFEST)
        try:
            with open(path, encoding="utf-8") as f:
                manifest = json.load(f)
        except FileNotFoundError:
            raise self.error(
                f"it has no {MANIFEST} (emptied, incomplete, or written by an older jaxact)"
            ) from None
        except (OSError, ValueError) as e:
            raise self.error(f"its {MANIFEST} is unreadable ({type(e).__name__})") from e
        step = manifest.get("step", -1) if isinstance(manifest, dict) else -1
        ok = manifest.get("format") == _MANIFEST_FORMAT if isinstance(manifest, dict) else False
        if step is not None:
            ok = ok and isinstance(step, int) and not isinstance(step, bool) and step >= 1
            leaves, files = manifest.get("leaves"), manifest.get("files")
            ok = ok and isinstance(manifest.get("record"), str) and isinstance(leaves, list)
            ok = ok and all(
                isinstance(d, dict) and set(d) == {"dtype", "shape", "sha256"} for d in leaves
            )
            ok = ok and isinstance(files, dict) and len(files) > 0
            ok = ok and all(
                isinstance(d, dict) and set(d) == {"size", "sha256"} for d in files.values()
            )
        if not ok:
            raise self.error(f"its {MANIFEST} is malformed")
        return cast(dict[str, Any], manifest)

    def _check_files(self) -> None:
        """Every file orbax wrote for the manifest's step is there, whole and unchanged:
        checked before orbax reads any (a damaged file can fail its reads midway)."""
        step = self.step
        folder = os.path.join(self.directory, str(step))
        if not os.path.isdir(folder):
            raise self.error(f"its step folder {step} is missing")
        found = _file_digests(folder)
        for rel, want in self._manifest["files"].items():
            got = found.get(rel)
            if got is None:
                raise self.error(f"its file {step}/{rel} is missing")
            if got["size"] != want["size"]:
                raise self.error(
                    f"its file {step}/{rel} has {got['size']} bytes, {want['size']} when saved "
                    "(truncated or altered)"
                )
            if got["sha256"] != want["sha256"]:
                raise self.error(
                    f"its file {step}/{rel} does not match the digest in {MANIFEST} "
                    "(altered or corrupted)"
                )

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        path = os.path.join(self.directory, MANIFEST)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        self._manifest = manifest

    def save(self, epoch: int, leaves: list[Array], record: dict[str, Any]) -> None:
        """Saves step ``epoch``, waits for orbax, then names it in the manifest and
        deletes the step before it (Ctrl-C waits for all of it)."""
        with _interrupts_deferred():
            self._save(epoch, leaves, record)

    def _save(self, epoch: int, leaves: list[Array], record: dict[str, Any]) -> None:
        ocp = self._ocp
        self.manager.save(
            epoch,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave({"leaves": leaves}),
                record=ocp.args.JsonSave(record),
            ),
        )
        digests = [_digest(a) for a in leaves]
        self.manager.wait_until_finished()
        self._write_manifest(
            {
                "format": _MANIFEST_FORMAT,
                "step": epoch,
                "leaves": digests,
                "record": _record_digest(record),
                "files": _file_digests(os.path.join(self.directory, str(epoch))),
            }
        )
        self.step = epoch
        for step in self.manager.all_steps():
            if step != epoch:
                self.manager.delete(step)

    def restore_record(self) -> dict[str, Any]:
        """The record of the manifest's step, checked against its digest."""
        ocp, step = self._ocp, self.step
        try:
            got = self.manager.restore(step, args=ocp.args.Composite(record=ocp.args.JsonRestore()))
            record = got["record"]
        except Exception as e:
            if not _unreadable(e):
                raise
            raise self.error(
                f"the record (history) of step {step} is unreadable ({type(e).__name__})"
            ) from e
        if not isinstance(record, dict) or _record_digest(record) != self._manifest["record"]:
            raise self.error(
                f"the record (history) of step {step} does not match the digest in {MANIFEST}"
            )
        return record

    def restore_leaves(self, like: list[Array]) -> list[Array]:
        """The arrays of the manifest's step, each checked against its digest."""
        ocp, step = self._ocp, self.step
        try:
            got = self.manager.restore(
                step, args=ocp.args.Composite(state=ocp.args.StandardRestore({"leaves": like}))
            )
            leaves = list(got["state"]["leaves"])
        except Exception as e:
            if not _unreadable(e):
                raise
            raise self.error(
                f"the arrays of step {step} are unreadable ({type(e).__name__})"
            ) from e
        expected = self._manifest["leaves"]
        if len(leaves) != len(expected):
            raise self.error(
                f"step {step} holds {len(leaves)} arrays, its {MANIFEST} lists {len(expected)}"
            )
        for i, (a, want) in enumerate(zip(leaves, expected, strict=True)):
            if _digest(a) != want:
                raise self.error(
                    f"array {i} of step {step} does not match the digest in {MANIFEST} "
                    "(altered or corrupted)"
                )
        return leaves

    def close(self) -> None:
        with _interrupts_deferred():
            try:
                self.manager.wait_until_finished()
                self.manager.close()
            finally:
                self._stack.close()


def _progress(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, leave=False, disable=not enabled, dynamic_ncols=True)


def train(
    activation: str,
    data: Dataset,
    cfg: TrainConfig,
    seed: int = 0,
    *,
    mesh: Mesh | None = None,
    checkpoint_dir: str | None = None,
    resume: bool = False,
    fresh: bool = False,
    progress: bool = True,
    interrupt_after: int | None = None,
    model: nnx.Module | None = None,
    health: bool = True,
    keep: Any = None,
) -> tuple[dict[str, Any], nnx.Module]:
    """Trains one MLP and returns its record and the trained model.

    Args:
      activation: a demo activation (see ``jaxact.demo.model.check_activation``).
      data: the data set.
      cfg: the training configuration.
      seed: initialises the model and orders the batches.
      mesh: a 1-D mesh with axis ``"data"`` (default: every visible device).
      checkpoint_dir: where this run's orbax checkpoints go (None: none), with the
        manifest of digests that verifies them; locked while the run uses it (another
        process gets :class:`FolderInUseError`). Without ``resume`` the checkpoints
        already there are deleted first.
      resume: continue from the latest checkpoint in ``checkpoint_dir`` when
        there is one (written by the same configuration, activation and seed);
        a checkpoint that is missing, incomplete, unreadable, altered or another
        run's raises :class:`CheckpointError` (a ``ValueError``) naming the folder.
        A folder that does not exist yet starts the run from scratch.
      fresh: start from scratch, deleting the checkpoints in ``checkpoint_dir``
        first, readable or not: what a run without ``resume`` does, asked for
        explicitly (the way out a :class:`CheckpointError` names); excludes ``resume``.
      progress: show a progress bar.
      interrupt_after: stop after this many epochs, writing a checkpoint (unless
        ``cfg.checkpoint_every`` is 0), as if the run had been interrupted there (for
        testing resumption).
      model: train this model instead of a fresh ``init_model(...)``.
      health: compute the health monitor and gradient norms at the end.
      keep: 0/1 arrays like the model's ``nnx.Param`` state (``split(model)[1]``):
        the weights whose entry is 0 are not trained (a pruned network fine-tuned
        with its zeros kept); None trains every weight.

    Returns:
      ``(record, model)``; ``record`` holds the per-epoch ``history``
      (``train_loss``, ``test_loss``, ``test_accuracy``, ``epoch_time``), the
      final ``test_accuracy`` and ``test_loss``, ``epochs_to_target``,
      ``step_time_ms`` (median epoch time / steps, the compiling first epoch of
      the process excluded), ``health`` and ``devices``.
    """
    mesh = make_mesh() if mesh is None else mesh
    n_devices = mesh.devices.size
    if cfg.batch_size % n_devices:
        raise ValueError(
            f"jaxact demo: argument 'batch_size' must be a multiple of the {n_devices} devices, "
            f"got {cfg.batch_size}"
        )
    steps = len(data.y_train) // cfg.batch_size
    if steps < 1:
        raise ValueError(
            f"jaxact demo: argument 'batch_size' must be at most the {len(data.y_train)} "
            f"training samples, got {cfg.batch_size}"
        )
    if resume and checkpoint_dir is None:
        raise ValueError("jaxact demo: argument 'resume' needs a checkpoint directory")
    if resume and fresh:
        raise ValueError("jaxact demo: arguments 'resume' and 'fresh' exclude each other")
    with jax.numpy_dtype_promotion("standard"):
        if model is None:
            model = init_model(activation, data.num_features, data.num_classes, cfg, seed)
        graphdef, params, rest = split(model)
        graph = _Graph(graphdef)
        replicated = _replicated(mesh)
        params = jax.device_put(params, replicated)
        rest = jax.device_put(rest, replicated)
        if keep is not None:
            keep = jax.device_put(keep, replicated)
        opt_state = jax.device_put(optimizer(cfg, steps, keep).init(params), replicated)
        x_train, y_train, x_test, y_test = jax.device_put(
            (data.x_train, data.y_train, data.x_test, data.y_test), replicated
        )
        shuffle = jax.random.fold_in(jax.random.key(seed), 1)
        # The epoch program does not depend on checkpointing: one compile for every
        # checkpoint_every.
        epoch_cfg = dataclasses.replace(cfg, checkpoint_every=0)
        identity = {
            "activation": activation,
            "seed": seed,
            "config": cfg.to_json(),
            "data": data.describe(),
        }
        history: dict[str, list[float]] = {
            "train_loss": [],
            "test_loss": [],
            "test_accuracy": [],
            "epoch_time": [],
        }
        start = 0
        ckpt = _Checkpoints(checkpoint_dir, resume=resume) if checkpoint_dir is not None else None
        bar: Any = None
        try:
            leaves, treedef = jax.tree.flatten((params, opt_state))
            if ckpt is not None and ckpt.step is not None:
                record = ckpt.restore_record()
                if record.get("identity") != identity:
                    raise ckpt.error(
                        "it was written by another run (activation, seed, configuration or "
                        "data differ)"
                    )
                restored = ckpt.restore_leaves(leaves)
                params, opt_state = jax.tree.unflatten(
                    treedef, [jax.device_put(a, replicated) for a in restored]
                )
                history = record["history"]
                start = ckpt.step
            bar = _progress(cfg.epochs, f"{activation} seed {seed}", progress)
            bar.update(start)
            stop = cfg.epochs if interrupt_after is None else min(cfg.epochs, interrupt_after)
            for epoch in range(start, stop):
                t0 = time.perf_counter()
                order = _order(
                    shuffle, epoch, n=len(data.y_train), steps=steps, batch_size=cfg.batch_size
                )
                params, opt_state, train_loss = _epoch(
                    params,
                    rest,
                    opt_state,
                    order,
                    x_train,
                    y_train,
                    keep,
                    graphdef=graph,
                    cfg=epoch_cfg,
                    steps=steps,
                    mesh=mesh,
                )
                jax.block_until_ready(params)
                elapsed = time.perf_counter() - t0
                test_loss, test_acc = _evaluate(params, rest, x_test, y_test, graphdef=graph)
                history["train_loss"].append(float(train_loss))
                history["test_loss"].append(float(test_loss))
                history["test_accuracy"].append(float(test_acc))
                history["epoch_time"].append(elapsed)
                bar.update(1)
                bar.set_postfix(loss=f"{float(test_loss):.3f}", acc=f"{float(test_acc):.3f}")
                done = epoch + 1
                if (
                    ckpt is not None
                    and cfg.checkpoint_every
                    and (done % cfg.checkpoint_every == 0 or done == stop)
                ):
                    ckpt.save(
                        done,
                        jax.tree.leaves((params, opt_state)),
                        {"identity": identity, "history": history},
                    )
        finally:
            if bar is not None:  # cleared before anything printed after an interrupt
                bar.close()
            if ckpt is not None:
                ckpt.close()
        model = nnx.merge(graphdef, params, rest)
        record_out = summarize(history, cfg, steps)
        record_out.update(activation=activation, seed=seed, devices=n_devices, history=history)
        if health:
            record_out["health"] = evaluate_health(model, data)
    return record_out, model


def summarize(history: Mapping[str, list[float]], cfg: TrainConfig, steps: int) -> dict[str, Any]:
    """Final figures of a run from its per-epoch history."""
    acc = history["test_accuracy"]
    reached = [i + 1 for i, a in enumerate(acc) if a >= cfg.target_accuracy]
    # The first epoch timed in a process compiles; every later one is steady state.
    times = history["epoch_time"][1:] or history["epoch_time"]
    return {
        "test_accuracy": acc[-1] if acc else math.nan,
        "test_loss": history["test_loss"][-1] if acc else math.nan,
        "epochs_to_target": reached[0] if reached else None,
        "step_time_ms": 1e3 * float(np.median(times)) / steps if times else math.nan,
        "epochs_done": len(acc),
    }


def dumps(obj: Any) -> str:
    """JSON with NaN written as null (valid JSON everywhere)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, Mapping):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(obj), indent=1)
