"""The ``fluency`` gate: sentences a person would write.

Rules for the broken constructions generators make, then the word-bigram model of ordinary
English (generator/gates/english.py), which is not the model that wrote the caption:
- a sentence that starts mid-way, in capitalised writing ("Save this. this for later.");
- a repeated word ("the the", "me me"; "ha ha", "no no" and the like are allowed);
- a dangling end: a sentence or the caption ends on an article, a possessive, a preposition
  that needs an object or a conjunction ("... of my", "... and the", "... to");
- "trying to the ...": a verb that takes an infinitive, "to", then an article or a possessive;
- an auxiliary left hanging after a conjunction ("... and i am", "... when you are");
- a cut-off word: the last word is not an English word but begins one ("tomorro");
- a misspelt word: not an English word, a common one with a letter added ("lookes");
- word-class slips ("i galaxy", "you'll the", "to be explain", "a ask"; generator/gates/lexicon.py);
- a stray letter ("the s goes off");
- "them" at the end of a sentence with nothing before it to stand for ("this is a galaxy and i have
  to remember them");
- an unseen pair of common words: two words that each occur more than ``COMMON_ZIPF`` on the
  Zipf scale (roughly: among the 150 most common English words: the, of, to, you, my, when ...) are never adjacent in the
  model's 243k frequent pairs ("forget why out": "why out"). Such pairs are rare in ordinary
  English because every frequent pair of frequent words is in the list.
- an unlikely word order: the least likely step of the caption's best reading under a word-class
  bigram model of English trained from symspellpy's pairs and lemminflect's word classes
  (generator/gates/classlm.py), below ``CLASS_FLOOR`` ("can went", "you sends");
- a broken clause: verb argument structure on the same word classes (generator/gates/clauses.py):
  "you're say", "it's just went", two finite verbs fused in one clause ("when you bring the sun
  is a box"), a "when" clause with no verb, a noun phrase without its noun, "a outline".
Hashtags, @-mentions, numbers and a story's "(1/3)" are set aside first.
"""
from __future__ import annotations

import itertools
import re
from functools import lru_cache

from generator.gates import lexicon as lx
from generator.gates.clauses import check_clauses
from generator.gates.english import English, english, words_of

COMMON_ZIPF = 6.0
CLASS_FLOOR = -8.0  # log P(class | previous class); 0.7% of the shipped human captions have a step below
REPEAT_ZIPF = 4.5  # "vroom vroom" is a sound; "the the" and "coffee coffee" are slips
_ALLOWED_REPEATS = frozenset({"ha", "haha", "no", "so", "very", "really", "bye", "yes", "go", "la", "na", "oh",
                              "again", "more", "much", "many", "far", "and", "on", "over", "that", "had"})
_DANGLING = frozenset({"the", "a", "an", "my", "your", "our", "their", "his", "its", "of", "to", "into", "onto",
                       "with", "and", "or", "but", "because", "than", "when", "if", "at", "whose",
                       "very", "during", "without", "toward", "towards", "among", "between",
                       "just", "where", "which"})
_INFINITIVE_VERBS = r"(?:try|tries|tried|trying|want|wants|wanted|wanting|need|needs|needed|decide|decides|decided|" \
                    r"forget|forgets|forgot|remember|remembers|pretend|pretends|pretending|pretended|learn|learning|" \
                    r"start|starting|started|plan|planning|planned|refuse|refused|refusing|manage|managed)"
_TRY_TO_THE = re.compile(rf"\b{_INFINITIVE_VERBS}\s+to\s+(?:the|a|an|my|your|his|her|our|their|its)\b", re.IGNORECASE)
_HANGING_AUX = re.compile(r"\b(?:and|but|when|because|while|if)\s+(?:i|you|he|she|it|we|they)\s+"
                          r"(?:am|is|are|was|were|have|has)\s*[.!?]*$", re.IGNORECASE)
_SET_ASIDE = re.compile(r"(?<![\w&])[#@]\w+|\(\d+/\d+\)|https?://\S+")
_NUMBER = re.compile(r"\b\d+(?:[.,:]\d+)*%?(?:\s?(?:am|pm|k|s)\b)?", re.IGNORECASE)  # read as a number word: "at 3 am" -> "at seven"
_SENTENCES = re.compile(r"[^.!?\n]+[.!?\n]*")


def _body(text: str) -> str:
    return " ".join(_NUMBER.sub("seven", _SET_ASIDE.sub(" ", text)).split())


