"""The demo's checkpoints cannot silently corrupt a run: every restore is verified against
the digests saved with it, a damaged checkpoint stops the run with one line naming its
folder and the way out (``fresh``), and one output folder serves one demo at a time."""

from __future__ import annotations

import dataclasses
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from jaxact import cli, demo
from jaxact.demo import CheckpointError, FolderInUseError, studies
from jaxact.demo.training import MANIFEST

# The smallest network of tests/test_demo.py::test_cli_resume (the CLI's --hidden 8
# --epochs 2 --checkpoint-every 1): this module compiles its epoch once.
CFG = demo.TrainConfig(hidden=(8,), epochs=2, checkpoint_every=1)
SEED = 0
# The same run checkpointed at its end only.
LAST_ONLY = dataclasses.replace(CFG, checkpoint_every=CFG.epochs)
# The CLI run whose first checkpoint folder is out/checkpoints/compare/relu/seed0.
CLI_ARGS = ["demo", "--activations", "relu", "--seeds", "1", "--hidden", "8", "--epochs", "2"]
CLI_ARGS += ["--checkpoint-every", "1", "--no-progress"]


@pytest.fixture(scope="module")
def blobs(tmp_path_factory) -> str:
    """A small .npz data set (4 batches of 64 an epoch), no scikit-learn to import; 64
    features as digits, so that orbax writes the first kernel to its own data file."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 320)
    x = rng.normal(size=(320, 64)) + 2 * np.eye(4, 64)[y]
    path = str(tmp_path_factory.mktemp("data") / "blobs.npz")
    np.savez(path, x=x, y=y)
    return path


@pytest.fixture(scope="module")
def data(blobs) -> demo.Dataset:
    return demo.load_npz(blobs)


def _train(data: demo.Dataset, folder: str | None = None, cfg=CFG, **kw):
    return demo.train(
        "relu", data, cfg, SEED, checkpoint_dir=folder, progress=False, health=False, **kw
    )[0]


@pytest.fixture(scope="module")
def pristine(data, tmp_path_factory) -> tuple[str, dict]:
    """A run's checkpoint folder after its first epoch (step 1), and the history of the
    whole run without checkpoints."""
    reference = _train(data)
    folder = str(tmp_path_factory.mktemp("pristine") / "seed0")
    _train(data, folder, interrupt_after=1)
    assert sorted(os.listdir(folder)) == sorted([".jaxact-demo.lock", "1", MANIFEST])
    return folder, reference["history"]


def _steps(folder: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.split(".")[0].isdigit())


# ----------------------------------------------------------------------------
# Fault injection: each fault on a copy of the pristine folder.


def _array_file(folder: str) -> str:
    """The largest of orbax's array data files of step 1 (holding the first kernel)."""
    files = glob.glob(os.path.join(folder, "1", "state", "**", "d", "*"), recursive=True)
    return max(files, key=os.path.getsize)


def _truncate(path: str) -> None:
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)


def _flip16(path: str) -> None:
    middle = os.path.getsize(path) // 2
    with open(path, "r+b") as f:
        f.seek(middle)
        chunk = f.read(16)
        f.seek(middle)
        f.write(bytes(b ^ 0xFF for b in chunk))


def _edit_json(path: str, edit) -> None:
    with open(path, encoding="utf-8") as f:
        obj = json.load(f)
    edit(obj)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)


def _change_digest(manifest: dict) -> None:
    digest = manifest["leaves"][0]["sha256"]
    manifest["leaves"][0]["sha256"] = ("1" if digest[0] == "0" else "0") + digest[1:]


