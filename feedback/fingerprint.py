"""A caption's duplicate-guard fingerprint, computed once when the text is stored.

The guard (feedback.dedupe, feedback.dedupe_index) compares captions by their normalised form:
- ``text_norm``: the normalised tokens joined by one space (what the character-level ratio reads);
- ``text_tokens``: the caption's distinct tokens as sorted 64-bit hashes, little-endian int64 bytes
  (what the token Jaccard bound reads, without hashing or sorting anything per run).
The hash is keyed by nothing that changes between processes (blake2b, not ``hash()``), so a stored
fingerprint means the same in every process. Changing ``normalise_text`` or the hash changes every
stored fingerprint: it needs a migration that recomputes them (see migration 0010's backfill).

No numpy and no ORM here: feedback.models uses this as the columns' insert default.
"""
from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from hashlib import blake2b

_WORD = re.compile(r"[a-z0-9#@']+")


def normalise_text(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


def token_hash(token: str) -> int:
    """A token's stable signed 64-bit hash (the same in every process)."""
    return int.from_bytes(blake2b(token.encode(), digest_size=8).digest(), "little", signed=True)


def token_blob(tokens: Iterable[str]) -> bytes:
    """Distinct tokens' hashes, sorted, as little-endian int64 bytes."""
    hashes = sorted({token_hash(t) for t in set(tokens)})
    return struct.pack(f"<{len(hashes)}q", *hashes)


@lru_cache(maxsize=1024)  # an insert asks twice, once per column default (feedback.models)
def fingerprint(text: str) -> tuple[str, bytes]:
    """(text_norm, text_tokens) of a caption."""
    tokens = normalise_text(text)
    return " ".join(tokens), token_blob(tokens)
