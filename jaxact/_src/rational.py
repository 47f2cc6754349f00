"""Learnable and adaptive family: rational (PAU), acon_c and meta_acon.

``rational`` evaluates ``P(x)/Q(x)`` by Horner's rule. For ``|x| > 4`` it uses
the reversed polynomials in ``t = 1/x`` (``P/Q = x^(m-e) sign(x)^e P~(t)/Q~(t)``
with ``e`` the degree of ``Q``), so no ``x^k`` is formed and the result only
overflows where the true value does. ``f'`` comes from P, P', Q and Q' as
compensated (double-word) sums, so it does not depend on which ``a*b + c`` XLA
contracts into FMAs; ``f''`` and the coefficient derivatives come from
differentiating these stable forms.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxact._src import dw, exact, ops
from jaxact._src.core import (
    ArrayLike,
    as_array,
    finish,
    half_remat,
    negative,
    param,
    prepare,
    rule,
)
from jaxact._src.registry import Kink, register
from jaxact._src.sigmoid import sigmoid_rule
from jaxact._src.swish import silu_prime, silu_rule

Array = jax.Array

__all__ = ["rational", "acon_c", "meta_acon", "fit_rational", "RATIONAL_INIT"]

_VERSIONS = ("A", "B", "C", "D")

# Version-A (5, 4) PAU coefficients, ``numerator`` a_0..a_5 and ``denominator``
# b_1..b_4, made by ``fit_rational(fn)`` (least squares on 2001 points of
# [-5, 5]: a linearised fit, then damped Gauss-Newton) and rounded to float32,
# so that they are exact in every compute dtype. Max |error| of each fit on
# [-5, 5] is in the comment. ``tests/test_rational.py`` refits and compares.
RATIONAL_INIT: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    # max |error| 9.2e-02 on [-5, 5] (at x = 0)
    "leaky_relu": (
        (
            0.09241712093353271,
            0.5084006190299988,
            0.6326996684074402,
            0.3076452910900116,
            0.05962398275732994,
            0.004207892343401909,
        ),
        (0.007902340032160282, 0.6071321368217468, -4.956903012498515e-06, 0.008363796398043633),
    ),
    # max |error| 9.3e-02 on [-5, 5] (at x = 0)
    "relu": (
        (
            0.09333198517560959,
            0.5034537315368652,
            0.6392809748649597,
            0.30468976497650146,
            0.060238759964704514,
            0.004166400991380215,
        ),
        (-0.008110095746815205, 0.6072575449943542, 5.080440587335033e-06, 0.00836501456797123),
    ),
    # max |error| 4.3e-03 on [-5, 5] (at x = -0.922)
    "gelu": (
        (
            -0.003794415621086955,
            0.49761930108070374,
            0.4191233217716217,
            0.12613056600093842,
            0.015916451811790466,
            0.000694790156558156,
        ),
        (2.0610300452972297e-06, 0.24691557884216309, -0.002499323571100831, 0.001087935408577323),
    ),
    # max |error| 6.4e-05 on [-5, 5] (at x = -5)
    "silu": (
        (
            1.630872066016309e-05,
            0.5000484585762024,
            0.24995386600494385,
            0.05266815051436424,
            0.00554330600425601,
            0.00024374622444156557,
        ),
        (
            0.00017303094500675797,
            0.10523573309183121,
            2.3562861315440387e-05,
            0.00048556600813753903,
        ),
    ),
    # max |error| 1.4e-04 on [-5, 5] (at x = -0.184)
    "tanh": (
        (
            -1.1902329751371189e-18,
            1.0017368793487549,
            1.5279102282626506e-18,
            0.09438634663820267,
            -9.909264431806694e-20,
            0.0005031495820730925,
        ),
        (-0.0060001858510077, 0.4231794476509094, 4.75978145786371e-09, 0.010837510228157043),
    ),
    # max |error| 4.2e-07 on [-5, 5] (at x = 5)
    "sigmoid": (
        (
            0.5000000596046448,
            0.24999965727329254,
            0.05525309592485428,
            0.006793767213821411,
            0.0004669406043831259,
            1.4354749509948306e-05,
        ),
        (3.1867506322669215e-07, 0.11050593852996826, 7.224394238392051e-08, 0.0009338744566775858),
    ),
}


def _abs(v: Array) -> Array:
    """``|v|`` whose derivative at 0 is +1 (the piece ``v >= 0`` owns 0)."""
    return ops.where(negative(v), -v, v)


def _recip_d1(x: Array) -> Array:
    t = _recip(x)
    return -(t * t)


# 1/x with derivative -(1/x)^2 (never forms x^2, which overflows for large |x|).
_recip = rule(lambda x: 1 / x, _recip_d1)


def _horner(coeffs: list[Array], t: Array) -> Array:
    """``sum_i coeffs[i] t^i``."""
    acc = jnp.zeros_like(t) + coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * t + c
    return acc


_SWITCH = 4.0  # Horner in x for |x| <= 4, in 1/x beyond


def _parts(a: Array, b: Array, version: str) -> tuple[list[Array], list[Array], int, int]:
    av = [a[j] for j in range(a.shape[0])]
    bv = [b[k] for k in range(b.shape[0])]
    bq = [_abs(c) for c in bv] if version == "A" else bv
    e = len(bv) - 1 if version == "C" else len(bv)
    return av, bq, len(av) - 1, e


def _inner(x: Array, a: Array, b: Array, version: str) -> Array:
    """P(x)/Q(x) by Horner's rule (used for |x| <= 4)."""
    av, bq, _, _ = _parts(a, b, version)
    p = _horner(av, x)
    if version == "A":
        q = 1 + _abs(x) * _horner(bq, _abs(x))
    elif version == "C":
        q = 0.1 + _abs(_horner(bq, x))
    else:
        q = 1 + _abs(x * _horner(bq, x))
    return p / q


