"""Clause structure: the verb argument rules a person's sentence keeps, on word classes.

The caption is read with the word-class model of ordinary English (generator/gates/classlm.py:
lemminflect's parts of speech, symspellpy's word pairs, Viterbi), contractions as their two words,
and split at punctuation. Then, clause by clause (a clause ends at a conjunction, a subordinator,
a relative or question word, "that" or "to"):
- a verb group keeps its forms: after "be" a participle, an "-ing" form, an adjective or a noun
  phrase, never a base verb or a simple past ("you're say", "it's just went", "you'll be sit");
  after a modal or "do" a base verb ("can went"); after "to" that follows a verb taking an
  infinitive, a verb ("try to the wall", "forget to this");
- one finite verb per clause: a second finite verb after the first verb's object, when the first
  verb cannot take a clause ("when you bring the sun is a box", "me judging the wall is a treat",
  "you sit says"); verbs of saying, thinking and perceiving may ("the teacher says the wifi is
  down");
- a clause opened by "when", "if" or "because" has a verb ("when the wifi password and you ...",
  "when the coffee and forget why");
- a noun phrase has its noun: no determiner before a determiner, a pronoun, a finite verb or a
  preposition ("your a shadow", "a did"), no article and adjective left without a noun ("a small
  of coffee", "the big and"), "a" not before a vowel ("a outline");
- a clause does not end on "be" or an auxiliary after its subject ("and i am", "but it's").
The answer is the first broken construction in words, or None. Deterministic and pure; nothing
here is trained on the captions it judges.
"""
from __future__ import annotations

import re
from functools import lru_cache

from generator.gates.classlm import EXPAND, class_model, classes
from generator.gates.english import words_of

# verbs that may take a clause as their object ("says the wifi is down", "realize it's monday")
CLAUSE_VERBS = frozenset("""say says said saying think thinks thought thinking know knows knew knowing realize realizes
realized realizing realise realises realised realising see sees saw seeing hear hears heard hearing feel feels felt
feeling mean means meant meaning guess guesses guessed hope hopes hoped hoping wish wishes wished believe believes
believed pretend pretends pretended pretending find finds found notice notices noticed noticing remember remembers
remembered forget forgets forgot tell tells told telling promise promises promised swear swears swore suppose
supposed bet bets claim claims claimed assume assumes assumed decide decides decided doubt worry worries worried
admit admits admitted discover discovered learn learns learned understand understands understood wonder wonders
wondered announce announces announced insist insists insisted imagine imagines imagined""".split())
# verbs whose "to" opens an infinitive, never a place ("try to the wall")
INFINITIVE_VERBS = frozenset("""try tries tried trying want wants wanted wanting need needs needed needing decide decides
decided deciding forget forgets forgot forgetting remember remembers remembered pretend pretends pretended pretending
learn learns learned learning manage manages managed refuse refuses refused plan plans planned planning hope hopes
hoped hoping seem seems seemed afford fail fails failed tend tends tended
choose chooses chose deserve deserves attempt attempts attempted""".split())
SUBORDINATORS = frozenset({"when", "if", "because", "while", "until", "unless", "although", "though", "whenever"})
CLAUSE_BREAK = frozenset({"CONJ", "SUB", "WH", "TO"})
BREAK_WORDS = frozenset({"that", "so", "then", "like", "as", "before", "after", "since", "than", "but", "and", "or",
                         "plus", "except", "until", "till", "once"})
FINITE_ONLY = frozenset({"VBZ", "VBD", "MODAL", "BE", "AUX"})
_PUNCT = re.compile(r"[.!?,;:\n()\"\u2014\u2013/]+|\s-\s")
BE_FINITE = frozenset({"am", "is", "are", "was", "were"})
VOWEL_SOUND_EXCEPTIONS = ("one", "once", "uni", "use", "usu", "uti", "eu", "ewe", "ur")


