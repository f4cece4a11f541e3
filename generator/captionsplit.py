"""Split a caption into the pieces that go into a meme's text boxes, at a natural break."""
from __future__ import annotations

import re

# Strongest break first; within a tier the cut closest to the middle wins.
_BREAK_TIERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<=[.!?\u2026])\s+"),
    re.compile(r"(?<=[;:,])\s+"),
    re.compile(
        r"\s+(?=(?:when|but|because|until|unless|while|whereas|except|and then)\b)", re.IGNORECASE
    ),
)
_ANY_SPACE = re.compile(r"\s+")

# Articles and determiners lean hardest: a box ending on one is the worst cut of all.
_DETERMINERS = frozenset("a an the my your his its our their every each".split())
# Words that lean on what follows: a box ending on one reads as cut mid-phrase ("ASK THE / HORSE").
_LEANING = frozenset(
    # articles and possessive or distributive determiners ("her" is left out: also an object)
    "a an the my your his its our their every each "
    # prepositions, and "to" of the infinitive
    "of in on at to for with from by about into onto than as through without between during upon "
    "after before like since across against along among within via per toward towards despite "
    # auxiliaries and modals
    "am is are was were be been being have has had do does did will would shall should can could "
    "may might must "
    # conjunctions
    "and or nor but so because if when while although though unless until whereas".split()
)
# Words that open a phrase: a cut just before one reads as a natural break ("MY LAWN / AFTER A LONG
# DAY", "WHEN YOU LOOK UP / AT 3 AM"). Not "than"/"as": they hang on the word before ("FASTER THAN").
_PHRASE_STARTS = (_LEANING - frozenset("than as am is are was were be been being have has had do does did "
                                       "will would shall should can could may might must".split())) | {"if"}
# How much closer to the middle (a share of the piece's length) a cut before a phrase opener counts.
_PHRASE_BONUS = 0.3
# Contracted auxiliaries and possessives lean too: "IT'S / FRIDAY", "MY MOM'S / CAR", "CAN'T / FIND".
_LEANING_ENDINGS = ("'s", "n't", "'m", "'re", "'ll", "'ve", "'d")
# A cut after a content word wins if its shorter side is at least this share of its longer side.
_MIN_BALANCE = 1 / 3
# Failing that, a cut after a content word still beats one after a function word down to this share.
_LOOSE_BALANCE = 1 / 5


