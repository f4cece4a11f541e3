"""The caption writer: loads a GPT-2 bundle and samples one clean caption per request."""
from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from generator import BundleError, GeneratorError
from generator.hashing import files_digest
from generator.lexicon import unknown_words
from generator.safety import find_unsafe
from generator.stock_lines import without_stock_lines
from generator.textgen.bias import OVERSAMPLE, reweigh
from generator.textgen.corpus_io import prompt
from generator.textgen.postprocess import clean_caption

if TYPE_CHECKING:
    from generator.meme.adapt import Adaptation
    from generator.textgen.bias import TokenBias

log = logging.getLogger(__name__)

FORMAT = "memeloop-textgen/1"
META_FILE = "memeloop.json"
DEMO_BUNDLE = Path(__file__).resolve().parent / "demo_bundle"
MAX_ATTEMPTS = 4


def bundle_version(path: Path) -> str:
    return files_digest(sorted(p for p in path.iterdir() if p.is_file()))


class Writer:
    """Samples captions after a `<tone=..> <audience=..> <topic=..>` prefix. Build with `load_writer`."""

    def __init__(self, path: Path, *, max_new_tokens: int = 64, hashtag_cap: int = 5, max_chars: int = 2200,
                 temperature: float = 0.9, top_p: float = 0.95, reference: bool = False):
        meta_path = path / META_FILE
        if not meta_path.is_file():
            raise BundleError(f"caption bundle {path} has no {META_FILE}")
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT:
            raise BundleError(f"{meta_path} has format {meta.get('format')!r}; expected {FORMAT!r}")
        from generator.textgen.fast import supported

        self.tones: tuple[str, ...] = tuple(meta["tones"])
        self.audiences: tuple[str, ...] = tuple(meta["audiences"])
        self.topics: tuple[str, ...] = tuple(meta.get("topics") or ("general",))
        # "plain": a pretrained GPT-2 that never saw our control tokens is asked in words instead
        self.plain_prompt = meta.get("prompt") == "plain"
        # a writer fine-tuned on a user's captions writes in that voice unless asked for another tone
        default_tone = meta.get("default_tone")
        self.default_tone: str | None = default_tone if default_tone in self.tones else None
        self.version: str = bundle_version(path)
        why_not = "reference decoder asked for" if reference else supported(path)
        if why_not is None:
            from generator.textgen.fast import FastGPT2

            self._fast: FastGPT2 | None = FastGPT2(path)
            self._torch = self._fast.torch
            self.n_positions = self._fast.n_positions
            self.eos_id = _eos_id(path, self._fast.tokenizer)
        else:
            log.debug("writer_decoder=transformers path=%s reason=%s", path, why_not)
            self._fast = None
            self._load_reference(path)
        self.max_new_tokens = min(max_new_tokens, self.n_positions - 24)
        self.hashtag_cap, self.max_chars = hashtag_cap, max_chars
        self.temperature, self.top_p = temperature, top_p
        self._adaptation: Adaptation | None = None
        self._tilt: dict[str, float] = {}  # per word, the offset followed (bias.writer_bias)
        self._bias: TokenBias | None = None

    @property
    def adaptation(self) -> Adaptation | None:
        return self._adaptation

    def adapt(self, adaptation: Adaptation | None) -> None:
        """Write with ``adaptation``'s word offsets from now on (generator/textgen/bias.py writer_bias:
        the posterior means of the ranker's word effects; None: as trained)."""
        from generator.textgen.bias import TokenBias, writer_bias

        self._adaptation = adaptation
        self._tilt = writer_bias(adaptation) if adaptation is not None else {}
        encode = self._fast.encode if self._fast is not None else (
            lambda text: self.tokenizer(text, add_special_tokens=False)["input_ids"])
        bias = TokenBias(self._tilt, encode) if self._tilt else None
        self._bias = bias if bias else None

    def _load_reference(self, path: Path) -> None:
        """transformers' GPT2LMHeadModel and fast tokenizer (the reference the fast path is pinned to)."""
        os.environ["HF_HUB_OFFLINE"] = "1"  # local bundle: never reach for the hub
        import torch
        from transformers import AutoTokenizer, GPT2LMHeadModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = GPT2LMHeadModel.from_pretrained(path).eval()
        self._torch = torch
        self.n_positions = int(self.model.config.n_positions)
        self.eos_id = int(self.tokenizer.eos_token_id)

    def _check(self, name: str, value: str | None, known: tuple[str, ...]) -> None:
        if value is not None and value not in known:
            raise GeneratorError(f"unknown {name} {value!r}; this caption model knows {', '.join(known)}")

    def _sample(self, text_prompt: str, n: int, seed: int, context: str = "") -> list[str]:
        if self._fast is not None:
            ids = self._fast.encode(text_prompt)
            if context.strip():  # the most recent context tokens that fit before the new ones
                room = self.n_positions - self.max_new_tokens - len(ids)
                if room > 0:
                    ids += self._fast.encode(" " + " ".join(context.split()))[-room:]
            return self._fast.sample(ids, n, seed=seed, max_new_tokens=self.max_new_tokens,
                                     temperature=self.temperature, top_p=self.top_p, eos=self.eos_id,
                                     bias=self._bias)
        torch = self._torch
        ids = self.tokenizer(text_prompt, return_tensors="pt")["input_ids"]
        if context.strip():
            room = self.n_positions - self.max_new_tokens - ids.shape[1]
            ctx = self.tokenizer(" " + " ".join(context.split()), return_tensors="pt")["input_ids"]
            if room > 0:
                ids = torch.cat([ids, ctx[:, -room:]], dim=1)
        torch.manual_seed(seed)
        extra: dict[str, Any] = {}
        if self._bias is not None:
            from transformers import LogitsProcessorList

            from generator.textgen.bias import processor

            extra["logits_processor"] = LogitsProcessorList([processor(self._bias)])
        with torch.no_grad():
            out = self.model.generate(ids, do_sample=True, temperature=self.temperature, top_p=self.top_p,
                                      top_k=0, max_new_tokens=self.max_new_tokens, num_return_sequences=n,
                                      eos_token_id=self.eos_id, pad_token_id=self.eos_id, **extra)
        return self.tokenizer.batch_decode(out[:, ids.shape[1]:], skip_special_tokens=True)

    @staticmethod
    def _in_voice(caption: str, audience: str, topic: str) -> str:
        """``caption`` without the sentences the audience and topic asked for would not have: a business's
        "we" or a line about the page and its makers (generator.stock_lines filler) outside the promotional audience (the corpus's promotional lines leak into the general
        one: generator.gates.voice) and, for a photo topic, words of another photo topic
        (generator.gates.offtopic). The pipeline's gates refuse what is left of either."""
        from generator.gates.offtopic import WORDS, disowns, off_topic
        from generator.gates.voice import without_business_voice
        from generator.stock_lines import without_filler_lines
        from generator.textgen.neutral import drop_sentences, sentences

        if not sentences(caption):  # hashtags only (a story's continuation may be): nothing to judge
            return caption
        if audience != "promotional":
            # the promotional audience's lines about the page and its makers (generator.stock_lines filler)
            caption = without_business_voice(without_filler_lines(caption)) if caption else caption
        if topic in WORDS and caption:
            caption = drop_sentences(caption, lambda s: off_topic(s, topic) is not None
                                     or disowns(s, topic) is not None)
        return caption

    def write_after(self, context: str, n: int, **options) -> list[str]:
        """n continuations of ``context`` (a story so far): ``write`` with a context."""
        return self.write(n, context=context, **options)

    def write(self, n: int, tone: str | None = None, audience: str | None = None, seed: int | None = None,
              topic: str | None = None, context: str = "") -> list[str]:
        """n captions; tone/topic None = chosen at random (seeded), audience None = "general"; unsafe
        ones are resampled. Stock lines (generator.stock_lines: "Tag a friend who needs this.") are
        left out of every caption; one with nothing else to say is resampled (a continuation of
        ``context`` keeps them: generator.story drops them sentence by sentence). A caption with a
        word that is no word (generator.lexicon) is handed out only when nothing else is left.
        ``context``: text the captions continue from (after the control prefix; its tail is kept)."""
        if n <= 0:
            return []
        self._check("tone", tone, self.tones)
        self._check("audience", audience, self.audiences)
        seed = secrets.randbits(63) if seed is None else seed
        rng = np.random.default_rng(seed)
        tone = tone or self.default_tone or str(rng.choice(self.tones))
        audience = audience or ("general" if "general" in self.audiences else self.audiences[0])  # never random
        topic = topic or str(rng.choice(self.topics))
        text_prompt = plain_prompt(tone, audience, topic) if self.plain_prompt else prompt(tone, audience, topic)
        captions: list[str] = []
        spare: list[str] = []  # usable, but opening with a line an earlier caption opened with
        # usable, but with a word that is no word (a splice of two lines: "I moved cre my grgst"); a
        # writer fine-tuned on a user's captions may know names the word list does not: last resort
        odd: list[str] = []
        bias = self._tilt or None
        for attempt in range(MAX_ATTEMPTS):
            want = max(n - len(captions), 1) * (1 + attempt)
            usable: list[str] = []
            for raw in self._sample(text_prompt, want * (OVERSAMPLE if bias else 1), seed + attempt, context):
                if self.plain_prompt:  # the caption is the quoted line the prompt opened
                    raw = raw.split('"')[0].split("\n")[0]
                caption = clean_caption(raw, hashtag_cap=self.hashtag_cap, max_chars=self.max_chars)
                if not context:  # a story's continuation is chosen sentence by sentence (generator.story)
                    # the corpus's calls to action and filler lines are the brand's to give, not the model's
                    caption = without_stock_lines(caption)
                caption = self._in_voice(caption, audience, topic)
                if caption and not find_unsafe(caption):
                    (odd if unknown_words(caption) else usable).append(caption)
            if bias:  # the adaptation's preference at the caption level (generator/textgen/bias.py)
                usable = reweigh(usable, n - len(captions), bias, seed + attempt)
            for caption in usable:
                if len(captions) >= n:
                    break
                if _opening(caption) in {_opening(c) for c in captions}:
                    spare.append(caption)  # alternatives that open alike read as one caption twice
                else:
                    captions.append(caption)
            if len(captions) == n:
                return captions
        captions += spare[:n - len(captions)]
        captions += odd[:n - len(captions)]
        if len(captions) == n:
            return captions
        raise GeneratorError(f"caption model {self.version} gave {len(captions)} usable captions of {n} "
                             f"after {MAX_ATTEMPTS} attempts (tone={tone}, audience={audience})")


