"""The service commands: generate (one generator run), run (the daemon), status, demo."""
from __future__ import annotations

import json
import secrets
from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.types import DbId, Seed
from bot.core.kinds import SCHEDULED


@click.command("generate")
@click.option("--account", required=True, help="Account (from the config) the candidates are for.")
@click.option("--generator", "generator", type=click.Choice(SCHEDULED),
              help="Generator (default: the account's first generate schedule).")
@click.option("--count", type=click.IntRange(1, 200), help="Candidates to queue (default: from the schedule).")
@click.option("--tone", help="Tone for the post writer (e.g. funny).")
@click.option("--audience", help="Audience for the post writer (e.g. general).")
@click.option("--seed", type=Seed, help="Seed (recorded; the same seed and models regenerate the same run).")
@click.option("--generation-id", type=DbId, hidden=True, help="Generations row made by the daemon.")
@click.option("--now", "now_iso", hidden=True, help="Pretend it is this ISO time (the demo's simulated clock).")
@click.option("--parent-pid", type=int, hidden=True, help="Exit when this process (the daemon) is gone.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@config_option
@pass_state
def generate(state: CliState, account: str, generator: str | None, count: int | None, tone: str | None,
             audience: str | None, seed: int | None, generation_id: int | None, now_iso: str | None,
             parent_pid: int | None, as_json: bool) -> None:
    """Make candidates now: load the models, generate, render, filter, rank, store, exit.

    The daemon runs exactly this as a child process on each account's generate schedule.

    Example: memeloop --config demo-data/config.toml generate --account demo --generator meme --count 4
    """
    from bot.service.pipeline import GenerateRequest

    if parent_pid is not None:
        _watch_parent(parent_pid)
    app = state.app()
    if now_iso:
        from datetime import UTC, datetime

        try:
            frozen = datetime.fromisoformat(now_iso).astimezone(UTC)
        except ValueError:
            raise click.BadParameter(f"{now_iso!r} is not an ISO time", param_hint="--now") from None
        app.clock = lambda: frozen
    plan = app.config.account(account).schedules[0]
    req = GenerateRequest(account=account, generator=generator or plan.generator, count=count or plan.count,
                          seed=seed if seed is not None else secrets.randbits(63), tone=tone or plan.tone,
                          audience=audience or plan.audience, generation_id=generation_id)
    result = app.store_generation(req)
    short = app.generation_shortfall(result.generation_id, req.count)
    if as_json:  # a script sees why as well as how many ("shortfall": null when it queued them all)
        click.echo(json.dumps({**result.__dict__, "asked": req.count, "shortfall": short}, default=str))
        return
    click.echo(f"generation {result.generation_id} ({req.generator}, model {result.model_version}): "
               f"stored {result.stored}, pending {result.pending}, filtered {result.filtered}, "
               f"duplicates {result.duplicates} in {result.timings.get('total_s', 0):.1f}s")
    if short:
        click.echo(short)


def _watch_parent(parent_pid: int) -> None:
    """A generate child lives only as long as the daemon that started it: when the daemon is gone
    (killed, crashed: this process is re-parented), the child leaves at once, storing nothing."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(3)

    if os.getppid() != parent_pid:
        raise click.ClickException(f"the daemon (pid {parent_pid}) that asked for this run is gone")
    threading.Thread(target=watch, name="memeloop-parent-watch", daemon=True).start()


@click.command("run")
@click.option("--once", is_flag=True, help="Reconcile, sweep missed slots, publish and poll what is due, then exit.")
@click.option("--web", "web_port", type=click.IntRange(1, 65535), is_flag=False, flag_value=8080, default=None,
              help="Also serve the web admin on 127.0.0.1:PORT (default 8080), stopped with the daemon.")
@config_option
@pass_state
def run(state: CliState, once: bool, web_port: int | None) -> None:
    """Run the service: scheduled generate / publish / poll / reconcile / prune jobs until SIGTERM.

    Example: memeloop --config config.toml run --once
    """
    from bot.core.logs import configure_logging

    config = state.config()
    if not once:
        configure_logging(level=config.logging.level, file=config.logging.file)
    app = state.app()
    try:
        if once:
            from bot.runtime.daemon import run_once

            summary = run_once(app)
            pub = summary.published
            click.echo(f"reconciled={summary.reconciled} swept={summary.swept} published={pub.published} "
                       f"retried={pub.retried} failed={pub.failed} unconfirmed={pub.unconfirmed} "
                       f"snapshots={summary.polled}")
            return
        from bot.runtime.daemon import Daemon

        daemon = Daemon(app)
        web = _start_web(app, web_port) if web_port else None
        try:
            code = daemon.run()
        finally:
            if web is not None:
                web.stop()
        if daemon.database_gone:
            click.echo(f"memeloop: error: {daemon.database_gone} while the daemon ran: it stopped instead of "
                       "writing where nobody reads. Put the database back where storage.url says and start again",
                       err=True)
        elif code:
            click.echo(f"stopped with a publish in flight after {daemon.stop_grace.total_seconds():g} s: released "
                       "to reconcile, which settles it at the next start (exit 3)", err=True)
        if not daemon.wait_for_jobs(daemon.stop_grace / 4):
            # a job that ignores the stop (a platform call with no answer) must not hold the process
            import logging
            import os

            logging.shutdown()
            os._exit(code)
        if code:
            raise click.exceptions.Exit(code)
    finally:
        app.close()


def _start_web(app, port: int):
    import sys

    from bot.web.serve import WebServer, token_file

    web = WebServer(app, port=port)
    for line in web.banner(terminal=sys.stdout.isatty(), token_file=token_file(app)):
        click.echo(line)
    web.start()
    return web


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option("--healthcheck", is_flag=True, help="One line; exit 0 when the heartbeat is fresh, else 1.")
@config_option
@pass_state
def status(state: CliState, as_json: bool, healthcheck: bool) -> None:
    """Is the daemon alive, when does each job run next, what is queued. Exits 1 when no daemon has
    beaten its heart recently (use it as a Docker HEALTHCHECK).

    Example: memeloop --config config.toml status --json
    """
    from bot.runtime.heartbeat import status_report

    report = status_report(state.app())
    if healthcheck:
        beats = sorted(report["daemons"], key=lambda d: d["age_s"])
        click.echo(f"{'healthy' if report['alive'] else 'unhealthy'}: " + (
            f"{beats[0]['process']} last beat {beats[0]['age_s']}s ago" if beats else "no daemon heartbeat"))
    elif as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        _render_status(report)
    if not report["alive"]:
        # an error (exit 1), not ctx.exit: bot.cli.main drops the return code of standalone_mode=False
        raise click.ClickException("no fresh daemon heartbeat")


def _render_status(report: dict) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if report["alive"]:
        d = next(x for x in report["daemons"] if not x["stale"])
        console.print(f"[green]daemon alive[/green]: {d['process']} pid {d['pid']}, last beat {d['age_s']}s ago")
    elif report["daemons"]:
        d = report["daemons"][0]
        console.print(f"[red]daemon heartbeat is stale[/red]: {d['process']} last beat {d['age_s']}s ago "
                      f"(> {report['stale_after_s']}s)")
    else:
        console.print("[red]no daemon running[/red] (no heartbeat; start it with `memeloop run`)")
    if len(report["daemons"]) > 1 or report.get("leader"):
        console.print(f"leader (runs the periodic jobs): {report.get('leader') or '[red]none[/red]'}",
                      soft_wrap=True)
        for d in report["daemons"]:
            console.print(f"  {d['process']} {d['role']} pid {d['pid']}, last beat {d['age_s']}s ago"
                          f"{' [red](stale)[/red]' if d['stale'] else ''}", soft_wrap=True)
    table = Table(title="jobs (as of the last heartbeat)")
    for col in ("job", "next run", "trigger"):
        table.add_column(col)
    for job in report["jobs"]:
        table.add_row(job["id"], job.get("next_run") or "-", job.get("trigger") or "")
    if report["jobs"]:
        console.print(table)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report["candidates"].items())) or "none"
    console.print(f"candidates: {counts}")
    if "notifications" in report:
        n = report["notifications"]
        failed = f", {n['failed']} given up (memeloop notify list --state failed)" if n.get("failed") else ""
        console.print(f"notifications: {n.get('pending', 0)} waiting to be delivered, {n.get('sent', 0)} sent{failed}")
    for g in report["generations"]:
        err = f" [red]{escape(g['error'])}[/red]" if g["error"] else ""
        console.print(f"generation {g['id']} {g['generator']} {g['status']} at {g['started_at']}{err}")


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-data"),
              show_default=True, help="Demo data folder (re-used; --fresh starts over).")
@click.option("--fresh", is_flag=True, help="Delete the demo folder first.")
@click.option("--rounds", type=click.IntRange(1, 10), default=3, show_default=True,
              help="Generate -> publish -> react -> learn rounds.")
def demo(folder: Path, fresh: bool, rounds: int) -> None:
    """The whole loop offline on the shipped demo models, in a few minutes, ending by itself.

    Example: memeloop demo --dir demo-data
    """
    from bot.runtime.demo import run_demo

    run_demo(folder, fresh=fresh, rounds=rounds)