def check_clauses(text: str) -> str | None:
    """The first broken clause structure in ``text`` (lower-cased words), in words; None if none."""
    for chunk in _PUNCT.split(text.casefold().replace("\u2019", "'")):
        raw = words_of(chunk)
        if not raw:
            continue
        words = [p for w in raw for p in EXPAND.get(w, (w,))]
        tags = class_model().best_path(words)
        for rule in (_article, _noun_phrase, _subject, _verb_forms, _infinitive, _verbless, _fused, _says, _coordinated,
                     _glued, _hanging, _have_adjective):
            found = rule(words, tags)
            if found:
                return found
    return None


@lru_cache(maxsize=8192)
def _participle(word: str) -> bool:
    """``word`` can be a past participle or an adjective ("gone", "said", "tired", "done", "home")."""
    from generator.gates.wordclasses import word_class

    return word_class(word).participle  # lemminflect: an ADJ, or in getInflection(lemma, "VBN") of a verb lemma


def _article(words: list[str], tags: list[str]) -> str | None:
    for a, b in zip(words, words[1:]):
        if a == "a" and b[0] in "aeio" and not b.startswith(VOWEL_SOUND_EXCEPTIONS):
            return f"'a' before a vowel {a + ' ' + b!r}"
        if a == "an" and b[0] not in "aeiouh" and len(b) > 1:
            return f"'an' before a consonant {a + ' ' + b!r}"
    return None


def _can_be_verb(word: str) -> bool:
    return any(c in ("VB", "VBZ", "VBD", "VBG", "BE", "AUX", "MODAL", "LIKE") for c in classes(word))


def _verb_only(word: str) -> bool:
    """A verb's base or past form that is no noun, adjective or adverb ("see", "get", "did")."""
    return set(classes(word)) <= {"VB", "VBD", "AUX"} and word not in ("do", "have")


def _noun_phrase(words: list[str], tags: list[str]) -> str | None:
    """A determiner must lead to a noun: not to another determiner, a pronoun, a finite verb or a
    bare verb, and an adjective after it must not end the phrase."""
    for i, t in enumerate(tags):
        if t not in ("DET", "POSS") or words[i] in ("that", "this", "these", "those", "some", "any", "no", "each",
                                                    "another", "every", "her", "his", "its"):
            continue  # demonstratives, quantifiers and "her"/"his" can stand alone
        j = i + 1
        while j < len(tags) and tags[j] in ("ADJ", "ADV", "SO", "NUM") and not words[j].endswith("est") \
                and words[j] not in STANDALONE_ADJ:
            j += 1
        nxt = tags[j] if j < len(tags) else "END"
        phrase = " ".join(words[i:j + 1])
        if nxt in ("DET", "POSS", "SUBJ", "YOU", "IT", "OBJ", "BE", "VBZ", "NEG", "WH") \
                or (nxt in ("PREP", "CONJ", "END") and j > i + 1) \
                or (nxt == "END" and words[i] in ("a", "an", "the", "my", "your", "our", "their")) \
                or (j < len(words) and _verb_only(words[j]) and not _participle(words[j]) and _zipf(words[j]) >= 5.0
                    and _unseen(words[j - 1], words[j])):
            return f"a noun phrase without its noun {phrase!r}"
    return None


STANDALONE_ADJ = frozenset({"most", "least", "best", "worst", "last", "first", "next", "same", "only", "other", "whole",
                            "rest", "own", "usual", "latest", "former", "latter"})
SUBJECT_PRONOUNS = frozenset({"i", "we", "they", "he", "she"})


def _subject(words: list[str], tags: list[str]) -> str | None:
    """"i", "we", "they", "he", "she" are subjects: a verb follows (after adverbs), or the clause
    ends ("than i", "me and i")."""
    for i, w in enumerate(words):
        if w not in SUBJECT_PRONOUNS:
            continue
        j = i + 1
        while j < len(tags) and tags[j] in ("SO", "NEG", "ADV") and words[j] not in ("there", "here"):
            j += 1
        if j < len(words) and not _can_be_verb(words[j]) and tags[j] not in ("CONJ", "SUB", "WH", "PREP"):
            return f"a subject without its verb {' '.join(words[i:j + 1])!r}"
    return None


def _zipf(word: str) -> float:
    from generator.gates.english import english

    return english().zipf(word)


def _unseen(first: str, second: str) -> bool:
    """The pair never occurs in the 243k frequent pairs of English (generator/gates/english.py)."""
    from generator.gates.english import english

    return not english().seen(first, second)


