"""The first hour with the ``jaxact`` command: what a newcomer gets wrong gets one line.

Every mistake here ends in one line on stderr naming the option (no traceback, no
doubled prefix, no Python parameter names), before any training or timing starts;
Ctrl-C ends in one line naming the command that continues; every file written is
listed; the outputs share one root; ``--version`` exists and the help needs no flax.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

import numpy as np
import pytest

import jaxact
from jaxact import cli
from jaxact.bench import cli as bench_cli
from jaxact.demo import cli as demo_cli
from jaxact.demo.training import MANIFEST


def _error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line ``jaxact argv`` ends with on stderr, after checking exit status 2."""
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2, argv
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    last = lines[-1]
    prog = "jaxact " + argv[0] if argv and argv[0] in cli.COMMANDS else "jaxact"
    assert last.startswith(f"{prog}: error: "), last
    assert last.count("jaxact demo:") + last.count("jaxact bench:") <= 1, last  # one prefix
    return last


# ----------------------------------------------------------------------------
# Mistakes in the options: one line naming the option.


@pytest.mark.parametrize(
    "argv, words",
    [
        (["demo", "--epochs", "0"], "argument --epochs: must be an int >= 1"),
        (["demo", "--batch-size", "0"], "argument --batch-size: must be an int >= 1"),
        (["demo", "--target", "95"], "argument --target: must be in (0, 1], got 95.0"),
        (["demo", "--hidden", "0"], "argument --hidden: must be one or more positive"),
        (["demo", "--learning-rate", "nan"], "argument --learning-rate: must be a finite"),
        (["demo", "--checkpoint-every", "-1"], "argument --checkpoint-every: must be an int"),
        (["demo", "--seeds", "0"], "argument --seeds: must be an int >= 1"),
        (["demo", "depth", "--depths", "0"], "argument --depths: must be positive"),
        (["demo", "--activations", ","], "argument --activations: names no activation"),
        (["demo", "--activations", "relu,relu"], "argument --activations: repeats a name"),
        (["demo", "--activations", "softmax"], "argument --activations: 'softmax' is a vector"),
        (["demo", "--activations", "relu,gleu"], "argument --activations: unknown activation"),
        (["demo", "swap", "--new", "gleu"], "argument --new: unknown activation 'gleu'"),
        (["demo", "swap", "--old", "sigmod"], "argument --old: unknown activation 'sigmod'"),
        (["demo", "swap", "--old", "relu", "--new", "relu"], "arguments --old and --new are"),
        (["demo", "--resume", "--fresh"], "argument --fresh: not allowed with argument --resume"),
        (["demo", "depth", "--resume"], "--resume does not apply to 'jaxact demo depth'"),
        (["bench", "--functions", "gleu", "--memory"], "argument --functions: has an unknown"),
        (["bench", "--dtypes", "float64"], "argument --dtypes: expected comma-separated dtypes"),
        (["list", "--library", "pytorch"], "unknown library 'pytorch'; choose from"),
        (["lst"], "invalid choice: 'lst'"),
    ],
)
def test_mistakes_name_the_option(argv, words, capsys, tmp_path):
    out = str(tmp_path / "out")
    extra = ["--out", out] if argv[0] in ("demo", "bench") else []
    line = _error([*argv, *extra], capsys)
    assert words in line, line
    for python_name in ("batch_size", "target_accuracy", "learning_rate", "checkpoint_every"):
        assert python_name not in line
    assert "argument 'activations'" not in line
    assert not os.path.exists(out)  # refused before writing anything


def test_unknown_activation_says_where_the_names_are(capsys, tmp_path):
    line = _error(["demo", "depth", "--activations", "foo", "--out", str(tmp_path)], capsys)
    assert "unknown activation 'foo'" in line and "jaxact list" in line
    assert not line.rstrip().endswith(("closest names:", "closest names: none")), line
    assert "jaxact.get:" not in line


def test_batch_larger_than_the_data_before_training(capsys, tmp_path):
    argv = ["demo", "--batch-size", "5000", "--activations", "relu", "--out", str(tmp_path)]
    line = _error(argv, capsys)
    assert "argument --batch-size: must be at most the 1438 training samples, got 5000" in line
    assert os.listdir(tmp_path) == []  # nor a lock file left behind