def _reversed(t: Array, a: Array, b: Array, version: str) -> Array:
    """R(t) = P~(t)/Q~(t), with P/Q = x^(m-e) sign(x)^e R(1/x) (used for |x| > 4)."""
    av, bq, _, e = _parts(a, b, version)
    at = _abs(t)
    p = _horner(av[::-1], t)
    if version == "A":
        q = _horner(bq[::-1] + [jnp.ones_like(t)], at)
    elif version == "C":
        q = 0.1 * at**e + _abs(_horner(bq[::-1], t))
    else:
        q = at**e + _abs(_horner(bq[::-1], t))
    return p / q


DW = tuple[Array, Array]


def _abs2(h: Array, l: Array) -> tuple[Array, Array]:
    return ops.where(negative(h), -h, h), ops.where(negative(h), -l, l)


def _pick(big: Array, coeffs: list[Array]) -> list[Array]:
    """Per element, ``coeffs`` where ``big`` is False and ``coeffs`` reversed where it is
    True (the reversed polynomial beyond 4).

    A blend with the weights 0 and 1 (exact for finite coefficients), not a select: a
    select of two constant coefficients makes a full-size array of each, which a
    differentiated ``lax.scan`` would hoist out of its loop.
    """
    w = ops.where(big, jnp.ones((), coeffs[0].dtype), 0)
    return [i * (1 - w) + o * w for o, i in zip(coeffs[::-1], coeffs, strict=True)]


def _pq(u: Array, big: Array, a: Array, b: Array, version: str) -> tuple[DW, DW]:
    """P and Q as double words, in one pass for both pieces: ``u = x`` with the
    polynomials' own coefficients where ``|x| <= 4``, ``u = 1/x`` with the reversed
    polynomials' beyond (each element takes the coefficients of its piece)."""
    av, bq, _, e = _parts(a, b, version)
    one = jnp.ones((), u.dtype)
    au = _abs(u)
    p = _horner_d(_pick(big, av), u, slope=False)[0]
    if version == "A":
        return p, _horner_d(_pick(big, [one, *bq]), au, slope=False)[0]
    base = 1.0 if version == "B" else 0.1  # Python floats: splat constants, never arrays
    hh, hl = _abs2(
        *_horner_d(_pick(big, bq if version == "C" else [0 * one, *bq]), u, slope=False)[0]
    )
    qh, se = exact.two_sum(ops.where(big, base * au**e, base), hh)
    return p, (qh, hl + se)


