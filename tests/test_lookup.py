"""Name lookup: jaxact's names are spelled exactly, a foreign name without a library
resolves only where every library means the same by it, unknown names point to the
lists; info and gain answer for dispatchers; the layers reject what the functions
reject; the submodules load on attribute access; ``jaxact list`` compiles nothing
(its gains are a table checked against the registry here)."""

from __future__ import annotations

import ast
import contextlib
import io
import pathlib
import re
import subprocess
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact import registry
from jaxact._src import listing
from jaxact._src import registry as _registry

X = jnp.linspace(-3.0, 3.0, 13)

# Every library's name that is no jaxact name -> {library: what get(name, library)
# returns: (row or dispatcher, preset arguments, library function or None)}.
FOREIGN: dict[str, dict[str, tuple[str, dict[str, Any], Any]]] = {}
for _lib, _table in registry.LIBRARY_NAMES.items():
    for _name, (_target, _presets) in _table.items():
        if _name not in registry.FUNCTIONS:
            FOREIGN.setdefault(_name, {})[_lib] = (
                _target,
                dict(_presets),
                registry.LIBRARY_FUNCTIONS.get((_lib, _name)),
            )

# The foreign names the libraries mean different functions by. torch's and Keras'
# LeakyReLU and PReLU have other slopes (and torch's f'(0)); Keras' ReLU takes
# negative_slope, max_value and threshold; torch's Softmax picks its axis by rank.
AMBIGUOUS = {"LeakyReLU", "PReLU", "ReLU", "Softmax"}


def _same(a: Any, b: Any) -> bool:
    """Whether two functions ``get`` returned are the same function with the same presets."""
    if a is b:
        return True
    return getattr(a, "func", None) is getattr(b, "func", 0) and getattr(
        a, "keywords", None
    ) == getattr(b, "keywords", 0)


def test_jaxact_names_are_matched_exactly() -> None:
    # "GELU" is torch's class name (the erf form); it was lowercased to jax.nn's
    # gelu (the tanh form) before.
    np.testing.assert_array_equal(jaxact.get("GELU")(X), jaxact.gelu_erf(X))
    assert np.max(np.abs(np.asarray(jaxact.get("gelu")(X) - jaxact.gelu_erf(X)))) > 1e-4
    for name, fn in registry.FUNCTIONS.items():
        assert jaxact.get(name) is fn, name
    known = {*registry.FUNCTIONS, *FOREIGN}
    for name in registry.FUNCTIONS:
        for other in {name.upper(), name.capitalize()} - known:
            with pytest.raises(registry.UnknownActivationError) as err:
                jaxact.get(other)
            message = str(err.value)
            assert "names are case-sensitive" in message, other
            assert re.search(rf"closest names: (.*, )?{name}\b", message), message


def test_library_names_are_matched_exactly() -> None:
    assert jaxact.get("GELU", "torch") is jaxact.get("torch:gelu")
    for bad in ("Gelu", "GeLU", "silu_", "leakyrelu"):
        with pytest.raises(registry.UnknownActivationError, match="unknown torch activation"):
            jaxact.get(bad, library="torch")
    with pytest.raises(registry.UnknownActivationError, match="case-sensitive.*LeakyReLU"):
        jaxact.get("leakyrelu", "torch")
    with pytest.raises(ValueError, match="case-sensitive.*keras:ReLU"):
        jaxact.info("keras:RELU")


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_foreign_names_resolve_only_to_one_meaning(name: str) -> None:
    meanings = FOREIGN[name]
    libraries = list(meanings)
    distinct = {(t, tuple(sorted(p.items())), f) for t, p, f in meanings.values()}
    if len(distinct) == 1:
        assert name not in AMBIGUOUS
        assert _same(jaxact.get(name), jaxact.get(name, library=libraries[0])), name
        return
    assert name in AMBIGUOUS
    with pytest.raises(ValueError) as err:
        jaxact.get(name)
    assert not isinstance(err.value, KeyError)  # known, but not one function
    message = str(err.value)
    assert message.startswith(f"jaxact.get: argument 'name' {name!r}"), message
    for lib in libraries:  # every candidate, with what it returns
        line = f"jaxact.get({name!r}, library={lib!r}) -> {_registry.describe_name(lib, name)}"
        assert line in message, (line, message)
    assert len(message.splitlines()) == 1 + len(libraries)
    # info and gain answer: every candidate is the same row.
    rows = {registry.DISPATCHERS.get(t, t) for t, _, _ in meanings.values()}
    assert len(rows) == 1
    assert jaxact.info(name).name == rows.pop()


