"""`memeloop accounts import-history`: read an account's own past posts with their public counters.

Idempotent (a remote id is stored once per account), resumable (each page is committed with the
cursor of the next one; an unfinished run continues there), rate-limit aware (the ledger is read
before the first call and every reading is stored; a RateLimited stops the run and says when to
come back) and never confused with memeloop's own posts (their remote ids, and the texts of posts
whose fate is still unknown, are skipped). A finished pass remembers how far it reached, so the next
run reads only what is newer. New history makes the ranker's state be rebuilt with it, oldest first.

A new post with a picture (``HistoryItem.media_url``) has its picture read through the publisher
(``fetch_media``) and compared with the account's templates (the configured ones and the library's,
generator/image_match.py): the template it was made on, or none, is stored with it and is the
ranker's template feature of that outcome. A picture that cannot be read leaves the template unknown
and the import goes on. A stored post whose picture was never compared (imported before migration
r25_warm, or unreadable then) has it compared when a run reads that post again: ``rescan`` reads
the whole history again (from ``since``) for that, and changes nothing else of a stored post.

Every caption is read for the tone and audience it was written in (generator/textgen/style.py, fitted
on the writer's corpus, in the writer's labels), so the ranker's tone and audience effects learn from
the history too: a new post's guess is stored with it, and a run first reads the stored posts that
have none (imported before migration r25_style); an unsure guess stays NULL.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.config.timefmt import iso, zone_of
from bot.errors import UsageError
from bot.publishers.errors import PublishError, RateLimited
from bot.publishers.history import HistoryItem, HistoryPage
from feedback.polling import Counts
from feedback.repository import accounts as account_repo
from feedback.repository import history as history_repo
from feedback.repository import ratelimits

if TYPE_CHECKING:
    from bot.core.deps import Deps
    from generator.image_match import ImageMatcher

log = logging.getLogger(__name__)

PAGE = 100


@dataclass(frozen=True)
class ImportResult:
    account: str
    read: int  # items the platform handed back this run
    added: int
    already: int  # stored by an earlier run
    skipped_own: int  # memeloop's own posts
    finished: bool  # the pass reached the oldest post (or ``since``)
    resume_at: datetime | None = None  # rate limited: run again after this
    message: str = ""
    templates: int = 0  # added posts whose picture was recognised as one of the account's templates
    compared: int = 0  # stored posts whose picture was compared with the templates for the first time
    filled: int = 0  # ... and recognised as one of them: their template, NULL before, is filled
    styled: int = 0  # stored posts (imported before migration r25_style) whose caption's tone or audience was filled


def _counts(item: HistoryItem) -> Counts:
    def ok(v: int | None) -> int | None:
        return v if isinstance(v, int) and v >= 0 else None  # NULL = unknown, never -1

    return Counts(likes=ok(item.likes), reposts=ok(item.reposts), replies=ok(item.replies), quotes=ok(item.quotes),
                  impressions=ok(item.impressions))


class _Recogniser:
    """Reads new posts' pictures through the publisher and names the template each was made on. The
    templates' thumbnails are made once, at the first picture of the run."""

    def __init__(self, deps: Deps, publisher: Any, account: str) -> None:
        self._deps, self._fetch, self._account = deps, getattr(publisher, "fetch_media", None), account
        self._matcher: ImageMatcher | None = None

    def _templates(self) -> ImageMatcher:
        if self._matcher is None:
            from bot.service.templates import all_templates
            from generator.image_match import ImageMatcher

            self._matcher = ImageMatcher.from_templates(all_templates(self._deps.config))
        return self._matcher

    def __call__(self, item: HistoryItem) -> tuple[str | None, float | None]:
        """(template slug or None, best score or None when no picture was compared)."""
        if item.media_url is None or self._fetch is None:
            return None, None
        from generator import GeneratorError

        try:
            found = self._templates().match_bytes(self._fetch(item.media_url), f"post {item.remote_id}'s picture")
        except (PublishError, GeneratorError) as exc:
            log.warning("event=history_picture_unread account=%s remote_id=%s error=%s", self._account,
                        item.remote_id, str(exc)[:200])
            return None, None
        log.debug("event=history_picture account=%s remote_id=%s template=%s score=%.3f", self._account,
                  item.remote_id, found.slug, found.score)
        return found.slug, found.score


