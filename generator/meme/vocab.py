"""Unicode word tokenizer with a character fallback; special tokens; max length in TOKENS.

Text is NFKC-normalised and lower-cased; curly quotes become straight ones. A word is a run of
Unicode letters/digits (with inner apostrophes: "don't", "l'été"); any other visible character is
a token of its own. Words seen often enough are vocabulary entries; every other word is spelled
as characters, the first as itself and the rest as ``##c`` continuation pieces, so "café",
Cyrillic or Japanese round-trip even when the word is rare. Characters never seen in training
become <unk>.

Id 0 is padding (Keras ``mask_zero``); the special tokens follow, then words, then spelling
characters, then continuation pieces (``first_piece``). Saved as ``vocab.json`` (kind
``words+chars``; bundles of the older ASCII word vocab are refused by the bundle loader).
"""
from __future__ import annotations

import json
import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator import BundleError

PAD, START, END, UNK = "<pad>", "<start>", "<end>", "<unk>"
KIND = "words+chars"
PIECE = "##"
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})
_NO_SPACE_BEFORE = set(".,!?;:%)]}'\u2026\u3001\u3002\uff01\uff1f")
_NO_SPACE_AFTER = set("([{$#")


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()


def _word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"  # letters, digits, combining marks (Devanagari, ...)


def tokenize(text: str) -> list[str]:
    """Lower-cased words (keeping inner apostrophes) and single other characters."""
    text = normalize(text)
    tokens: list[str] = []
    word = ""
    for i, ch in enumerate(text):
        if _word_char(ch) or (ch == "'" and word and i + 1 < len(text) and _word_char(text[i + 1])):
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        if not ch.isspace():
            tokens.append(ch)
    return [*tokens, word] if word else tokens


def spell(word: str) -> list[str]:
    """A word as characters: the first as itself, the rest as continuation pieces."""
    return [word[0], *(PIECE + c for c in word[1:])]


def _is_piece(tok: str) -> bool:
    return len(tok) > len(PIECE) and tok.startswith(PIECE)


def detokenize(tokens: Iterable[str]) -> str:
    """Join tokens back into readable text: pieces glue on, no space before closing punctuation."""
    out = ""
    for tok in tokens:
        if _is_piece(tok):
            out += tok[len(PIECE):]
            continue
        if out and tok not in _NO_SPACE_BEFORE and out[-1] not in _NO_SPACE_AFTER:
            out += " "
        out += tok
    return out


@dataclass(frozen=True)
class Vocab:
    """Tokens in id order (index 0 is padding) plus the caption length limit in tokens."""

    tokens: tuple[str, ...]
    max_tokens: int  # tokens per caption, without <start>/<end>

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
        """Longest decoder input (<start> + tokens), the Keras model's token input length."""
        return self.max_tokens + 1

    @property
    def first_piece(self) -> int:
        """Id of the first continuation piece (pieces sit at the end); size if there are none."""
        return next((i for i, t in enumerate(self.tokens) if _is_piece(t)), self.size)

    def index(self) -> dict[str, int]:
        return {tok: i for i, tok in enumerate(self.tokens)}

    def pieces(self, text: str, index: dict[str, int] | None = None) -> list[int]:
        """All token ids of a caption (no <start>/<end>, not cut): rare words spelled out."""
        index = index if index is not None else self.index()
        ids: list[int] = []
        for word in tokenize(text):
            if word in index:
                ids.append(index[word])
            else:
                ids.extend(index.get(p, self.unk_id) for p in spell(word))
        return ids

    def encode(self, text: str, index: dict[str, int] | None = None) -> list[int]:
        """Token ids of a caption (no <start>/<end>), cut to max_tokens."""
        return self.pieces(text, index)[: self.max_tokens]

    def decode(self, ids: Iterable[int]) -> tuple[str, ...]:
        """Tokens of the ids, stopping at <end> and skipping padding and <start>."""
        out: list[str] = []
        for i in ids:
            if i == self.end_id:
                break
            if i not in (0, self.start_id):
                out.append(self.tokens[i])
        return tuple(out)

    def text(self, ids: Iterable[int]) -> str:
        return detokenize(self.decode(ids))

    def to_json(self) -> dict:
        return {"kind": KIND, "tokens": list(self.tokens), "start": START, "end": END, "unk": UNK, "pad_id": 0,
                "max_tokens": self.max_tokens}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            vocab = cls(tokens=tuple(data["tokens"]), max_tokens=int(data["max_tokens"]))
            kind = data.get("kind")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BundleError(f"{path}: unreadable vocab ({exc})") from exc
        if kind != KIND:
            raise BundleError(f"{path}: vocab kind {kind!r} is not {KIND!r} (an older ASCII word vocab?); "
                              "retrain the bundle with `memeloop train meme`")
        return vocab


def build_vocab(captions: Sequence[str], *, min_freq: int = 2, length_percentile: float = 100.0,
                max_tokens_cap: int = 40, max_words: int | None = None) -> Vocab:
    """Words seen ``min_freq`` times (at most ``max_words``, most frequent first) plus every character
    seen (to spell other words); max length = percentile of caption lengths in tokens, capped."""
    counts: Counter[str] = Counter(w for text in captions for w in tokenize(text))
    words = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))[:max_words]
    known = set(words)
    chars: Counter[str] = Counter()
    pieces: Counter[str] = Counter()
    for word, c in counts.items():  # letters of every word, so unseen words made of them can be spelled
        first, *rest = spell(word)
        chars[first] += c
        pieces.update({p: c for p in rest})
    spelled = sorted((ch for ch in chars if ch not in known), key=lambda w: (-chars[w], w))
    vocab = Vocab((PAD, START, END, UNK, *words, *spelled, *sorted(pieces, key=lambda w: (-pieces[w], w))), 1)
    index = vocab.index()
    lengths = sorted(len(vocab.pieces(text, index)) for text in captions)
    rank = max(0, math.ceil(length_percentile / 100.0 * len(lengths)) - 1)
    max_tokens = min(max_tokens_cap, max(1, lengths[rank] if lengths else 1))
    return Vocab(tokens=vocab.tokens, max_tokens=max_tokens)
