"""A reading harness for the caption writer: what its captions in the review queue say, fixed seeds.

    PYTHONPATH=. python bench/writer_reading.py [--out bench/data/writer_reading.tsv] [--labels FILE]

A fresh bot (one outbox account "demo", no brand profile, no --audience) runs, as a new user would:
  photo   `caption` of chelsea, coffee, astronaut, rocket (scikit-image), 4 each, seeds 61, 62, 63
  post    three `generate --generator post` runs (GAN image + written caption), count 4, seeds 71..73
  story   two 4-part stories (chelsea, coffee), seeds 81, 82
(``--seed-offset`` adds to every seed: the held-out runs use 100).
Every queued writer caption (a story counts as one thread, read as a whole) is written to ``--out``
(tab-separated: generator, what the photo was read as, status, text; filtered drafts too, with
their reason), so it can be labelled by hand. With ``--labels`` (a TSV of label<TAB>text, labels
``voice`` (a business "we" on an account without a promotional brand profile), ``garbled``,
``off_topic``, ``stock`` (a line that fits any photo, a thread of unrelated lines) or ``ok``) the
queued captions are counted per class; an unlabelled one is counted as ``unlabelled``. With
``--catch TSV`` (an earlier ``--out``, e.g. bench/data/writer_reading_before.tsv) and ``--labels``,
the new checks are run on that run's queued captions: the share of each labelled class they catch
(voice: generator.gates.voice; garbled: the fluency gate; off_topic: generator.gates.offtopic) and
of ``ok`` ones they refuse. The checks' false positives on the shipped human corpora are printed too
(the writer corpus's general-audience captions for voice; both corpora for garble; the writer
corpus's captions on their own topic for off_topic; the meme corpus for voice, where the gate does
not apply: meme captions are not written by the writer).
Last line: key=value.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIG = """[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"
[generator]
threads = 1
[[accounts]]
name = "demo"
platform = "outbox"
generate = { generator = "post", every = "12h", count = 4 }
"""
PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg")
CLASSES = ("voice", "garbled", "off_topic", "stock", "ok")


def run_all(app, offset: int = 0) -> None:
    from bot.service.pipeline import GenerateRequest

    photos = Path(__import__("skimage.data", fromlist=["x"]).__file__).parent
    for seed in (61, 62, 63):
        app.caption([photos / p for p in PHOTOS], tone=None, audience=None, account="demo", n=4, seed=seed + offset)
    for seed in (71, 72, 73):
        app.store_generation(GenerateRequest(account="demo", generator="post", count=4, seed=seed + offset))
    app.story(str(photos / "chelsea.png"), parts=4, account="demo", seed=81 + offset)
    app.story(str(photos / "coffee.png"), parts=4, account="demo", seed=82 + offset)


def one_line(text: str) -> str:
    return " / ".join(line for line in text.split("\n") if line.strip())


def read_labels(path: Path) -> dict[str, str]:
    labels = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            labels[text.strip()] = label.strip()
    return labels


def catch_rates(rows_path: Path, labels: dict[str, str]) -> dict[str, object]:
    """The share of each labelled class of ``rows_path``'s queued captions the new checks catch."""
    from generator.gates.fluency import check_fluency
    from generator.gates.offtopic import off_topic
    from generator.gates.voice import business_voice

    checks = {"voice": lambda text, topic: business_voice(text),
              "garbled": lambda text, topic: check_fluency(text),
              "off_topic": lambda text, topic: off_topic(text, topic, topic)}
    caught: Counter = Counter()
    total: Counter = Counter()
    ok_refused = 0
    for line in rows_path.read_text(encoding="utf-8").splitlines():
        gen, topic, status, _, text = line.split("\t")
        label = labels.get(text.strip())
        if status != "pending" or label is None:
            continue
        text = text.replace(" / ", "\n")
        total[label] += 1
        if label in checks and checks[label](text, topic):
            caught[label] += 1
        if label == "ok" and any(check(text, topic) for check in checks.values()):
            ok_refused += 1
    out: dict[str, object] = {f"catch_{c}": f"{caught[c]}/{total[c]}" for c in checks}
    out["ok_refused"] = f"{ok_refused}/{total['ok']}"
    return out


def stock_figures(rows: list, prefix: str = "") -> dict[str, object]:
    """Of the queued rows (generator, read_as, status, reason, text): how many carry a filler line (the
    page and its makers: generator.stock_lines), open with a colour-list line (an unsure photo's
    palette: generator.photo_topics) or disown the photo's topic ("not a coffee person": issue 23)."""
    import re

    from generator.gates.offtopic import disowns
    from generator.photo_topics import _COLOUR_LINES, _ONE_COLOUR_LINES
    from generator.stock_lines import filler_sentences

    def pattern(template: str) -> str:
        return re.escape(template).replace(r"\{", "{").replace(r"\}", "}").format(
            a="[a-z]+", b="[a-z]+", c="[a-z]+", A="[A-Z][a-z]*")

    palette = re.compile("^(?:" + "|".join(pattern(t) for t in (*_COLOUR_LINES, *_ONE_COLOUR_LINES)) + ")")
    queued = [r for r in rows if r[2] == "pending"]
    return {f"{prefix}filler": sum(bool(filler_sentences(r[4].replace(" / ", "\n"))) for r in queued),
            f"{prefix}palette": sum(bool(palette.match(r[4])) for r in queued),
            f"{prefix}disowns": sum(any(disowns(r[4], t) for t in ("coffee", "cats", "space")) for r in queued)}


def corpus_false_positives() -> dict[str, object]:
    import json

    from generator.gates.garble import find_garble
    from generator.gates.offtopic import off_topic
    from generator.gates.voice import business_voice
    from generator.textgen.neutral import sentences

    def rows(path: str) -> list[dict]:
        return [json.loads(x) for x in (ROOT / path).read_text(encoding="utf-8").splitlines() if x.strip()]

    writer, meme = rows("generator/textgen/corpus/captions.jsonl"), rows("generator/meme/demo_data/captions.jsonl")
    general = {s for r in writer if r["audience"] == "general" for s in sentences(r["text"])}
    texts = [r["text"] for r in writer + meme]
    return {"voice_fp_writer_general": f"{sum(bool(business_voice(s)) for s in general)}/{len(general)}",
            "voice_fp_meme": f"{sum(bool(business_voice(r['text'])) for r in meme)}/{len(meme)}",
            "garble_fp": f"{sum(bool(find_garble(t)) for t in texts)}/{len(texts)}",
            "off_topic_fp": f"{sum(bool(off_topic(r['text'], r['topic'])) for r in writer)}/{len(writer)}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="where to write the captions (TSV)")
    parser.add_argument("--labels", type=Path, default=None, help="hand labels: label<TAB>text per line")
    parser.add_argument("--seed-offset", type=int, default=0, help="added to every seed (held-out runs: 100)")
    parser.add_argument("--catch", type=Path, default=None, help="an earlier --out: the checks' catch rates on it")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sqlalchemy import select

    from bot.app import build_app
    from bot.config import load_config
    from feedback.models import Candidate

    with tempfile.TemporaryDirectory() as tmp:
        config_path = Path(tmp) / "config.toml"
        config_path.write_text(CONFIG, encoding="utf-8")
        app = build_app(load_config(config_path))
        run_all(app, args.seed_offset)
        with app.tx() as session:
            rows = [(r.generator, r.read_as or (r.params or {}).get("topic") or "", r.status, r.status_reason or "",
                     one_line(r.text)) for r in session.execute(select(Candidate).order_by(Candidate.id)).scalars()]
        app.close()
    rows = [r for r in rows if r[0] in ("photo", "post", "story")]
    if args.out is not None:
        args.out.write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    queued = [r for r in rows if r[2] == "pending"]
    filtered = Counter(r[3].split(":", 1)[0] for r in rows if r[2] != "pending")
    for gen, read_as, _, _, text in queued:
        print(f"{gen:5} {read_as[:14]:14} {text[:220]}")
    figures: dict[str, object] = {"queued": len(queued), **{f"queued_{g}": sum(r[0] == g for r in queued)
                                                           for g in ("photo", "post", "story")}}
    figures |= {f"filtered_{k}": v for k, v in sorted(filtered.items())}
    if args.labels is not None:
        labels = read_labels(args.labels)
        counts = Counter(labels.get(r[4].strip(), "unlabelled") for r in queued)
        for c in (*CLASSES, "unlabelled"):
            figures[c] = counts[c]
            figures[f"{c}_share"] = round(counts[c] / max(1, len(queued)), 3)
    figures |= stock_figures(rows)
    if args.catch is not None:  # the same counts on the earlier run
        figures |= stock_figures([line.split("\t") for line in args.catch.read_text(encoding="utf-8").splitlines()],
                                 "before_")
    if args.catch is not None and args.labels is not None:
        figures |= catch_rates(args.catch, read_labels(args.labels))
    figures |= corpus_false_positives()
    print("\n" + " ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
