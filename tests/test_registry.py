"""The registry, library names and the jax.nn drop-in promise."""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import math
import pathlib
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

import jaxact
from jaxact._src import registry
from jaxact.cli import main
from tests.accuracy import lane

JAX_ACTIVATIONS = list(registry.LIBRARY_NAMES["jax"])


def test_catalogue_size() -> None:
    assert len(registry.SPECS) >= 73
    assert len({s.fn for s in registry.SPECS.values()}) == len(registry.SPECS)


def test_every_row_is_exported_from_its_family() -> None:
    # The top level star-imports each family's __all__: every registered name
    # (rows, aliases, dispatchers) is there, and each family exports exactly its own.
    for name, fn in registry.FUNCTIONS.items():
        assert getattr(jaxact, name) is fn, name
    for family in registry.families():
        module = importlib.import_module(f"jaxact._src.{family}")
        rows = {n for n, s in registry.SPECS.items() if s.family == family}
        aliases = {a for n in rows for a in registry.SPECS[n].aliases}
        dispatchers = {n for n in registry.ALIASES if n not in aliases}
        exported = {n for n in module.__all__ if callable(getattr(module, n))}
        extra = {"fit_rational"} if family == "rational" else set()
        assert exported - dispatchers == rows | aliases | extra, family
        for alias in aliases:
            assert getattr(module, alias) is getattr(module, registry.spec_of(alias).name)


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        registry.SPECS["relu"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        registry.LIBRARY_NAMES["torch"]["relu"] = ("relu", {})  # type: ignore[index]
    with pytest.raises(TypeError):
        registry.SPECS["leaky_relu"].params["negative_slope"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        registry.SPECS["relu"].family = "x"  # type: ignore[misc]


def test_old_top_level_tables_are_deprecated() -> None:
    for name in ("SPECS", "LIBRARY_NAMES", "LIBRARIES", "Kink", "Spec"):
        with pytest.warns(DeprecationWarning, match=f"jaxact.registry.{name}"):
            assert getattr(jaxact, name) is getattr(registry, name)
    with pytest.raises(AttributeError, match="no_such"):
        jaxact.no_such  # noqa: B018


def test_register_rejects_bad_rows() -> None:
    from jaxact._src.registry import register

    def relu(x):  # a second row under a taken name
        return x

    with pytest.raises(ValueError, match=r"register\(relu\).*already registered"):
        register()(relu)

    def not_yet_there(x):
        return x

    with pytest.raises(ValueError, match="unknown library 'caffe'"):
        register(names={"caffe": "x"})(not_yet_there)
    with pytest.raises(ValueError, match="torch name 'ReLU' is already taken by 'relu'"):
        register(names={"torch": "ReLU"})(not_yet_there)
    assert "not_yet_there" not in registry.SPECS


def test_counterparts_and_lookups() -> None:
    assert registry.SPECS["silu"].jax_nn is jax.nn.silu
    assert registry.SPECS["gelu_erf"].jax_nn.keywords == {"approximate": False}
    assert registry.SPECS["mish"].torch == ("mish", {})
    assert registry.SPECS["sine"].jax_nn is None
    assert registry.spec_of(jax.nn.gelu).name == "gelu_tanh"  # the dispatcher's default
    assert registry.spec_of(jaxact.gelu).name == "gelu_tanh"
    assert registry.spec_of("torch:GELU").name == "gelu_erf"
    assert registry.spec_of(jax.nn.relu).name == "relu"
    assert registry.spec_of("keras:LeakyReLU").name == "leaky_relu"
    assert registry.spec_of(lambda x: x) is None and registry.spec_of("nope") is None
    assert registry.families()[:2] == ("relu", "sigmoid")
    assert registry.SPECS["relu"].piecewise_linear and not registry.SPECS["silu"].piecewise_linear
    assert "torch" in registry.SPECS["silu"].libraries


@pytest.mark.parametrize("name", JAX_ACTIVATIONS)
def test_jax_nn_signature(name: str) -> None:
    ours = inspect.signature(getattr(jaxact, name)).parameters
    theirs = inspect.signature(getattr(jax.nn, name)).parameters
    for pname, p in theirs.items():
        assert pname in ours, (name, pname)
        assert ours[pname].default == p.default, (name, pname)
        positional = (p.kind, ours[pname].kind) == (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        assert ours[pname].kind == p.kind or positional, (name, pname)
    extra = [p for p in ours if p not in theirs]
    assert all(ours[p].default is not inspect.Parameter.empty for p in extra), (name, extra)


@pytest.mark.parametrize(
    "name", [lane(n, fast=n in ("relu", "gelu", "silu", "softmax", "glu")) for n in JAX_ACTIVATIONS]
)
def test_jax_nn_values_on_ordinary_inputs(name: str) -> None:
    x = jnp.linspace(-6.0, 6.0, 50).reshape(5, 10) + 0.013
    ours, theirs = jax.jit(lambda x: (getattr(jaxact, name)(x), getattr(jax.nn, name)(x)))(x)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-6)


def test_drop_in_module() -> None:
    nn = jaxact
    for name in ("one_hot", "logsumexp", "standardize", "initializers", "dot_product_attention"):
        assert getattr(nn, name) is getattr(jax.nn, name)


@pytest.mark.parametrize("library", registry.LIBRARIES)
def test_every_library_name_resolves(library: str) -> None:
    for name in registry.LIBRARY_NAMES[library]:
        fn = jaxact.get(name, library=library)
        assert callable(fn)
        assert jaxact.get(f"{library}:{name}") is not None


def test_library_math() -> None:
    pts = [-3.0, -0.5, 0.5, 3.0]
    x = jnp.array(pts)
    c = mp.sqrt(2 / mp.pi)
    erf = np.array([float(v / 2 * mp.erfc(-v / mp.sqrt(2))) for v in map(mp.mpf, pts)])
    tanh_form = np.array(
        [
            float(v / (1 + mp.exp(-2 * c * (v + mp.mpf("0.044715") * v**3))))
            for v in map(mp.mpf, pts)
        ]
    )
    for name, lib in [("gelu", "torch"), ("GELU", "torch"), ("gelu", "transformers")]:
        np.testing.assert_allclose(jaxact.get(name, lib)(x), erf, rtol=1e-6)
    np.testing.assert_allclose(jaxact.get("gelu", "keras")(x), erf, rtol=1e-6)
    for name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate"):
        np.testing.assert_allclose(jaxact.get(name, "transformers")(x), tanh_form, rtol=1e-6)
    np.testing.assert_allclose(jaxact.get("gelu")(x), tanh_form, rtol=1e-6)
    np.testing.assert_allclose(
        jaxact.get("quick_gelu", "transformers")(x), x * jax.nn.sigmoid(1.702 * x), rtol=1e-6
    )
    neg = jnp.array([-2.0])
    assert float(jaxact.get("keras:leaky_relu")(neg)[0]) == pytest.approx(-0.4)
    assert float(jaxact.get("LeakyReLU", "keras")(neg)[0]) == pytest.approx(-0.6)
    assert float(jaxact.get("leaky_relu")(neg)[0]) == pytest.approx(-0.02)
    assert float(jaxact.get("torch:PReLU")(neg)[0]) == pytest.approx(-0.5)
    # torch's Softplus switches to the identity above threshold 20.
    assert float(jaxact.get("torch:Softplus")(jnp.array([25.0]))[0]) == 25.0
    big = jnp.array([15.0])
    clipped = jaxact.get("transformers:gelu_10")(big)
    assert float(clipped[0]) == 10.0
    assert jaxact.get("silu") is jaxact.silu
    assert jaxact.get("swish") is jaxact.silu


def test_unknown_names_suggest() -> None:
    with pytest.raises(ValueError, match="gelu"):
        jaxact.get("gelu_nwe")
    with pytest.raises(ValueError, match="LeakyReLU"):
        jaxact.get("LeakyRelu_", "torch")
    with pytest.raises(ValueError, match="library"):
        jaxact.get("relu", "caffe")
    with pytest.raises(TypeError, match="name"):
        jaxact.get(3)  # type: ignore[arg-type]
    assert jaxact.get(jnp.tanh) is jnp.tanh


def test_metadata() -> None:
    assert registry.gain("relu") == pytest.approx(math.sqrt(2))
    assert registry.gain("tanh") == pytest.approx(5 / 3)
    assert registry.gain("selu") == pytest.approx(0.75)
    assert registry.gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    # computed gains keep E[f(z)^2] * gain^2 = 1 for z ~ N(0, 1)
    z = np.random.default_rng(0).standard_normal(400_000).astype(np.float32)
    for name in ("silu", "gelu_erf", "mish", "softplus"):
        g = registry.gain(name)
        assert g is not None
        m2 = float(np.mean(np.asarray(jaxact.get(name)(z), np.float64) ** 2))
        assert g * g * m2 == pytest.approx(1.0, rel=0.02), name
    assert registry.gain("softmax") is None
    selu = registry.info("selu")
    assert selu.self_normalizing and selu.monotonic and not selu.smooth
    assert registry.info("sigmoid").bounded and not registry.info("relu").bounded
    for spec in registry.SPECS.values():
        assert spec.family in registry.families()
        assert spec.kind in registry.KINDS


def test_every_elementwise_function_has_an_mpmath_reference() -> None:
    from tests.test_accuracy import MODULES

    refs = {n: m for m in MODULES.values() for n in m.MP_REFS}
    missing = [n for n, s in registry.SPECS.items() if s.kind == "elementwise" and n not in refs]
    assert not missing


@pytest.mark.parametrize(
    "name",
    [
        lane(n, fast=n in ("relu", "tanh"))
        for n in ("relu", "leaky_relu", "selu", "tanh", "silu", "gelu", "elu")
    ],
)
def test_init_for_keeps_the_second_moment(name: str) -> None:
    # 16 layers of width 512: with init_for the pre-activations' second moment
    # stays near 1 (tanh: bounded below by its saturation); with plain LeCun
    # scaling a ReLU network loses half of it per layer.
    fn = jaxact.get(name)
    keys = jax.random.split(jax.random.key(0), 17)
    h = jax.random.normal(keys[0], (256, 512))
    init = jaxact.init_for(name)
    for k in keys[1:]:
        h = fn(h) @ init(k, (512, 512))
    moment = float(jnp.mean(h * h))
    assert 0.3 < moment < 3.0, (name, moment)
    if name == "relu":
        lecun = jax.nn.initializers.lecun_normal()
        h = jax.random.normal(keys[0], (256, 512))
        for k in keys[1:]:
            h = fn(h) @ lecun(k, (512, 512))
        assert float(jnp.mean(h * h)) < 1e-3


def test_init_for_scales_and_errors() -> None:
    def var(init: Any) -> float:
        return float(jnp.var(init(jax.random.key(1), (2048, 512)))) * 2048

    assert abs(var(jaxact.init_for("relu")) - 2.0) < 0.05
    assert abs(var(jaxact.init_for("torch:ReLU")) - 2.0) < 0.05
    assert abs(var(jaxact.init_for(jaxact.relu)) - 2.0) < 0.05
    assert abs(var(jaxact.init_for("selu")) - 1.0) < 0.03
    assert abs(var(jaxact.init_for("sigmoid")) - 1.0) < 0.03
    assert abs(var(jaxact.init_for("tanh")) - 25 / 9) < 0.06
    assert abs(var(jaxact.init_for("swiglu")) - 1.0) < 0.03
    with pytest.raises(ValueError, match="init_for.*'mode'"):
        jaxact.init_for("relu", mode="fan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="relu"):
        jaxact.init_for("rleu")
    with pytest.raises(ValueError, match="init_for.*'activation'"):
        jaxact.init_for(lambda x: x)
    with pytest.raises(TypeError, match="init_for.*'activation'"):
        jaxact.init_for(3)  # type: ignore[arg-type]


DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "activations.md"


def render_activations_doc() -> str:
    """docs/activations.md from the registry (through the CLI that prints it)."""

    def cli(*args: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["list", *args]) == 0
        return out.getvalue().rstrip("\n")

    parts = [
        "# Activations\n",
        "Generated by `jaxact list --markdown` (gain is torch's `calculate_gain` where torch has "
        "one, else `1/sqrt(E[f(z)^2])`).\n",
        cli("--markdown") + "\n",
        "## Names by library\n",
        "`jaxact.get(name, library)` returns the function on the right with the preset "
        "arguments shown.\n",
    ]
    for library in registry.LIBRARIES:
        parts += [f"### {library}\n", "```\n" + cli("--library", library) + "\n```\n"]
    return "\n".join(parts)


def test_activations_doc_is_generated_from_the_registry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert DOC.read_text() == render_activations_doc(), (
        "docs/activations.md is stale: regenerate it with "
        "python -c 'from tests.test_registry import write_activations_doc as w; w()'"
    )
    # The plain table names every row (its computed gains are jaxact/_src/listing.py's
    # table, which tests/test_lookup.py checks against registry.gain).
    capsys.readouterr()
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in registry.SPECS:
        assert name in out


def write_activations_doc() -> None:
    DOC.write_text(render_activations_doc())


# ----------------------------------------------------------------------------
# Partials resolve to the row they compute; info, gain and init_for take what
# swap_activations takes.

GELU_X = np.linspace(-4.0, 4.0, 17, dtype=np.float32)


def _erf_gelu(x: np.ndarray) -> np.ndarray:
    return np.array([float(v / 2 * mp.erfc(-v / mp.sqrt(2))) for v in map(mp.mpf, x.tolist())])


@pytest.mark.parametrize("base", ["jax.nn", "flax.linen", "jaxact"])
def test_spec_of_resolves_partials_by_their_keywords(base: str) -> None:
    gelu = {"jax.nn": jax.nn.gelu, "flax.linen": nn.gelu, "jaxact": jaxact.gelu}[base]
    exact = functools.partial(gelu, approximate=False)
    approx = functools.partial(gelu, approximate=True)
    assert registry.spec_of(exact).name == "gelu_erf"
    assert registry.spec_of(approx).name == "gelu_tanh"
    assert registry.spec_of(gelu).name == "gelu_tanh"  # the dispatcher's default
    assert registry.spec_of(functools.partial(gelu)).name == "gelu_tanh"
    # The row named is the function the partial computes (against mpmath's erf form).
    erf = _erf_gelu(GELU_X)
    np.testing.assert_allclose(exact(GELU_X), erf, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(registry.spec_of(exact).fn(GELU_X), erf, rtol=1e-5, atol=1e-7)
    assert np.max(np.abs(np.asarray(registry.spec_of(approx).fn(GELU_X)) - erf)) > 1e-4
    # Nested partials: the outer keyword wins.
    assert registry.spec_of(functools.partial(approx, approximate=False)).name == "gelu_erf"


def test_spec_of_keeps_the_row_of_a_parametrised_partial() -> None:
    for leaky in (jax.nn.leaky_relu, jaxact.leaky_relu):
        assert registry.spec_of(functools.partial(leaky, negative_slope=0.2)).name == "leaky_relu"
    assert registry.spec_of(functools.partial(jax.nn.elu, alpha=2.0)).name == "elu"
    assert registry.spec_of(jaxact.get("keras:leaky_relu")).name == "leaky_relu"
    assert registry.spec_of(functools.partial(lambda x, a: x, a=1.0)) is None


def test_info_gain_and_init_for_take_what_swap_takes() -> None:
    exact = functools.partial(jax.nn.gelu, approximate=False)
    rows = {
        "gelu": "gelu_tanh",  # the dispatcher: the row of its defaults
        jax.nn.gelu: "gelu_tanh",
        nn.gelu: "gelu_tanh",
        jaxact.gelu: "gelu_tanh",
        exact: "gelu_erf",
        functools.partial(nn.gelu, approximate=False): "gelu_erf",
        "torch:GELU": "gelu_erf",
        "keras:leaky_relu": "leaky_relu",
        jax.nn.relu: "relu",
        nn.relu: "relu",
        "swish": "silu",
    }
    for activation, row in rows.items():
        assert jaxact.info(activation).name == row, activation
    assert jaxact.gain(jax.nn.relu) == pytest.approx(math.sqrt(2))
    assert jaxact.gain("torch:ReLU") == pytest.approx(math.sqrt(2))
    assert jaxact.gain(exact) == jaxact.gain("gelu_erf") == jaxact.gain("torch:GELU")
    assert jaxact.gain("gelu") == jaxact.gain("gelu_tanh") == jaxact.gain(nn.gelu)
    # The two forms' gains differ (by 3e-5): the partial is not the dispatcher's default.
    assert jaxact.gain(exact) != jaxact.gain("gelu")
    key = jax.random.key(3)
    np.testing.assert_array_equal(
        jaxact.init_for(exact)(key, (64, 32)), jaxact.init_for("gelu_erf")(key, (64, 32))
    )
    w = jaxact.init_for(nn.relu)(key, (2048, 256))
    assert abs(float(jnp.var(w)) * 2048 - 2.0) < 0.05


def test_gain_is_cached_per_row() -> None:
    registry._row_gain.cache_clear()
    for name in ("relu", jax.nn.relu, "torch:ReLU", "ReLU", jaxact.relu):
        assert jaxact.gain(name) == pytest.approx(math.sqrt(2))
    cached = registry._row_gain.cache_info()
    assert (cached.currsize, cached.misses, cached.hits) == (1, 1, 4)


@pytest.mark.parametrize(
    "where,call,arg", [("info", jaxact.info, "name"), ("gain", jaxact.gain, "name")]
)
def test_info_and_gain_errors(where: str, call: Any, arg: str) -> None:
    with pytest.raises(ValueError, match=rf"jaxact.{where}: argument '{arg}' .*'gelu_nwe'.*gelu"):
        call("gelu_nwe")
    with pytest.raises(ValueError, match=rf"jaxact.{where}: argument '{arg}' .*torch:GELU"):
        call("torch:GELLU")
    with pytest.raises(ValueError, match=rf"jaxact.{where}: argument '{arg}' .*no registry row"):
        call(lambda x: x)
    with pytest.raises(TypeError, match=rf"jaxact.{where}: argument '{arg}'"):
        call(3)
    with pytest.raises(TypeError, match=rf"jaxact.{where}: argument '{arg}'"):
        call(jnp.ndarray)  # a class is no activation


def test_unknown_names_raise_an_error_that_is_a_key_error_and_a_value_error() -> None:
    # transformers' ACT2FN raises KeyError, jaxact's convention is ValueError: both catch.
    for call in (
        lambda: jaxact.get("relux"),
        lambda: jaxact.get("GELUx", "torch"),
        lambda: jaxact.get("nosuch:relu"),
    ):
        with pytest.raises(KeyError):
            call()
        with pytest.raises(ValueError) as info:
            call()
        assert isinstance(info.value, registry.UnknownActivationError)
        assert str(info.value).startswith("jaxact.get: unknown")  # not quoted as KeyError's
    with pytest.raises(KeyError, match=r"closest names: relu"):
        jaxact.get("relux")


def test_presets_say_what_they_compute_and_take_positional_arguments() -> None:
    # A library's name gives a function whose signature shows that library's defaults,
    # and a positional argument overrides a preset one as in the library.
    x = jnp.array([-1.0, 2.0])
    for name, arg, value in (
        ("keras:leaky_relu", "negative_slope", 0.2),
        ("keras:LeakyReLU", "negative_slope", 0.3),
        ("transformers:prelu", "negative_slope", 0.25),
        ("torch:Softplus", "threshold", 20.0),
    ):
        fn = jaxact.get(name)
        assert inspect.signature(fn).parameters[arg].default == value, name
    leaky = jaxact.get("keras:leaky_relu")
    np.testing.assert_allclose(leaky(x), [-0.2, 2.0])
    np.testing.assert_allclose(leaky(x, 0.1), [-0.1, 2.0])  # once "multiple values"
    np.testing.assert_allclose(leaky(x, negative_slope=0.5), [-0.5, 2.0])
    np.testing.assert_allclose(jax.jit(leaky)(x), [-0.2, 2.0])
    assert registry.spec_of(leaky).name == "leaky_relu" and leaky.__name__ == "leaky_relu"
    import pickle

    np.testing.assert_allclose(pickle.loads(pickle.dumps(leaky))(x, 0.1), [-0.1, 2.0])
