"""Shared machinery: input checks, dtype policy and the derivative-rule helper.

Every activation module uses these three pieces and nothing else from here:

* :func:`prepare` / :func:`param` / :func:`finish` check and convert the input and
  the numeric hyperparameters, implement the dtype policy (every floating dtype
  narrower than float32, bfloat16, float16 and the float8 types, is computed in
  float32 and rounded once; the output dtype is the input dtype) and raise errors
  that name the function and the argument.
* :func:`rule` attaches a ``custom_jvp`` rule given closed-form partial
  derivatives. The partial with respect to ``x`` may itself be a function with a
  rule attached, which is how second derivatives are made stable.
* :func:`positive` / :func:`negative` compare with zero through the sign bit so
  that subnormal inputs take the right branch even where the CPU flushes them to
  zero (XLA:CPU treats subnormal operands as 0 in float comparisons).

The registry wraps every public function in :func:`jnp_typing`, which gives
Python-scalar and weakly typed inputs a weakly typed result, as jax.numpy does,
and in :func:`checked`, the hyperparameter rule: a concrete numeric
hyperparameter outside its declared domain (:class:`Interval`), NaN included,
raises ``ValueError`` naming the function and the argument.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero

from jaxact._src import ops, precision

Array = jax.Array
ArrayLike = jax.typing.ArrayLike

F = TypeVar("F", bound=Callable[..., Any])


def is_narrow(dtype: Any) -> bool:
    """Whether ``dtype`` is a floating dtype narrower than float32 (bfloat16, float16,
    the float8 and float4 types): those are computed in float32 and rounded once."""
    if dtype is None:
        return False
    try:
        dtype = jnp.dtype(dtype)
    except TypeError:
        return False
    return bool(jnp.issubdtype(dtype, jnp.floating)) and dtype.itemsize < 4


def _float_dtype() -> np.dtype:
    return jnp.dtype(jnp.result_type(float))


def _describe(value: Any) -> str:
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return f"{type(value).__name__} of dtype {dtype}"
    return type(value).__name__


@functools.cache
def _promoted(dtype: np.dtype, weak: bool, default: np.dtype) -> np.dtype:
    # The float dtype jax.numpy computes a unary float function of an integer array in,
    # asked of jnp itself (no table to drift). ``default``, the default float dtype, is
    # part of the cache key: the answer changes with x64.
    del default
    arg = jax.ShapeDtypeStruct((), dtype, weak_type=weak)
    return jnp.dtype(jax.eval_shape(jnp.sin, arg).dtype)


def as_array(value: Any, fn: str, arg: str = "x") -> Array:
    """Converts ``value`` to a floating jax array or raises naming ``fn`` and ``arg``.

    Accepts jax and numpy arrays and Python/numpy scalars. Integers are promoted
    as jax.numpy promotes them (``jnp.sin``'s result dtype): integer arrays of up
    to 32 bits to float32, 64-bit ones to float64 under x64, Python ints and
    weakly typed integers to the default float dtype. Lists, tuples, strings,
    booleans and complex numbers raise ``TypeError``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (jax.Array, np.ndarray, np.generic, int, float)
    ):
        raise TypeError(
            f"jaxact.{fn}: argument '{arg}' must be a real floating or integer array "
            f"or scalar, got {_describe(value)}"
        )
    try:  # a PRNG key's dtype is no numpy dtype
        dtype = jnp.dtype(getattr(value, "dtype", None) or jnp.result_type(value))
    except TypeError:
        dtype = jnp.dtype(bool)  # rejected below, with the function's name
    if jnp.issubdtype(dtype, jnp.floating):
        return jnp.asarray(value)
    if jnp.issubdtype(dtype, jnp.integer) and dtype != jnp.dtype(bool):
        if isinstance(value, int):
            return jnp.asarray(value, _float_dtype())
        weak = bool(getattr(value, "weak_type", False))
        return jnp.asarray(value, _promoted(dtype, weak, _float_dtype()))
    raise TypeError(
        f"jaxact.{fn}: argument '{arg}' must be a real floating or integer array or "
        f"scalar, got {_describe(value)}"
    )