def _divide(p: DW, q: DW) -> Array:
    """``p / q`` to about half an ulp (plus the inputs' own error), with one quotient.

    ``r = p_h / q_h`` and a correction ``(p - r q) / q`` computed exactly; both
    divide by multiplying with one reciprocal (its rounding changes the small
    correction only), so XLA fuses it with the rest.
    """
    inv = 1 / q[0]
    r = p[0] * inv
    pr, pe = exact.two_prod(r, q[0])
    return r + (((p[0] - pr) - pe) + p[1] - r * q[1]) * inv


def _horner_d(coeffs: list[Array], t: Array, slope: bool = True) -> tuple[DW, DW]:
    """``sum_i coeffs[i] t^i`` and its derivative in ``t``, both as double words.

    Compensated Horner (each step's rounding errors from :func:`exact.two_prod` and
    :func:`exact.two_sum` carried in a second recurrence; Graillat, Langlois, Louvet
    2005), with a third compensated recurrence for the derivative
    (``d <- d t + p`` before each ``p <- p t + c``), so no coefficient ``i c_i``
    is ever rounded; ``slope=False`` leaves the derivative out (zeros). The error
    terms start from the first step's, not from zeros times ``t``: a differentiated
    ``lax.scan`` would hoist such zeros out of its loop as full-size arrays.
    """
    hi = coeffs[-1]
    lo: Array | None = None
    dh: Array | None = None
    dl: Array | None = None
    for c in reversed(coeffs[:-1]):
        if slope:
            if dh is None:
                dh, dl = hi, lo
            else:
                q, qe = exact.two_prod(dh, t)
                dh, se = exact.two_sum(q, hi)
                err = qe + se if lo is None else (qe + se) + lo
                dl = err if dl is None else dl * t + err
        p, pe = exact.two_prod(hi, t)
        hi, se = exact.two_sum(p, c)
        lo = pe + se if lo is None else lo * t + (pe + se)

    def dw(h: Array | None, l: Array | None) -> DW:
        return (jnp.zeros_like(t) if h is None else h, jnp.zeros_like(t) if l is None else l)

    return dw(hi, lo), dw(dh, dl)


def _mul(u: DW, v: DW) -> DW:
    p, e = exact.two_prod(u[0], v[0])
    return p, e + (u[0] * v[1] + u[1] * v[0])


def _sub(u: DW, v: DW) -> DW:
    s, e = exact.two_sum(u[0], -v[0])
    return s, e + (u[1] - v[1])


def _negate_where(c: Array, u: DW) -> DW:
    return ops.where(c, -u[0], u[0]), ops.where(c, -u[1], u[1])