def _verb_forms(words: list[str], tags: list[str]) -> str | None:
    """After be: no base verb, no simple past; after a modal or do: a base verb; after have: no
    base verb; a subject is not followed by a bare "be"; "do you" is followed by a verb."""
    for i, (w, t) in enumerate(zip(words, tags)):
        if w == "be" and i and tags[i - 1] in ("SUBJ", "YOU") or (w == "be" and i > 1 and tags[i - 1] in ("SO", "ADV")
                                                               and tags[i - 2] in ("SUBJ", "YOU")):
            return f"bare 'be' after its subject {' '.join(words[max(0, i - 2):i + 1])!r}"
        if t not in ("BE", "MODAL", "AUX"):
            continue
        j = i + 1
        while j < len(tags) and tags[j] in ("SO", "NEG", "ADV") and words[j] not in ("there", "here"):
            j += 1
        if j >= len(tags):
            continue
        nw, nt = words[j], tags[j]
        phrase = " ".join(words[i:j + 1])
        # a verb that is also a noun is judged only right after "be" ("you're say"; "is just order" may be a noun)
        verb_reading = (_verb_only(nw) or (nt == "VB" and j == i + 1)) and not _participle(nw)
        if t == "BE" and nt == "VBD" and not _participle(nw):
            return f"past tense after 'be' {phrase!r}"
        if t == "BE" and "VB" in classes(nw) and not _participle(nw) and j + 1 < len(tags) \
                and words[j + 1] in ("it", "me", "him", "them", "us") and _unseen(w, nw):
            return f"base verb after 'be' {' '.join(words[i:j + 2])!r}"  # "i'm just find it"
        if t == "BE" and w not in ("being", "been") and verb_reading \
                and nw not in ("let", "go") and _unseen(w, nw):
            return f"base verb after 'be' {phrase!r}"
        after_subject = i and tags[i - 1] in ("SUBJ", "YOU", "IT", "NOUN", "THERE", "SO", "NEG") \
            and words[i - 1] not in ("so", "nor", "neither")  # "and so can we"
        if t == "MODAL" and after_subject and not (set(classes(nw)) & {"VB", "BE", "AUX"}) \
                and nt not in ("CONJ", "SUB", "WH"):
            return f"no verb after {w!r} {phrase!r}"
        if (t == "MODAL" or w in ("do", "does", "did")) and nt in ("VBD", "VBZ") and nw not in ("did", "does", "has",
                                                                                           "had"):
            return f"wrong verb form after {w!r} {phrase!r}"
        if w in ("have", "has", "had") and verb_reading and _unseen(w, nw):
            return f"base verb after {w!r} {phrase!r}"
        if t == "BE" and nt in ("YOU", "SUBJ", "IT") and j + 1 < len(tags) and tags[j + 1] in ("BE", "MODAL") \
                and i > 0:
            return f"two verbs in one clause {' '.join(words[i:j + 2])!r}"
        if w in ("do", "does", "did") and nt in ("YOU", "SUBJ", "IT") and (i == 0 or tags[i - 1] in ("CONJ", "WH")):
            k = j + 1
            while k < len(tags) and tags[k] in ("SO", "NEG", "ADV"):
                k += 1
            if k < len(tags) and not _can_be_verb(words[k]):
                return f"no verb after {' '.join(words[i:k + 1])!r}"
    return None


# verbs whose object is followed by an infinitive ("asks you to take", never "asks you to the wall")
OBJECT_INFINITIVE_VERBS = frozenset("""ask asks asked asking tell tells told telling remind reminds reminded force forces
forced expect expects expected convince convinces convinced""".split())


def _infinitive(words: list[str], tags: list[str]) -> str | None:
    for i in range(len(words) - 2):
        to = i + 1 if words[i] in INFINITIVE_VERBS else i + 2 if (
            words[i] in OBJECT_INFINITIVE_VERBS and tags[i + 1] in ("OBJ", "YOU")) else -1
        if 0 < to < len(words) - 1 and words[to] == "to":
            j = to + 1
            while j < len(tags) and tags[j] in ("SO", "ADV", "NEG"):
                j += 1
            if j < len(tags) and tags[j] in ("DET", "POSS", "SUBJ", "YOU", "IT", "OBJ", "PREP", "NUM", "VBZ", "VBD",
                                             "MODAL", "TO", "CONJ", "SUB", "WH"):
                return f"no verb after {' '.join(words[i:j + 1])!r}"
    return None