def check_fluency(text: str, model: English | None = None) -> str | None:
    """What is broken in ``text``, in words; None when it reads as a person's sentence."""
    if model is None:  # the shipped model: one answer per text and process (the meme captioner asks
        return _shipped(text)  # first, then the pipeline's gate asks again of the same caption)
    return _check(text, model)


@lru_cache(maxsize=16384)
def _shipped(text: str) -> str | None:
    return _check(text, english())


def _check(text: str, model: English) -> str | None:
    body = _body(text)
    if not words_of(body):
        return None
    from generator.gates.garble import find_garble

    for check in (_fragment, _repeated, _try_to_the, _dangling, _hanging_aux, _stray_letter, _grammar, _no_antecedent,
                  find_garble):
        found = check(body)
        if found:
            return found
    return (_cut_off(body, model) or _misspelt(body, model) or _unseen_pair(body, model) or _word_order(body)
            or check_clauses(body))


def _repeated(body: str) -> str | None:
    for sentence in _SENTENCES.findall(body):
        words = words_of(sentence)
        for a, b in itertools.pairwise(words):
            if a == b and a not in _ALLOWED_REPEATS and english().zipf(a) >= REPEAT_ZIPF:
                return f"repeated word {a!r}"
    return None


def _try_to_the(body: str) -> str | None:
    m = _TRY_TO_THE.search(body)
    return f"broken infinitive {m.group(0)!r}" if m else None


def _dangling(body: str) -> str | None:
    for sentence in _SENTENCES.findall(body):
        words = words_of(sentence)
        if len(words) >= 2 and words[-1] in _DANGLING and not sentence.rstrip().endswith(("?", "!")):
            return f"dangling {words[-1]!r} at the end of {' '.join(words[-4:])!r}"
    return None


def _fragment(body: str) -> str | None:
    """In capitalised writing, a sentence that starts in lower case began mid-way ("this for
    later."); all-lower-case writing (the memes' style) is left alone."""
    starts = [s.strip() for s in _SENTENCES.findall(body) if s.strip() and s.strip()[0].isalpha()]
    if any(s[0].isupper() for s in starts):
        for s in starts:
            if s[0].islower():
                return f"sentence starts mid-way {' '.join(s.split()[:4])!r}"
    return None


def _stray_letter(body: str) -> str | None:
    for word in words_of(body):
        if len(word) == 1 and word not in ("a", "i", "o", "u", "x"):
            return f"stray letter {word!r}"
    return None


_SUBJECT_SLOT = frozenset({"and", "when", "so", "but", "then", "if", "because", "while", "until"})


_ADVERBS = frozenset({"just", "still", "finally", "always", "never", "really", "also", "only", "already", "not",
                      "so", "even", "literally", "actually"})
_BE = frozenset({"i'm", "am", "is", "are", "was", "were", "you're", "we're", "they're", "he's", "she's", "it's"})


def _grammar(body: str) -> str | None:
    """Word-class slips no person makes: "i galaxy", "you finally stars", "you'll the", "to be
    explain", "i'm just give", "you sends", "a ask", "the my", "and you a rocket" (word classes
    from generator/gates/lexicon.py; "a ask" also needs the pair to be unseen in English)."""
    model = english()
    for sentence in re.split(r"[.!?,;:\n()\"]+", body.casefold().replace("\u2019", "'")):
        words = words_of(sentence)
        for i, (a, b) in enumerate(itertools.pairwise(words)):
            before = words[i - 1] if i else ""
            subject = a in lx.SUBJECTS or (a == "you" and (i == 0 or before in _SUBJECT_SLOT))
            head = _head(words, i)  # the word before a run of adverbs ending at a
            if (subject or (a in _ADVERBS and head in lx.SUBJECTS)) and lx.only_noun(b):
                return f"a noun where a verb belongs {a + ' ' + b!r}"
            if a in ("i", "we", "they") and lx.third_person_verb_only(b):
                return f"verb form does not agree {a + ' ' + b!r}"
            if subject and b in lx.DETERMINERS and (i == 0 or before in _SUBJECT_SLOT):
                return f"missing verb {a + ' ' + b!r}"
            if a in lx.DETERMINERS and (b in lx.DETERMINERS or (lx.bare_verb_only(b) and model.zipf(b) >= 4.5
                                                                and not model.seen(a, b))):
                return f"broken phrase {a + ' ' + b!r}"
            be_before = (a == "be" and before == "to") or a in _BE or (a in _ADVERBS and head in _BE)
            if be_before and lx.bare_verb_only(b) and b != "let":
                return f"broken phrase {a + ' ' + b!r}"
        m = re.search(r"\b(?:i|you|we|they|he|she)(?:'ll|\s+will)\s+(?:the|a|an|my|your|our|their|his|her|its)\b",
                      sentence)
        if m:
            return f"missing verb {m.group(0)!r}"
    return None