def _derivative(x: Array, a: Array, b: Array, version: str) -> Array:
    """f'(x) from P, P', Q and Q' as double words (compensated Horner).

    Inner (``|x| <= 4``): ``(P'Q - PQ')/Q^2``. Beyond, with ``k = m - e`` and the
    reversed polynomials in ``t = 1/x``: ``x^(k-1) (kPQ - t(P'Q - PQ'))/Q^2``. The
    numerator, where the terms cancel, is a double word, so f' is within about an
    ulp of the true one whatever XLA contracts into FMAs. One pass serves both
    pieces: each element takes the coefficients of its own.
    """
    av, bq, m, e = _parts(a, b, version)
    k = m - e
    big = jnp.abs(x) > _SWITCH
    xo = ops.where(big, x, 2.0)
    t = _recip(xo)
    u = ops.where(big, t, x)  # NaN stays NaN

    def pass_(coeffs: list[Array], v: Array) -> tuple[DW, DW]:
        # sum_i coeffs[i] v^i and its derivative, or the reversed polynomial's beyond 4
        return _horner_d(_pick(big, coeffs), v)

    one = jnp.ones((), x.dtype)
    p, dp = pass_(av, u)
    if version == "A":
        q, dq = pass_([one, *bq], _abs(u))
        dq = _negate_where(negative(u), dq)
    else:
        h, dh = pass_(bq if version == "C" else [0 * one, *bq], u)
        neg = negative(h[0])
        h, dq = _negate_where(neg, h), _negate_where(neg, dh)
        c = 1.0 if version == "B" else 0.1  # Python floats: splat constants, never arrays
        au = _abs(u)
        # the base term, c inner and c |t|^e beyond (derivative c e |t|^(e-1) sign(t))
        qh, se = exact.two_sum(ops.where(big, c * au**e, c), h[0])
        q = qh, h[1] + se
        if e:
            db = c * e * au ** (e - 1)
            db = ops.where(big, ops.where(negative(u), -db, db), 0.0)
            s, se = exact.two_sum(dq[0], db)
            dq = s, dq[1] + se
    n = _sub(_mul(dp, q), _mul(p, dq))
    kpq = _mul(p, q)
    if k != 1:
        kpq = _mul(kpq, (jnp.asarray(k, x.dtype), jnp.zeros((), x.dtype)))  # scalars: no arrays
    tn = exact.two_prod(t, n[0])
    no = _sub(kpq, (tn[0], tn[1] + t * n[1]))
    n = ops.where(big, no[0], n[0]), ops.where(big, no[1], n[1])
    # n / q^2 with each quotient used once: XLA:CPU makes a quotient used more than
    # once a fusion of its own and recomputes its operands.
    sh, sl = _mul(q, q)
    r = (n[0] + (n[1] - n[0] * (sl / sh))) / sh
    return r * ops.where(big, _outer_sign(xo, _power(xo, t, k - 1), e), 1.0)


def _power(x: Array, t: Array, n: int) -> Array:
    return x**n if n >= 0 else t ** (-n)


def _outer_sign(x: Array, y: Array, e: int) -> Array:
    return ops.where(negative(x), -y, y) if e % 2 else y


def _make_rational(version: str) -> Callable[..., Array]:
    def value(x: Array, a: Array, b: Array) -> Array:
        _, _, m, e = _parts(a, b, version)
        # One pass for both pieces (as in _derivative), and every quotient used
        # once: XLA:CPU makes a quotient used more than once a fusion of its own and
        # keeps it in memory (a quotient per piece kept 12 bytes per element).
        big = jnp.abs(x) > _SWITCH
        xo = ops.where(big, x, 2.0)
        t = _recip(xo)
        p, q = _pq(ops.where(big, t, x), big, a, b, version)
        return _divide(p, q) * ops.where(big, _outer_sign(xo, _power(xo, t, m - e), e), 1.0)

    def dx(x: Array, a: Array, b: Array) -> Array:
        return _derivative(x, a, b, version)

    def d2(x: Array, a: Array, b: Array) -> Array:
        # d2/dx2 [x^k R(1/x)] = k(k-1) x^(k-2) R - 2(k-1) x^(k-3) R' + x^(k-4) R''
        # (for k = 1 it is t^3 R''(t): no cancellation of the x^(k-3) R' terms).
        _, _, m, e = _parts(a, b, version)
        k = m - e
        big = jnp.abs(x) > _SWITCH
        xi = ops.where(big, 0.0, x)

        def inner_d1(u: Array) -> Array:
            return jax.jvp(lambda v: _inner(v, a, b, version), (u,), (jnp.ones_like(u),))[1]

        inner = jax.jvp(inner_d1, (xi,), (jnp.ones_like(xi),))[1]
        xo = ops.where(big, x, 2.0)
        t = _recip(xo)

        def r_d1(u: Array) -> Array:
            return jax.jvp(lambda v: _reversed(v, a, b, version), (u,), (jnp.ones_like(u),))[1]

        r = _reversed(t, a, b, version)
        r1, r2 = jax.jvp(r_d1, (t,), (jnp.ones_like(t),))
        outer = (
            k * (k - 1) * _power(xo, t, k - 2) * r
            - 2 * (k - 1) * _power(xo, t, k - 3) * r1
            + _power(xo, t, k - 4) * r2
        )
        return ops.where(big, _outer_sign(xo, outer, e), inner)

    return rule(value, rule(dx, d2))