def integer_input(value: Any) -> Array | None:
    """``value`` as a jax array if it is an integer (not bool), else None.

    jax.nn keeps integer dtypes in ``identity``, ``relu`` and ``hard_tanh`` (and
    promotes elsewhere); those three call this to do the same. A Python int
    becomes a weakly typed integer array, as in jax.nn.
    """
    if isinstance(value, int) and not isinstance(value, (bool, np.bool_)):
        return jnp.asarray(value)
    dtype = getattr(value, "dtype", None)
    if isinstance(value, (jax.Array, np.ndarray, np.generic)) and dtype is not None:
        if jnp.issubdtype(dtype, jnp.integer) and not jnp.issubdtype(dtype, jnp.bool_):
            return jnp.asarray(value)
    return None


def _is_weak(value: Any) -> bool:
    """Whether jax.numpy types ``value`` weakly: a Python number, or a weakly typed array."""
    if isinstance(value, (bool, np.generic)):  # np.float64 is a Python float
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, jax.Array) and bool(getattr(value, "weak_type", False))


def _is_strong(value: Any) -> bool:
    """Whether ``value`` is a strongly typed numeric array (it would decide jnp's dtype)."""
    dtype = getattr(value, "dtype", None)
    if not isinstance(value, (jax.Array, np.ndarray, np.generic)) or dtype is None:
        return False
    if not jnp.issubdtype(dtype, jnp.number):  # PRNG keys, booleans
        return False
    return not _is_weak(value)


# No public API makes an array weakly typed; jax.numpy does it with this private
# function (jax 0.10). If a later jax drops it, results stay strongly typed.
def _private_convert() -> Callable[..., Any] | None:
    try:
        from jax._src.lax import lax as internal
    except ImportError:  # pragma: no cover
        return None
    return getattr(internal, "_convert_element_type", None)


_convert_element_type = _private_convert()


def _weakly_typed(y: Any) -> Any:
    """``y`` (a floating array) weakly typed, its dtype unchanged: the one use of jax's
    private conversion (which asserts a ``np.dtype`` instance)."""
    if (
        _convert_element_type is None
        or not isinstance(y, jax.Array)
        or y.weak_type
        or not jnp.issubdtype(y.dtype, jnp.floating)
    ):
        return y
    return _convert_element_type(y, np.dtype(y.dtype), weak_type=True)