def test_ambiguous_names_say_what_each_library_means() -> None:
    assert AMBIGUOUS <= set(FOREIGN)
    # torch's and Keras' leaky slopes, and torch's f'(0), spelled out.
    with pytest.raises(ValueError, match=r"(?s)slope=0\.01\) as leaky_relu_torch.*slope=0\.3\)$"):
        jaxact.get("LeakyReLU")
    assert jaxact.get("LeakyReLU", library="keras")(jnp.float32(-2.0)) == pytest.approx(-0.6)
    assert jaxact.info("LeakyReLU").name == "leaky_relu"


def test_an_ambiguous_row_lists_the_choices_in_info() -> None:
    # No foreign name is two rows today; the message such a name would get from info.
    found = {"torch": ("gelu_erf", {}), "keras": ("gelu_tanh", {})}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_registry, "_candidates", lambda name: found)
        mp.setattr(_registry, "describe_name", lambda lib, name: f"jaxact.{found[lib][0]}")
        err = _registry._unknown_name("jaxact.info", "name", "Gelu2")
    assert str(err).splitlines() == [
        "jaxact.info: argument 'name' 'Gelu2' is not a jaxact name, and torch and keras mean "
        "different functions by it; name the library:",
        "  jaxact.info('torch:Gelu2') -> jaxact.gelu_erf",
        "  jaxact.info('keras:Gelu2') -> jaxact.gelu_tanh",
    ]


def _never_empty(message: str) -> None:
    assert not re.search(r"closest names:\s*(none)?\s*$", message), message


@pytest.mark.parametrize(
    "call,where",
    [
        (lambda n: jaxact.get(n), "jaxact.get: unknown activation 'nosuchthing'"),
        (jaxact.info, "jaxact.info: argument 'name' is not a known activation name"),
        (jaxact.gain, "jaxact.gain: argument 'name' is not a known activation name"),
        (jaxact.init_for, "jaxact.init_for: argument 'activation' is not a known"),
    ],
)
def test_unknown_names_without_close_ones_point_to_the_lists(call: Any, where: str) -> None:
    with pytest.raises(ValueError) as err:
        call("nosuchthing")
    message = str(err.value)
    assert message.startswith(where), message
    assert message.endswith(
        "; no known name is close (see jaxact.list_names() or `jaxact list`)"
    ), message
    _never_empty(message)


def test_unknown_library_names_point_to_the_library_list() -> None:
    tail = (
        "; no known torch name is close "
        "(see jaxact.list_names('torch') or `jaxact list --library torch`)"
    )
    for call in (
        lambda: jaxact.get("zzzzzz", "torch"),
        lambda: jaxact.get("torch:zzzzzz"),
        lambda: jaxact.info("torch:zzzzzz"),
    ):
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value).endswith(tail), str(err.value)
    with pytest.raises(ValueError, match="closest names: torch:GELU"):
        jaxact.info("torch:GELLU")
    with pytest.raises(ValueError, match="closest names: gelu_new"):
        jaxact.get("gelu_nwe")


def test_the_demo_reports_unknown_activations_with_the_lookup_message() -> None:
    pytest.importorskip("optax")
    from jaxact.demo import model

    with pytest.raises(ValueError) as err:
        model.check_activation("foo")
    assert "argument 'activations'" in str(err.value)
    assert "jaxact.list_names()" in str(err.value)
    _never_empty(str(err.value))


