"""Interactive content as a person waits for it: caption, make, story, steer, continue; cold and warm.

    python bench/interactive.py [--runs 5] [--base /work/main] [--threads 1] [--only caption1,make]

Two code trees side by side in the same run: this checkout ("new") and ``--base`` (the code before the
change, e.g. a `git worktree` of the base commit). Each is imported through PYTHONPATH in its own
processes, so the two never share a module.

- cold: a fresh `memeloop` process per action, as the CLI runs it (spawn to exit: imports, model
  loads, the work, the store); peak RSS from the child's own rusage.
- warm: one process per tree that builds the App once and calls its use cases as the web admin
  does (App.caption / make / story / continue_thread); one untimed call of each action first, then
  ``--runs`` timed ones; its peak RSS at the end.
- bad: `caption --tone sarcastic` (a tone the model does not know), cold and warm: time to refusal.

Actions: caption1 (1 photo x 3 captions), caption3 (3 photos x 3 captions, the tone cycling through
the model's tones), make (text -> meme), story4 (a story of 4 parts from a photo), steer (one part
after a steering sentence), continue (one more part). Threads for steer/continue are 2-part stories
made beforehand (not timed). Each tree has its own database, migrated and given its threads by its
own code. Per action p50 and max of the runs.
Targets: warm p50 <= 2 s for every action, cold p50 <= 6 s, a bad argument refused in <= 0.5 s.
Wall time is what a person waits; on a shared machine it grows with the load, so each action's median
CPU seconds (``_cpu_s``: the child's user + system time cold, process time warm) is printed beside it.
A run the generator refuses (a GeneratorError: exit 1 with one line on stderr cold, the exception warm,
e.g. "wrote no part unlike the story so far") is counted, not fatal: ``<tree>_<mode>_<action>_refused``
says how many of the runs ended that way (their seconds count in p50/max: the person waited that long
for the refusal); the first refusal's message is printed. Any other failure still stops the bench.
Last line: key=value, ``<tree>_<mode>_<action>_p50_s`` / ``_max_s`` / ``_cpu_s`` / ``_refused``,
``<tree>_cold_peak_rss_mb``, ``<tree>_warm_peak_rss_mb``, ``<tree>_bad_cold_s``, ``<tree>_bad_warm_s``,
``refused_total`` (new tree), ``load_1m``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONFIG = """[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"
[generator]
threads = {threads}
[[accounts]]
name = "demo"
platform = "outbox"
"""
ACTIONS = ("caption1", "caption3", "make", "story4", "steer", "continue")
TONES = ("funny", "informative", "inspirational")
PHOTOS = ("cat", "coffee", "astronaut")
TOPICS = {"cat": "cats", "coffee": "coffee", "astronaut": "space"}  # a story of an unsure reading needs its topic
MAKE_TEXTS = ("when the deploy fails on friday", "me waiting for the coffee machine", "the cat owns the sofa now",
              "looking at the moon instead of working", "my plants after one week of vacation")


def cli_argv(action: str, i: int, photos: list[Path], thread_id: int | None) -> list[str]:
    tone = TONES[i % len(TONES)]
    if action == "caption1":
        return ["caption", str(photos[0]), "--tone", tone, "-n", "3", "--account", "demo", "--seed", str(i)]
    if action == "caption3":
        return ["caption", *map(str, photos), "--tone", tone, "-n", "3", "--account", "demo", "--seed", str(i)]
    if action == "make":
        return ["make", MAKE_TEXTS[i % len(MAKE_TEXTS)], "--account", "demo"]
    if action == "story4":
        photo = photos[i % len(photos)]
        return ["story", str(photo), "--parts", "4", "--tone", tone, "--account", "demo", "--seed", str(i),
                "--topic", TOPICS[photo.stem]]
    if action == "steer":
        return ["thread", "steer", str(thread_id), "then it rained"]
    if action == "continue":
        return ["thread", "continue", str(thread_id)]
    if action == "bad":
        return ["caption", str(photos[0]), "--tone", "sarcastic", "--account", "demo"]
    raise ValueError(action)


class Refused(Exception):
    """A cold run the generator refused: exit 1 with one line on stderr and no traceback."""

    def __init__(self, message: str, seconds: float, rss_mb: float, cpu_s: float):
        super().__init__(message)
        self.seconds, self.rss_mb, self.cpu_s = seconds, rss_mb, cpu_s


def run_child(argv: list[str], env: dict[str, str], *, ok_codes=(0,),
              refusals: bool = False) -> tuple[float, float, str, float]:
    """(seconds spawn to exit, peak RSS MB, stdout, CPU seconds) of one child; exits the bench if it fails
    (``refusals``: an exit 1 with one stderr line and no traceback raises Refused instead).
    The child runs in a folder without code: `python -m` puts its working directory before
    PYTHONPATH, so a checkout there would shadow the tree under test."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=tempfile.gettempdir())
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        if code not in ok_codes:
            text = err.read().decode(errors="replace")
            lines = [line for line in text.splitlines() if line.strip()]
            if refusals and code == 1 and len(lines) == 1 and "Traceback" not in text:
                raise Refused(lines[0], seconds, usage.ru_maxrss / 1024, cpu)
            raise SystemExit(f"{' '.join(argv[2:])} exited {code}: {text[-1500:]}")
        return (seconds, usage.ru_maxrss / 1024, out.read().decode(errors="replace"), cpu)


def tree_env(tree: Path, threads: int) -> dict[str, str]:
    from bot.core.threads import child_env  # this checkout's helper (parent process only)

    return {**child_env(threads), "PYTHONPATH": str(tree)}


def make_threads(config: Path, photos: list[Path], count: int, env: dict[str, str]) -> list[int]:
    """``count`` 2-part stories (with the tree's own code, ``env``, in one warm process) for steer/continue."""
    code = ("import json,sys; from pathlib import Path; from bot.app import build_app; "
            "from bot.config import load_config; app = build_app(load_config(sys.argv[1])); "
            "ids = [app.story(sys.argv[2], parts=2, tone='funny', account='demo', seed=900 + i, topic='cats')"
            ".candidates[0].id "
            "for i in range(int(sys.argv[3]))]; print(json.dumps(ids))")
    _, _, out, _ = run_child([sys.executable, "-c", code, str(config), str(photos[0]), str(count)], env)
    return json.loads(out.strip().splitlines()[-1])


def cold(tree: Path, name: str, config: Path, photos: list[Path], args, threads: dict[str, list[int]]) -> dict:
    env = tree_env(tree, args.threads)
    base = [sys.executable, "-m", "bot", "--config", str(config)]
    out: dict[str, float] = {}
    peak = 0.0
    for action in args.actions:
        times, cpu, refused = [], [], []
        for i in range(args.runs):
            thread_id = threads[action].pop() if action in ("steer", "continue") else None
            try:
                seconds, rss, _, used = run_child(base + cli_argv(action, i, photos, thread_id), env, refusals=True)
            except Refused as exc:
                seconds, rss, used = exc.seconds, exc.rss_mb, exc.cpu_s
                refused.append(str(exc))
            times.append(seconds)
            cpu.append(used)
            peak = max(peak, rss)
        out[f"{name}_cold_{action}_p50_s"] = statistics.median(times)
        out[f"{name}_cold_{action}_max_s"] = max(times)
        out[f"{name}_cold_{action}_cpu_s"] = statistics.median(cpu)
        out[f"{name}_cold_{action}_refused"] = len(refused)
        print(f"{name} cold {action}: " + " ".join(f"{t:.2f}" for t in times)
              + "  cpu " + " ".join(f"{t:.2f}" for t in cpu)
              + (f"  refused {len(refused)}: {refused[0]}" if refused else ""), flush=True)
    bad = [run_child(base + cli_argv("bad", i, photos, None), env, ok_codes=(2,))[0] for i in range(args.runs)]
    out[f"{name}_bad_cold_s"] = statistics.median(bad)
    out[f"{name}_cold_peak_rss_mb"] = peak
    print(f"{name} cold bad tone: " + " ".join(f"{t:.2f}" for t in bad), flush=True)
    return out


def warm(tree: Path, name: str, config: Path, photos: list[Path], args, threads: dict[str, list[int]]) -> dict:
    env = tree_env(tree, args.threads)
    spec = {"config": str(config), "photos": [str(p) for p in photos], "runs": args.runs, "actions": args.actions,
            "threads": {k: threads[k][: args.runs + 1] for k in ("steer", "continue")}}
    for k in ("steer", "continue"):
        del threads[k][: args.runs + 1]
    _, _, out, _ = run_child([sys.executable, __file__, "--warm-child", json.dumps(spec)], env)
    result = json.loads(out.strip().splitlines()[-1])
    figures: dict[str, float] = {}
    for action, times in result["times"].items():
        figures[f"{name}_warm_{action}_p50_s"] = statistics.median(times)
        figures[f"{name}_warm_{action}_max_s"] = max(times)
        figures[f"{name}_warm_{action}_cpu_s"] = statistics.median(result["cpu"][action])
        refused = result.get("refused", {}).get(action, [])
        figures[f"{name}_warm_{action}_refused"] = len(refused)
        print(f"{name} warm {action}: " + " ".join(f"{t:.2f}" for t in times)
              + "  cpu " + " ".join(f"{t:.2f}" for t in result["cpu"][action])
              + (f"  refused {len(refused)}: {refused[0]}" if refused else ""), flush=True)
    figures[f"{name}_bad_warm_s"] = statistics.median(result["bad"])
    figures[f"{name}_warm_peak_rss_mb"] = result["peak_rss_mb"]
    return figures


def warm_child(spec: dict) -> None:
    """In the tree under test (PYTHONPATH): one App, its use cases called as the web admin calls them."""
    import resource

    from bot.app import build_app
    from bot.config import load_config
    from bot.errors import UsageError

    app = build_app(load_config(spec["config"]))
    photos = [Path(p) for p in spec["photos"]]
    threads = {k: list(v) for k, v in spec["threads"].items()}

    def call(action: str, i: int) -> None:
        tone = TONES[i % len(TONES)]
        if action == "caption1":
            app.caption(photos[:1], tone=tone, audience=None, account="demo", n=3, seed=i)
        elif action == "caption3":
            app.caption(photos, tone=tone, audience=None, account="demo", n=3, seed=i)
        elif action == "make":
            app.make(MAKE_TEXTS[i % len(MAKE_TEXTS)], account="demo")
        elif action == "story4":
            photo = photos[i % len(photos)]
            app.story(str(photo), parts=4, tone=tone, account="demo", seed=i, topic=TOPICS[photo.stem])
        elif action in ("steer", "continue"):
            app.continue_thread(threads[action].pop(), actor="bench", parts=1,
                                steer="then it rained" if action == "steer" else None, seed=i)

    from generator import GeneratorError

    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    refused: dict[str, list[str]] = {}
    for action in spec["actions"]:
        try:
            call(action, 99)  # first use: lazy loads happen here, as on a server's first request
        except GeneratorError:
            pass  # the loads happened; a refusal of this untimed call is not counted
        times[action], cpu[action], refused[action] = [], [], []
        for i in range(spec["runs"]):
            started, used = time.perf_counter(), time.process_time()
            try:
                call(action, i)
            except GeneratorError as exc:
                refused[action].append(str(exc).splitlines()[0])
            times[action].append(time.perf_counter() - started)
            cpu[action].append(time.process_time() - used)
    bad = []
    for _ in range(spec["runs"]):
        started = time.perf_counter()
        try:
            app.caption(photos[:1], tone="sarcastic", audience=None, account="demo", n=3)
        except UsageError:
            pass
        bad.append(time.perf_counter() - started)
    app.close()
    print(json.dumps({"times": times, "cpu": cpu, "bad": bad, "refused": refused,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--base-runs", type=int, help="runs of the base tree (default: --runs; the old code is slow)")
    parser.add_argument("--base", type=Path, help="the code before the change (a checkout); omitted: new only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--only", help="comma-separated actions (default: all)")
    parser.add_argument("--modes", default="cold,warm")
    parser.add_argument("--trees", default="new,base", help="which of new,base to measure (base needs --base)")
    parser.add_argument("--warm-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_child:
        warm_child(json.loads(args.warm_child))
        return
    sys.path.insert(0, str(REPO))
    args.actions = [a for a in (args.only.split(",") if args.only else ACTIONS) if a]
    unknown = sorted(set(args.actions) - set(ACTIONS))
    if unknown:
        parser.error(f"--only: unknown {', '.join(unknown)}; use {', '.join(ACTIONS)}")
    modes = [m for m in args.modes.split(",") if m]
    wanted = set(args.trees.split(","))
    trees = ([("new", REPO)] if "new" in wanted else []) + \
        ([("base", args.base.resolve())] if args.base and "base" in wanted else [])
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="memeloop-interactive-") as tmp:
        work = Path(tmp)
        photos = []
        for slug in PHOTOS:
            photos.append(work / f"{slug}.jpg")
            shutil.copy(REPO / "generator" / "meme" / "demo_data" / slug / "image.jpg", photos[-1])
        # each tree its own database, migrated and given its threads by its own code (an older tree
        # refuses a database at a newer schema revision)
        setups: dict[str, tuple[Path, dict[str, list[int]]]] = {}
        for name, tree in trees:
            runs = args.runs if name == "new" or not args.base_runs else args.base_runs
            folder = work / name
            folder.mkdir()
            config = folder / "config.toml"
            config.write_text(CONFIG.format(threads=args.threads), encoding="utf-8")
            env = tree_env(tree, args.threads)
            run_child([sys.executable, "-m", "bot", "--config", str(config), "db", "upgrade"], env)
            per_mode = sum(runs + (1 if m == "warm" else 0) for m in modes)
            need = {a: per_mode if a in args.actions else 0 for a in ("steer", "continue")}
            made = make_threads(config, photos, sum(need.values()), env)
            setups[name] = (config, {"steer": made[: need["steer"]], "continue": made[need["steer"]:]})
            print(f"{name}: {len(made)} 2-part threads made for steer/continue; runs={runs} threads={args.threads}",
                  flush=True)
        for mode in modes:  # alternate trees per mode so load drifts hit both alike
            for name, tree in trees:
                runs = args.runs if name == "new" or not args.base_runs else args.base_runs
                tree_args = argparse.Namespace(**{**vars(args), "runs": runs})
                config, threads = setups[name]
                figures |= (cold if mode == "cold" else warm)(tree, name, config, photos, tree_args, threads)
    new = {k[4:]: v for k, v in figures.items() if k.startswith("new_")}
    warm_p50 = [v for k, v in new.items() if k.startswith("warm_") and k.endswith("_p50_s")]
    cold_p50 = [v for k, v in new.items() if k.startswith("cold_") and k.endswith("_p50_s")]
    if warm_p50:
        figures["new_warm_worst_p50_s"] = max(warm_p50)
    if cold_p50:
        figures["new_cold_worst_p50_s"] = max(cold_p50)
    figures["refused_total"] = sum(v for k, v in new.items() if k.endswith("_refused"))
    print("targets: warm p50 <= 2 s every action, cold p50 <= 6 s, bad argument <= 0.5 s")
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs (wall times grow with it; *_cpu_s less so)")
    figures["load_1m"] = load
    print(" ".join(f"{k}={v:.2f}" if k.endswith("_s") or k == "load_1m" else f"{k}={v:.0f}"
                   for k, v in figures.items()))


if __name__ == "__main__":
    main()