_RATIONAL = {v: _make_rational(v) for v in ("A", "B", "C")}


def _rational_value(x: Array, a: Array, b: Array, version: str) -> Array:
    return _RATIONAL[version](x, a, b)


def _coeffs(value: ArrayLike, arg: str, x: Array, min_len: int) -> Array:
    arr = as_array(value, "rational", arg)
    if arr.ndim != 1 or arr.shape[0] < min_len:
        raise ValueError(
            f"jaxact.rational: argument '{arg}' must be a 1-D array of length >= {min_len}, "
            f"got shape {tuple(arr.shape)}"
        )
    return arr.astype(x.dtype)


@register(
    smooth=False,
    kinks=(Kink(0.0, 1, 0.5076703075155887), Kink(0.0, 2, 1.1451569618038622)),
    paper="Molina, Schramowski, Kersting 2020, Padé Activation Units, arXiv:1907.06732",
)
@half_remat
def rational(
    x: ArrayLike,
    numerator: ArrayLike | None = None,
    denominator: ArrayLike | None = None,
    version: str = "A",
    key: Array | None = None,
    training: bool = False,
) -> Array:
    r"""Rational activation (Padé activation unit), ``P(x) / Q(x)``.

    With numerator coefficients ``a_0..a_m`` and denominator coefficients
    ``b_1..b_n`` (version C: ``b_0..b_{n-1}``):

    .. math::
      P(x) = \sum_{j=0}^{m} a_j x^j, \qquad
      Q_A = 1 + \sum_{k=1}^{n} |b_k|\,|x|^k, \qquad
      Q_B = 1 + \Big|\sum_{k=1}^{n} b_k x^k\Big|, \qquad
      Q_C = 0.1 + \Big|\sum_{k=0}^{n-1} b_k x^k\Big|,

    .. math::
      f = \frac{P}{Q}, \qquad f' = \frac{P'Q - PQ'}{Q^2}, \qquad
      f'' = \frac{P'' - 2 f' Q' - f Q''}{Q}, \qquad
      \frac{\partial f}{\partial a_j} = \frac{x^j}{Q}, \qquad
      \frac{\partial f}{\partial b_k}\Big|_A = -\frac{P\,\mathrm{sign}(b_k)|x|^k}{Q^2}

    Version D is B with training noise: when ``training=True`` each numerator
    coefficient is multiplied by an independent ``U(0.9, 1.1)`` factor drawn with
    ``key`` (as in the reference ``rational_activations`` code; its docstrings say
    the denominator); in evaluation D equals B. ``Q_A >= 1`` and ``Q_C >= 0.1``
    never vanish; ``Q_B >= 1`` too.

    Kinks: ``|.|`` takes the derivative of its ``>= 0`` piece at 0, so in
    version A ``f'(0) = a_1 - a_0 |b_1|`` (the right-hand derivative), and a zero
    coefficient ``b_k`` gets the gradient of ``+b_k``.

    For ``|x| > 4`` the reversed polynomials in ``1/x`` are used, so nothing
    overflows unless the result does. Half precision is computed in float32.

    Args:
      x: input array.
      numerator: 1-D array ``a_0..a_m`` (differentiable). ``None`` (with
        ``denominator=None``, version A): the (5, 4) fit of ``leaky_relu``
        (slope 0.01), PAU's default, from ``RATIONAL_INIT``.
      denominator: 1-D array of length ``n >= 1`` (differentiable).
      version: "A", "B", "C" or "D" (static).
      key: PRNG key for version D's training noise.
      training: apply version D's noise (static).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.rational(2.0)), 1)
      2.0

    References:
      Molina, Schramowski, Kersting 2020, Padé Activation Units: End-to-end
      Learning of Flexible Activation Functions in Deep Networks, arXiv:1907.06732.
    """
    x, dtype = prepare(x, "rational")
    if version not in _VERSIONS:
        raise ValueError(f"jaxact.rational: argument 'version' must be one of {_VERSIONS}")
    if numerator is None or denominator is None:
        if numerator is not None or denominator is not None or version != "A":
            missing = "numerator" if numerator is None else "denominator"
            raise ValueError(
                f"jaxact.rational: argument '{missing}' is required (defaults exist only "
                "for version 'A' with both coefficient arrays omitted)"
            )
        numerator, denominator = (np.array(c) for c in RATIONAL_INIT["leaky_relu"])
    a = _coeffs(numerator, "numerator", x, 1)
    b = _coeffs(denominator, "denominator", x, 1)
    if version == "D" and training:
        if key is None:
            raise ValueError("jaxact.rational: argument 'key' is required when training version D")
        noise = jax.random.uniform(key, a.shape, a.dtype, 0.9, 1.1)
        a = a * noise
    v = "B" if version == "D" else version
    return finish(_rational_value(x, a, b, v), dtype)