@pytest.mark.parametrize("content", ["text", "npy", "folder", "missing"])
def test_data_that_is_no_npz_says_what_is_read(content, tmp_path, capsys):
    path = tmp_path / "notes.txt"
    if content == "text":
        path.write_text("some notes\n")
    elif content == "npy":
        path = tmp_path / "x.npy"
        np.save(path, np.zeros(3))
    elif content == "folder":
        path.mkdir()
    line = _error(["demo", "--data", str(path), "--out", str(tmp_path / "out")], capsys)
    assert line.startswith("jaxact demo: error: argument --data: ")
    if content == "missing":
        assert "no such file" in line
    else:
        assert ".npz file (numpy.savez" in line and "arrays x and y" in line
        assert "pickle" not in line


# ----------------------------------------------------------------------------
# --out is checked before anything runs.


@pytest.mark.parametrize("command", [["demo"], ["demo", "depth"], ["demo", "swap"], ["bench"]])
@pytest.mark.parametrize("where", ["file", "under a file"])
def test_out_that_cannot_be_written_stops_at_once(command, where, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "results.txt"
    blocker.write_text("not a folder")
    out = str(blocker if where == "file" else blocker / "sub")

    # Nothing may start: neither the studies nor the benchmark are reached.
    def never(*args):
        raise AssertionError("started")

    monkeypatch.setattr(demo_cli, "_run", never)
    monkeypatch.setattr(bench_cli, "_run", never)
    line = _error([*command, "--out", out], capsys)
    assert f"argument --out: cannot write to {out!r}" in line
    assert ("is a file" in line) if where == "file" else ("cannot be created" in line)
    assert blocker.read_text() == "not a folder"


def test_out_in_a_read_only_folder(tmp_path, capsys, monkeypatch):
    # The operating system's answer for a folder this user may not write to (root may
    # write anywhere, so the answer is given here rather than by chmod).
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if os.path.realpath(path) == str(locked.resolve()) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(cli.os, "access", access)
    line = _error(["demo", "--out", str(locked / "out")], capsys)
    assert "argument --out: cannot write to" in line and "is not writable" in line
    line = _error(["demo", "--out", str(locked)], capsys)
    assert "argument --out: cannot write to" in line and "not writable" in line


def test_python_api_refuses_an_out_that_is_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="argument 'out': cannot write to .*is a file"):
        jaxact.demo.compare(["relu"], out=str(blocker))


def test_out_problem(tmp_path):
    assert cli.out_problem(tmp_path) is None
    assert cli.out_problem(tmp_path / "new" / "deeper") is None
    assert not (tmp_path / "new").exists()  # checking creates nothing
    (tmp_path / "f").write_text("")
    assert cli.out_problem(tmp_path / "f") == "it is a file, not a folder"
    assert "is a file" in str(cli.out_problem(tmp_path / "f" / "a" / "b"))


# ----------------------------------------------------------------------------
# One output root, a folder per job (tests/test_demo.py::test_cli_resume checks that
# every file written is listed, and that --checkpoint-every 0 writes no checkpoint).


def test_one_default_output_root(capsys):
    for command, folder in (("demo", "jaxact-out/demo"), ("bench", "jaxact-out/bench")):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert f"(default: {folder})" in " ".join(capsys.readouterr().out.split())
    assert demo_cli.DEFAULT_OUT == os.path.join(cli.OUT_ROOT, "demo")
    from jaxact.demo import studies

    assert studies.DEFAULT_OUT == demo_cli.DEFAULT_OUT


# ----------------------------------------------------------------------------
# Ctrl-C: one line, exit status 130, the command that continues.


