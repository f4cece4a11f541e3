"""Stock lines: calls to action and engagement bait a caption writer learned from its corpus.

"Tag a friend who needs this.", "Double tap if you agree.", "Prints available now, link in bio.":
lines that ask the reader to do something, written by a model for every caption alike. They are
promotional content, whose only source is the account's brand profile (generator.brand.Brand
``call_to_action``): a generator removes these lines and adds the brand's own call to action where
the brand asks for one. ``is_stock_line`` judges one sentence; ``stock_sentences`` finds the ones of
a caption that its brand profile did not declare; ``without_stock_lines`` is what a writer keeps.

Besides calls to action, the lines a writer puts after any caption alike and that say nothing of
the picture ("Now you know.", "Learn something new every day.", "Fun fact for your feed.") are
stock lines too: they are what the corpus taught for a tone, not something about this post. So are
the tone sign-offs ("Science is everywhere.", "Stay open to wonder.", "I regret nothing.") the demo
corpus once appended to every caption; its captions now show their tone in their own wording.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

_PATTERNS = (
    r"\btag (?:a|your|someone|a friend)\b", r"\blink in (?:the )?bio\b", r"\bdouble[- ]tap\b",
    r"\b(?:tell|let) (?:me|us) (?:in the comments|below|know)\b", r"\bcomment(?:s)? below\b",
    r"\bsave (?:this|it) for later\b", r"\bshare (?:this|it) with\b", r"\bfollow (?:us|me|for)\b",
    r"\bshop (?:the|now|our)\b", r"\buse (?:the )?code\b", r"\bget yours\b", r"\b(?:order|buy) (?:now|today)\b",
    r"\bprints? (?:are )?available\b", r"\bnew drops?\b", r"\bturn this into a\b", r"\bdm (?:us|me)\b",
    r"\bsubscribe\b", r"\bclick (?:the|here)\b", r"\blimited edition\b", r"\b\d+% off\b",
    r"^what do you see\??$", r"^swipe back tomorrow\b", r"\bshare (?:this|the|our) post\b",
    r"\bsupport small (?:creators|businesses|shops)\b",
    # engagement bait and filler a writer appends to any caption of a tone or audience
    r"^now you know$", r"^learn something new every day$", r"^fun fact for your feed$",
    r"\bmore where (?:this|that) came from\b", r"^new posts every week$", r"\bmade for your feed\b",
    r"\bwould scroll again\b", r"^what do you think\??$", r"\bwho needs (?:this|to see this)\b",
    r"^(?:like|share|save) (?:this|if)\b", r"\bif you agree\b", r"\bswipe (?:up|left|right|back)\b",
    r"\bturn on (?:post )?notifications\b", r"\bstay tuned\b",
    # the sign-offs the demo corpus appended to every caption of a tone until it was rebuilt (issue
    # 23): a writer trained on the old corpus, or fine-tuned from it, still writes them
    r"^(?:send help|or snacks|no further questions|i regret nothing|peak tuesday energy|this is fine)$",
    r"^(?:keep going|you(?: have|'ve) got this|breathe it in|make today count|small steps still move you forward)$",
    r"^(?:stay open to wonder|science is everywhere|curiosity pays off)$",
)
_STOCK = re.compile("|".join(_PATTERNS), re.IGNORECASE)
# filler: lines about the account, its page or its makers rather than the picture ("Thank you for being
# part of this little corner of the internet.", "Behind every post here is someone who stopped to
# look.", "This has been pinned above the studio kettle all week."). The demo corpus writes them for
# the promotional audience only, and a small writer leaks them into the general one (issue 23): only
# an account whose brand profile is promotional may post them (bot/service/pipeline_gates.py).
_FILLER_PATTERNS = (
    r"\bcorner of the internet\b", r"\bbehind every (?:post|photo|picture|one of these)\b",
    r"\bevery post here\b", r"\bthank you for (?:being|following|sticking|joining|reading|watching)\b",
    r"\bthanks for (?:being|following|sticking|joining)\b", r"\b(?:studio|office) (?:kettle|wall|playlist|dog|cat)\b",
    r"\bpinned above\b", r"\bdesk plant\b", r"\bchosen by (?:a|the) (?:very )?(?:serious )?vote\b", r"\b(?:this|our|the) (?:page|account|feed) (?:is|exists|began|started)\b",
)
_FILLER = re.compile("|".join(_FILLER_PATTERNS), re.IGNORECASE)


def is_stock_line(sentence: str) -> bool:
    """Does this sentence ask the reader to act (tag, follow, buy, comment, save, ...)?"""
    return bool(_STOCK.search(" ".join(sentence.split()).strip(" .!")))


def is_filler_line(sentence: str) -> bool:
    """Is this sentence about the account, its page or its makers rather than the picture? Only a
    promotional brand profile's captions may say such a line."""
    return bool(_FILLER.search(" ".join(sentence.split()).strip(" .!")))


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_HASHTAG = re.compile(r"(?<![\w#&])#\w+")


def _sentences(text: str) -> list[str]:
    return [" ".join(m.group().split()) for m in _SENTENCE.finditer(_HASHTAG.sub(" ", text))
            if m.group().strip(" .!?")]


def _key(sentence: str) -> str:
    return " ".join(sentence.split()).strip(" .!?").casefold()


def stock_sentences(text: str, allowed: Iterable[str | None] = ()) -> list[str]:
    """The stock lines of a caption (hashtags set aside), except the ``allowed`` ones: the brand
    profile's own call to action and promotional line, which may be posted word for word."""
    own = {_key(s) for line in allowed if line for s in (*_sentences(line), line)}
    return [s for s in _sentences(text) if _key(s) not in own and is_stock_line(s)]


def filler_sentences(text: str, allowed: Iterable[str | None] = ()) -> list[str]:
    """The filler lines of a caption (``is_filler_line``), except the ``allowed`` ones."""
    own = {_key(s) for line in allowed if line for s in (*_sentences(line), line)}
    return [s for s in _sentences(text) if _key(s) not in own and is_filler_line(s)]


def without_filler_lines(text: str) -> str:
    """``text`` without its filler sentences (hashtag lines kept); "" when nothing else is left."""
    from generator.textgen.neutral import drop_sentences

    return drop_sentences(text, is_filler_line) if filler_sentences(text) else text


def without_stock_lines(text: str) -> str:
    """``text`` without its stock sentences, the rest (and its hashtag lines) as written; "" when
    only stock lines and hashtags were left (a caption that says nothing)."""
    lines = text.split("\n")
    out = []
    for line in lines:
        body = _HASHTAG.sub(" ", line).strip()
        if not body:  # a hashtag line (or a blank one) stays as it is
            out.append(line)
            continue
        kept = [m.group().strip() for m in _SENTENCE.finditer(line) if not is_stock_line(m.group())
                or not m.group().strip(" .!?")]
        out.append(" ".join(k for k in kept if k))
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()
    return cleaned if _sentences(cleaned) else ""