# ----------------------------------------------------------------------------
# Fitting the initial coefficients.


def fit_targets() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    erf = np.vectorize(math.erf)
    return {
        "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
        "relu": lambda x: np.maximum(x, 0.0),
        "gelu": lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))),
        "silu": lambda x: x / (1 + np.exp(-x)),
        "tanh": np.tanh,
        "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    }


def fit_rational(
    fn: Callable[[np.ndarray], np.ndarray],
    degrees: tuple[int, int] = (5, 4),
    version: str = "A",
    lo: float = -5.0,
    hi: float = 5.0,
    steps: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rational fit of ``fn`` on ``[lo, hi]`` (float64, 2001 points).

    First the linearised problem ``min ||P - fn * Q||`` (with ``|x|^k`` as the
    denominator basis for version A, ``x^k`` otherwise, assuming the sum inside
    ``|.|`` positive), then damped Gauss-Newton (Levenberg-Marquardt) steps on
    ``||P/Q - fn||`` with the Jacobian from ``jax.jacfwd`` of :func:`rational`.
    Returns ``(numerator, denominator)`` as float64 numpy arrays.
    """
    m, n = degrees
    xs = np.linspace(lo, hi, 2001)
    y = np.asarray(fn(xs), np.float64)
    pcols = [xs**j for j in range(m + 1)]
    if version == "C":
        qbase, qcols = 0.1, [xs**k for k in range(n)]
    else:
        qbase = 1.0
        base = np.abs(xs) if version == "A" else xs
        qcols = [base**k for k in range(1, n + 1)]
    mat = np.stack(pcols + [-y * c for c in qcols], axis=1)
    theta = np.linalg.lstsq(mat, qbase * y, rcond=None)[0]  # version C: Q = 0.1 + S, S > 0
    with jax.enable_x64(True):
        out = np.asarray(_levenberg_marquardt(m, version, steps)(theta, xs, y))
    return out[: m + 1], out[m + 1 :]


@functools.lru_cache(maxsize=8)  # keyed on the user's degree: bounded
def _levenberg_marquardt(m: int, version: str, steps: int) -> Callable[..., Array]:
    """``steps`` damped Gauss-Newton steps on ``||P/Q - y||`` from ``theta`` (float64):
    one compiled program per (numerator degree, version, steps) for the process."""

    @jax.jit
    def fit(theta: Array, xs: Array, y: Array) -> Array:
        def resid(th: Array) -> Array:
            return _rational_value(xs, th[: m + 1], th[m + 1 :], version) - y

        def step(_: Any, carry: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
            th, cost, lam = carry
            r, jm = resid(th), jax.jacfwd(resid)(th)
            g, h = jm.T @ r, jm.T @ jm
            new = th + jnp.linalg.solve(h + lam * jnp.diag(jnp.diag(h) + 1e-12), -g)
            new_cost = jnp.sum(resid(new) ** 2)
            better = new_cost < cost  # False for a NaN cost: the step is refused
            return (
                jnp.where(better, new, th),
                jnp.where(better, new_cost, cost),
                jnp.where(better, lam / 3, lam * 4),
            )

        cost = jnp.sum(resid(theta) ** 2)
        return jax.lax.fori_loop(0, steps, step, (theta, cost, jnp.float64(1e-3)))[0]

    return fit


# ----------------------------------------------------------------------------
# ACON.


def _acon_value(x: Array, p1: Array, p2: Array, beta: Array) -> Array:
    d = (p1 - p2) * x
    # p2 = 0 contributes exactly 0 (not 0 * inf = NaN at x = +-inf).
    linear = ops.where(p2 == 0, 0.0, p2 * ops.where(p2 == 0, 0.0, x))
    return silu_rule(beta * d) / beta + linear


def _acon_dx(x: Array, p1: Array, p2: Array, beta: Array) -> Array:
    return (p1 - p2) * silu_prime(beta * (p1 - p2) * x) + p2


def _acon_dparams(x: Array, p1: Array, p2: Array, beta: Array) -> tuple[Array, Array, Array]:
    d = (p1 - p2) * x
    z = beta * d
    dp1 = x * silu_prime(z)
    # x (1 - silu'(z)) = x sigma(-z) (1 - z sigma(z)), without cancellation for large z.
    dp2 = x * sigmoid_rule(-z) * (1 - silu_rule(z))
    dbeta = dw.sigmoid_prime_times(d * d, z)
    return dp1, dp2, dbeta


_acon = rule(_acon_value, _acon_dx, _acon_dparams)


@register(
    params={"p1": 1.0, "p2": 0.0, "beta": 1.0},
    domain={"beta": "(0, inf)"},
    bounded_below=True,
    paper="Ma et al. 2021, Activate or Not: Learning Customized Activation, arXiv:2009.04759",
)
@half_remat
def acon_c(x: ArrayLike, p1: ArrayLike = 1.0, p2: ArrayLike = 0.0, beta: ArrayLike = 1.0) -> Array:
    r"""ACON-C, a learnable switch between linear and non-linear.

    With ``d = (p1 - p2) x``:

    .. math::
      f(x) = d\,\sigma(\beta d) + p_2 x, \qquad
      f'(x) = (p_1 - p_2)\big(\sigma(\beta d) + \beta d\,\sigma(\beta d)\sigma(-\beta d)\big) + p_2,
      \qquad f''(x) = (p_1 - p_2)^2 \beta\,\sigma'(\beta d)\,\big(2 - \beta d \tanh(\beta d/2)\big),

    .. math::
      \frac{\partial f}{\partial p_1} = x\big(\sigma(\beta d) + \beta d\,\sigma'(\beta d)\big),
      \quad \frac{\partial f}{\partial p_2} = x - \frac{\partial f}{\partial p_1}, \quad
      \frac{\partial f}{\partial \beta} = d^2 \sigma'(\beta d)

    ``p1 = 1, p2 = 0`` is ``swish_beta``. All parameters are differentiable and
    may be arrays broadcastable to ``x`` (per channel). ``beta`` must be positive
    when concrete; ``p1 == p2`` gives the linear map ``p2 x``.

    Args:
      x: input array.
      p1: upper slope (differentiable).
      p2: lower slope (differentiable).
      beta: switching factor (differentiable, positive).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> round(float(jaxact.acon_c(1.0)), 6)
      0.731059

    References:
      Ma, Zhang, Liu, Zhang, Sun 2021, Activate or Not: Learning Customized
      Activation, arXiv:2009.04759.
    """
    x, dtype = prepare(x, "acon_c")
    p1 = param(p1, "acon_c", "p1", x)
    p2 = param(p2, "acon_c", "p2", x)
    beta = param(beta, "acon_c", "beta", x, positive=True)
    return finish(_acon(x, p1, p2, beta), dtype)


@register(
    kind="vector",
    paper="Ma et al. 2021, Activate or Not: Learning Customized Activation, arXiv:2009.04759",
)
def meta_acon(
    x: ArrayLike,
    p1: ArrayLike,
    p2: ArrayLike,
    w1: ArrayLike,
    w2: ArrayLike,
    axis: int = -1,
) -> Array:
    r"""Meta-ACON: ACON-C with ``beta`` computed from the input, per sample and channel.

    ``x`` has shape ``(batch, ..., C)`` with the channel axis ``axis`` (default
    last). With ``g`` the mean of ``x`` over every axis except the batch axis (0)
    and the channel axis, shape ``(batch, C)``:

    .. math::
      \beta = \sigma\big(W_2 (W_1 g)\big), \qquad
      f = \mathrm{acon\_c}(x, p_1, p_2, \beta)

    ``w1`` has shape ``(hidden, C)`` and ``w2`` ``(C, hidden)`` (the paper uses
    ``hidden = max(16, C / 16)``, 1x1 convolutions and batch normalisation after
    each; the normalisations are left to the caller's layer). ``p1`` and ``p2``
    broadcast against one channel vector ``(C,)``. Gradients flow through
    ``beta`` into ``x``, ``w1`` and ``w2``.

    Args:
      x: input of shape ``(batch, ..., C)``, at least 2-D.
      p1: upper slopes, shape ``(C,)`` or scalar.
      p2: lower slopes, shape ``(C,)`` or scalar.
      w1: first projection ``(hidden, C)``.
      w2: second projection ``(C, hidden)``.
      axis: channel axis (static, not 0).

    Returns:
      An array of the same shape and dtype as ``x``.

    Example:
      >>> import jaxact
      >>> x = jnp.ones((2, 3, 4))
      >>> jaxact.meta_acon(x, 1.0, 0.0, jnp.zeros((2, 4)), jnp.zeros((4, 2))).shape
      (2, 3, 4)

    References:
      Ma, Zhang, Liu, Zhang, Sun 2021, Activate or Not: Learning Customized
      Activation, arXiv:2009.04759.
    """
    x, dtype = prepare(x, "meta_acon")
    if x.ndim < 2:
        raise ValueError(f"jaxact.meta_acon: argument 'x' must be at least 2-D, got {x.shape}")
    if not isinstance(axis, int) or not -x.ndim <= axis < x.ndim or axis % x.ndim == 0:
        raise ValueError(
            f"jaxact.meta_acon: argument 'axis' {axis!r} must be a non-batch axis of an input of "
            f"shape {tuple(x.shape)}"
        )
    axis = axis % x.ndim
    c = x.shape[axis]
    w1 = as_array(w1, "meta_acon", "w1").astype(x.dtype)
    w2 = as_array(w2, "meta_acon", "w2").astype(x.dtype)
    if w1.ndim != 2 or w1.shape[1] != c:
        raise ValueError(
            f"jaxact.meta_acon: argument 'w1' must have shape (hidden, {c}), got {w1.shape}"
        )
    if w2.shape != (c, w1.shape[0]):
        raise ValueError(
            f"jaxact.meta_acon: argument 'w2' must have shape ({c}, {w1.shape[0]}), got {w2.shape}"
        )
    xc = jnp.moveaxis(x, axis, -1)
    chan = jnp.zeros((c,), x.dtype)
    p1 = param(p1, "meta_acon", "p1", chan)
    p2 = param(p2, "meta_acon", "p2", chan)
    g = jnp.mean(xc, axis=tuple(range(1, xc.ndim - 1)))  # (batch, C)
    # The projections as products summed along the last axis, not matmuls: XLA:CPU
    # sums a matmul's products in another order for one row than for several, so a
    # shard's beta (and f') depended on how many samples it held (13 ulp).
    hid = jnp.sum(g[:, None, :] * w1, axis=-1)  # (batch, hidden)
    beta = sigmoid_rule(jnp.sum(hid[:, None, :] * w2, axis=-1))  # (batch, C)
    beta = beta.reshape(beta.shape[0], *([1] * (xc.ndim - 2)), c)
    y = _acon(xc, p1, p2, beta)
    return finish(jnp.moveaxis(y, -1, axis), dtype)