def _clauses(words: list[str], tags: list[str]) -> list[tuple[int, int]]:
    """(start, end) spans of clauses: split before every clause break."""
    spans, start = [], 0
    for i, (w, t) in enumerate(zip(words, tags)):
        place = t == "TO" and i + 1 < len(tags) and tags[i + 1] in ("DET", "POSS", "NOUN", "NUM")  # "go to the moon"
        if i > start and not place and (t in CLAUSE_BREAK or w in BREAK_WORDS or w in ("who", "which", "whose",
                                                                                       "where")):
            spans.append((start, i))
            start = i
    spans.append((start, len(words)))
    return spans


def _verb_here(words: list[str], tags: list[str], k: int) -> bool:
    """Word k is read as a verb, or can be one where it stands: any verb form after a pronoun or an
    adverb, a finite form ("goes", "went") after a noun or adjective ("the microwave beeps")."""
    if tags[k] in ("VB", "VBZ", "VBD", "VBG", "BE", "AUX", "MODAL", "LIKE"):
        return True
    before = tags[k - 1]
    if before in ("SUBJ", "YOU", "IT", "SO", "NEG", "WH", "OBJ", "ADV"):
        return _can_be_verb(words[k])
    forms = set(classes(words[k]))
    plural = before == "NOUN" and words[k - 1].endswith("s")  # "the werewolves start"
    return before in ("NOUN", "ADJ") and bool({"VBZ", "VBD"} & forms or (plural and "VB" in forms))


def _verbless(words: list[str], tags: list[str]) -> str | None:
    """A clause opened by when/if/because and joined to the next by "and" needs a verb; so does a
    "what"/"where" clause that ends the sentence after the main clause ("this is what my cat")."""
    for s, e in _clauses(words, tags):
        if any(_verb_here(words, tags, k) for k in range(s + 1, e)):
            continue
        joined = e < len(words) and words[e] in ("and", "or", "but")
        # "when the group chat", "me when the weekend": a when-clause that ends the caption on a bare noun phrase
        whole = e == len(words) and tags[s + 1:s + 2] in (["DET"], ["POSS"])
        if words[s] in SUBORDINATORS and e - s >= 3 and (joined or whole):
            return f"clause without a verb {' '.join(words[s:e + 1])!r}"
        if words[s] in ("what", "where", "who", "which") and s > 0 and (e == len(words) or joined) and e - s >= 2 \
                and any(_can_be_verb(w) for w in words[:s]):
            return f"clause without a verb {' '.join(words[s:e])!r}"
    return None


SUBJECT_LIKE = frozenset({"SUBJ", "YOU", "IT", "THERE"})
OTHER_SUBJECTS = frozenset({"nobody", "everyone", "everybody", "someone", "somebody", "anyone", "anybody", "nothing",
                            "everything", "something", "this", "that", "mine", "yours"})


BARE_INFINITIVE_VERBS = frozenset("""let lets make makes made help helps helped watch watches watched see sees saw hear
hears heard feel feels felt have has had bid""".split())


def _finite_second(words: list[str], tags: list[str], k: int) -> bool:
    t, w = tags[k], words[k]
    if t in ("VBZ", "MODAL") or (t == "BE" and w in BE_FINITE) or w in ("has", "have", "does", "did"):
        return True
    return t == "VBD" and not _participle(w)