def _style(text: str) -> tuple[str | None, str | None]:
    """(tone, audience) a caption reads as, each None when the classifier is not sure."""
    from generator.textgen.style import StyleClassifier

    guess = StyleClassifier.from_corpus().guess(text)
    return guess.tone, guess.audience


def _fill_styles(deps: Deps, account_id: int) -> int:
    """Read the stored posts' captions that have no tone or audience yet; how many were filled."""
    with deps.tx() as session:
        filled = sum(history_repo.fill_style(session, post_id, *_style(text))
                     for post_id, text in history_repo.unread_styles(session, account_id))
        if filled:  # the ranker learned those outcomes without them
            history_repo.forget_learning_state(session)
    return filled


def _ledger_block(deps: Deps, account_id: int, endpoint: str | None, now: datetime) -> datetime | None:
    """The reset time of this endpoint if the ledger says its window is used up."""
    if endpoint is None:
        return None
    with deps.tx() as session:
        for row in ratelimits.list_rate_limits(session, account_id=account_id):
            if row.endpoint == endpoint and row.remaining == 0 and row.reset_at is not None and row.reset_at > now:
                return row.reset_at
    return None


def _store_rate_limits(session: Any, account_id: int, publisher: Any, now: datetime) -> None:
    for reading in publisher.drain_rate_limits():
        ratelimits.record(session, account_id=account_id, endpoint=reading.endpoint, limit=reading.limit,
                          remaining=reading.remaining, reset_at=reading.reset_at, now=now)