def _head(words: list[str], i: int) -> str:
    j = i
    while j >= 0 and words[j] in _ADVERBS:
        j -= 1
    return words[j] if j >= 0 else ""


_PLURAL_PEOPLE = frozenset({"someone", "somebody", "anyone", "anybody", "everyone", "everybody", "people", "they",
                            "these", "those", "all", "both", "children", "men", "women", "feet", "teeth", "mice",
                            "folks", "kids", "we", "us"})


def _no_antecedent(body: str) -> str | None:
    """A sentence that ends on "them" with nothing before it that "them" can stand for: no plural
    noun, no "someone" ("this is a galaxy and i have to remember them"; the human "capturing
    memories so i don't have to remember them" has its "memories")."""
    from generator.gates.classlm import classes

    words = words_of(body)
    for sentence in _SENTENCES.findall(body):
        said = words_of(sentence)
        if len(said) < 3 or said[-1] != "them":
            continue
        before = words[:len(words) - len(words_of(body[body.find(sentence) + len(sentence):])) - 1]
        if len(before) < 5:
            continue  # "I love them.": a short line may point at the picture
        coordinated = any(a == "and" and b in ("the", "a", "an", "my", "your", "his", "her", "their", "our")
                          for a, b in itertools.pairwise(before))  # "the cat and the dog ... them"
        if not coordinated and not any(w in _PLURAL_PEOPLE or (w.endswith("s") and not w.endswith(("ss", "us", "is", "'s"))
                                                               and "NOUN" in classes(w)) for w in before):
            return f"'them' refers to nothing in {' '.join(said[-5:])!r}"
    return None


def _hanging_aux(body: str) -> str | None:
    for sentence in _SENTENCES.findall(body):
        m = _HANGING_AUX.search(sentence.strip())
        if m:
            return f"unfinished clause {m.group(0).strip()!r}"
    return None


def _cut_off(body: str, model: English) -> str | None:
    if body.rstrip()[-1:] in ".!?)\"'":
        return None
    words = words_of(body)
    last = words[-1] if words else ""
    if len(last) >= 3 and not model.known(last) and _begins_a_word(last, model):
        return f"cut-off word {last!r}"
    return None


def _misspelt(body: str, model: English) -> str | None:
    """A word neither the model nor the lexicon knows, that is a common word with one letter added
    ("lookes"); slang and names ("nasa", "crypto", "nighter") are not one letter off a common word."""
    for word in words_of(body):
        if len(word) >= 4 and "'" not in word and not model.known(word) and not lx.tags(word):
            near = next((w for w in _deletions(word) if model.zipf(w) >= 4.5), None)
            if near is not None:
                return f"misspelt word {word!r} ({near!r}?)"
    return None


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1:] for i in range(len(word))]


def _begins_a_word(stem: str, model: English) -> bool:
    return any(w.startswith(stem) and len(w) > len(stem) and model.zipf(w) >= 3.0 for w in model.unigrams)


def _word_order(body: str) -> str | None:
    """The word-class bigram model's least likely step, when English makes it very unlikely
    (generator/gates/classlm.py): "can went", "after like this", "you sends"."""
    from generator.gates.classlm import class_model

    cm = class_model()
    for sentence in re.split(r"[.!?,;:\n()\"]+", body.casefold().replace("\u2019", "'")):
        step = cm.weakest(words_of(sentence))
        if step is not None and step.logprob < CLASS_FLOOR:
            return f"unlikely word order {step.first + ' ' + step.second!r} ({step.classes[0]} then {step.classes[1]})"
    return None


def _unseen_pair(body: str, model: English) -> str | None:
    for sentence in re.split(r"[.!?,;:\n()\"]+", body):
        for first, second in itertools.pairwise(words_of(sentence)):
            if not model.seen(first, second) and min(model.zipf(first), model.zipf(second)) >= COMMON_ZIPF:
                return f"unusual word pair {first + ' ' + second!r}"
    return None