def _fused(words: list[str], tags: list[str]) -> str | None:
    """Two finite verbs in one clause, the first of which cannot take a clause: after the first
    verb's object (a noun) comes another finite verb with no link ("bring the sun is a box")."""
    for s, e in _clauses(words, tags):
        first: int | None = None
        k = s
        while k < e:
            t = tags[k]
            before = tags[k - 1] if k > s else ""
            if first is None:
                starts = (t in ("VBZ", "VBD", "BE", "MODAL", "AUX") and (before in ("SUBJ", "YOU", "IT", "NOUN", "SO",
                                                                                   "NEG", "THERE")
                                                                    or words[k - 1] in ("this", "that"))) \
                    or ("VB" in classes(words[k]) and before in ("SUBJ", "YOU")) \
                    or ("VB" in classes(words[k]) and before in ("SO", "NEG", "ADV") and k >= 2
                        and tags[k - 2] in ("SUBJ", "YOU")) \
                    or (t == "VB" and before in ("SO", "NEG")) or (t == "VBG" and before == "OBJ") \
                    or (words[k] == "be" and before == "TO")
                if starts:
                    first = k
                    while k + 1 < e and tags[k + 1] in ("BE", "AUX", "MODAL", "NEG", "SO", "VB", "VBG", "VBD"):
                        k += 1
                    if any(words[m] in CLAUSE_VERBS for m in range(first, k + 1)):
                        first = None  # "says (that) the wifi is down": a new clause may begin
            elif k == len(words) - 1 and "VBD" in classes(words[k]) and before == "NOUN" and k > first + 2 \
                    and tags[first] not in ("BE", "AUX", "MODAL") and words[first] not in CAUSATIVE \
                    and _leftover_np(words, tags, first, k):
                return f"a verb left over at the end {' '.join(words[first:k + 1])!r}"
            elif _finite_second(words, tags, k) and k > first + 1 and (
                    before in ("NOUN", "ADJ", "NUM", "OBJ") or (before == "VB" and tags[k - 2] in ("DET", "POSS"))) \
                    and words[k - 1] not in OTHER_SUBJECTS:
                return f"two verbs in one clause {' '.join(words[first:k + 1])!r}"
            elif k == first + 1 and (t == "VBZ" or (t == "VBD" and words[first] in CLAUSE_VERBS)) \
                    and tags[first] in ("VB", "VBZ", "VBD", "NOUN"):
                return f"two verbs in one clause {' '.join(words[first:k + 1])!r}"
            elif _verb_only(words[k]) and before == "YOU" and k > first + 1 and words[first] not in BARE_INFINITIVE_VERBS \
                    and tags[first] not in ("BE", "AUX", "MODAL"):
                return f"a verb without 'to' {' '.join(words[first:k + 1])!r}"
            k += 1
    return None


CAUSATIVE = frozenset("""get gets got getting have has had having keep keeps kept want wants wanted need needs needed
like likes liked find finds found leave leaves make makes made see sees saw""".split())  # "got your mane done"
SAY = frozenset({"say", "says", "said", "saying", "tell", "tells", "told", "ask", "asks", "asked", "explain",
                 "explains", "explained"})


def _says(words: list[str], tags: list[str]) -> str | None:
    """A verb of saying followed by a noun phrase needs a clause or a quotation, not a bare thing
    ("the teacher says the wifi to the wall"): after it, "the"/"my" ... must reach a verb. "asks
    the horse", "tells you" and "explain the diet" take an object, so only say/says/said do."""
    for i, w in enumerate(words[:-1]):
        if w not in ("say", "says", "said") or tags[i + 1] not in ("DET", "POSS") or words[i + 1] in ("no", "this",
                                                                                                 "that"):
            continue
        end = next((k for k in range(i + 1, len(words)) if tags[k] in ("CONJ", "SUB")), len(words))
        if not any(_verb_here(words, tags, k) for k in range(i + 2, end)):
            return f"'{w}' without what was said {' '.join(words[i:end])!r}"
    return None


# verbs that never end a clause: their object or preposition must follow ("my brain at 3 am to deal")
NEEDS_COMPLEMENT = frozenset({"deal", "deals", "put", "puts", "rely", "relies", "depend", "depends", "belong",
                              "belongs", "consist", "consists", "refer", "refers", "lets", "tell", "tells", "give",
                              "gives", "bring", "brings", "send", "sends"})