def jnp_typing(fn: F) -> F:
    """``fn`` with jax.numpy's weak typing of results (applied by the registry).

    A Python-scalar or weakly typed ``x`` gives a weakly typed result of the dtype
    ``fn`` computes (the default float dtype), as ``jnp.sin(2.5)`` does, unless
    another argument is a strongly typed array (which would decide jnp's dtype).
    Ordinary array inputs call ``fn`` unchanged (no extra equation in a trace).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        y = fn(*args, **kwargs)
        x = args[0] if args else kwargs.get("x")
        if not _is_weak(x) or any(_is_strong(a) for a in (*args[1:], *kwargs.values())):
            return y
        return jax.tree_util.tree_map(_weakly_typed, y)

    return cast(F, wrapper)


# ---------------------------------------------------------------------------
# The hyperparameter rule: every numeric hyperparameter of a row has a domain, an
# interval declared where the row is filed (``register(domain=...)``; "(-inf, inf)",
# the finite reals, when not declared). A concrete value outside it (NaN is in none)
# raises ValueError naming the function and the argument; traced values are not
# checked.


@dataclasses.dataclass(frozen=True)
class Interval:
    """A hyperparameter's domain: ``"(0, inf)"``, ``"[0, inf]"``, ``"[min_val, inf]"``.

    An endpoint is a number (``inf`` included) or the name of another argument of
    the same function (its value at the call, or its default); a bracket includes
    the endpoint, a parenthesis excludes it, so ``"(-inf, inf)"`` is the finite
    reals and ``"[-inf, inf]"`` every number but NaN.
    """

    text: str
    lo: float | str
    lo_closed: bool
    hi: float | str
    hi_closed: bool

    def describe(self, values: Mapping[str, str] | None = None) -> str:
        """The domain in words (``"positive and finite"``), for error messages; an
        endpoint naming an argument is followed by its value from ``values``."""
        values = values or {}
        parts = []
        open_inf = []
        for end, closed, op in ((self.lo, self.lo_closed, ">"), (self.hi, self.hi_closed, "<")):
            op += "=" if closed else ""
            if isinstance(end, str):
                shown = f" ({values[end]})" if end in values else ""
                parts.append(f"{op} '{end}'{shown}")
            elif end == 0:
                words = {">": "positive", ">=": "non-negative", "<": "negative"}
                parts.append(words.get(op, "non-positive"))
            elif abs(end) != math.inf:
                parts.append(f"{op} {end:g}")
            elif not closed:
                open_inf.append((op, end))
        finite_end = [e for e in (self.lo, self.hi) if not isinstance(e, str) and abs(e) < math.inf]
        if len(open_inf) == 2 or (open_inf and finite_end):
            parts.append("finite")
        else:
            parts.extend(f"{op} {end:g}" for op, end in open_inf)
        return " and ".join(parts) or "a number"

    def __str__(self) -> str:
        return self.text


def interval(text: str, where: str) -> Interval:
    """Parses a domain such as ``"(0, inf)"``; ``where`` names the declaration in errors."""
    s = text.strip() if isinstance(text, str) else ""
    inner = s[1:-1].split(",")
    if len(s) < 5 or s[0] not in "[(" or s[-1] not in "])" or len(inner) != 2:
        raise ValueError(f"{where}: domain {text!r} is not an interval such as '(0, inf)'")

    def end(t: str) -> float | str:
        t = t.strip()
        try:
            return float(t)
        except ValueError:
            if t.isidentifier():
                return t
            raise ValueError(f"{where}: domain {text!r} has an endpoint {t!r}") from None

    lo, hi = end(inner[0]), end(inner[1])
    if isinstance(lo, float) and isinstance(hi, float) and not lo <= hi:
        raise ValueError(f"{where}: domain {text!r} is empty")
    return Interval(s, lo, s[0] == "[", hi, s[-1] == "]")


FINITE = Interval("(-inf, inf)", -math.inf, False, math.inf, False)


def _concrete_numbers(value: Any) -> np.ndarray | None:
    """``value`` as float64 numbers when it is a concrete real number or array, else None
    (a tracer, None, a string, a bool: the function's own checks decide about those)."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, jax.core.Tracer):
        return None
    if isinstance(value, (int, float)):
        return np.asarray(value, np.float64)
    if not isinstance(value, (jax.Array, np.ndarray, np.generic)):
        return None
    dtype = getattr(value, "dtype", None)
    if dtype is None or not (
        jnp.issubdtype(dtype, jnp.floating)
        or (jnp.issubdtype(dtype, jnp.integer) and not jnp.issubdtype(dtype, jnp.bool_))
    ):
        return None
    try:
        return np.asarray(value, np.float64)
    except Exception:  # an array this process cannot read (another host's shards)
        return None


def check_hyperparameters(
    fn: str, given: dict[str, Any], domains: dict[str, Interval], defaults: dict[str, Any]
) -> None:
    """Raises ValueError naming ``fn`` and the argument for a concrete value in ``given``
    that is NaN or outside its domain (an endpoint naming another argument takes its
    value from ``given`` or ``defaults``)."""
    numbers = {arg: _concrete_numbers(v) for arg, v in given.items()}
    for arg, v in numbers.items():
        if v is None:
            continue
        value = given[arg]
        if np.any(np.isnan(v)):
            raise ValueError(f"jaxact.{fn}: argument '{arg}' must not be NaN, got {value!r}")
        dom = domains[arg]
        shown: dict[str, str] = {}
        ok = np.ones(v.shape, bool)
        for end, closed, below in ((dom.lo, dom.lo_closed, False), (dom.hi, dom.hi_closed, True)):
            if isinstance(end, str):
                raw = given[end] if end in given else defaults.get(end)
                bound = numbers.get(end) if end in given else _concrete_numbers(raw)
                if bound is None or np.any(np.isnan(bound)):
                    continue  # traced, or NaN (reported as such)
                shown[end] = repr(raw)
            else:
                bound = np.float64(end)
            if below:
                ok = ok & ((v <= bound) if closed else (v < bound))
            else:
                ok = ok & ((v >= bound) if closed else (v > bound))
        if not np.all(ok):
            raise ValueError(
                f"jaxact.{fn}: argument '{arg}' must be {dom.describe(shown)}, got {value!r}"
            )


def checked(fn: F, name: str, domains: Mapping[str, Interval]) -> F:
    """``fn`` with the hyperparameter rule applied to the arguments in ``domains`` (given
    by position or keyword) before it runs; applied where rows are filed."""
    sig = inspect.signature(fn)
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    index = {p.name: i for i, p in enumerate(sig.parameters.values()) if p.kind in positional}
    defaults = {p.name: p.default for p in sig.parameters.values() if p.default is not p.empty}
    table = dict(domains)
    for arg in table:
        if arg not in sig.parameters:
            raise ValueError(f"jaxact.{name}: domain given for '{arg}', which is no argument")
    if not table:
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        given = {}
        for arg in table:
            if arg in kwargs:
                given[arg] = kwargs[arg]
            elif index.get(arg, len(args)) < len(args):
                given[arg] = args[index[arg]]
        if given:
            try:
                check_hyperparameters(name, given, table, defaults)
            except ValueError:
                # An input that is no array (arguments swapped) is the first mistake.
                x = args[0] if args else kwargs.get(next(iter(sig.parameters)))
                as_array(x, name, next(iter(sig.parameters)))
                raise
        return fn(*args, **kwargs)

    return cast(F, wrapper)


def compute_dtype(dtype: Any) -> np.dtype:
    """The dtype arithmetic is done in: float32 for the floating dtypes narrower than
    float32 (bfloat16, float16, float8 and float4 types), else ``dtype``."""
    dtype = jnp.dtype(dtype)
    return jnp.dtype(jnp.float32) if is_narrow(dtype) else dtype


def prepare(x: Any, fn: str, arg: str = "x") -> tuple[Array, np.dtype]:
    """Checks ``x`` and returns it in its compute dtype, plus the output dtype."""
    x = as_array(x, fn, arg)
    return x.astype(compute_dtype(x.dtype)), jnp.dtype(x.dtype)


def finish(y: Array, dtype: np.dtype) -> Array:
    """Rounds a result once to the output dtype."""
    return y.astype(dtype)


def is_concrete(value: Any) -> bool:
    """True when ``value`` holds known numbers (not a tracer under jit/grad)."""
    return not isinstance(value, jax.core.Tracer)


def param(
    value: Any,
    fn: str,
    arg: str,
    x: Array,
    *,
    positive: bool = False,
    nonnegative: bool = False,
    scalar: bool = False,
) -> Any:
    """Checks a numeric hyperparameter of an elementwise activation.

    Python numbers stay Python numbers (weakly typed, so they never change the
    result dtype). Arrays must broadcast to ``x``'s shape (or be scalars when
    ``scalar``) and are cast to ``x``'s compute dtype, so they stay
    differentiable. Sign constraints are checked whenever the value is concrete;
    under ``jit`` a traced parameter cannot be checked and out-of-range values
    give NaN.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (jax.Array, np.ndarray, np.generic, int, float)
    ):
        raise TypeError(
            f"jaxact.{fn}: argument '{arg}' must be a real number or array, got {_describe(value)}"
        )
    if isinstance(value, (int, float)):
        out: Any = float(value)
        shape: tuple[int, ...] = ()
    else:
        arr = as_array(value, fn, arg)
        shape = arr.shape
        out = arr.astype(x.dtype)
    if scalar and shape != ():
        raise ValueError(f"jaxact.{fn}: argument '{arg}' must be a scalar, got shape {shape}")
    try:
        broadcast = np.broadcast_shapes(shape, x.shape)
    except ValueError:
        broadcast = None
    if broadcast != tuple(x.shape):
        raise ValueError(
            f"jaxact.{fn}: argument '{arg}' of shape {shape} does not broadcast to the "
            f"input shape {tuple(x.shape)}"
        )
    if (positive or nonnegative) and is_concrete(value):
        v = np.asarray(value, dtype=np.float64)
        bad = np.any(v <= 0) if positive else np.any(v < 0)
        if bad or np.any(np.isnan(v)):
            need = "positive" if positive else "non-negative"
            raise ValueError(f"jaxact.{fn}: argument '{arg}' must be {need}, got {value!r}")
    return out


def positive(x: Array) -> Array:
    """``x > 0`` decided on the sign bit, so positive subnormals count (NaN: False)."""
    bits = _bits(x)
    return (bits > 0) & ~jnp.isnan(x)


def negative(x: Array) -> Array:
    """``x < 0`` decided on the sign bit, so negative subnormals count (NaN: False)."""
    bits = _bits(x)
    return (bits < 0) & (bits != jnp.iinfo(bits.dtype).min) & ~jnp.isnan(x)


def _bits(x: Array) -> Array:
    itype = {2: jnp.int16, 4: jnp.int32, 8: jnp.int64}[jnp.dtype(x.dtype).itemsize]
    return lax.bitcast_convert_type(x, itype)


def unflushed_times(c: Any, x: Array) -> Array:
    """``c x``, also where ``x`` is subnormal (XLA:CPU reads subnormal operands as 0).

    For subnormal ``x = m 2^-s`` the product is formed as ``(c m) 2^-s`` with the
    scaling done on the exponent bits (scaling by a constant 2^-s would be folded
    by XLA into a subnormal constant, itself flushed under jit).
    Products that are themselves subnormal come back as 0, like a flushed result.
    """
    # In x's dtype: under x64 a Python-float slope would otherwise promote a float32
    # product to float64, and the bitcasts below would split it into two int32 words.
    c = jnp.asarray(c).astype(x.dtype)
    f64 = x.dtype == jnp.float64
    itype = jnp.int64 if f64 else jnp.int32
    mbits, shift = (52, 1074) if f64 else (23, 149)
    bits = lax.bitcast_convert_type(x, itype)
    mag = bits & jnp.asarray(jnp.iinfo(itype).max, itype)
    sub = (mag > 0) & (mag < (1 << mbits))
    y = c * ops.where(bits < 0, -mag, mag).astype(x.dtype)  # c m, m exact
    scaled = lax.bitcast_convert_type(
        lax.bitcast_convert_type(y, itype) - jnp.asarray(shift << mbits, itype), x.dtype
    )
    return ops.where(sub, ops.where(jnp.abs(y) >= 2.0**mbits, scaled, 0.0 * y), c * x)


def nan_like(x: Array, d: Array) -> Array:
    """``d``, but NaN wherever ``x`` is NaN (derivatives of piecewise rules)."""
    return ops.where(jnp.isnan(x), x, d)


def zero_derivative(x: Array, *params: Array) -> Array:
    """The derivative of a piecewise-constant quantity: 0, NaN at NaN."""
    return nan_like(x, jnp.zeros_like(x))


def _is_zero(t: Any) -> bool:
    return isinstance(t, SymbolicZero)


# The residual of a two-level derivative: 0 (low level), 1 (high level) or 2
# (NaN input), one byte per element. (A float8 code could carry the NaN into the
# second derivative too, but XLA:CPU widens stacked float8 arrays to float16 in
# scans, which made a relu training step 1.7x slower; int8 costs nothing.)
CODE_DTYPE = jnp.dtype(jnp.int8)


def _encode(d: Array, hi: Array) -> Array:
    """1 where ``d == hi``, 0 elsewhere, 2 where ``d`` is NaN, as one byte."""
    one = ops.where(d == hi, 1, 0)
    return ops.where(jnp.isnan(d), 2, one).astype(CODE_DTYPE)


def _decode_times(code: Array, lo: Array, hi: Array, t: Array) -> Array:
    # d * t, not a select between hi * t, lo * t and a NaN constant: the tangent
    # map must be linear in t for the NaN to reach the transposed (reverse) pass.
    nan = jnp.asarray(jnp.nan, t.dtype)
    d = ops.where(code == 1, hi, ops.where(code == 0, lo, nan))
    return d * t


# Recomputed in the backward pass from the code: the code is the only residual.
_decode_times_remat = jax.checkpoint(_decode_times)


def _small(p: Any, x: Array) -> bool:
    return int(np.size(p)) < int(np.size(x)) or np.size(x) <= 1


def rule(
    fun: Callable[..., Array],
    dx: Callable[..., Array] | None,
    dparams: Callable[..., Sequence[Array]] | None = None,
    *,
    levels: Callable[..., tuple[Any, Any]] | None = None,
    together: bool = False,
    inline: bool = True,
) -> Callable[..., Array]:
    """Attaches a JVP rule to ``f(x, *params)`` from closed-form partials.

    Args:
      fun: the forward formula, an elementwise function of ``x`` and numeric
        params (plain, no rule of its own).
      dx: ``dx(x, *params)``, the partial derivative with respect to ``x``. Make
        it a function with its own rule (built by this helper) when its plain
        autodiff would not be stable; that is the second derivative.
      dparams: ``dparams(x, *params)`` returning one partial per parameter. When
        omitted, parameter tangents are handled by autodiff of ``f``'s formula.
      levels: for piecewise-linear ``f``, whose derivative takes two values only:
        ``levels(*params) -> (low, high)``. The backward pass then keeps a
        one-byte code (``CODE_DTYPE``: low, high or NaN) instead of ``dx(x)``.
        The code carries no derivative, so such an ``f''`` is 0 everywhere,
        NaN inputs included (its first derivative is NaN there).
      together: where a first derivative is taken, evaluate ``fun`` and ``dx``
        in one function, so that XLA computes the work they share (the
        elementary functions, when both use the same clamps) once; higher
        derivatives still come from their own rules.
      inline: inline the rule into the caller's trace (the default). ``False``
        keeps a jit boundary around it, which also keeps XLA's algebraic
        simplifier from seeing the caller's constant parameters: for formulas
        whose error-free arithmetic involves a parameter.

    Only the partials whose tangents are non-zero are computed (symbolic zeros),
    so an activation differentiated only in ``x`` saves one array for the
    backward pass: ``dx(x)`` (4 bytes per element in float32), or its one-byte
    code when ``levels`` is given. Returns the jitted ``custom_jvp`` function.
    """
    f = jax.custom_jvp(fun)
    pair = _pair(fun, f, dx) if together and dx is not None and levels is None else None

    def jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
        x, *ps = primals
        tx, *tps = tangents
        terms = []
        if _is_zero(tx) or dx is None:
            y = f(*primals)
        elif pair is not None:
            y, d = pair(*primals)
            terms.append(d * tx)
        else:
            y = f(*primals)
            d = dx(x, *ps)
            lo_hi = levels(*ps) if levels is not None else None
            if lo_hi is not None and all(_small(v, x) for v in lo_hi):
                lo, hi = (jnp.asarray(v, d.dtype) for v in lo_hi)
                terms.append(_decode_times_remat(_encode(d, hi), lo, hi, tx))
            else:
                terms.append(d * tx)
        live = [i for i, t in enumerate(tps) if not _is_zero(t)]
        if live:
            if dparams is not None:
                parts = dparams(x, *ps)
                terms.extend(parts[i] * tps[i] for i in live)
            else:

                def of_params(*q: Any) -> Array:
                    return fun(x, *q)

                tps_full = [
                    jnp.zeros(jnp.shape(p), jnp.result_type(p)) if _is_zero(t) else t
                    for p, t in zip(ps, tps, strict=True)
                ]
                terms.append(jax.jvp(of_params, tuple(ps), tuple(tps_full))[1])
        if not terms:
            return y, jnp.zeros_like(y)
        out = terms[0]
        for term in terms[1:]:
            out = out + term
        return y, jnp.broadcast_to(out, y.shape).astype(y.dtype)

    f.defjvp(jvp, symbolic_zeros=True)
    # Inlined by default. A jit boundary around a rule made XLA:CPU materialise
    # a piecewise rule's one-byte code between separately partial-evaluated
    # computations (a relu scan training step took 1.5x as long), and inside a
    # differentiated lax.scan JAX's partial evaluation splits the jitted rule and
    # hoists its constants out of the loop as full-size arrays (see ops).
    return jax.jit(f, inline=inline)


def smooth_rule(
    value: Callable[..., Array],
    d1: Callable[..., Array],
    d2: Callable[..., Array],
    dparams: Callable[..., Sequence[Array]] | None = None,
    d1_dparams: Callable[..., Sequence[Array]] | None = None,
) -> Callable[..., Array]:
    """A function with closed-form first and second derivatives in x.

    ``dparams`` / ``d1_dparams``: closed-form parameter partials of f and of f'
    (needed wherever the formula goes through ``elementary``, whose bit-level
    implementations are not differentiable by autodiff).
    ``d2`` is the second derivative in ``x``, differentiated by autodiff in turn.
    """
    return rule(value, rule(d1, d2, d1_dparams), dparams)


def _pair(
    fun: Callable[..., Array], f: Callable[..., Array], dx: Callable[..., Array]
) -> Callable[..., tuple[Array, Array]]:
    """``(fun, dx)`` in one function, its JVP taken from the rules of ``f`` and ``dx``."""
    pair = jax.custom_jvp(lambda *a: (fun(*a), dx(*a)))

    def jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Any, Any]:
        _, out_t = jax.jvp(lambda *a: (f(*a), dx(*a)), primals, tangents)
        return pair(*primals), out_t

    pair.defjvp(jvp)
    return pair


def tiered(fast: Callable[..., Array], accurate: Callable[..., Array]) -> Callable[..., Array]:
    """One rule per precision tier, chosen when traced from the compute dtype of ``x``.

    ``fast`` and ``accurate`` are functions of ``(x, *params)`` with rules of their
    own (:func:`rule`); see :mod:`jaxact._src.precision` for the tiers.
    """

    def call(x: Array, *params: Any) -> Array:
        return (fast if precision.fast(x.dtype) else accurate)(x, *params)

    call.fast = fast  # type: ignore[attr-defined]
    call.accurate = accurate  # type: ignore[attr-defined]
    return call


def half_remat(fn: F) -> F:
    """Half-precision (and float8) inputs keep only ``x`` for the backward pass.

    An activation computes in float32, so its derivative residual is a float32
    array even for bfloat16/float16 input (4 bytes per element). For those
    inputs this wrapper runs ``fn`` under ``jax.checkpoint``: the backward pass
    keeps the half-precision input (2 bytes per element) and recomputes the
    derivative from it, exactly as the forward pass would (no extra rounding).
    Other dtypes call ``fn`` unchanged.
    """

    @functools.wraps(fn)
    def wrapper(x: Any, *args: Any, **kwargs: Any) -> Any:
        if is_narrow(getattr(x, "dtype", None)) and isinstance(x, (jax.Array, np.ndarray)):
            return jax.checkpoint(lambda v: fn(v, *args, **kwargs))(x)
        return fn(x, *args, **kwargs)

    return cast(F, wrapper)