@pytest.mark.parametrize("name", sorted(registry.DISPATCHERS))
def test_dispatchers_answer_info_and_gain_with_their_default(name: str) -> None:
    row = registry.DISPATCHERS[name]
    assert jaxact.info(name).name == row
    assert jaxact.info(getattr(jaxact, name)).name == row
    for lib, table in registry.LIBRARY_NAMES.items():  # jax's and flax's "gelu"
        if table.get(name, ("",))[0] == name:
            assert jaxact.info(f"{lib}:{name}").name == row
    assert jaxact.gain(name) == jaxact.gain(row)


# ----------------------------------------------------------------------------
# Layers reject what the functions reject, with the functions' TypeError.

BAD_INPUTS = {
    "list": [1.0, 2.0],
    "tuple": (1.0, 2.0),
    "bool array": np.array([True, False]),
    "complex array": np.array([1 + 2j], np.complex64),
    "PRNG key": jax.random.key(0),
}


@pytest.mark.parametrize("what", list(BAD_INPUTS))
def test_layers_raise_the_functions_type_error(what: str) -> None:
    pytest.importorskip("flax")
    from jaxact import linen as jl
    from jaxact import nnx as jn

    x = BAD_INPUTS[what]
    with pytest.raises(TypeError) as err:
        jaxact.relu(x)
    wording = str(err.value).split("argument 'x' ", 1)[1]
    calls = {
        "jaxact.nnx.Activation": lambda: jn.Activation("relu")(x),
        "jaxact.nnx.PReLU": lambda: jn.PReLU()(x),
        "jaxact.linen.Activation": lambda: jl.Activation("relu").apply({}, x),
        "jaxact.linen.PReLU": lambda: jl.PReLU().init(jax.random.key(0), x),
    }
    for layer, call in calls.items():
        with pytest.raises(TypeError) as err:
            call()
        assert str(err.value) == f"{layer}: argument 'x' {wording}", what


def test_layers_list_the_choices_and_point_to_the_lists() -> None:
    pytest.importorskip("flax")
    from flax import nnx

    from jaxact import nnx as jn

    with pytest.raises(ValueError) as err:
        jn.Activation("LeakyReLU")
    assert str(err.value).splitlines()[1:] == [
        f"  jaxact.nnx.Activation('{lib}:LeakyReLU') -> "
        + _registry.describe_name(lib, "LeakyReLU")
        for lib in ("torch", "keras")
    ]
    with pytest.raises(ValueError) as err:
        jn.Activation("nosuchthing")
    assert str(err.value) == (
        "jaxact.nnx.Activation: argument 'fn' is not a known activation name: 'nosuchthing'; "
        "no known name is close (see jaxact.list_names() or `jaxact list`)"
    )
    model = nnx.Sequential(jn.Activation("relu"))
    with pytest.raises(ValueError) as err:
        jn.swap_activations(model, "relu", "PReLU")
    lines = str(err.value).splitlines()
    assert lines[0].startswith("jaxact.nnx.swap_activations: argument 'new' 'PReLU' is not")
    assert lines[1].startswith("  new='torch:PReLU' -> jaxact.prelu(negative_slope=0.25)")
    assert lines[2].startswith("  new='keras:PReLU' -> jaxact.prelu(negative_slope=0.0)")


# ----------------------------------------------------------------------------
# Submodules load on attribute access.


def test_submodules_load_on_attribute_access() -> None:
    import jaxact.memory

    assert jaxact.__getattr__("memory") is sys.modules["jaxact.memory"]
    assert {"bench", "demo", "linen", "memory", "monitor", "nnx"} <= set(dir(jaxact))
    with pytest.raises(AttributeError, match="no attribute 'nosuch'"):
        jaxact.__getattr__("nosuch")


