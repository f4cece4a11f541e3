"""The ``voice`` gate: a caption that speaks as a business ("our team", "we made", "visit us") on an
account that is not promoting one.

The demo writer's corpus gives the promotional audience lines of its own in a business's voice
("This one reminds our whole team why we do this.", "The studio playlist was loud today.") and the
general audience lines in one person's voice ("Posting it before I talk myself out of it."). A
GPT-2 this small mixes them: asked for the general audience it still writes business lines. Only an
account whose brand profile runs offers, writing for the promotional audience, may speak as a
business (bot/service/pipeline_gates.py decides that); for every other caption a sentence in that
voice is refused here (the writer also leaves such sentences out: generator.textgen.writer).

A sentence speaks as a business when it says "we", "us", "our" (not the "we" of people in
general: "we tend to remember colours", "our eyes adjust", "remind us", "while we sleep"), or names the workplace as
the speaker's ("the team", "the studio", "the office", "our shop", "half the team"), or carries a
business hashtag (#smallbusiness, #studiolife). Pure: text in, reason out.
"""
from __future__ import annotations

import re

# the "we" of people in general, which a person may say of everyone (the corpora's general lines)
_GENERIC = re.compile(
    r"\b(?:we|us)\s+(?:all|humans|people)\b|\ball\s+of\s+us\b|\bmost\s+of\s+us\b|\bmany\s+of\s+us\b"
    r"|\bwe\s+tend\b|\bremind(?:s|ed)?\s+us\b|\blet\s+us\b|\b(?:any|none)\s+of\s+us\b|\bso\s+(?:can|do|will|are)\s+we\b"
    r"|\bwe\s+are\s+(?:all\s+)?made\b|\b(?:while|when|as|if|until|before|after|whenever)\s+we\b|\b(?:show|reach|tell|teach|give)(?:s|es)?\s+us\b|\bour\s+(?:eyes?|brains?|minds?|bod(?:y|ies)|planet|"
    r"sun|moon|galaxy|solar|species|ancestors|own\s+eyes)\b", re.IGNORECASE)
_PLURAL = re.compile(r"\b(?:we|we're|we've|we'd|we'll|us|our|ours|ourselves)\b", re.IGNORECASE)
# the workplace spoken of as the speaker's own
_WORKPLACE = re.compile(
    r"\b(?:our|whole|half\s+the)\s+(?:whole\s+)?(?:team|studio|office|shop|store|staff|crew|company|"
    r"business|workshop|bakery|brand|customers|clients)\b|\bthe\s+(?:studio|workshop)\b|\bthe\s+team\s+(?:lunch|meeting)\b"
    r"|\b(?:in|around)\s+the\s+office\b(?=.*\b(?:this|someone|somebody|nobody)\b)"
    r"|\bvisit\s+us\b|\bour\s+(?:products?|collection|range|newest|latest|prints?|menu)\b", re.IGNORECASE)
BUSINESS_TAGS = frozenset({"#smallbusiness", "#shopsmall", "#shoplocal", "#supportsmallbusiness", "#studiolife",
                           "#supportlocal", "#smallbiz", "#handmadebusiness", "#behindthescenes"})
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_TAG = re.compile(r"(?<![\w&])#\w+")


def business_voice(text: str) -> str | None:
    """How ``text`` speaks as a business, in words ("says 'our team'"); None when it does not."""
    for tag in _TAG.findall(text):
        if tag.casefold() in BUSINESS_TAGS:
            return f"carries the business hashtag {tag!r}"
    body = _TAG.sub(" ", text)
    for sentence in _SENTENCE.findall(body):
        found = _business_phrase(sentence)
        if found:
            return f"speaks as a business ({found!r} in {' '.join(sentence.split())!r})"
    return None


def _business_phrase(sentence: str) -> str | None:
    work = _WORKPLACE.search(sentence)
    if work:
        return " ".join(work.group(0).split())
    plain = _GENERIC.sub(" ", sentence)
    plural = _PLURAL.search(plain)
    return plural.group(0) if plural else None


def without_business_voice(text: str) -> str:
    """``text`` without its sentences and hashtags in a business's voice (lines and hashtags otherwise
    as they were); "" when nothing else is left."""
    lines = []
    for line in text.split("\n"):
        tags_only = line.strip() and all(w.startswith("#") for w in line.split())
        if tags_only:
            kept = " ".join(w for w in line.split() if w.casefold() not in BUSINESS_TAGS)
        else:
            kept = " ".join(s.strip() for s in _SENTENCE.findall(line)
                            if s.strip() and not _business_phrase(_TAG.sub(" ", s))
                            and not any(t.casefold() in BUSINESS_TAGS for t in _TAG.findall(s)))
        lines.append(kept)
    out = "\n".join(lines).strip()
    return out if re.search(r"[^\W\d_]", _TAG.sub(" ", out)) else ""


__all__ = ["BUSINESS_TAGS", "business_voice", "without_business_voice"]
