"""Word-level tokenizer: lower-cased words and punctuation, special tokens, max length in TOKENS.

Id 0 is padding (Keras ``mask_zero``); the special tokens follow. Saved as ``vocab.json``.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator import BundleError

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*|[^\sa-z0-9]")
_NO_SPACE_BEFORE = set(".,!?;:%)'")
_NO_SPACE_AFTER = set("($#")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (keeping inner apostrophes: "don't") and single punctuation marks."""
    return _TOKEN_RE.findall(text.lower())


def detokenize(tokens: Iterable[str]) -> str:
    """Join tokens back into readable text: no space before closing punctuation."""
    out = ""
    for tok in tokens:
        if out and tok not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER:
            out += " "
        out += tok
    return out


@dataclass(frozen=True)
class Vocab:
    """Tokens in id order (index 0 is padding) plus the caption length limit in tokens."""

    tokens: tuple[str, ...]
    max_tokens: int  # words per caption, without <start>/<end>

    def __post_init__(self) -> None:
        if self.tokens[:4] != (PAD, START, END, UNK):
            raise BundleError(f"vocab must start with {PAD}, {START}, {END}, {UNK}; got {self.tokens[:4]}")

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def start_id(self) -> int:
        return 1

    @property
    def end_id(self) -> int:
        return 2

    @property
    def unk_id(self) -> int:
        return 3

    @property
    def maxlen(self) -> int:
        """Longest decoder input (<start> + words), the Keras model's token input length."""
        return self.max_tokens + 1

    def index(self) -> dict[str, int]:
        return {tok: i for i, tok in enumerate(self.tokens)}

    def encode(self, text: str) -> list[int]:
        """Word ids of a caption (no <start>/<end>), unknown words as <unk>, cut to max_tokens."""
        index = self.index()
        return [index.get(tok, self.unk_id) for tok in tokenize(text)][: self.max_tokens]

    def decode(self, ids: Iterable[int]) -> tuple[str, ...]:
        """Tokens of the ids, stopping at <end> and skipping padding and <start>."""
        out: list[str] = []
        for i in ids:
            if i == self.end_id:
                break
            if i not in (0, self.start_id):
                out.append(self.tokens[i])
        return tuple(out)

    def to_json(self) -> dict:
        return {"tokens": list(self.tokens), "start": START, "end": END, "unk": UNK, "pad_id": 0,
                "max_tokens": self.max_tokens}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(tokens=tuple(data["tokens"]), max_tokens=int(data["max_tokens"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"{path}: unreadable vocab ({exc})") from exc


def build_vocab(captions: Sequence[str], *, min_freq: int = 2, length_percentile: float = 99.0,
                max_tokens_cap: int = 30) -> Vocab:
    """Vocabulary of words seen at least ``min_freq`` times; max length = percentile of lengths, capped."""
    counts: Counter[str] = Counter()
    lengths = []
    for text in captions:
        toks = tokenize(text)
        counts.update(toks)
        lengths.append(len(toks))
    words = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
    lengths.sort()
    rank = max(0, math.ceil(length_percentile / 100.0 * len(lengths)) - 1)
    max_tokens = min(max_tokens_cap, max(1, lengths[rank] if lengths else 1))
    return Vocab(tokens=(PAD, START, END, UNK, *words), max_tokens=max_tokens)