@pytest.mark.slow  # a fresh interpreter imports jax (about 2 s)
def test_import_jaxact_loads_neither_flax_nor_its_submodules() -> None:
    code = (
        "import sys, jaxact\n"
        "heavy = ('flax', 'optax', 'orbax', 'jaxact.memory', 'jaxact.nnx', 'jaxact.demo',\n"
        "         'jaxact._src.sites', 'jax.extend')\n"
        "assert not [m for m in heavy if m in sys.modules], sorted(sys.modules)\n"
        "assert jaxact.memory.residuals.__module__ == 'jaxact.memory'\n"
        "assert jaxact.sites.__module__ == jaxact.substitute.__module__ == 'jaxact._src.sites'\n"
        "assert 'jax.extend' in sys.modules and jaxact.Site.__name__ == 'Site'\n"
        "assert 'flax' not in sys.modules\n"
        "assert jaxact.nnx.Activation and 'flax' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


# ----------------------------------------------------------------------------
# `jaxact list`: the table of computed gains, and the command.

LISTING = pathlib.Path(listing.__file__)


def _computed_rows() -> list[str]:
    """The rows whose gain the registry computes (elementwise, none declared)."""
    return [
        name
        for name, spec in registry.SPECS.items()
        if spec.gain is None and spec.kind == "elementwise"
    ]


def test_gain_table_has_every_computed_row() -> None:
    assert list(listing.GAINS) == _computed_rows(), (
        "jaxact/_src/listing.py GAINS is stale: regenerate it with "
        "python -c 'from tests.test_lookup import write_gains as w; w()'"
    )
    # Two rows checked here, every row in the full suite.
    for name in ("silu", "gelu_erf"):
        assert listing.GAINS[name] == pytest.approx(jaxact.gain(name), rel=1e-6), name


@pytest.mark.slow  # computes every row's gain (one compilation each, ~10 s)
def test_gain_table_is_what_the_registry_computes() -> None:
    computed = {name: registry.gain(name) for name in _computed_rows()}
    assert listing.GAINS == pytest.approx(computed, rel=1e-6), (
        "jaxact/_src/listing.py GAINS is stale: regenerate it with "
        "python -c 'from tests.test_lookup import write_gains as w; w()'"
    )
    # and the table `jaxact list` prints is the registry's.
    for row, name in zip(listing._rows(), registry.SPECS, strict=True):
        g = registry.gain(name)
        assert row[5] == ("-" if g is None else f"{g:.4g}"), name


def write_gains() -> None:
    """Rewrites the GAINS table in jaxact/_src/listing.py from the registry."""
    source = LISTING.read_text()
    start = source.index("GAINS: dict[str, float] = {\n")
    end = source.index("}\n", start) + 2
    body = "".join(f'    "{name}": {registry.gain(name)!r},\n' for name in _computed_rows())
    LISTING.write_text(
        source[:start] + "GAINS: dict[str, float] = {\n" + body + "}\n" + source[end:]
    )
    ast.parse(LISTING.read_text())


def _list(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert listing.main(list(args)) == 0
    return out.getvalue(), err.getvalue()


def test_list_prints_every_row_without_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    row_gain = _registry._row_gain
    monkeypatch.setattr(_registry, "_row_gain", lambda row: asked.append(row) or row_gain(row))
    out, err = _list()
    lines = out.splitlines()
    assert lines[0].split() == listing.HEADER
    assert [line.split()[0] for line in lines[2:]] == list(registry.SPECS)
    assert err.strip() == f"{len(registry.SPECS)} activations"
    # registry.gain is asked only for declared gains and non-elementwise rows.
    assert asked and not set(asked) & set(listing.GAINS)
    relu = next(line for line in lines if line.startswith("relu "))
    assert "1.414" in relu and "jax flax torch timm transformers keras" in relu


def test_list_library_prints_what_each_name_returns() -> None:
    out, _ = _list("--library", "keras")
    lines = out.splitlines()
    assert len(lines) == len(registry.LIBRARY_NAMES["keras"])
    assert "LeakyReLU                -> jaxact.leaky_relu(negative_slope=0.3)" in lines
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
        listing.main(["--library", "caffe"])
    assert "unknown library 'caffe'" in err.getvalue()
