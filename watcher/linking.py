"""Placing each new alert in its story: the link phase of a run, between enrich and commit.
Pure: alerts and the stories the state knows in, placements out.

An alert joins a story when
1. it continues a thread the story already holds (a filing's publication, a correction, an
   updated CSMS message, a list changing again: the thread key its kind gives it);
2. it is the same instrument at another stage: the same proclamation or order number, or,
   for presidential documents, the same normalised title within `SAME_ACTION_DAYS`, from a
   source the story has not heard from (numbers, when both sides have one, decide);
3. it is not a presidential instrument itself and cites the story's instrument ("pursuant to
   Proclamation 10895", "Presidential Proclamations 11061, 11062, and 11063") or quotes its
   title (CBP guidance, an agency's implementing notice).
Otherwise it starts a story. A new presidential instrument that acts on an earlier action (the
instrument its title or opening cites, or an earlier action on the same subject: Proclamation
11001 on Executive Order 14272's processed critical minerals) is a story of its own, and a
short reply in the earlier story's thread points to it; so is guidance that cites several
actions, in the threads of the ones it did not join.

A Federal Register publication that joins a story started elsewhere is announced as the
publication it is, with how early the story's first stage knew ("6 days after it appeared in
White House presidential actions").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from watcher.facts import TradeFacts, cited_instruments
from watcher.models import FIRST_NEWS, STORY_EVENTS, Alert, AlertEvent
from watcher.stories import (
    INVESTIGATION,
    PRESIDENTIAL,
    SAME_ACTION_DAYS,
    Stage,
    Story,
    days_apart,
    eastern_date,
    instrument_of,
    item_date,
    latest,
    normalise_title,
    same_subject,
    subject_of,
)
from watcher.wording import format_date

QUOTED_TITLE_WORDS = 5  # a title shorter than this is too common to count as quoted
QUOTE_DAYS = 120  # guidance quoting an action's title follows it within this many days
ACTS_ON_DAYS = 730  # an action acts on an earlier one on its subject within this many days
MAX_POINTERS = 3
INVESTIGATION_DAYS = 90  # Commerce opens the docket of an investigation within weeks


@dataclass(frozen=True)
class Incoming:
    """An alert about to be committed, with what the link phase needs to know about it."""

    alert: Alert
    own_key: str | None  # the thread key its item's kind gives it
    role: str | None  # the kind's role: "published", "inspection" or None
    at: str  # ISO datetime (UTC) this stage happened (stories.stage_time)


@dataclass(frozen=True)
class Placement:
    """Where one alert goes: its story (an existing id, or a new story's provisional id,
    negative), the alert as it will be sent, its stage, and pointers into other stories."""

    story_id: int
    new_story: bool
    alert: Alert
    stage: Stage
    pointers: tuple[tuple[int, Alert], ...] = ()  # (story id, a short reply in its thread)
    why: str = ""


def link_all(
    incoming: Sequence[Incoming], stories: Sequence[Story]
) -> tuple[list[Placement | None], list[Story]]:
    """Each alert's placement (None: it belongs to no story), and the stories as they stand
    after them, new ones with provisional negative ids."""
    known = list(stories)
    placements: list[Placement | None] = []
    provisional = 0
    for one in incoming:
        placement = place(one, known, next_id=provisional - 1)
        placements.append(placement)
        if placement is None:
            continue
        if placement.new_story:
            provisional -= 1
            known.append(
                Story(placement.story_id, placement.alert.thread_key or "", one.alert.title, ())
            )
        known = [s.with_stage(placement.stage) if s.id == placement.story_id else s for s in known]
    return placements, known


def place(one: Incoming, stories: Sequence[Story], *, next_id: int) -> Placement | None:
    """The story one alert belongs to (see the module docstring)."""
    alert = one.alert
    if alert.event not in STORY_EVENTS or not alert.thread_key:
        return None
    joined, why = _continued(alert.thread_key, stories), "thread"
    targets: list[Story] = []
    if joined is None and alert.event in FIRST_NEWS and alert.item is not None:
        joined, why = _same_action(one, stories)
        if joined is None and not _presidential(one):
            joined, why = _investigation(one, stories), "the investigation it carries out"
        if joined is None:
            targets = _acted_on(one, stories)
            if targets and not _presidential(one):
                joined, why = targets.pop(0), "cites it"
    if joined is not None:
        sent, story_id, new = _as_stage_of(one, joined), joined.id, False
    else:
        sent, story_id, new, why = alert, next_id, True, "new"
    pointers = [(t.id, _pointer(one, t, _presidential(one))) for t in targets[:MAX_POINTERS]]
    first_publication = (
        joined is not None
        and one.role == "published"
        and sent.event is AlertEvent.PUBLISHED
        and not any(s.role == "published" for s in joined.stages)
    )
    if joined is not None and first_publication and joined.pointed:
        # the action is published: the threads it was pointed from hear of it, with its number
        by_id = {s.id: s for s in stories}
        pointers += [
            (target, _pointer(one, by_id[target], True, published=True))
            for target in sorted(joined.pointed)
            if target in by_id
        ]
    return Placement(story_id, new, sent, _stage(one, story_id, sent), tuple(pointers), why)


# -- joining ----------------------------------------------------------------------------------


def _continued(thread_key: str, stories: Sequence[Story]) -> Story | None:
    for story in stories:
        if story.has_key(thread_key):
            return story
    return None


def _same_action(one: Incoming, stories: Sequence[Story]) -> tuple[Story | None, str]:
    item = one.alert.item
    assert item is not None
    kind = instrument_of(item)
    identity = (kind, item.number) if kind and item.number else None
    if identity is not None:
        for story in stories:
            if identity in story.identities:
                return story, "same instrument"
    if not _presidential(one):
        return None, ""
    title = normalise_title(item.title)
    dated = item_date(item, one.alert.facts.get("signed"))
    candidates = []
    for story in stories:
        if title not in story.presidential_titles:
            continue
        if any(s.source == one.alert.source for s in story.stages):
            # one source never tells one document twice: two documents of one title from one
            # source are two actions (the aluminum proclamations of Jan 19 and Feb 1, 2021)
            continue
        if identity is not None and any(
            i[0] == identity[0] and i[1] != identity[1] for i in story.identities
        ):
            continue  # another instrument of the same title: numbers decide
        apart = days_apart(dated, story.dated)
        if apart is not None and apart <= SAME_ACTION_DAYS:
            candidates.append((apart, story))
    if not candidates:
        return None, ""
    return min(candidates, key=lambda c: c[0])[1], "same title"


def _investigation(one: Incoming, stories: Sequence[Story]) -> Story | None:
    """For an agency's notice on a Section 232 investigation ("... National Security
    Investigation of Imports of Copper"): the presidential action that opened it, on the same
    subject, within `INVESTIGATION_DAYS` before."""
    item = one.alert.item
    assert item is not None
    if not INVESTIGATION.search(normalise_title(item.title)):
        return None
    subject = subject_of(item.title)
    dated = item_date(item)
    opened = []
    for story in stories:
        if not any(s.presidential for s in story.stages) or not story.dated or not dated:
            continue
        apart = days_apart(dated, story.dated)
        if (
            same_subject(subject, story.subject)
            and story.dated <= dated
            and apart is not None
            and apart <= INVESTIGATION_DAYS
        ):
            opened.append(story)
    return latest(opened)


def _acted_on(one: Incoming, stories: Sequence[Story]) -> list[Story]:
    """The earlier stories this alert's document acts on or cites: the instruments its title
    cites, then the first its text cites (a proclamation's recitals cite many; its opening
    names the one it acts on), then, for guidance, an action whose title it quotes, and, for a
    presidential instrument, the latest earlier action on its subject."""
    item = one.alert.item
    if item is None:
        return []
    own = (instrument_of(item), item.number)
    presidential = _presidential(one)
    facts = TradeFacts.from_record(one.alert.facts)
    cited = cited_instruments(item.title)
    body = cited_instruments(f"{item.summary}\n{item.body}")
    body += [_identity(c) for c in facts.cited]
    wanted = cited + [c for c in body if c != own and c not in cited][: 1 if presidential else 3]
    found: list[Story] = []
    for identity in wanted:
        if identity == own:
            continue
        for story in stories:
            if identity in story.identities and story not in found:
                found.append(story)
    if not found and not presidential:
        quoted = _quoted(one, stories)
        if quoted is not None:
            found.append(quoted)
    if presidential:
        earlier = _same_subject_before(one, stories)
        if earlier is not None and earlier not in found:
            found.append(earlier)
    return found


def _quoted(one: Incoming, stories: Sequence[Story]) -> Story | None:
    item = one.alert.item
    assert item is not None
    text = normalise_title(f"{item.title} {item.summary} {item.body}")
    dated = item_date(item)
    candidates = []
    for story in stories:
        for title in story.presidential_titles:
            if len(title.split()) >= QUOTED_TITLE_WORDS and f" {title} " in f" {text} ":
                apart = days_apart(dated, story.dated)
                if apart is not None and apart <= QUOTE_DAYS:
                    candidates.append(story)
    return latest(candidates)


def _same_subject_before(one: Incoming, stories: Sequence[Story]) -> Story | None:
    item = one.alert.item
    assert item is not None
    subject = subject_of(item.title)
    if subject is None:
        return None
    dated = item_date(item, one.alert.facts.get("signed"))
    earlier = []
    for story in stories:
        if not same_subject(subject, story.subject) or not story.dated or not dated:
            continue
        apart = days_apart(dated, story.dated)
        if story.dated < dated and apart is not None and apart <= ACTS_ON_DAYS:
            earlier.append(story)
    return latest(earlier)


def _identity(cited: str) -> tuple[str, str]:
    """ "executive order 14220" -> ("executive order", "14220")."""
    kind, _, number = cited.rpartition(" ")
    return kind, number


def _presidential(one: Incoming) -> bool:
    item = one.alert.item
    return item is not None and (instrument_of(item) or "") in PRESIDENTIAL


# -- what is sent -----------------------------------------------------------------------------


def _as_stage_of(one: Incoming, story: Story) -> Alert:
    """The alert as a reply in the story's thread: a Federal Register publication is
    announced as one, with how early the story knew; what the story touched of the
    watchlist, and what this stage adds to it."""
    alert = replace(one.alert, thread_key=story.thread_key)
    if story.touches:
        from watcher.watchlist import Touch, merged  # a story that touched a watchlist

        touches = merged(
            (Touch.from_record(t) for t in story.touches),
            (Touch.from_record(t) for t in alert.touches),
        )
        alert = replace(alert, touches=tuple(t.as_record() for t in touches))
    if one.role != "published" or not story.stages:
        return alert
    first = story.first
    if first.role == "published":
        return alert  # the story began with a publication: nothing to measure
    if alert.event is AlertEvent.NEW:
        alert = replace(alert, event=AlertEvent.PUBLISHED)
    return replace(alert, lead=lead_words(first, alert.item.published_on if alert.item else None))


def lead_words(first: Stage, published_on: str | None) -> str:
    """ "6 days after it appeared in White House presidential actions" (calendar days in
    Washington), or hours when it was less than two days."""
    where = first.label or first.source
    if not published_on:
        return ""
    days = (date.fromisoformat(published_on[:10]) - eastern_date(first.at)).days
    if days >= 2:
        return f"{days} days after it appeared in {where}"
    if days == 1:
        return f"a day after it appeared in {where}"
    return f"the day it appeared in {where}"


def _pointer(one: Incoming, target: Story, acts: bool, *, published: bool = False) -> Alert:
    """A short reply in an earlier story's thread pointing to this alert's document."""
    alert = one.alert
    note = "acts on this action" if acts else "cites this action"
    if published and alert.item is not None:
        citation = f", {alert.item.citation}" if alert.item.citation else ""
        when = format_date(alert.item.published_on) or "its date"
        note = f"published in the Federal Register on {when}{citation}; {note}"
    return replace(
        alert,
        event=AlertEvent.FOLLOW_UP,
        channel=target.first.channel or alert.channel,
        thread_key=target.thread_key,
        note=note,
        changes=(),
        listing=None,
        lead="",
    )


def _stage(one: Incoming, story_id: int, alert: Alert) -> Stage:
    item = alert.item
    return Stage(
        story_id=story_id,
        source=alert.source,
        own_key=one.own_key,
        item_key=alert.item_key,
        event=alert.event.value,
        title=alert.title,
        url=alert.url,
        instrument=instrument_of(item) if item else None,
        number=item.number if item else None,
        dated=item_date(item, alert.facts.get("signed")) if item else None,
        published=item.published_on[:10] if item and item.published_on else None,
        at=one.at,
        role=one.role,
        label=alert.label,
        channel=alert.channel,
        touches=alert.touches,
    )


def stage_at(moment: datetime) -> str:
    """A moment as stages keep it: ISO 8601 in UTC."""
    return moment.isoformat(timespec="seconds")