def _change_loss(path: str) -> None:
    """Changes a digit of the first training loss: valid JSON of the same size."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    i = text.index('"train_loss"')
    i += next(k for k, c in enumerate(text[i:]) if c.isdigit())
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:i] + ("1" if text[i] == "0" else "0") + text[i + 1 :])


def _reseal(folder: str, path: str) -> None:
    """Updates the manifest's size and digest of the file at ``path`` in step 1: a file
    damaged before it was written, which only the digests of its contents can tell."""
    with open(path, "rb") as f:
        content = f.read()
    rel = os.path.relpath(path, os.path.join(folder, "1")).replace(os.sep, "/")

    def edit(manifest: dict) -> None:
        assert rel in manifest["files"]
        manifest["files"][rel] = {
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }

    _edit_json(os.path.join(folder, MANIFEST), edit)


def _flip_resealed(folder: str) -> None:
    _flip16(_array_file(folder))
    _reseal(folder, _array_file(folder))


def _change_loss_resealed(folder: str) -> None:
    _change_loss(os.path.join(folder, RECORD))
    _reseal(folder, os.path.join(folder, RECORD))


def _empty(folder: str) -> None:
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


RECORD = os.path.join("1", "record", "metadata")
STATE_FILE = "its file 1/state/\\S+"
# fault: (how, the problem the error names)
FAULTS = {
    "array file deleted": (lambda d: os.remove(_array_file(d)), f"{STATE_FILE} is missing"),
    "array file truncated": (
        lambda d: _truncate(_array_file(d)),
        f"{STATE_FILE} has \\d+ bytes, \\d+ when saved",
    ),
    "16 bytes flipped in an array file": (
        lambda d: _flip16(_array_file(d)),
        f"{STATE_FILE} does not match the digest in {MANIFEST}",
    ),
    "16 bytes flipped, the file's digest updated": (
        _flip_resealed,
        f"array \\d+ of step 1 does not match the digest in {MANIFEST}",
    ),
    "orbax array metadata deleted": (
        lambda d: os.remove(os.path.join(d, "1", "state", "_METADATA")),
        "its file 1/state/_METADATA is missing",
    ),
    "manifest deleted": (lambda d: os.remove(os.path.join(d, MANIFEST)), f"has no {MANIFEST}"),
    "manifest altered (an array's digest)": (
        lambda d: _edit_json(os.path.join(d, MANIFEST), _change_digest),
        f"array 0 of step 1 does not match the digest in {MANIFEST}",
    ),
    "manifest truncated": (
        lambda d: _truncate(os.path.join(d, MANIFEST)),
        f"its {MANIFEST} is unreadable",
    ),
    "history record truncated": (
        lambda d: _truncate(os.path.join(d, RECORD)),
        "its file 1/record/metadata has \\d+ bytes",
    ),
    "history record altered": (
        lambda d: _change_loss(os.path.join(d, RECORD)),
        f"its file 1/record/metadata does not match the digest in {MANIFEST}",
    ),
    "history record altered, the file's digest updated": (
        _change_loss_resealed,
        f"record \\(history\\) of step 1 does not match the digest in {MANIFEST}",
    ),
    "step folder deleted": (
        lambda d: shutil.rmtree(os.path.join(d, "1")),
        "its step folder 1 is missing",
    ),
    "checkpoint folder emptied": (_empty, f"has no {MANIFEST}"),
}


@pytest.mark.parametrize(
    # One fault in the fast lane; every fault in the full suite.
    "fault",
    [pytest.param(f, marks=[] if i == 0 else [pytest.mark.slow]) for i, f in enumerate(FAULTS)],
)
def test_fault_stops_resume_in_one_line_and_fresh_trains(fault, pristine, data, tmp_path):
    source, history = pristine
    folder = str(tmp_path / "seed0")
    shutil.copytree(source, folder)
    corrupt, problem = FAULTS[fault]
    corrupt(folder)
    with pytest.raises(CheckpointError) as e:
        _train(data, folder, resume=True)
    message = str(e.value)
    assert "\n" not in message
    assert e.value.folder == folder and f"checkpoint folder {folder!r} cannot be resumed" in message
    assert "fresh=True" in message
    assert re.search(problem, e.value.problem), message
    # Starting afresh deletes the damaged checkpoint and reproduces the uninterrupted run
    # (saving at its end only: one orbax save instead of two, the same compiled epoch).
    record = _train(data, folder, cfg=LAST_ONLY, fresh=True)
    assert record["history"]["train_loss"] == history["train_loss"]
    assert _steps(folder) == ["2"]


def test_cli_names_the_folder_and_fresh(pristine, blobs, data, tmp_path, capsys, monkeypatch):
    # The CLI's one line for a damaged checkpoint (16 flipped bytes), in this process: the
    # compiled programs are this module's.
    out = str(tmp_path)
    folder = os.path.join(out, "checkpoints", "compare", "relu", "seed0")
    shutil.copytree(pristine[0], folder)
    _flip16(_array_file(folder))
    assert cli.main([*CLI_ARGS, "--data", blobs, "--out", out, "--resume"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"jaxact demo: checkpoint folder {os.path.abspath(folder)!r} ")
    assert "/state/" in err and "does not match the digest" in err
    assert "--fresh instead of --resume" in err
    assert not os.path.exists(os.path.join(out, "compare.json"))
    # --fresh reaches compare; with --resume it is an argument error.
    seen: dict = {}
    monkeypatch.setattr(studies, "compare", lambda *a, **kw: seen.update(kw))
    assert cli.main([*CLI_ARGS, "--out", out, "--fresh"]) == 0
    assert seen["fresh"] is True and seen["resume"] is False
    with pytest.raises(SystemExit) as e:
        cli.main([*CLI_ARGS, "--out", out, "--fresh", "--resume"])
    assert e.value.code == 2
    assert "--resume: not allowed with argument --fresh" in capsys.readouterr().err
    with pytest.raises(ValueError, match="'resume' and 'fresh' exclude each other"):
        _train(data, out, resume=True, fresh=True)


# ----------------------------------------------------------------------------
# Interrupted saves, new runs, checkpoint_every=0.


def test_resume_skips_unfinished_steps_and_starts_new_folders(pristine, data, tmp_path):
    source, history = pristine
    folder = str(tmp_path / "seed0")
    shutil.copytree(source, folder)
    # Killed while saving step 2: orbax's finished folder the manifest does not name yet,
    # and an unfinished temporary one. Neither is restored; both are deleted.
    shutil.copytree(os.path.join(folder, "1"), os.path.join(folder, "2"))
    os.mkdir(os.path.join(folder, "3.orbax-checkpoint-tmp-1700000000"))
    open(os.path.join(folder, "notes.txt"), "w", encoding="utf-8").close()  # not the demo's
    record = _train(data, folder, resume=True)
    assert record["history"]["train_loss"] == history["train_loss"]
    assert _steps(folder) == ["2"] and os.path.exists(os.path.join(folder, "notes.txt"))
    with open(os.path.join(folder, MANIFEST), encoding="utf-8") as f:
        assert json.load(f)["step"] == 2
    # A run that has no folder yet (compare --resume's runs not started) starts from scratch.
    new = str(tmp_path / "seed1")
    record = _train(data, new, cfg=LAST_ONLY, resume=True)
    assert record["history"]["train_loss"] == history["train_loss"]
    assert _steps(new) == ["2"]


def test_checkpoint_every_0_saves_none(pristine, data, tmp_path):
    folder = str(tmp_path / "seed0")
    shutil.copytree(pristine[0], folder)
    # (The epoch program does not depend on checkpoint_every: no compile here.)
    _train(data, folder, cfg=dataclasses.replace(CFG, checkpoint_every=0))
    # Not even a final one; the earlier run's checkpoint is deleted (a new run keeps none).
    assert _steps(folder) == []
    with open(os.path.join(folder, MANIFEST), encoding="utf-8") as f:
        assert json.load(f)["step"] is None
    _hold(os.path.join(folder, ".jaxact-demo.lock")).close()  # released when train returned


# ----------------------------------------------------------------------------
# One output folder, one demo at a time.


def _hold(path: str):
    f = open(path, "a+", encoding="utf-8")
    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    return f


@pytest.mark.slow  # a second demo in a subprocess
def test_second_demo_on_one_out_stops_at_once(data, tmp_path):
    out = str(tmp_path)
    with _hold(os.path.join(out, ".jaxact-demo-compare.lock")):
        proc = subprocess.run(
            [sys.executable, "-m", "jaxact.cli", *CLI_ARGS, "--out", out, "--resume"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.startswith(
            f"jaxact demo: folder {out!r} is in use by another jaxact demo compare"
        )
        assert proc.stderr.count("\n") == 1 and "use another --out" in proc.stderr
        # The same from Python.
        with pytest.raises(FolderInUseError, match="in use by another jaxact demo compare"):
            demo.compare(["relu"], seeds=1, config=CFG, data=data, out=out, progress=False)
    # One run's checkpoint folder, given to train directly, is locked too.
    folder = os.path.join(out, "seed0")
    os.makedirs(folder)
    with _hold(os.path.join(folder, ".jaxact-demo.lock")):
        with pytest.raises(FolderInUseError, match=f"folder {folder!r} is in use"):
            _train(data, folder)
