"""ORM models of events and their links to actors, locations, tags and other events."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Event(Base):
    """Something that happened or was proposed, warned of or considered."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="date_order"
        ),
        Index("ix_events_start_date_id", "start_date", "id"),
        Index("ix_events_end_date", "end_date"),
        Index("ix_events_span_days", "span_days"),
        Index("ix_events_last_date_start_date", "last_date", "start_date"),
        Index("ix_events_dataset", "dataset"),
    )

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(20))
    date_note: Mapped[str | None] = mapped_column(Text)
    # Days from start_date to end_date: its maximum bounds how far before a date filter's
    # start an overlapping event can begin, so date filters can use the start_date index.
    span_days: Mapped[int | None] = mapped_column()
    # The last day the event covers: end_date, else start_date; NULL when undated or ongoing
    # with no known end (open-ended). Overlap tests then need no CASE over status.
    last_date: Mapped[date | None] = mapped_column(Date)
    # Provenance of an imported event (NULL for reporting): the dataset, the release that
    # last changed it and its row there.
    dataset: Mapped[str | None] = mapped_column(String(20))
    dataset_release: Mapped[str | None] = mapped_column(String(100))
    dataset_row: Mapped[int | None] = mapped_column()
    # The dataset's own codes and coverage figures, as JSON text with sorted keys (NULL when
    # there are none): not facts, so no other column holds them.
    attributes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class EventActor(Base):
    """An actor's role in an event."""

    __tablename__ = "event_actors"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    actor_id: Mapped[str] = mapped_column(
        ForeignKey("actors.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)


class EventLocation(Base):
    """A place where an event happened (or would happen)."""

    __tablename__ = "event_locations"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    location_id: Mapped[str] = mapped_column(
        ForeignKey("locations.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)


class EventTag(Base):
    """A free-form label on an event."""

    __tablename__ = "event_tags"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class EventRelation(Base):
    """A directed link: this event `relation` the related one (follows, response_to, part_of)."""

    __tablename__ = "event_relations"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    related_event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(20), primary_key=True)


class ActorEvent(Base):
    """Derived index: one row per (actor, event) with the event's start_date, so "this
    actor's events in this range, newest first" is a single index range scan whatever the
    actor's popularity, and the index covers the overlap test (last_date) too. Rebuilt from
    event_actors by `app.curation.projections.refresh_actor_events`."""

    __tablename__ = "actor_events"
    __table_args__ = (
        Index("ix_actor_events_actor_date", "actor_id", "start_date", "event_id", "last_date"),
    )

    actor_id: Mapped[str] = mapped_column(
        ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    start_date: Mapped[date | None] = mapped_column(Date)
    last_date: Mapped[date | None] = mapped_column(Date)


class TimelineDay(Base):
    """Derived rollup: per scope (an actor id, or "*" for every event) and day, how many dated
    events start that day and how many end (have their last day) that day. A timeline over
    any calendar periods is a running sum over these rows. Kept exact on every write by
    `app.curation.projections.maintaining`; a timeline whose filters it cannot serve scans
    instead."""

    __tablename__ = "timeline_days"
    # Covering the sums a total reads (every day of a scope up to a date): the rows' counts
    # are read off the index, not looked up in the table row by row.
    __table_args__ = (Index("ix_timeline_days_totals", "scope", "day", "starts", "ends"),)

    scope: Mapped[str] = mapped_column(String(120), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    starts: Mapped[int] = mapped_column(default=0)
    ends: Mapped[int] = mapped_column(default=0)


class NetworkPair(Base):
    """Derived rollup: per pair of actors sharing events (source < target), the events they
    share by start day, last day (end_date, else start_date) and type. The network of a date
    range sums the rows that start in it, and its edges' first and last dates are the least
    start and greatest last among them. Dated events only; kept exact by
    `app.curation.projections.maintaining`."""

    __tablename__ = "network_pairs"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    target: Mapped[str] = mapped_column(String(120), primary_key=True)
    start_date: Mapped[date] = mapped_column(Date, primary_key=True)
    last_date: Mapped[date] = mapped_column(Date, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    events: Mapped[int] = mapped_column(default=0)


class NetworkPairPeriod(Base):
    """Derived rollup: network_pairs summed per calendar month or year (`grain`, `period` its
    first day) of the start day: per pair and type, the events starting then, their least
    start and their greatest last day. A long range reads these for its whole months and
    years and network_pairs only for the days at its edges. Kept exact by
    `app.curation.projections.maintaining`, recomputed from network_pairs for the periods a
    write touches (the least and greatest days cannot be kept by difference)."""

    __tablename__ = "network_pair_periods"

    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    target: Mapped[str] = mapped_column(String(120), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    event_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    events: Mapped[int] = mapped_column(default=0)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)


class ActorPeriod(Base):
    """Derived rollup: per actor and calendar day, month or year (`grain`, `period` its first
    day), how many dated events it takes part in start then. The events of every actor
    starting in a date range are then a few rows per actor, read through one index: days up
    to the first month boundary, months up to the first year boundary, years, and back down.
    Kept exact by `app.curation.projections.maintaining`."""

    __tablename__ = "actor_periods"
    __table_args__ = (Index("ix_actor_periods_period", "grain", "period", "actor_id", "starts"),)

    actor_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    grain: Mapped[str] = mapped_column(String(5), primary_key=True)
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    starts: Mapped[int] = mapped_column(default=0)


class EventDocument(Base):
    """Projection: an event's read documents, stored as JSON text and kept exact by the write
    path (`app.curation.projections`), which alone writes them. `item` is the list item (the
    EventRead shape); `detail` holds what the detail adds (EventDetail's own fields), so the
    detail is `item` spliced with `detail`. Reads answer from these texts without rebuilding
    them."""

    __tablename__ = "event_documents"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    item: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)


class EventLine(Base):
    """Projection: an event's list item as its line of a CSV answer with every column (the
    line end included), written with its documents by `app.curation.projections`. A CSV
    export of every column is the header and these lines; a table of its own, a few
    hundred bytes a row, so an export reads few pages."""

    __tablename__ = "event_lines"

    event_id: Mapped[str] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    csv: Mapped[str] = mapped_column(Text)
