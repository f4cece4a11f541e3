"""Sampling from a GPT-2 caption bundle with torch alone: no transformers import.

Importing transformers costs ~4 s of a person's wait (its model and generation modules pull in
torch._dynamo, scipy.optimize and more) for a 3-layer model that decodes in ~0.1 s. This module
reads the bundle's ``model.safetensors`` and ``tokenizer.json`` (tokenizers, the Rust library the
fast tokenizer wraps) and samples the way transformers' ``generate`` does for our settings, step for
step: the prompt repeated n times, a key/value cache, temperature then top-p on float32 logits,
``torch.multinomial`` after ``torch.manual_seed``, finished rows padded with end-of-text. The same
seed therefore writes the same captions as the reference (tests/generator/test_textgen_fast.py pins
it against transformers). A bundle whose config asks for anything else is left to transformers
(``supported`` says why not).

nanoGPT's habit: the network and nothing else; the sampling loop beside it.
"""
from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.textgen.bias import TokenBias

# config.json values this implementation reproduces; anything else falls back to transformers
_REQUIRED = {"model_type": "gpt2", "activation_function": "gelu_new", "add_cross_attention": False,
             "reorder_and_upcast_attn": False}


def supported(path: Path) -> str | None:
    """None when the bundle at ``path`` can be sampled here, else the reason it cannot."""
    try:
        cfg = json.loads((path / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return f"config.json unreadable ({exc})"
    for key, want in _REQUIRED.items():
        if cfg.get(key, want) != want:
            return f"config {key}={cfg.get(key)!r}"
    if not cfg.get("tie_word_embeddings", True):
        return "untied output embeddings"
    for name in ("model.safetensors", "tokenizer.json"):
        if not (path / name).is_file():
            return f"no {name}"
    return None


class FastGPT2:
    """GPT2LMHeadModel's inference arithmetic (Conv1D = addmm, tanh GELU, SDPA attention)."""

    def __init__(self, path: Path) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        cfg = json.loads((path / "config.json").read_text())
        self.torch = torch
        self.n_layer, self.n_head, self.n_embd = int(cfg["n_layer"]), int(cfg["n_head"]), int(cfg["n_embd"])
        self.n_positions = int(cfg["n_positions"])
        self.eps = float(cfg.get("layer_norm_epsilon", 1e-5))
        self.head_dim = self.n_embd // self.n_head
        self.scaling = self.head_dim ** -0.5 if cfg.get("scale_attn_weights", True) else 1.0
        self.by_layer = bool(cfg.get("scale_attn_by_inverse_layer_idx", False))
        raw = load_file(str(path / "model.safetensors"))
        self.w = {k.removeprefix("transformer."): v for k, v in raw.items()}
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._lock = threading.Lock()

    # -- the network ----------------------------------------------------------------------------------
    def _linear(self, x: Any, name: str) -> Any:
        size = (*x.shape[:-1], self.w[f"{name}.weight"].shape[1])
        return self.torch.addmm(self.w[f"{name}.bias"], x.reshape(-1, x.shape[-1]), self.w[f"{name}.weight"]).view(size)

    def _norm(self, x: Any, name: str) -> Any:
        return self.torch.nn.functional.layer_norm(x, (self.n_embd,), self.w[f"{name}.weight"], self.w[f"{name}.bias"],
                                                   self.eps)

    def forward(self, ids: Any, cache: list[tuple[Any, Any]] | None) -> tuple[Any, list[tuple[Any, Any]]]:
        """Logits of the last position [B, V] and the cache extended by ``ids`` [B, T]."""
        torch, f = self.torch, self.torch.nn.functional
        past = 0 if not cache else cache[0][0].shape[2]
        positions = torch.arange(past, past + ids.shape[1]).unsqueeze(0)
        h = f.embedding(ids, self.w["wte.weight"]) + f.embedding(positions, self.w["wpe.weight"])
        new_cache = []
        for i in range(self.n_layer):
            p = f"h.{i}"
            q, k, v = self._linear(self._norm(h, f"{p}.ln_1"), f"{p}.attn.c_attn").split(self.n_embd, dim=2)
            q, k, v = (t.view(*t.shape[:-1], -1, self.head_dim).transpose(1, 2) for t in (q, k, v))
            if cache:
                k, v = torch.cat([cache[i][0], k], dim=2), torch.cat([cache[i][1], v], dim=2)
            new_cache.append((k, v))
            scale = self.scaling / (i + 1) if self.by_layer else self.scaling
            a = f.scaled_dot_product_attention(q, k, v, is_causal=q.shape[2] > 1, scale=scale)
            h = h + self._linear(a.transpose(1, 2).reshape(*h.shape), f"{p}.attn.c_proj")
            m = self._linear(self._norm(h, f"{p}.ln_2"), f"{p}.mlp.c_fc")
            m = 0.5 * m * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (m + 0.044715 * torch.pow(m, 3.0))))
            h = h + self._linear(m, f"{p}.mlp.c_proj")
        last = self._norm(h[:, -1:], "ln_f")
        return f.linear(last, self.w["wte.weight"])[:, -1].float(), new_cache

    # -- sampling -------------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text).ids)

    def sample(self, ids: list[int], n: int, *, seed: int, max_new_tokens: int, temperature: float, top_p: float,
               eos: int, bias: TokenBias | None = None) -> list[str]:
        """n continuations of ``ids``, decoded without special tokens (transformers' generate with
        do_sample, top_k=0, pad = eos; ``bias`` where generate applies a logits_processor: on the
        logits, before temperature)."""
        torch = self.torch
        with self._lock, torch.no_grad():  # torch's generator is global: one seeded decode at a time
            torch.manual_seed(seed)
            step = torch.tensor([ids] * n, dtype=torch.long)
            unfinished = torch.ones(n, dtype=torch.long)
            new: list[Any] = []
            cache = None
            for _ in range(max_new_tokens):
                logits, cache = self.forward(step, cache)
                if bias:
                    rows = [ids + [int(t) for t in col] for col in (torch.stack(new, dim=1).tolist() if new else [[]] * n)]
                    logits = bias.apply(rows, logits)
                scores = logits / temperature
                sorted_logits, order = torch.sort(scores, descending=False)
                remove = sorted_logits.softmax(dim=-1).cumsum(dim=-1) <= (1 - top_p)
                remove[..., -1:] = 0
                scores = scores.masked_fill(remove.scatter(1, order, remove), -float("inf"))
                token = torch.multinomial(torch.softmax(scores, dim=-1), num_samples=1).squeeze(1)
                token = token * unfinished + eos * (1 - unfinished)
                new.append(token)
                unfinished = unfinished & (token != eos).long()
                if not int(unfinished.max()):
                    break
                step = token[:, None]
            out = torch.stack(new, dim=1).tolist() if new else [[] for _ in range(n)]
        return self.tokenizer.decode_batch(out, skip_special_tokens=True)