def split_caption(text: str, parts: int) -> list[str]:
    """Split ``text`` into exactly ``parts`` pieces (top to bottom), padding with "" when short.

    Explicit line breaks in ``text`` are honoured first. Then the longest piece is cut again until
    there are enough: at a sentence end, else after ``,`` ``;`` ``:``, else before "when", "but",
    "because"... (never as the first word), else at the space nearest the middle that does not leave
    an article, possessive, preposition, auxiliary or conjunction at the end of the first piece
    ("ASK / THE HORSE", not "ASK THE / HORSE") and keeps the shorter piece at least a third of the
    longer; without such a space, at the space nearest the middle. A single word is never cut, so
    "NOPE" split in two gives ``["NOPE", ""]``.
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    if parts == 1:
        return [_squash(text)]
    pieces = [_squash(line) for line in text.splitlines() if line.strip()]
    if len(pieces) > parts:
        pieces = pieces[: parts - 1] + [" ".join(pieces[parts - 1 :])]
    while len(pieces) < parts:
        index = _best_splittable(pieces)
        if index is None:
            break
        pieces[index : index + 1] = _cut(pieces[index], _best_cut(pieces[index])[1])
    return pieces + [""] * (parts - len(pieces))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _best_splittable(pieces: list[str]) -> int | None:
    """The piece to cut next: of the pieces at least half as long as the longest, the one with the
    best cut (a natural break, then a cut after a content word), the longest among equals; so
    "I TAKE A PHOTO / AND I HAVE TO REMEMBER" becomes "I TAKE / A PHOTO / AND I HAVE TO REMEMBER",
    not "... / AND I HAVE / TO REMEMBER"."""
    candidates = [i for i, piece in enumerate(pieces) if " " in piece]
    if not candidates:
        return None
    longest = max(len(pieces[i]) for i in candidates)
    near = [i for i in candidates if 2 * len(pieces[i]) >= longest]
    return min(near, key=lambda i: (_best_cut(pieces[i])[0], -len(pieces[i]), i))


def _best_cut(piece: str) -> tuple[int, re.Match[str]]:
    """(grade, cut) of a piece with a space: 0 a natural break (sentence end, punctuation, "when"...),
    1 after a content word within 1:3, 2 after a content word within 1:5 (nearest the middle, rather
    before a preposition, article or conjunction: ``_most_natural``), 3 any other space (nearest
    the middle, and rather after a preposition than an article: "FOR / A READING", not "FOR A / READING")."""
    for pattern in _BREAK_TIERS:
        cuts = _cuts(pattern, piece)
        if cuts:
            return 0, _most_central(piece, cuts)
    cuts = _cuts(_ANY_SPACE, piece)
    for grade, ratio in ((1, _MIN_BALANCE), (2, _LOOSE_BALANCE)):
        phrase_ends = [m for m in cuts if not lean(piece[: m.start()]) and _balanced(piece, m, ratio)]
        if phrase_ends:
            return grade, _most_natural(piece, phrase_ends)
    not_article = [m for m in cuts if lean(piece[: m.start()]) < 2]
    return 3, _most_central(piece, not_article or cuts)


def _cuts(pattern: re.Pattern[str], piece: str) -> list[re.Match[str]]:
    return [m for m in pattern.finditer(piece) if 0 < m.start() and m.end() < len(piece)]


def _most_central(piece: str, cuts: list[re.Match[str]]) -> re.Match[str]:
    return min(cuts, key=lambda m: abs(m.start() - (len(piece) - m.end())))


def _most_natural(piece: str, cuts: list[re.Match[str]]) -> re.Match[str]:
    """The cut nearest the middle, one before a phrase opener counting _PHRASE_BONUS closer: "MY CAT
    WATCHING ME EAT BREAKFAST / LIKE I OWE HIM RENT", not "... ME EAT / BREAKFAST LIKE ..."."""
    def distance(m: re.Match[str]) -> float:
        opens = _first_word(piece[m.end():]) in _PHRASE_STARTS
        return abs(m.start() - (len(piece) - m.end())) - (_PHRASE_BONUS * len(piece) if opens else 0.0)
    return min(cuts, key=distance)


def _first_word(tail: str) -> str:
    return tail.split(None, 1)[0].lower().replace("\u2019", "'").strip("\"'()[]") if tail.strip() else ""


def _cut(piece: str, match: re.Match[str]) -> list[str]:
    return [piece[: match.start()], piece[match.end() :]]


def _last_word(head: str) -> str:
    return head.rsplit(None, 1)[-1].lower().replace("\u2019", "'").strip("\"'()[]")


def lean(head: str) -> int:
    """How hard the last word of ``head`` leans on the word after it, so how bad a cut (between boxes,
    or between the lines of one box) right after it reads: 2 an article or determiner ("ASK THE /
    HORSE"), 1 a preposition, auxiliary, conjunction, contraction or possessive ("I HAVE / NO IDEA",
    "MY MOM'S / CAR"), 0 any other word (a cut there ends a phrase). Case-insensitive."""
    if not head.strip():
        return 0
    last = _last_word(head)
    if last in _DETERMINERS:
        return 2
    return 1 if last in _LEANING or last.endswith(_LEANING_ENDINGS) else 0


def _balanced(piece: str, match: re.Match[str], ratio: float = _MIN_BALANCE) -> bool:
    before, after = match.start(), len(piece) - match.end()
    return min(before, after) >= ratio * max(before, after)
