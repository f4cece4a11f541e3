"""Stock lines: calls to action and engagement bait a caption writer learned from its corpus.

"Tag a friend who needs this.", "Double tap if you agree.", "Prints available now, link in bio.":
lines that ask the reader to do something, written by a model for every caption alike. They are
promotional content, whose only source is the account's brand profile (generator.brand.Brand
``call_to_action``): a generator removes these lines and adds the brand's own call to action where
the brand asks for one. ``is_stock_line`` judges one sentence.
"""
from __future__ import annotations

import re

_PATTERNS = (
    r"\btag (?:a|your|someone|a friend)\b", r"\blink in (?:the )?bio\b", r"\bdouble[- ]tap\b",
    r"\b(?:tell|let) (?:me|us) (?:in the comments|below|know)\b", r"\bcomment(?:s)? below\b",
    r"\bsave (?:this|it) for later\b", r"\bshare (?:this|it) with\b", r"\bfollow (?:us|me|for)\b",
    r"\bshop (?:the|now|our)\b", r"\buse (?:the )?code\b", r"\bget yours\b", r"\b(?:order|buy) (?:now|today)\b",
    r"\bprints? (?:are )?available\b", r"\bnew drops?\b", r"\bturn this into a\b", r"\bdm (?:us|me)\b",
    r"\bsubscribe\b", r"\bclick (?:the|here)\b", r"\blimited edition\b", r"\b\d+% off\b",
    r"^what do you see\??$", r"^swipe back tomorrow\b", r"\bshare (?:this|the|our) post\b",
    r"\bsupport small (?:creators|businesses|shops)\b",
)
_STOCK = re.compile("|".join(_PATTERNS), re.IGNORECASE)


def is_stock_line(sentence: str) -> bool:
    """Does this sentence ask the reader to act (tag, follow, buy, comment, save, ...)?"""
    return bool(_STOCK.search(" ".join(sentence.split()).strip(" .!")))