def import_history(deps: Deps, name: str, *, since: datetime | None = None, limit: int | None = None,
                   page_size: int = PAGE, rescan: bool = False) -> ImportResult:
    """Import up to ``limit`` posts (None: all) of account ``name`` created at or after ``since``.
    ``rescan``: read the posts a finished pass already read too (an unfinished rescan continues at
    its cursor), to compare the pictures of stored posts that were never compared."""
    deps.config.account(name)  # unknown name: ConfigError naming the accounts there are
    publisher = deps.publisher(name)
    fetch = getattr(publisher, "fetch_history", None)
    if fetch is None:
        raise UsageError(f"account {name!r}: the {publisher.platform} publisher cannot read its history")
    now = deps.clock()
    with deps.tx() as session:
        account_id = account_repo.get_by_name(session, name).id
        row = history_repo.progress(session, account_id)
        cursor = row.cursor if row is not None else None
        stored_since = row.since if row is not None else None
        done_until = row.done_until if row is not None else None
        newest = row.newest_at if row is not None else None
    styled = _fill_styles(deps, account_id)
    if cursor is not None and since != stored_since:
        log.info("event=history_restart account=%s reason=since_changed", name)
        cursor, newest = None, None
    # a finished pass read down to done_until; a rescan reads it all again
    lower = since if rescan else max([d for d in (since, done_until) if d is not None], default=None)
    blocked = _ledger_block(deps, account_id, getattr(publisher, "history_endpoint", None), now)
    if blocked is not None:
        return ImportResult(name, 0, 0, 0, 0, False, blocked,
                            f"the rate limit of {publisher.platform} is used up; run again after "
                            f"{iso(blocked, zone_of(deps.config, name))}", styled=styled)
    read = added = already = own = recognised = compared = filled = 0
    recognise = _Recogniser(deps, publisher, name)
    while limit is None or read < limit:
        want = page_size if limit is None else min(page_size, limit - read)
        try:
            page: HistoryPage = fetch(since=lower, cursor=cursor, limit=want)
        except RateLimited as exc:
            with deps.tx() as session:
                _store_rate_limits(session, account_id, publisher, deps.clock())
                history_repo.save_progress(session, account_id, now=deps.clock(), cursor=cursor, since=since,
                                           newest_at=newest, resume_at=exc.retry_at, last_error=str(exc)[:500])
            return ImportResult(name, read, added, already, own, False, exc.retry_at,
                                f"rate limited; {added} added so far; run again{' with --rescan' if rescan else ''} "
                                f"after {iso(exc.retry_at, zone_of(deps.config, name))} to continue where this run "
                                "stopped", compared=compared, filled=filled, styled=styled)
        except PublishError as exc:
            with deps.tx() as session:
                _store_rate_limits(session, account_id, publisher, deps.clock())
                history_repo.save_progress(session, account_id, now=deps.clock(), cursor=cursor, since=since,
                                           newest_at=newest, last_error=str(exc)[:500])
            raise
        items = list(page.items)[:want]
        read += len(items)
        finished = page.next_cursor is None or not items
        with deps.tx() as session:  # pictures are read only for posts that will be added
            skip = (history_repo.own_remote_ids(session, account_id)
                    | history_repo.known_remote_ids(session, account_id, [i.remote_id for i in items]))
        seen = {i.remote_id: recognise(i) for i in items if i.remote_id not in skip}
        with deps.tx() as session:
            unread = history_repo.never_compared(session, account_id, [i.remote_id for i in items if i.media_url])
        again = {i.remote_id: recognise(i) for i in items if i.remote_id in unread}
        with deps.tx() as session:
            _store_rate_limits(session, account_id, publisher, deps.clock())
            ours = history_repo.own_remote_ids(session, account_id)
            flying = history_repo.texts_in_flight(session, account_id)
            theirs = [i for i in items if i.remote_id not in ours
                      and " ".join(i.text.split()).casefold() not in flying]
            own += len(items) - len(theirs)
            stored = history_repo.known_remote_ids(session, account_id, [i.remote_id for i in theirs])
            new = history_repo.add(session, account_id, [
                history_repo.NewImport(i.remote_id, i.created_at, i.text, i.url, i.media_count, _counts(i),
                                       *seen.get(i.remote_id, (None, None)), *_style(i.text))
                for i in theirs], now=deps.clock())
            recognised += sum(1 for i in theirs if i.remote_id not in stored and seen.get(i.remote_id, (None, None))[0])
            now_read = [(rid, slug) for rid, (slug, score) in again.items() if score is not None
                        and history_repo.fill_template(session, account_id, rid, slug, score)]
            compared += len(now_read)
            filled += sum(1 for _, slug in now_read if slug)
            added += new
            already += len(theirs) - new
            newest = max([d for d in (newest, *(i.created_at for i in items)) if d is not None], default=None)
            state = history_repo.progress(session, account_id)
            totals = {"imported": (state.imported if state else 0) + new,
                      "skipped_own": (state.skipped_own if state else 0) + len(items) - len(theirs)}
            if finished:
                history_repo.save_progress(session, account_id, now=deps.clock(), cursor=None, since=since,
                                           newest_at=None, done_until=max([d for d in (done_until, newest) if d],
                                                                          default=None),
                                           resume_at=None, last_error=None, **totals)
            else:
                history_repo.save_progress(session, account_id, now=deps.clock(), cursor=page.next_cursor,
                                           since=since, newest_at=newest, resume_at=None, last_error=None, **totals)
            if new or any(slug for _, slug in now_read):  # the ranker learned those outcomes without it
                history_repo.forget_learning_state(session)
        cursor = page.next_cursor
        if finished:
            log.info("event=history_imported account=%s read=%d added=%d own=%d compared=%d filled=%d", name, read,
                     added, own, compared, filled)
            return ImportResult(name, read, added, already, own, True,
                                message=_said(added, recognised, already, own, compared, filled, styled)
                                + "; the history is complete", templates=recognised, compared=compared, filled=filled,
                                styled=styled)
    return ImportResult(name, read, added, already, own, False,
                        message=_said(added, recognised, already, own, compared, filled, styled)
                        + f"; stopped at --limit {limit}: run again{' with --rescan' if rescan else ''} to continue",
                        templates=recognised, compared=compared, filled=filled, styled=styled)


def _said(added: int, recognised: int, already: int, own: int, compared: int, filled: int, styled: int = 0) -> str:
    out = (f"{added} posts added ({recognised} on a recognised template; {already} already there, {own} of "
           f"memeloop's own skipped)")
    if compared:
        out += (f"; the pictures of {compared} posts stored before were compared with the templates for the first "
                f"time ({filled} on a recognised template, now filled in)")
    if styled:
        out += f"; the captions of {styled} posts stored before were read for their tone and audience"
    return out
