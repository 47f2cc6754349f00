"""``jaxact.sites`` / ``substitute`` / ``monitor.health`` on Hugging Face's Flax BERT and GPT-2.

Models written by other people, as a new user would try them: small random
configurations (no weights are downloaded), traced through ``model(ids,
params=params)``. Prints each model's site table, checks that
``substitute(fn, "jaxact")`` computes what the model computes (float32, 2 ulp-scaled
to the output's largest magnitude times the width), that a swap of its GELU
changes the output, and prints the health table.

Needs transformers' Flax classes, which transformers 5 removed:

    pip install "transformers<5"
    python -m benchmarks.sites_transformers
"""

from __future__ import annotations

import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import jaxact
from jaxact.monitor import format_health, health


def _models() -> dict[str, tuple[Any, str, Any]]:
    from transformers import BertConfig, FlaxBertModel, FlaxGPT2LMHeadModel, GPT2Config

    bert = FlaxBertModel(
        BertConfig(
            vocab_size=100,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=32,
        ),
        seed=0,
    )
    gpt2 = FlaxGPT2LMHeadModel(
        GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=32), seed=0
    )
    return {
        "FlaxBertModel": (bert, "gelu_erf", lambda out: out.last_hidden_state),
        "FlaxGPT2LMHeadModel": (gpt2, "gelu_tanh", lambda out: out.logits),
    }


def main() -> int:
    try:
        models = _models()
    except ImportError as e:
        print(f"needs transformers' Flax models (pip install 'transformers<5'): {e}")
        return 2
    ids = jnp.ones((2, 8), jnp.int32)
    for name, (model, gelu, pick) in models.items():

        def fn(params: Any, ids: Any, model: Any = model, pick: Any = pick) -> Any:
            return pick(model(ids, params=params))

        found = jaxact.sites(fn, model.params, ids)
        print(f"\n{name}: {len(found)} sites")
        print(found)
        ours = np.asarray(jax.jit(jaxact.substitute(fn, "jaxact"))(model.params, ids))
        theirs = np.asarray(fn(model.params, ids))
        tol = 2 * np.finfo(np.float32).eps * np.max(np.abs(theirs)) * theirs.shape[-1]
        diff = float(np.max(np.abs(ours - theirs)))
        print(f'substitute(fn, "jaxact"): max |difference| {diff:.3g} (tolerance {tol:.3g})')
        swapped = np.asarray(jax.jit(jaxact.substitute(fn, {gelu: "silu"}))(model.params, ids))
        changed = float(np.max(np.abs(swapped - theirs)))
        print(f"substitute(fn, {{{gelu!r}: 'silu'}}): output changed by up to {changed:.3g}")
        print(format_health(health(fn, model.params, ids)))
        if diff > tol or changed == 0.0:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
