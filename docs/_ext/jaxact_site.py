"""Sphinx extension: the activation gallery and the API reference, from the registry.

At the start of every build (``builder-inited``) it writes, into the source folder:

* ``gallery/index.md``: every activation as a small plot, grouped by family, and the
  properties table (monotonic, bounded, smooth, zero-centred, self-normalising,
  residual bytes, init gain);
* ``gallery/<name>.md`` for every registry row: the plot of f, f' and f'', the
  docstring (formula, derivatives, arguments, example), the kink conventions, the
  parameters and their domains, every library name that resolves to it with that
  library's preset, the measured accuracy (``docs/accuracy/accuracy.json``, written
  by ``python -m benchmarks.accuracy --out docs/accuracy``), the residual bytes and
  the paper;
* ``gallery/_plots/<name>.png``;
* ``api/*.md``: the API reference, one page per module, listing every name of the
  module's ``__all__`` (and every public name of the top level).

Nothing is written by hand per activation: a row added to the registry gets its page.
Files are rewritten only when their content changes, so an incremental build rereads
only what changed.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import json
import math
import pathlib
import types
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import jaxact
from jaxact import registry
from jaxact._src.text import format_rows, ulp_cell

GALLERY = "gallery"
API = "api"
PLOTS = "_plots"
# The plotted range, and the points (odd: 0 is one of them).
X_RANGE = (-4.0, 4.0)
POINTS = 801
# What the gated rows (which split their last axis in two) and the other vector rows
# are plotted as: a function of one number x.
GATED_INPUT = "the first entry of f applied to the vector (x, x) (value and gate both x)"
VECTOR_INPUT = "the first entry of f applied to the vector (x, 0)"

LIBRARY_TITLES = {
    "jax": "jax.nn",
    "flax": "flax.linen",
    "torch": "PyTorch",
    "timm": "timm",
    "transformers": "transformers",
    "keras": "Keras 3",
}
PROPERTIES = (
    ("monotonic", "monotonic"),
    ("bounded", "bounded"),
    ("smooth", "smooth"),
    ("zero_centred", "zero-centred"),
    ("self_normalizing", "self-normalising"),
)


# ---------------------------------------------------------------------------------------
# The activations as functions of one number (for the plots) and of one array (for the
# residual bytes).


def _extra_args(name: str, channels: int) -> dict[str, Any]:
    """Arguments a row needs beyond its numeric defaults (a key, Meta-ACON's weights)."""
    if registry.SPECS[name].kind == "random":
        return {"key": jax.random.key(0)}
    if name == "meta_acon":
        return {
            "p1": jnp.ones((channels,)),
            "p2": jnp.zeros((channels,)),
            "w1": jnp.full((2, channels), 0.1),
            "w2": jnp.full((channels, 2), 0.1),
        }
    return {}


def plotted_as(name: str) -> str:
    """How a row is drawn as a function of one number (empty for elementwise rows)."""
    spec = registry.SPECS[name]
    if spec.kind == "elementwise":
        return ""
    what = GATED_INPUT if spec.family == "gated" else VECTOR_INPUT
    if spec.kind == "random":
        what += ", with one fixed key"
    if name == "meta_acon":
        what = (
            "f of a one-channel input x with p1 = 1, p2 = 0 and switching weights 0.1 "
            "(the learnable parameters)"
        )
    return what


def scalar_function(name: str) -> Callable[[jax.Array], jax.Array]:
    """The row as a function of one number x (see :func:`plotted_as`)."""
    spec = registry.SPECS[name]
    if spec.kind == "elementwise":
        return lambda x: spec.fn(x, **spec.params)
    if name == "meta_acon":
        extra = _extra_args(name, 1)
        return lambda x: spec.fn(jnp.reshape(x, (1, 1)), **spec.params, **extra)[0, 0]
    second = (lambda x: x) if spec.family == "gated" else jnp.zeros_like
    extra = _extra_args(name, 2)
    return lambda x: spec.fn(jnp.stack([x, second(x)]), **spec.params, **extra)[0]


def array_function(name: str) -> Callable[[jax.Array], jax.Array]:
    """The row with its defaults as a function of a flat array (seen as rows of 64)."""
    spec = registry.SPECS[name]
    extra = _extra_args(name, 64)
    return lambda x: spec.fn(jnp.reshape(x, (-1, 64)), **spec.params, **extra)


def curves(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x and f, f', f'' over :data:`X_RANGE` (float32, the default precision tier)."""
    f = scalar_function(name)
    d1 = jax.grad(f)
    d2 = jax.grad(d1)
    xs = np.linspace(*X_RANGE, POINTS, dtype=np.float32)
    ys = jax.jit(jax.vmap(lambda x: (f(x), d1(x), d2(x))))(jnp.asarray(xs))
    f_, d1_, d2_ = (np.asarray(y, np.float64) for y in ys)
    return xs.astype(np.float64), f_, d1_, d2_


def residual_bytes(name: str) -> float:
    """Bytes per element the row keeps for the backward pass (float32 input)."""
    from jaxact.memory import residual_bytes as measure

    return float(measure(array_function(name), jnp.float32))


# ---------------------------------------------------------------------------------------
# Plots.


def plot(name: str, path: pathlib.Path) -> None:
    """f, f' and f'' of a row over :data:`X_RANGE`, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs, f, d1, d2 = curves(name)
    fig, ax = plt.subplots(figsize=(4.8, 3.2), dpi=100)
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.plot(xs, f, color="C0", lw=2.0, label="$f$")
    ax.plot(xs, d1, color="C1", lw=1.5, ls="--", label="$f\\,'$")
    ax.plot(xs, d2, color="C2", lw=1.2, ls=":", label="$f\\,''$")
    finite = np.concatenate([v[np.isfinite(v)] for v in (f, d1, d2)])
    lo, hi = (float(np.min(finite)), float(np.max(finite))) if finite.size else (-1.0, 1.0)
    lo, hi = max(lo, -6.0), min(hi, 6.0)
    pad = 0.08 * max(hi - lo, 1e-3)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(*X_RANGE)
    ax.set_title(name, fontsize=11)
    ax.set_xlabel("x")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(alpha=0.25)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------------------
# Page text.


def _gain(name: str) -> str:
    """``jaxact.gain(name)`` (torch's value, else computed); — where it has none."""
    value = jaxact.gain(name)
    return "—" if value is None else f"{value:.4f}"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _number(v: Any) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return f"`{v!r}`"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return f"`{v:.6g}`"


def library_rows(name: str) -> list[tuple[str, str, str]]:
    """(library, name, parameters) for every library name that resolves to the row."""
    spec = registry.SPECS[name]
    rows = []
    for library, names in spec.names.items():
        for lib_name in names:
            preset = spec.presets.get(f"{library}:{lib_name}")
            params = dict(preset) if preset is not None else dict(spec.params)
            text = ", ".join(f"{k}={_number(v)}" for k, v in params.items()) or "—"
            if preset is not None:
                text += " (the library's default)"
            rows.append((library, lib_name, text))
    # Presets of names listed under another row's library entry (Keras' classes).
    listed = {f"{lib}:{n}" for lib, n, _ in rows}
    for key, preset in spec.presets.items():
        if key not in listed:
            library, lib_name = key.split(":", 1)
            text = ", ".join(f"{k}={_number(v)}" for k, v in preset.items()) or "—"
            rows.append((library, lib_name, text + " (the library's default)"))
    order = list(LIBRARY_TITLES)
    return sorted(rows, key=lambda r: (order.index(r[0]) if r[0] in order else 99, r[1]))


ACCURACY_COLUMNS = (
    ("float32", ("f", "d1", "d2")),
    ("float64", ("f", "d1", "d2")),
    ("bfloat16", ("f", "d1")),
    ("float16", ("f", "d1")),
)
ORDER_LABELS = {"f": "f", "d1": "f′", "d2": "f″"}


def accuracy_table(results: dict[str, Any] | None, name: str) -> list[str]:
    """The max-ulp table of a row from the accuracy benchmark's JSON."""
    if not results or name not in results:
        return [
            "Not in the accuracy benchmark's output (vector-valued rows are checked "
            "against mpmath by their own tests: `tests/test_normalizing.py`, "
            "`tests/test_gated.py`)."
            if registry.SPECS[name].kind != "elementwise"
            else "The accuracy benchmark's output is not in this build "
            "(`python -m benchmarks.accuracy --out docs/accuracy` writes it)."
        ]
    head = ["implementation"]
    for dtype, orders in ACCURACY_COLUMNS:
        head += [f"{dtype} {ORDER_LABELS[o]}" for o in orders]
    rows = []
    for impl, row in results[name].items():
        cells = [impl]
        for dtype, orders in ACCURACY_COLUMNS:
            cells += [ulp_cell(row.get(f"{dtype}.{o}")) for o in orders]
        rows.append(cells)
    lines = format_rows(head, rows, markdown=True).splitlines()
    return [
        "Largest error in ulps on the grid of nasty inputs of `tests/accuracy.py` "
        "(float32, float64: against 50-digit mpmath; bfloat16, float16: every one of "
        "the 65,536 bit patterns against the float64 result); **bad** counts inf/NaN "
        "where the truth is finite, lost tails and wrong signs. From "
        "`python -m benchmarks.accuracy --out docs/accuracy`.",
        "",
        *lines,
    ]


def derivatives_note(name: str) -> str:
    """What the plotted derivatives are, from the row's facts."""
    spec = registry.SPECS[name]
    rule = (
        "The derivatives plotted are what `jax.grad` and `jax.grad(jax.grad(...))` return: "
        "jaxact's `custom_jvp` rules, closed forms in x"
    )
    if spec.piecewise_linear:
        return (
            f"{rule}. Piecewise linear: f′ takes two values and f″ is 0 (the backward pass "
            "keeps a one-byte code); the kink conventions below give f′ at the corners."
        )
    if spec.kind != "elementwise":
        return f"{rule}, here along the line the plot follows."
    return f"{rule}; the formulas are in the definition below."


def public_path(name: str) -> str:
    """The documented dotted path of a row's function."""
    return f"jaxact.{name}" if hasattr(jaxact, name) else f"jaxact.registry.SPECS[{name!r}].fn"


def activation_page(name: str, results: dict[str, Any] | None, residual: float) -> str:
    spec = registry.SPECS[name]
    summary = (inspect.getdoc(spec.fn) or "").split("\n\n")[0].replace("\n", " ")
    lines = [
        f"# {name}",
        "",
        f"{summary}",
        "",
        f"Family **{spec.family}**, {spec.kind}. "
        f"`jaxact.{name}` · `jaxact.get({name!r})` · [all activations](index.md)",
        "",
        f"![f, f′ and f″ of {name}]({PLOTS}/{name}.png)",
        "",
    ]
    how = plotted_as(name)
    lines += [
        f"f (solid), f′ (dashed) and f″ (dotted) on [{X_RANGE[0]:g}, {X_RANGE[1]:g}] in "
        "float32" + (f"; plotted as {how}." if how else "."),
        "",
        derivatives_note(name),
        "",
        "## Definition",
        "",
        "```{eval-rst}",
        f".. autofunction:: {public_path(name)}",
        "   :no-index:",
        "```",
        "",
        "## Properties",
        "",
    ]
    properties = [[label, _yes(getattr(spec, attr))] for attr, label in PROPERTIES]
    properties += [
        ["bounded below", _yes(spec.bounded_below)],
        ["piecewise linear", _yes(spec.piecewise_linear)],
        ["residual bytes per element (float32, for the backward pass)", f"{residual:.3g}"],
        ["init gain (`jaxact.gain`)", _gain(name)],
    ]
    lines += [
        format_rows(["property", ""], properties, markdown=True),
        "",
        "## Parameters",
        "",
    ]
    if spec.params:
        params = [
            [f"`{p}`", _number(v), f"`{spec.domain.get(p, '(-inf, inf)')}`"]
            for p, v in spec.params.items()
        ]
        lines.append(format_rows(["parameter", "default", "domain"], params, markdown=True))
    else:
        lines.append("No numeric parameters.")
    lines += ["", "## Kink conventions", ""]
    if spec.kinks:
        kinks = [
            [_number(k.x), ORDER_LABELS["d" + str(k.order)], _number(k.value)] for k in spec.kinks
        ]
        lines.append(format_rows(["at x", "derivative", "value"], kinks, markdown=True))
        lines += ["", "Pinned by the tests (`tests/test_generic.py`)."]
    else:
        lines.append("None: smooth, or no corner where a convention is needed.")
    lines += ["", "## Library names", ""]
    rows = library_rows(name)
    if rows:
        names = [
            [LIBRARY_TITLES.get(lib, lib), f"`{n}`", params, f"`jaxact.get({f'{lib}:{n}'!r})`"]
            for lib, n, params in rows
        ]
        head = ["library", "name", "parameters", "in jaxact"]
        lines.append(format_rows(head, names, markdown=True))
    else:
        lines.append("None of the libraries jaxact follows has it.")
    if spec.aliases:
        lines += ["", "Other jaxact names: " + ", ".join(f"`{a}`" for a in spec.aliases) + "."]
    lines += ["", "## Accuracy", "", *accuracy_table(results, name)]
    lines += ["", "## Reference", "", spec.paper or "—", ""]
    return "\n".join(lines)


def gallery_index(results: dict[str, Any] | None, residuals: dict[str, float]) -> str:
    lines = [
        "# Activation gallery",
        "",
        f"All {len(registry.SPECS)} activations of the registry, grouped by family: "
        "f (solid), f′ (dashed) and f″ (dotted) on "
        f"[{X_RANGE[0]:g}, {X_RANGE[1]:g}] in float32. Each page has the formula and "
        "derivatives, kink conventions, parameters, every library name that resolves to "
        "it, the measured accuracy and the paper. The pages are generated from "
        "`jaxact.registry` when the site is built.",
        "",
        "```{toctree}",
        ":hidden:",
        "",
        *registry.SPECS,
        "```",
        "",
    ]
    for family in registry.families():
        names = [n for n, s in registry.SPECS.items() if s.family == family]
        lines += [f"## {family}", "", "::::{grid} 2 3 4 4", ":gutter: 2", ""]
        for n in names:
            lines += [
                f":::{{grid-item-card}} {n}",
                f":link: {n}",
                ":link-type: doc",
                "",
                f"![{n}]({PLOTS}/{n}.png)",
                ":::",
                "",
            ]
        lines += ["::::", ""]
    head = [
        "activation",
        "family",
        *(label for _, label in PROPERTIES),
        "residual bytes",
        "init gain",
    ]
    lines += [
        "## Properties",
        "",
        "With the default parameters; residual bytes: what the backward pass keeps per "
        "element of a float32 input (`jaxact.memory.residual_bytes`).",
        "",
    ]
    rows = [
        [f"[{n}]({n}.md)", s.family, *(_yes(getattr(s, a)) for a, _ in PROPERTIES)]
        + [f"{residuals[n]:.3g}", _gain(n)]
        for n, s in registry.SPECS.items()
    ]
    lines += [format_rows(head, rows, markdown=True), ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# The API reference.


def _family_modules() -> list[tuple[str, types.ModuleType]]:
    return [
        (family, importlib.import_module(f"jaxact._src.{family}")) for family in registry.families()
    ]


def top_level_names() -> list[str]:
    """Every public name of ``jaxact`` (submodules and deprecated names aside)."""
    hidden = {*jaxact._SUBMODULES, *jaxact._MOVED, "registry", "annotations"}
    return sorted(
        n
        for n in dir(jaxact)
        if not n.startswith("_")
        and n not in hidden
        and not isinstance(getattr(jaxact, n), types.ModuleType)
    )


# jax.nn's utilities that jaxact re-exports unchanged (documented by JAX): the top-level
# names that are jax.nn's own objects and no registry row.
JAX_REEXPORTS = tuple(
    n
    for n in sorted(dir(jaxact))
    if not n.startswith("_")
    and getattr(jax.nn, n, None) is getattr(jaxact, n)
    and registry.spec_of(n) is None
)
SUBMODULE_PAGES = (
    ("registry", "jaxact.registry", "The registry: what is known about each activation."),
    ("linen", "jaxact.linen", "Flax linen layers."),
    ("nnx", "jaxact.nnx", "Flax NNX layers."),
    ("monitor", "jaxact.monitor", "Activation statistics of a model."),
    ("memory", "jaxact.memory", "What an activation keeps for the backward pass."),
    ("bench", "jaxact.bench", "The benchmark (`jaxact bench`)."),
    ("demo", "jaxact.demo", "The training demo (`jaxact demo`)."),
)


def _autodoc(path: str, obj: Any) -> list[str]:
    if inspect.isclass(obj):
        # Its public methods (and __call__); the attributes are in its docstring.
        fields = {*getattr(obj, "__dataclass_fields__", {}), *getattr(obj, "__annotations__", {})}
        methods = [
            m
            for m, v in vars(obj).items()
            if (m == "__call__" or not m.startswith("_"))
            and inspect.isfunction(v)
            and m not in fields  # a field's default (an initializer) is no method
        ]
        options = [f"   :members: {', '.join(methods)}"] if methods else []
        return ["```{eval-rst}", f".. autoclass:: {path}", *options, "```", ""]
    if callable(obj):
        return ["```{eval-rst}", f".. autofunction:: {path}", "```", ""]
    # A constant: its type and, when short, its value (autodoc would render the
    # docstring of its type).
    value = repr(obj)
    text = f"A `{type(obj).__name__}`" + (f": `{value}`" if len(value) <= 80 else "") + "."
    module, _, name = path.rpartition(".")
    return [f"```{{py:data}} {name}", f":module: {module}", "", text, "```", ""]


def api_pages() -> dict[str, str]:
    """``api/<page>.md`` -> text."""
    pages: dict[str, str] = {}
    documented: set[str] = set()
    # Activation functions, by family.
    lines = [
        "# Activation functions",
        "",
        "Every activation, by family (`jaxact.<name>`); the "
        "[gallery](../gallery/index.md) has a page with a plot for each registry row.",
        "",
    ]
    for family, module in _family_modules():
        lines += [f"## {family}", ""]
        for n in module.__all__:
            lines += _autodoc(f"jaxact.{n}", getattr(jaxact, n))
            documented.add(n)
    pages["functions"] = "\n".join(lines)
    # The rest of the top level.
    rest = [n for n in top_level_names() if n not in documented and n not in JAX_REEXPORTS]
    lines = [
        "# Lookup, precision and activation sites",
        "",
        "The top level's entry points besides the activation functions.",
        "",
    ]
    for n in rest:
        lines += _autodoc(f"jaxact.{n}", getattr(jaxact, n))
    lines += [
        "## Re-exported from jax.nn",
        "",
        "Unchanged, so that `import jaxact as nn` keeps working in code that uses them "
        "(see JAX's documentation of `jax.nn`):",
        "",
        *(f"- `jaxact.{n}` is `jax.nn.{n}`" for n in JAX_REEXPORTS),
        "",
    ]
    pages["top_level"] = "\n".join(lines)
    for page, module_name, blurb in SUBMODULE_PAGES:
        module = importlib.import_module(module_name)
        lines = [f"# `{module_name}`", "", blurb, ""]
        lines += ["```{eval-rst}", f".. automodule:: {module_name}", "   :no-members:", "```", ""]
        for n in module.__all__:
            lines += _autodoc(f"{module_name}.{n}", getattr(module, n))
        pages[page] = "\n".join(lines)
    index = [
        "# API reference",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
        "functions",
        "top_level",
        *(page for page, _, _ in SUBMODULE_PAGES),
        "```",
        "",
    ]
    pages["index"] = "\n".join(index)
    return pages


def api_names() -> dict[str, list[str]]:
    """Module -> the public names the reference must document."""
    out = {"jaxact": [n for n in top_level_names() if n not in JAX_REEXPORTS]}
    for _, module_name, _ in SUBMODULE_PAGES:
        out[module_name] = list(importlib.import_module(module_name).__all__)
    return out


# ---------------------------------------------------------------------------------------
# Writing.


def _write(path: pathlib.Path, text: str) -> None:
    """Writes ``text`` unless the file already holds it (keeps incremental builds fast)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def load_accuracy(source: pathlib.Path) -> dict[str, Any] | None:
    path = source / "accuracy" / "accuracy.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _plot_key(name: str) -> str:
    """What a plot depends on: the row's function, the drawing code, the versions."""
    spec = registry.SPECS[name]
    try:
        source = inspect.getsource(inspect.unwrap(spec.fn))
    except (OSError, TypeError):
        source = name
    drawing = inspect.getsource(plot) + inspect.getsource(scalar_function)
    text = repr((source, drawing, dict(spec.params), jax.__version__, jaxact.__version__))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _draw_some(jobs: list[tuple[str, str, str]]) -> None:
    for name, png, key in jobs:
        plot(name, pathlib.Path(png))
        pathlib.Path(png).with_suffix(".key").write_text(key)


def draw(stale: dict[str, tuple[pathlib.Path, str]], workers: int = 2) -> None:
    """Draws the stale plots, split over ``workers`` fresh interpreters when there are
    many (each costs a few seconds to start; a cold build draws 74)."""
    jobs = [(name, str(png), key) for name, (png, key) in stale.items()]
    if len(jobs) < 8 or workers < 2:
        _draw_some(jobs)
        return
    import concurrent.futures
    import multiprocessing

    # Fresh interpreters ("spawn"), not forks of this process, whose JAX has threads.
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        for done in [pool.submit(_draw_some, jobs[i::workers]) for i in range(workers)]:
            done.result()


def write_site(source: pathlib.Path) -> None:
    """Writes the gallery and the API reference into the docs source folder ``source``."""
    gallery = source / GALLERY
    results = load_accuracy(source)
    residuals = {}
    for name in registry.SPECS:
        residuals[name] = residual_bytes(name)
    stale = {}
    for name in registry.SPECS:
        png = gallery / PLOTS / f"{name}.png"
        key = _plot_key(name)
        stamp = png.with_suffix(".key")
        if not png.exists() or not stamp.exists() or stamp.read_text() != key:
            stale[name] = (png, key)
        _write(gallery / f"{name}.md", activation_page(name, results, residuals[name]))
    draw(stale)
    _write(gallery / "index.md", gallery_index(results, residuals))
    for page, text in api_pages().items():
        _write(source / API / f"{page}.md", text)


def _on_builder_inited(app: Any) -> None:
    write_site(pathlib.Path(app.srcdir))


# MathJax from the sphinx-mathjax-offline package, copied into the site's _static so
# that the pages render math without a network (conf.py sets mathjax_path).
MATHJAX_PACKAGE = "sphinx-mathjax-offline"


def mathjax_folder() -> pathlib.Path:
    spec = importlib.util.find_spec(MATHJAX_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the docs need {MATHJAX_PACKAGE}: pip install -e '.[docs]'")
    return pathlib.Path(spec.origin).parent / "static" / "mathjax"


def _on_build_finished(app: Any, exc: BaseException | None) -> None:
    if exc is None and app.builder.format == "html":
        from sphinx.util.fileutil import copy_asset

        copy_asset(mathjax_folder(), pathlib.Path(app.outdir) / "_static" / "mathjax")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _on_build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
