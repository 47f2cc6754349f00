"""Second-order Taylor arithmetic on mpmath numbers: exact f, f', f'' references.

A reference activation is written once, as ``f(x)``, with the functions of this
module (``exp``, ``log1p``, ``tanh``, ``erf`` ...) and ordinary operators.
Called with ``Jet(x, 1, 0)`` it returns ``Jet(f(x), f'(x), f''(x))``, each part
carried at 50 digits by the chain and product rules, so no numerical
differentiation (which cancels in the saturated tails) is involved.
Piecewise references compare jets by value (``x > 0`` compares ``x.v``).
"""

from __future__ import annotations

import functools
from typing import Any

import mpmath as mp

Num = Any


class Jet:
    """Value, first and second derivative of an expression in x."""

    __slots__ = ("v", "d", "dd")

    def __init__(self, v: Num, d: Num = 0, dd: Num = 0) -> None:
        self.v, self.d, self.dd = mp.mpf(v), mp.mpf(d), mp.mpf(dd)

    # comparisons use the value
    def __lt__(self, o: Any) -> bool:
        return self.v < _v(o)

    def __le__(self, o: Any) -> bool:
        return self.v <= _v(o)

    def __gt__(self, o: Any) -> bool:
        return self.v > _v(o)

    def __ge__(self, o: Any) -> bool:
        return self.v >= _v(o)

    def __neg__(self) -> Jet:
        return Jet(-self.v, -self.d, -self.dd)

    def __pos__(self) -> Jet:
        return self

    def __add__(self, o: Any) -> Jet:
        o = lift(o)
        return Jet(self.v + o.v, self.d + o.d, self.dd + o.dd)

    __radd__ = __add__

    def __sub__(self, o: Any) -> Jet:
        return self + (-lift(o))

    def __rsub__(self, o: Any) -> Jet:
        return lift(o) - self

    def __mul__(self, o: Any) -> Jet:
        o = lift(o)
        return Jet(
            self.v * o.v,
            self.d * o.v + self.v * o.d,
            self.dd * o.v + 2 * self.d * o.d + self.v * o.dd,
        )

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Jet:
        return self * _compose(lift(o), lambda a: 1 / a, lambda a: -1 / a**2, lambda a: 2 / a**3)

    def __rtruediv__(self, o: Any) -> Jet:
        return lift(o) / self

    def __pow__(self, n: int) -> Jet:
        if not isinstance(n, int):
            raise TypeError("Jet ** needs an int exponent; use exp/log for others")
        if n == 0:
            return Jet(1)
        out = self
        for _ in range(abs(n) - 1):
            out = out * self
        return out if n > 0 else 1 / out

    def __abs__(self) -> Jet:
        return -self if self.v < 0 else self

    def __float__(self) -> float:
        return float(self.v)

    def __repr__(self) -> str:
        return f"Jet({mp.nstr(self.v, 8)}, {mp.nstr(self.d, 8)}, {mp.nstr(self.dd, 8)})"


def _v(o: Any) -> Num:
    return o.v if isinstance(o, Jet) else mp.mpf(o)


def lift(o: Any) -> Jet:
    return o if isinstance(o, Jet) else Jet(o)


def _compose(u: Jet, g: Any, g1: Any, g2: Any) -> Jet:
    a = u.v
    d1 = g1(a)
    return Jet(g(a), d1 * u.d, g2(a) * u.d**2 + d1 * u.dd)


def unary(g: Any, g1: Any, g2: Any) -> Any:
    """A function of mpf numbers and jets, given its first two derivatives."""

    @functools.wraps(g)
    def f(u: Any) -> Any:
        if isinstance(u, Jet):
            return _compose(u, g, g1, g2)
        return g(mp.mpf(u))

    return f


def _sig(a: Num) -> Num:
    return 1 / (1 + mp.exp(-a))


def _sig1(a: Num) -> Num:
    # sigma(a) sigma(-a), written without cancellation.
    e = mp.exp(-abs(a))
    return e / (1 + e) ** 2


def _sig2(a: Num) -> Num:
    return -_sig1(a) * mp.tanh(a / 2)


_C = 2 / mp.sqrt(mp.pi)

exp = unary(mp.exp, mp.exp, mp.exp)
expm1 = unary(mp.expm1, mp.exp, mp.exp)
log = unary(mp.log, lambda a: 1 / a, lambda a: -1 / a**2)
log1p = unary(mp.log1p, lambda a: 1 / (1 + a), lambda a: -1 / (1 + a) ** 2)
sqrt = unary(mp.sqrt, lambda a: 1 / (2 * mp.sqrt(a)), lambda a: -1 / (4 * a * mp.sqrt(a)))
tanh = unary(mp.tanh, lambda a: mp.sech(a) ** 2, lambda a: -2 * mp.tanh(a) * mp.sech(a) ** 2)
sin = unary(mp.sin, mp.cos, lambda a: -mp.sin(a))
cos = unary(mp.cos, lambda a: -mp.sin(a), lambda a: -mp.cos(a))
erf = unary(mp.erf, lambda a: _C * mp.exp(-(a**2)), lambda a: -2 * a * _C * mp.exp(-(a**2)))
erfc = unary(mp.erfc, lambda a: -_C * mp.exp(-(a**2)), lambda a: 2 * a * _C * mp.exp(-(a**2)))
sigmoid = unary(_sig, _sig1, _sig2)
softplus = unary(lambda a: mp.log1p(mp.exp(a)), _sig, _sig1)
atan = unary(mp.atan, lambda a: 1 / (1 + a**2), lambda a: -2 * a / (1 + a**2) ** 2)


def value(u: Any) -> Num:
    """The value part of a jet (or the number itself)."""
    return _v(u)
