"""An account's brand profile as plain data: the only source of promotional content.

bot.config's ``[accounts.brand]`` section is turned into this; generator/ code reads it, never the
config. An empty profile (the default) declares no offers, no link and no call to action, so
nothing promotional may be written for that account.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Brand:
    name: str | None = None
    tone: str | None = None  # the account's default tone
    audience: str | None = None  # the account's default audience ("general" when None)
    offers: tuple[str, ...] = ()  # offers the account really runs, written as they may be posted
    link: str | None = None
    hashtags: tuple[str, ...] = ()
    banned_words: tuple[str, ...] = ()
    banned_topics: tuple[str, ...] = ()
    call_to_action: str | None = None  # used at most once per post/thread, only when set

    @property
    def promotional(self) -> bool:
        """May promotional lines be written for this account at all?"""
        return bool(self.offers)


def promotional_line(brand: Brand, index: int = 0) -> str | None:
    """The one promotional line a post may carry: one of the profile's own offers (rotating with
    ``index``), its call to action and link, word for word. None when the profile has no offers."""
    if not brand.offers:
        return None
    parts = [brand.offers[index % len(brand.offers)].strip()]
    if brand.call_to_action:
        parts.append(brand.call_to_action.strip())
    if brand.link:
        parts.append(brand.link.strip())
    return " ".join(p if p[-1:] in ".!?" or p == brand.link else f"{p}." for p in parts)


def with_promotion(text: str, brand: Brand, index: int = 0) -> str:
    """``text`` with the profile's promotional line after its last sentence, before its trailing
    hashtags (unchanged when the profile has no offers)."""
    line = promotional_line(brand, index)
    if line is None:
        return text
    # the line carries the call to action: one the text already has (a story's writer ends its
    # last part with it) would be said twice
    return _after_last_sentence(_without(text, brand.call_to_action), line)


def with_call_to_action(text: str, brand: Brand) -> str:
    """``text`` with the profile's own call to action after its last sentence, before its trailing
    hashtags, once (unchanged without one, or when the text already carries it)."""
    cta = " ".join((brand.call_to_action or "").split())
    if not cta or cta.casefold() in " ".join(text.split()).casefold():
        return text
    return _after_last_sentence(text, cta if cta[-1] in ".!?" else f"{cta}.")


def _without(text: str, sentence: str | None) -> str:
    """``text`` without ``sentence`` (matched case-insensitively, whatever its spacing and closing
    stop), its lines and paragraphs otherwise as they were."""
    import re

    words = (sentence or "").strip().rstrip(".!?").split()
    if not words:
        return text
    # a sentence of its own: after the start, a line break or a sentence's end, and ending the sentence
    pattern = re.compile(r"(?:^|(?<=[.!?\n]))[ \t]*" + r"\s+".join(map(re.escape, words)) + r"(?:[.!?](?=\s|$)|(?=[ \t]*(?:$|#)))",
                         re.IGNORECASE | re.MULTILINE)
    return "\n".join(re.sub(r"[ \t]{2,}", " ", line).strip() for line in pattern.sub("", text).split("\n"))


def _after_last_sentence(text: str, line: str) -> str:
    """``line`` after ``text``'s last sentence (closed with a full stop if it has none), before its
    trailing hashtags."""
    import re

    m = re.search(r"(?:\s*(?<![\w&])#\w+)*\s*$", text)
    cut = m.start() if m else len(text)
    body, tail = text[:cut].rstrip(), text[cut:]
    if body and body[-1] not in ".!?":
        body += "."
    return f"{body} {line}{tail}" if body else f"{line}{tail}"


def with_hashtags(text: str, brand: Brand, cap: int) -> str:
    """``text`` with the profile's own hashtags in its trailing hashtag line, first, within ``cap``
    hashtags in all (the writer's hashtags make room; unchanged without profile hashtags)."""
    import re

    if not brand.hashtags:
        return text
    own = [t if t.startswith("#") else f"#{t}" for t in brand.hashtags]
    m = re.search(r"(?:\s*(?<![\w&])#\w+)*\s*$", text)
    cut = m.start() if m else len(text)
    body, tail = text[:cut].rstrip(), text[cut:]
    seen = {t.casefold() for t in own}
    written = [t for t in tail.split() if t.casefold() not in seen]
    tags = (own + written)[:max(0, cap)]
    sep = "\n\n" if "\n" in tail or not body else " "
    return f"{body}{sep}{' '.join(tags)}".strip() if tags else body


def audience_for(brand: Brand, asked: str | None) -> str:
    """The audience a written caption is for: the one asked for, else the profile's, else
    "general"; never drawn at random. "promotional" only for an account that runs offers."""
    audience = asked or brand.audience or "general"
    if audience == "promotional" and not brand.promotional:
        raise ValueError("the promotional audience needs the offers the account really runs: "
                         "add them to [accounts.brand] offers")
    return audience