def _parsed(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    demo_cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_the_command_that_continues_parses_back_to_the_same_run():
    argv = ["--activations", "relu,gelu", "--fresh", "--hidden", "8,8", "--target", "0.9"]
    argv += ["--data", "my data.npz", "--out", "my out", "--quick", "--epochs", "3"]
    args = _parsed(argv)
    command = demo_cli._command(args, resume=True)
    assert command.startswith("jaxact demo compare ") and command.endswith(" --resume")
    assert "'my out'" in command and "--fresh" not in command
    again = _parsed(shlex.split(command)[3:])
    assert vars(again) == {**vars(args), "resume": True, "fresh": False}
    # Defaults not given stay out of it; --out is always there.
    assert demo_cli._command(_parsed([]), resume=True) == (
        f"jaxact demo compare --out {demo_cli.DEFAULT_OUT} --resume"
    )


def _interrupt(
    argv: list[str], started: str, stream: str, ready: Callable[[], bool] = lambda: True
) -> subprocess.CompletedProcess:
    """Runs ``jaxact argv``, sends SIGINT once a line containing ``started`` appears on
    ``stream`` and ``ready()`` holds, and returns what it printed and its exit status."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jaxact.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pipe = proc.stdout if stream == "stdout" else proc.stderr
    assert pipe is not None
    seen = []
    for line in pipe:
        seen.append(line)
        if started in line:
            break
    deadline = time.monotonic() + 120
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    if stream == "stdout":
        out = "".join(seen) + out
    else:
        err = "".join(seen) + err
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.slow
def test_ctrl_c_in_the_demo_names_the_resume_command(tmp_path):
    out = str(tmp_path / "demo")
    argv = ["demo", "--activations", "relu", "--seeds", "2", "--hidden", "8", "--epochs", "400"]
    argv += ["--checkpoint-every", "1", "--no-progress", "--out", out]
    manifest = os.path.join(out, "checkpoints", "compare", "relu", "seed0", MANIFEST)

    def training() -> bool:  # a checkpoint saved: the first run is training
        try:
            with open(manifest, encoding="utf-8") as f:
                return json.load(f)["step"] is not None
        except (OSError, ValueError):
            return False

    # "device(s)" ends the line printed before the first run trains.
    proc = _interrupt(argv, "device(s)", "stdout", ready=training)
    assert proc.returncode == cli.INTERRUPTED, proc.stderr
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line == (
        "jaxact demo: interrupted; continue with: jaxact demo compare --no-progress "
        f"--activations relu --epochs 400 --seeds 2 --hidden 8 --checkpoint-every 1 "
        f"--out {out} --resume"
    )


@pytest.mark.slow
def test_ctrl_c_in_the_bench_is_one_line(tmp_path):
    out = str(tmp_path / "bench")
    proc = _interrupt(["bench", "--memory", "--no-torch", "--out", out], "] ", "stderr")
    assert proc.returncode == cli.INTERRUPTED, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"jaxact bench: interrupted; nothing was written to {out!r}"
    )
    assert not os.path.exists(out)


# ----------------------------------------------------------------------------
# --version, and help without the heavy imports.


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"jaxact {jaxact.__version__}"


def test_the_dispatcher_imports_only_the_command_it_runs(monkeypatch, capsys):
    loaded = []
    real = importlib.import_module

    def record(name: str, *args):
        loaded.append(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", record)
    for command in cli.COMMANDS:
        loaded.clear()
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        assert loaded == [cli.COMMANDS[command]]
    loaded.clear()
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert loaded == list(cli.COMMANDS.values())
    help_text = capsys.readouterr().out
    assert all(name in help_text for name in cli.COMMANDS) and "--version" in help_text


HEAVY = ("flax", "optax", "orbax", "matplotlib", "sklearn", "tqdm", "torch", "scipy")


@pytest.mark.slow  # a fresh interpreter: about as long as `import jax`
def test_help_imports_nothing_heavy():
    # Beyond what `import jaxact` itself imports (jax, today).
    code = textwrap.dedent(
        f"""
        import contextlib, io, sys
        import jaxact
        before = {{m.split(".")[0] for m in sys.modules}}
        from jaxact import cli
        for argv in (["--help"], ["demo", "--help"], ["bench", "--help"], ["list", "--help"]):
            with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
                cli.main(argv)
        after = {{m.split(".")[0] for m in sys.modules}}
        print(sorted((after - before) & {set(HEAVY) | {"jax", "jaxlib"}}))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]", proc.stdout


@pytest.mark.slow  # a fresh interpreter
def test_a_closed_pipe_ends_quietly() -> None:
    # `jaxact list | head -1`: the reader stops before the table is written.
    proc = subprocess.Popen(
        [sys.executable, "-m", "jaxact.cli", "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the command has started writing (its start takes ~1 s)
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == "", err
