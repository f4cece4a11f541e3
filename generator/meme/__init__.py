"""Meme captioner: image -> k distinct meme captions (par-inject GRU, batched beam search).

Public API::

    from generator.meme import load_captioner
    cap = load_captioner()            # None = the shipped demo bundle
    cap.beam_search("cat.jpg", k=5)   # -> [Caption(text, score, logprob, tokens, rank), ...]

Importing this package is cheap: numpy/PIL load on first use of the API, tensorflow/keras/torch
only inside the functions that train, export or encode.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.meme.captioner import Caption, Captioner, load_captioner

__all__ = ["Caption", "Captioner", "load_captioner"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from generator.meme import captioner

        return getattr(captioner, name)
    raise AttributeError(f"module 'generator.meme' has no attribute {name!r}")