def _coordinated(words: list[str], tags: list[str]) -> str | None:
    """"and" + a bare verb shares the subject of a verb before it: "you order a coffee and forget
    why", "i sit and wait", "go out and play"; with no such verb ("this is a cup of coffee and
    forget why", "first cup of coffee and forget why") the bare verb has no subject."""
    for i in range(1, len(words) - 1):
        if words[i] not in ("and", "or") or tags[i + 1] != "VB" or not _verb_only(words[i + 1]) \
                or "VBD" in classes(words[i + 1]):
            continue
        base_before = any(tags[k] in ("VB", "MODAL", "AUX", "TO") or (tags[k] == "VBD" and k and tags[k - 1] in
                                                                       ("SUBJ", "YOU", "NOUN"))
                          for k in range(i))
        if not base_before and not ("VB" in classes(words[0]) and words[0] not in ("me", "my")):  # "slow down and let"
            return f"a verb without its subject {' '.join(words[max(0, i - 2):i + 2])!r}"
    return None


NEEDS_OBJECT = frozenset({"left", "put", "keep", "kept", "leave", "hid", "hide", "bring", "brought", "take", "took"})
OPENS_A_CLAUSE = frozenset({"and", "but", "or", "so", "because", "when", "if", "while", "cause", "cuz", "like", "all",
                            "what", "where", "how", "why", "who", "whether", "until", "since", "then", "now", "as",
                            "than", "once", "before", "after"}) | CLAUSE_VERBS


def _glued(words: list[str], tags: list[str]) -> str | None:
    """A new clause glued on with no link: "this is" / "it's" after a preposition, a verb or "be"
    ("forget why for this is cup", "and it's this is time", "buy this is a road"); an object
    pronoun after a preposition followed by a noun ("none of them galaxies"); a verb, then a verb
    in -s, then a determiner ("you wave costs the kitchen")."""
    for k in range(1, len(words)):
        w, prev = words[k], words[k - 1]
        if prev in ("and", "or") and tags[k] == "VBZ" and set(classes(w)) <= {"VBZ"}:
            subject = next((words[m] for m in range(k - 2, -1, -1) if tags[m] in ("SUBJ", "YOU", "IT")
                            or (tags[m] == "NOUN" and m + 1 < k - 1 and tags[m + 1] in ("VBZ", "VBD"))), None)
            if subject in ("i", "you", "we", "they"):
                return f"verb form does not agree {subject!r} ... {prev + ' ' + w!r}"
        if tags[k] == "NOUN" and tags[k - 1] == "NOUN" and w.endswith("s") and prev.endswith("s") \
                and set(classes(w)) == {"NOUN"} and set(classes(prev)) == {"NOUN"} and not prev.endswith("ss") \
                and _unseen(prev, w):
            return f"two plural nouns side by side {prev + ' ' + w!r}"
        if k == len(words) - 1:
            break
        if w in ("this", "that", "it") and words[k + 1] in ("is", "was") and prev not in OPENS_A_CLAUSE \
                and not any(x in OPENS_A_CLAUSE for x in words[max(0, k - 3):k - 1]) \
                and tags[k - 1] in ("PREP", "BE", "VB", "VBZ", "VBD", "AUX", "DET", "POSS", "OBJ", "IT", "YOU",
                                    "SUBJ"):
            return f"a clause glued on {' '.join(words[max(0, k - 2):k + 2])!r}"
        if tags[k] == "OBJ" and tags[k - 1] == "PREP" and tags[k + 1] in ("NOUN", "DET", "POSS") \
                and not _can_be_verb(words[k + 1]):
            return f"a noun after {prev + ' ' + w!r}"
        if tags[k - 1] == "VB" and k >= 2 and tags[k - 2] in ("YOU", "SUBJ") and "VBZ" in classes(w) \
                and tags[k + 1] in ("DET", "POSS"):
            return f"two verbs in one clause {' '.join(words[k - 1:k + 2])!r}"
    return None