def _opening(caption: str) -> str:
    """A caption's first sentence, case-folded: what a reader tells alternatives apart by."""
    import re

    first = re.split(r"(?<=[.!?])\s|\n", caption.strip(), maxsplit=1)[0]
    return " ".join(first.split()).casefold()


def plain_prompt(tone: str, audience: str, topic: str) -> str:
    """What a pretrained GPT-2 continues with a caption: the request in words, ending in an open quote."""
    kind = "promotional " if audience == "promotional" else ""
    return f"A {tone} {kind}social media caption about {' '.join(topic.split())}: \""


def _eos_id(path: Path, tokenizer) -> int:
    """The end-of-text id the bundle's tokenizer_config names (GPT-2's <|endoftext|> by default)."""
    try:
        eos = json.loads((path / "tokenizer_config.json").read_text()).get("eos_token") or "<|endoftext|>"
    except (OSError, json.JSONDecodeError):
        eos = "<|endoftext|>"
    token = eos.get("content") if isinstance(eos, dict) else eos
    found = tokenizer.token_to_id(str(token))
    if found is None:
        raise BundleError(f"caption bundle {path}: its tokenizer has no end-of-text token {token!r}")
    return int(found)


def load_writer(path: str | Path | None = None, **options) -> Writer:
    """Load a caption bundle; None loads the demo bundle shipped in generator/textgen/demo_bundle."""
    folder = DEMO_BUNDLE if path is None else Path(path)
    if not folder.is_dir():
        raise BundleError(f"caption bundle {folder} does not exist or is not a folder")
    writer = Writer(folder, **options)
    log.info("writer_loaded path=%s version=%s", folder, writer.version)
    return writer
