"""The ``truth`` gate: no offer the account does not really run.

A written caption may not promise an offer, a code, a price, a discount, shipping, a link or "link
in bio" unless the account's brand profile (generator.brand.Brand) declares it: a code or a
percentage must appear in one of ``offers``, a link or "link in bio" needs ``link``, a sales call
("shop the collection", "get yours today") needs at least one offer. A sentence with an undeclared
claim is removed (the caption goes on without it, and the removal is noted); if too little is
left, the draft is refused with the claim in words. Promotional hashtags (#sale, #shopsmall ...)
go unless the profile lists them.

Only words the generator wrote are judged: a sentence or hashtag a person typed (``given``: the
text of ``memeloop make``) is theirs to say, and is never removed or refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from generator.brand import Brand
from generator.gates import Verdict

MIN_WORDS_LEFT = 3
_I = re.IGNORECASE
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+|\b[a-z0-9-]+\.(?:com|net|org|shop|store|co|io|uk|de)\b(?:/\S*)?", _I)
_CODE = re.compile(r"\b(?:use|enter|apply|with)\s+(?:the\s+|my\s+|our\s+)?(?:promo\s+|discount\s+)?code\s+"
                   r"([A-Za-z0-9_-]+)|\b(?:promo|discount|coupon|voucher)\s+code\b|\bcoupons?\b|\bvouchers?\b", _I)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%", _I)
_CLAIMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((kind, re.compile(p, _I)) for kind, p in (
    ("link in bio", (r"\blink\s+(?:is\s+)?in\s+(?:my\s+|our\s+|the\s+)?bio\b|\blink\s+below\b"
                    r"|\b(?:tap|click|hit|follow)\s+the\s+link\b")),
    ("discount", (r"\d+(?:\.\d+)?\s?%\s*off\b|\b\d+\s?%\s*(?:discount|sale)\b|\bhalf[- ]price\b|\bbogo\b"
                 r"|\bbuy\s+one,?\s+get\s+one\b|\bdiscount(?:s|ed)?\b|\bon\s+sale\b|\bsale\s+(?:ends|now|today)\b")),
    ("price", (r"[$€£]\s?\d|\b\d+(?:\.\d\d)?\s?(?:usd|eur|gbp|dollars|euros|quid|bucks)\b|\bfor\s+only\b"
              r"|\bprices?\s+(?:start|from|drop)")),
    ("shipping", (r"\bshipping\b|\bships\s+(?:free|today|tomorrow|worldwide|in)\b"
                 r"|\b(?:free|fast|express|next[- ]day|same[- ]day|worldwide)\s+delivery\b")),
    ("offer", (r"\b(?:shop|buy|order)\s+(?:now|today|the\s+collection|online|here)\b|\bget\s+yours\b"
              r"|\b(?:prints?|posters?|stickers?|merch)\s+(?:are\s+|now\s+)?available\b|\bavailable\s+now\b"
              r"|\blimited\s+(?:edition|stock|time\s+offer)\b|\bnew\s+drops?\b|\bpre-?order\b|\bin\s+stock\b"
              r"|\bwhile\s+stocks?\s+last\b|\bdm\s+(?:me\s+|us\s+)?to\s+(?:order|buy)\b"
              r"|\bturn\s+this\s+into\s+a\s+(?:poster|print)\b|\bfree\s+(?:gift|sample|trial)\b")),
))
PROMO_TAGS = frozenset({"sale", "shopsmall", "artprint", "newdrop", "discount", "giveaway", "ad", "sponsored",
                        "shopnow", "linkinbio", "promo", "deal", "deals", "freeshipping", "limitededition"})
_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?]+(?=[^\s.!?]))+(?:[.!?]+|$)")  # a URL's dots stay inside
_HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")


@dataclass(frozen=True)
class Claim:
    kind: str  # offer | code | price | discount | shipping | link | link in bio
    words: str


def claims(text: str) -> list[Claim]:
    """Every promotional claim in ``text`` (hashtags aside), in the order of the kinds above."""
    body = _HASHTAG.sub(" ", text)
    found = [Claim("link", m.group(0)) for m in _URL.finditer(body)]
    found += [Claim("code", m.group(0)) for m in _CODE.finditer(body)]
    for kind, pattern in _CLAIMS:
        found += [Claim(kind, m.group(0)) for m in pattern.finditer(body)]
    return found


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9%]+", text.casefold()))


def declared(claim: Claim, brand: Brand) -> bool:
    """Does the profile back this claim?"""
    offers = [_norm(o) for o in (*brand.offers, brand.call_to_action or "")]
    if claim.kind in ("link", "link in bio"):
        if not brand.link:
            return False
        return claim.kind == "link in bio" or _norm(brand.link) in _norm(claim.words) \
            or _norm(claim.words) in _norm(brand.link)
    if not brand.offers:
        return False
    if claim.kind == "code":
        code = _CODE.match(claim.words)
        token = code.group(1) if code and code.group(1) else None
        return token is not None and any(_norm(token) in o.split() for o in offers)
    percents = _PERCENT.findall(claim.words)
    if percents:
        return all(any(f"{p}%" in o.replace(" %", "%") for o in offers) for p in percents)
    return any(_norm(claim.words) in o for o in offers)  # an offer only in the profile's own words


def _clean_line(line: str, brand: Brand, own: set[str], removed: list[Claim], given: str = "") -> str:
    kept = []
    for sentence in _SENTENCE.findall(line):
        typed = bool(given) and bool(_norm(sentence)) and f" {_norm(sentence)} " in given
        bad = [] if typed else [c for c in claims(sentence) if not declared(c, brand)]
        removed.extend(bad)
        if not bad:
            kept.append(sentence.strip())
    out = " ".join(kept)
    for tag in _HASHTAG.findall(out):
        if tag.casefold() in PROMO_TAGS and tag.casefold() not in own:
            out = re.sub(rf"(?<![\w#&])#{re.escape(tag)}\b\s*", "", out).strip()
    return out


def enforce_truth(text: str, brand: Brand, *, given: str = "") -> Verdict:
    """Remove every sentence with an undeclared claim, and promotional hashtags the profile does
    not list; refuse when fewer than MIN_WORDS_LEFT words are left. Lines and blank lines (a
    story's parts, the hashtag line) keep their places. ``given``: the words a person typed; its
    sentences and hashtags are not the generator's and are left alone."""
    own = {t.lstrip("#").casefold() for t in (*brand.hashtags, *_HASHTAG.findall(given))}
    removed: list[Claim] = []
    typed = f" {_norm(_HASHTAG.sub(' ', given))} "
    lines = [_clean_line(line, brand, own, removed, typed if given else "") if line.strip() else ""
             for line in text.split("\n")]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if not removed:
        return Verdict(True, text if out == text.strip() else out)
    what = "; ".join(f"{c.kind} {c.words.strip()!r}" for c in removed)
    if len(re.findall(r"[A-Za-z']+", _HASHTAG.sub(" ", out))) < MIN_WORDS_LEFT:
        return Verdict(False, text, "truth", f"truth: undeclared {what}")
    return Verdict(True, out, notes=(f"truth: removed undeclared {what}",))