def _hanging(words: list[str], tags: list[str]) -> str | None:
    """A joined clause may not end on 'be' or an auxiliary right after its subject ("and i am"), and
    nothing ends on a verb that needs its object ("to deal")."""
    if len(words) >= 3 and words[-2:] == ["the", "same"] and tags[-3] == "PREP":
        return f"'the same' with nothing it is the same as {' '.join(words[-4:])!r}"  # "in the middle of the same"
    if len(words) >= 3 and words[-3] in ("where", "when") and tags[-2] in ("SUBJ", "YOU") \
            and words[-1] in NEEDS_OBJECT:
        return f"ends on a verb that needs its object {' '.join(words[-3:])!r}"  # "remember where i left"
    end = _object_then_verb(words, tags)
    if end:
        return end
    for i in range(1, len(words) - 1):  # "i have to deal and none": the object must follow, not "and"
        if words[i] in NEEDS_COMPLEMENT and words[i - 1] == "to" and tags[i + 1] in ("CONJ", "SUB"):
            return f"a verb without what follows {' '.join(words[i - 1:i + 2])!r}"
    if words[-2:] == ["looks", "like"] and not any(w in ("what", "how") for w in words[:-2]):
        return f"'looks like' without what it looks like {' '.join(words[-4:])!r}"  # "this is what X looks like"
    if words[-1] in NEEDS_COMPLEMENT and len(words) > 1 and (words[-2] == "to" or tags[-2] in ("SUBJ", "YOU", "MODAL")):
        return f"ends on a verb that needs what follows {' '.join(words[-3:])!r}"
    for s, e in _clauses(words, tags):
        if e == len(words) and e - s == 3 and words[s] in ("and", "but", "when", "because", "if", "while") \
                and tags[e - 1] in ("BE", "AUX", "MODAL") and tags[e - 2] in SUBJECT_LIKE:
            return f"unfinished clause {' '.join(words[s:e])!r}"
    return None


def _have_adjective(words: list[str], tags: list[str]) -> str | None:
    """"have" then an adjective that ends the clause, with no object fronted before it ("and you
    have open"; "how many tabs you have open" keeps its object in "how many")."""
    if len(words) >= 2 and words[-2] in ("have", "has", "had") and "ADJ" in classes(words[-1]) \
            and tags[-1] in ("ADJ", "ADV") and not _participle_only(words[-1]) \
            and not any(w in ("many", "much", "what", "which") for w in words[:-2]) \
            and words[-1] not in ("enough", "more", "less", "plenty", "fun", "left"):
        return f"'have' without its object {' '.join(words[-3:])!r}"
    return None


def _participle_only(word: str) -> bool:
    """A past participle ("finished", "done"): "have" + participle is a perfect, not a missing object."""
    return word.endswith("ed") or word in ("done", "gone", "seen", "been", "known", "given", "taken", "eaten")


def _leftover_np(words: list[str], tags: list[str], first: int, k: int) -> bool:
    """The noun before a final past form k has a determiner after the verb at ``first``; for "left"
    it must be a possessive ("the amount of coffee left" is what remains; "my motivation left" went)."""
    dets = [m for m in range(first + 1, k) if tags[m] in ("DET", "POSS")]
    return bool(dets) and (words[k] != "left" or tags[dets[-1]] == "POSS")


FINITE_TAGS = frozenset({"VBZ", "VBD", "BE", "MODAL", "AUX"})


def _object_then_verb(words: list[str], tags: list[str]) -> str | None:
    """A past form ending the caption right after a possessed noun that is a preposition's object,
    in a clause that already has its verb: "this is the face of my motivation left" (the human
    "the exact moment my motivation left" has no preposition before "my motivation")."""
    k = len(words) - 1
    if k < 4 or "VBD" not in classes(words[k]) or tags[k - 1] != "NOUN":
        return None
    j = k - 1
    while j > 0 and tags[j - 1] in ("ADJ", "NOUN"):
        j -= 1
    if j < 2 or tags[j - 1] != "POSS" or tags[j - 2] != "PREP":
        return None
    if any(t in FINITE_TAGS or (t in ("VB", "VBG") and m and tags[m - 1] in ("SUBJ", "YOU", "OBJ"))
           for m, t in enumerate(tags[:j - 2])) or (words[k] == "left" and tags[0] in ("DET", "POSS")):
        # without a verb before, "the clock of my motivation left" reads as "the clock left"; "left"
        # is still what the decoder glues on from "my motivation left" (a person writes "is gone")
        return f"a verb left over at the end {' '.join(words[j - 2:])!r}"
    return None
