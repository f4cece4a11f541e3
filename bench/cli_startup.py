"""Cold start of the admin CLI: wall time of `memeloop queue list --json` on a fresh database,
measured side by side with a bare `python -c pass` and with a process that only imports SQLAlchemy's
ORM, pydantic and click (what the command cost before its read-only fast path: the old floor).
`queue list` on SQLite reads through sqlite3 and never loads the ORM or pydantic (orm_loaded counts
sqlalchemy.orm / pydantic / ML frameworks in its sys.modules: 0 expected).

Last line: `queue_list_p50_s=<x> queue_list_max_s=<y> deps_floor_p50_s=<f> python_p50_s=<z>
vs_floor=<x/f> orm_loaded=<n> heavy_imports=<n>`.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 9


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(Path(sys.executable).with_name("memeloop")), "init", tmp], check=True, capture_output=True)
        config = str(Path(tmp) / "config.toml")
        # the console script users run (next to this interpreter), not `python -m`
        memeloop = str(Path(sys.executable).with_name("memeloop"))
        cli = [memeloop, "--config", config, "queue", "list", "--json"]
        _time(cli)  # warm the .pyc cache once; later runs are what a user sees
        cli_times, py_times, floor_times = [], [], []
        for _ in range(RUNS):
            cli_times.append(_time(cli))
            py_times.append(_time([sys.executable, "-c", "pass"]))
            floor_times.append(_time([sys.executable, "-c", "import sqlalchemy.orm, pydantic, click"]))
        probe = subprocess.run(
            [sys.executable, "-c",
             ("import sys\nfrom bot.cli import main\n"
              f"main(['--config', {config!r}, 'queue', 'list', '--json'])\n"
              "print(sum(m in sys.modules for m in ('tensorflow','keras','torch','transformers')),"
              " sum(m in sys.modules for m in ('sqlalchemy.orm', 'pydantic')))")],
            check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        heavy, orm = probe.split()
    p50, worst = statistics.median(cli_times), max(cli_times)
    floor = statistics.median(floor_times)
    print(f"memeloop queue list --json: p50 {p50:.3f}s max {worst:.3f}s over {RUNS} runs "
          f"(bare python p50 {statistics.median(py_times):.3f}s, importing sqlalchemy.orm + pydantic + click "
          f"alone p50 {floor:.3f}s)")
    print(f"queue_list_p50_s={p50:.3f} queue_list_max_s={worst:.3f} deps_floor_p50_s={floor:.3f} "
          f"python_p50_s={statistics.median(py_times):.3f} vs_floor={p50 / floor:.2f} orm_loaded={orm} "
          f"heavy_imports={heavy}")


if __name__ == "__main__":
    main()
