"""The ``internals`` gate: nothing of the machinery reaches a caption.

Control tokens (``<tone=funny>``, ``<|endoftext|>``, also cut off: ``<topic=nature``), special
tokens (``[UNK]``, ``<pad>``, ``</s>``), prompt prefixes (``topic: ...``, ``caption:``) and talk
about models, training, seeds or pixels ("a small neural network", "the model's own", "trained
for minutes", "every seed gives", "one pixel grid at a time"). The patterns are narrow on purpose:
"astronaut training", "the seeds of a cherry-like fruit" and "a model citizen" are ordinary
English and pass (the project's human-written corpora pass whole; a test checks it).
"""
from __future__ import annotations

import re

_FLAGS = re.IGNORECASE
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((why, re.compile(p, _FLAGS)) for why, p in (
    ("a control token", (r"<\|?\s*(?:endoftext|startoftext|im_start|im_end)\b|<\s*/?\s*(?:tone|audience|topic)\s*="
                        r"|\b(?:tone|audience|topic)=\w|<\||(?<=\w)>|<(?=\w)")),
    ("a special token", r"\[(?:PAD|UNK|CLS|SEP|MASK|BOS|EOS)\]|<\s*/?\s*(?:s|pad|unk|eos|bos|mask|sep|cls)\s*>"),
    ("a prompt prefix", r"^\s*(?:caption|prompt|tone|audience|topic|input|output)\s*:"),
    ("talk about the model", (r"\bneural\s+(?:net|network|nets|networks)\b|\b(?:machine|deep)\s+learning\b"
                             r"|\blanguage\s+model\b|\b(?:pg)?gans?\b|\bgpt(?:-?\d)?\b|\balgorithm"
                             r"|\b(?:the|a|this|our|my|its)\s+(?:small\s+|tiny\s+|little\s+)?"
                             r"(?:model|network|generator)(?:'s)?\s+(?:own|learned|made|drew|draws|trained|that)\b"
                             r"|\bthe\s+model's\b|\b(?:a|the)\s+model\s+that\b")),
    ("talk about training", (r"\btraining\s+(?:photos|images|data|set|crops|run|pictures)\b"
                            r"|\btrained\s+(?:for\s+(?:minutes|hours|seconds|days)|on\s+(?:a|my|the)\s+"
                            r"(?:laptop|cpu|gpu|photos|images|data))"
                            r"|\blearned\s+(?:it\s+)?from\s+(?:crops|photos|images|data)\b|\b(?:laptop\s+)?[cg]pu\b"
                            r"|\bwas\s+generated\b|\bgenerated,\s+not\s+photographed\b"
                            r"|\b(?:drawn|generated|made|written)\s+by\s+(?:a|an|the)\s+(?:small\s+|tiny\s+)?"
                            r"(?:neural|model|network|machine|computer|ai|algorithm)")),
    ("talk about seeds", r"\b(?:every|no\s+two|random|each|the\s+same)\s+seeds?\b|\bseed\s+\d+|\bseeds?\s+gives?\b"),
    ("talk about pixels", r"\bpixels?\b|\b\d+\s*x\s*\d+\s*(?:px|pixels?)?\b(?=\W|$)"),
))


def find_internals(text: str) -> str | None:
    """What of the machinery ``text`` shows, in words with the words found; None when clean."""
    for why, pattern in _PATTERNS:
        m = pattern.search(text)
        if m:
            return f"{why} ({m.group(0).strip()!r})"
    return None
