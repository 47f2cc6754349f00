"""Library names without the libraries: each library function's values are its row's,
its derivatives at kinks are the library's (pinned here, documented in
docs/numerics.md "Library names"), its signature is the library's, and the lookups of
"no activation" are each library's.

tests/test_compat.py checks the same names against the libraries themselves (with the
``compat`` extra).
"""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxact
from jaxact import registry

X = np.array(
    [-30.0, -3.0, -2.0, -1.0, -0.5, -1e-30, 0.0, 1e-30, 0.5, 1.0, 3.0, 6.0, 25.0], np.float32
)

# (library, name) -> {x: f'(x)} at the kinks where the library's convention differs
# from jaxact's own name (the row gives 1 at each of these).
LIBRARY_KINKS = {
    ("torch", "leaky_relu"): {0.0: 0.01},
    ("torch", "LeakyReLU"): {0.0: 0.01},
    ("timm", "leaky_relu"): {0.0: 0.01},
    ("transformers", "leaky_relu"): {0.0: 0.01},
    ("torch", "prelu"): {0.0: 0.25},
    ("torch", "PReLU"): {0.0: 0.25},
    ("timm", "prelu"): {0.0: 0.25},
    ("transformers", "prelu"): {0.0: 0.25},
    ("torch", "rrelu"): {0.0: (1 / 8 + 1 / 3) / 2},
    ("torch", "RReLU"): {0.0: (1 / 8 + 1 / 3) / 2},
    ("torch", "hardtanh"): {-1.0: 0.0, 1.0: 0.0},
    ("torch", "Hardtanh"): {-1.0: 0.0, 1.0: 0.0},
    ("keras", "PReLU"): {0.0: 0.0},
    ("timm", "hard_mish"): {-2.0: -1.0},
}
# jaxact's own function's value there, where it is not 1.
OWN_KINKS = {("timm", "hard_mish"): {-2.0: 0.0}}


def _grads(fn, xs, **kw):
    return np.asarray(jax.vmap(jax.grad(lambda v: fn(v, **kw)))(jnp.asarray(xs)))


ELEMENTWISE_KEYS = sorted(
    key
    for key in registry.LIBRARY_FUNCTIONS
    if registry.SPECS[registry.LIBRARY_NAMES[key[0]][key[1]][0]].kind == "elementwise"
)


@pytest.mark.parametrize("key", ELEMENTWISE_KEYS)
def test_library_function_computes_its_row(key: tuple[str, str]) -> None:
    lib, name = key
    fn = jaxact.get(f"{lib}:{name}")
    row, presets = registry.LIBRARY_NAMES[lib][name]
    spec = registry.SPECS[row]
    assert registry.spec_of(fn) is spec, key
    # jaxact's own function with the name's preset arguments.
    own = registry.FUNCTIONS[row]
    kw = dict(presets)
    if row == "threshold":
        kw = {"threshold": 0.5, "value": -1.0}
        fn_kw = {"threshold": 0.5, "default_value": -1.0} if lib == "keras" else kw
    else:
        fn_kw = {}
    got, want = np.asarray(fn(jnp.asarray(X), **fn_kw)), np.asarray(own(jnp.asarray(X), **kw))
    if key == ("transformers", "sqrtsoftplus"):  # sqrt(x) above torch's threshold, 20
        above = X > 20
        np.testing.assert_array_equal(got[~above], want[~above])
        np.testing.assert_allclose(got[above], np.sqrt(X[above]), rtol=1e-7)
    else:
        np.testing.assert_array_equal(got, want)
    g, gw = _grads(fn, X, **fn_kw), _grads(own, X, **kw)
    kinks = LIBRARY_KINKS.get(key, {})
    off = ~np.isin(X, list(kinks)) & (X <= 20)
    np.testing.assert_array_equal(g[off], gw[off])
    for x, want_d in kinks.items():
        got_d = float(jax.grad(lambda v: fn(v, **fn_kw))(jnp.float32(x)))
        assert got_d == pytest.approx(want_d, rel=1e-6), (key, x, got_d)
        # and jaxact's own name keeps jaxact's convention there
        own_d = OWN_KINKS.get(key, {}).get(x, 1.0)
        assert float(jax.grad(lambda v: own(v, **kw))(jnp.float32(x))) == own_d, (key, x)


def test_every_convention_difference_is_a_library_function() -> None:
    assert set(LIBRARY_KINKS) <= set(registry.LIBRARY_FUNCTIONS)


def test_library_signatures_are_the_libraries() -> None:
    def params(name: str) -> dict[str, object]:
        sig = inspect.signature(jaxact.get(name))
        return {k: p.default for k, p in list(sig.parameters.items())[1:]}

    # Keras' own argument names and defaults.
    assert params("keras:relu") == {"negative_slope": 0.0, "max_value": None, "threshold": 0.0}
    assert params("keras:gelu") == {"approximate": False}
    assert params("keras:hard_shrink") == {"threshold": 0.5}
    assert params("keras:soft_shrink") == {"threshold": 0.5}
    assert list(params("keras:threshold")) == ["threshold", "default_value"]
    assert params("keras:leaky_relu") == {"negative_slope": 0.2}
    assert params("keras:LeakyReLU") == {"negative_slope": 0.3}
    assert params("keras:PReLU") == {"negative_slope": 0.0}
    # torch's.
    assert params("torch:gelu") == {"approximate": "none"}
    assert params("torch:Softplus") == {"beta": 1.0, "threshold": 20.0}
    assert params("torch:PReLU") == {"negative_slope": 0.25}


