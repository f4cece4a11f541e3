"""Queued meme captions to read by hand: fresh bots, the demo account, fixed seeds.

    PYTHONPATH=. python bench/meme_reading.py [--bots 4] [--count 6] [--labels FILE] [--bundle DIR]

Each bot is made as a new user makes one (`memeloop init` into a temporary folder: the example
config, its "demo" outbox account) and runs `generate --generator meme --count N` twice (seeds
1000*b + 1 and 1000*b + 2 for bot b), as two runs a few hours apart would. Every queued (pending)
meme caption is printed once per line as ``<label>\t<text>\tx<times queued>``: the label from
``--labels`` (a file of such lines, ``#`` comments allowed, the count optional: ok / nonsense / broken,
written by a person reading the captions) or ``?`` when it has none, so the output pasted into the file
and labelled is the next run's key; ``--rescore OUTPUT`` counts a saved reading again with the labels.
With labels, the shares of nonsense and broken among the queued captions are printed (each queued
caption counted, a repeat too). ``--bundle``: a meme bundle to generate with instead of the shipped
one (``[generator.meme] bundle``). Last line: key=value.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LABELS = ("ok", "nonsense", "broken")


def read_labels(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    labels: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, _, rest = line.partition("\t")
        text = rest.split("\t", 1)[0]
        if label not in LABELS or not text:
            sys.exit(f"{path}:{n}: want '<{'|'.join(LABELS)}>\\t<caption>', got {line!r}")
        labels[text] = label
    return labels


def queued_captions(bots: int, count: int, bundle: Path | None) -> tuple[list[str], int]:
    """The queued meme captions of ``bots`` fresh bots, two runs each, and how many were asked for."""
    from click.testing import CliRunner
    from sqlalchemy import select

    from bot.app import build_app
    from bot.cli.commands.setup import init_cmd
    from bot.config import load_config
    from bot.service.pipeline import GenerateRequest
    from feedback.models import Candidate

    texts: list[str] = []
    asked = 0
    for b in range(bots):
        with tempfile.TemporaryDirectory(prefix="meme-reading-") as tmp:
            result = CliRunner().invoke(init_cmd, [tmp])
            if result.exit_code != 0:
                sys.exit(f"memeloop init {tmp}: {result.output}")
            config = Path(tmp) / "config.toml"
            if bundle is not None:
                text, n = re.subn(r'(\[generator\.meme\][^\[]*?\nbundle = )""', rf'\g<1>"{bundle.resolve()}"',
                                  config.read_text(encoding="utf-8"), count=1)
                if n != 1:
                    sys.exit(f"{config}: no [generator.meme] bundle = \"\" line to point at {bundle}")
                config.write_text(text, encoding="utf-8")
            app = build_app(load_config(config))
            try:
                for run in (1, 2):
                    app.store_generation(GenerateRequest(account="demo", generator="meme", count=count,
                                                         seed=1000 * b + run))
                    asked += count
                with app.tx() as session:
                    texts += [c.text for c in session.execute(
                        select(Candidate).where(Candidate.generator == "meme", Candidate.status == "pending")
                        .order_by(Candidate.id)).scalars()]
            finally:
                app.close()
    return texts, asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bots", type=int, default=4, help="fresh bots (two runs each)")
    parser.add_argument("--count", type=int, default=6, help="`generate --count` of each run")
    parser.add_argument("--labels", type=Path, help="labelled captions: '<ok|nonsense|broken>\\t<caption>' lines")
    parser.add_argument("--bundle", type=Path, help="meme bundle to generate with (default: the shipped one)")
    parser.add_argument("--rescore", type=Path, help="count the labels of a reading this script printed before "
                        "(its output file) instead of generating")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    labels = read_labels(args.labels)
    started = time.perf_counter()
    if args.rescore is not None:  # a reading printed before: its captions, each as often as it was queued
        texts = [text for line in args.rescore.read_text(encoding="utf-8").splitlines() if line.count("\t") == 2
                 for _, text, times in (line.split("\t"),) for _ in range(int(times.lstrip("x")))]
        asked = len(texts)
    else:
        texts, asked = queued_captions(args.bots, args.count, args.bundle)
    seconds = time.perf_counter() - started
    times = Counter(texts)
    for t in times:
        print(f"{labels.get(t, '?')}\t{t}\tx{times[t]}")
    seen = set(times)
    tally = Counter(labels.get(t, "?") for t in texts)
    figures: dict[str, object] = {"asked": asked, "queued": len(texts), "short_of_asked": max(0, asked - len(texts)),
                                  "distinct": len(seen), "unlabelled": tally["?"]}
    judged = len(texts) - tally["?"]
    for label in LABELS:
        figures[label] = tally[label]
        figures[f"{label}_share"] = round(tally[label] / judged, 3) if judged else "nan"
    figures["run_s"] = round(seconds, 1)
    print("\n" + " ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