def test_keras_relu_arguments() -> None:
    relu = jaxact.get("keras:relu")
    x = jnp.array([-2.0, -0.5, 0.0, 0.25, 0.5, 1.0, 4.0, 9.0])
    np.testing.assert_array_equal(relu(x), jaxact.relu(x))
    np.testing.assert_array_equal(relu(x, negative_slope=0.1), jaxact.leaky_relu(x, 0.1))
    np.testing.assert_array_equal(relu(x, max_value=6.0), jaxact.relu6(x))
    # Keras' formula: clip(x * [x > t], 0, M) - a * relu(t - x).
    xs = np.asarray(x)
    for a, m, t in ((0.1, 4.0, 0.5), (0.2, 3.0, -0.5), (0.0, 1.0, 0.25), (0.3, None, 0.5)):
        pos = np.clip(np.where(xs > t, xs, 0.0), 0.0, np.inf if m is None else m)
        want = (pos - a * np.maximum(t - xs, 0.0)).astype(np.float32)
        got = relu(x, negative_slope=a, max_value=m, threshold=t)
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=0, err_msg=str((a, m, t)))
    with pytest.raises(ValueError, match="relu.*'max_value'"):
        relu(x, max_value=-1.0)
    with pytest.raises(TypeError, match="relu.*'threshold'"):
        relu(x, threshold=jnp.float32(0.5))


def test_keras_and_torch_gelu_arguments() -> None:
    x = jnp.linspace(-4.0, 4.0, 9)
    np.testing.assert_array_equal(jaxact.get("keras:gelu")(x), jaxact.gelu_erf(x))
    np.testing.assert_array_equal(
        jaxact.get("keras:gelu")(x, approximate=True), jaxact.gelu_tanh(x)
    )
    np.testing.assert_array_equal(jaxact.get("torch:GELU")(x), jaxact.gelu_erf(x))
    np.testing.assert_array_equal(jaxact.get("torch:gelu")(x, "tanh"), jaxact.gelu_tanh(x))
    with pytest.raises(ValueError, match="gelu.*'approximate'"):
        jaxact.get("torch:gelu")(x, approximate=True)
    with pytest.raises(TypeError, match="gelu.*'approximate'"):
        jaxact.get("keras:gelu")(x, approximate="tanh")


def test_transformers_xielu_uses_the_modules_bfloat16_parameters() -> None:
    # XIELUActivation() rounds its parameters to bfloat16: softplus of the rounded raw
    # parameters is 0.80078125, eps is bfloat16(-1e-6).
    fn = jaxact.get("transformers:xielu")
    x = jnp.array([-2.5, -1.0, 0.5, 2.0])
    bf = float(jnp.asarray(-1e-6, jnp.bfloat16))
    want = jaxact.xielu(x, alpha_p=0.80078125, alpha_n=0.80078125, beta=0.5, eps=bf)
    np.testing.assert_array_equal(fn(x), want)
    assert not np.allclose(fn(x), jaxact.xielu(x), rtol=1e-3)  # 0.8 would differ


def test_no_activation_is_what_each_library_makes_of_it() -> None:
    assert jaxact.get(None, "keras") is jaxact.identity  # keras.activations.get(None)
    assert jaxact.get("keras:linear") is jaxact.identity
    assert jaxact.get(None, "timm") is None  # timm's get_act_fn(None)
    assert jaxact.get("", "timm") is None
    for lib in (None, "jax", "torch", "transformers"):
        with pytest.raises(TypeError, match="jaxact.get.*'name'"):
            jaxact.get(None, lib)
    for lib in ("jax", "keras", "transformers"):
        with pytest.raises(KeyError):
            jaxact.get("", lib)
    with pytest.raises(ValueError, match="unknown activation ''"):
        jaxact.get("")


def test_torch_dim_arguments() -> None:
    x = jax.random.normal(jax.random.key(0), (4, 6, 2))
    for name, own in (
        ("softmax", jaxact.softmax),
        ("log_softmax", jaxact.log_softmax),
        ("softmin", jaxact.softmin),
    ):
        fn = jaxact.get(f"torch:{name}")
        np.testing.assert_array_equal(fn(x, dim=1), own(x, axis=1))
        np.testing.assert_array_equal(fn(x, 0), own(x, axis=0))
        # dim=None (F.softmax(x), nn.Softmax()): torch's legacy choice by rank.
        np.testing.assert_array_equal(fn(x), own(x, axis=0))  # 3-d: axis 0
        np.testing.assert_array_equal(fn(x[0]), own(x[0], axis=1))  # 2-d: axis 1
        with pytest.raises(TypeError, match=f"{name}.*'dim'"):
            fn(x, dim=1.5)
    glu = jaxact.get("torch:GLU")
    np.testing.assert_array_equal(glu(x, dim=0), jaxact.glu(x, axis=0))
    np.testing.assert_array_equal(glu(x), jaxact.glu(x))
    with pytest.raises(ValueError, match="glu.*dim 1 of size 6|glu: dim"):
        glu(x[:, :5], dim=1)


@pytest.mark.parametrize("key", ELEMENTWISE_KEYS)
def test_library_function_types_results_as_jnp(key: tuple[str, str]) -> None:
    # A Python scalar gives a weakly typed default-float result, an int32 array a
    # float32 one, as jaxact's own names do (and jnp.sin).
    fn = jaxact.get(f"{key[0]}:{key[1]}")
    kw = {"threshold": 0.5, "default_value" if key[0] == "keras" else "value": -1.0}
    kw = kw if registry.LIBRARY_NAMES[key[0]][key[1]][0] == "threshold" else {}
    y = fn(2.5, **kw)
    assert y.weak_type and y.dtype == jnp.result_type(float), key
    yi = fn(jnp.array([1, 2], jnp.int32), **kw)
    assert yi.dtype == jnp.float32 and not yi.weak_type, key
