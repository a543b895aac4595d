"""Hand-written SQLite SQL for Q1..Q8 (Datasette's canned queries); run to rewrite the metadata."""

from __future__ import annotations

import json
import sys
from pathlib import Path

METADATA = Path(__file__).resolve().parent / "datasette-metadata.json"
DATABASE = "geoevents"

# The first day an event overlapping [:start, ...] can have started: no event lasts longer
# than max(span_days), except open-ended ongoing events, which lift the bound altogether.
LOWER_BOUND = """(SELECT CASE
    WHEN EXISTS (SELECT 1 FROM events WHERE end_date IS NULL AND status = 'ongoing'
                 AND start_date IS NOT NULL) THEN '0000-01-01'
    ELSE date(:start, '-' || coalesce((SELECT max(span_days) FROM events), 0) || ' days')
  END)"""

# The event overlaps [:start, ...]: its last day is on or after :start.
OVERLAPS = """(e.end_date >= :start
       OR (e.end_date IS NULL AND (e.start_date >= :start OR e.status = 'ongoing')))"""

QUANTITY_JSON = """json_object('id', q.id, 'label', q.label, 'value', q.value, 'unit', q.unit,
      'qualifier', q.qualifier, 'low', q.low, 'high', q.high,
      'low_inclusive', json(CASE q.low_inclusive WHEN 1 THEN 'true' WHEN 0 THEN 'false' END),
      'high_inclusive', json(CASE q.high_inclusive WHEN 1 THEN 'true' WHEN 0 THEN 'false' END),
      'as_reported', q.as_reported, 'claim_id', q.claim_id, 'event_id', q.event_id)"""

# What a list item carries: the event, its tags, actors with roles, places and quantities.
EVENT_COLUMNS = f"""e.id, e.title, e.summary, e.event_type, e.status, e.start_date, e.end_date,
  e.date_precision, e.date_note,
  (SELECT json_group_array(tag) FROM
    (SELECT tag FROM event_tags WHERE event_id = e.id ORDER BY tag)) AS tags,
  (SELECT json_group_array(json(j)) FROM
    (SELECT json_object('id', a.id, 'name', a.name, 'kind', a.kind, 'role', x.role) AS j
       FROM event_actors x JOIN actors a ON a.id = x.actor_id
      WHERE x.event_id = e.id ORDER BY x.position)) AS actors,
  (SELECT json_group_array(json(j)) FROM
    (SELECT json_object('id', l.id, 'name', l.name, 'feature', l.feature, 'country', l.country,
              'admin_area', l.admin_area, 'latitude', l.latitude, 'longitude', l.longitude,
              'precision', l.precision, 'gazetteer', l.gazetteer,
              'gazetteer_id', l.gazetteer_id) AS j
       FROM event_locations x JOIN locations l ON l.id = x.location_id
      WHERE x.event_id = e.id ORDER BY x.position)) AS locations,
  (SELECT json_group_array(json(j)) FROM
    (SELECT {QUANTITY_JSON} AS j
       FROM quantities q WHERE q.event_id = e.id ORDER BY q.id)) AS quantities,
  strftime('%Y-%m-%dT%H:%M:%SZ', e.created_at) AS created_at,
  strftime('%Y-%m-%dT%H:%M:%SZ', e.updated_at) AS updated_at"""


def _term(param: str) -> str:
    like = f"'%' || :{param} || '%'"
    return f"""(e.title LIKE {like} OR e.summary LIKE {like}
       OR EXISTS (SELECT 1 FROM claims c WHERE c.event_id = e.id
                  AND (c.statement LIKE {like} OR c.quote LIKE {like}
                       OR c.evidence_text LIKE {like})))"""


Q1 = f"""SELECT {EVENT_COLUMNS}
FROM actor_events ae JOIN events e ON e.id = ae.event_id
WHERE ae.actor_id = :actor
  AND ae.start_date <= :end AND ae.start_date >= {LOWER_BOUND}
  AND {OVERLAPS}
ORDER BY ae.start_date DESC, ae.event_id DESC
LIMIT 100"""

Q2 = f"""SELECT {EVENT_COLUMNS}
FROM actor_events ae JOIN events e ON e.id = ae.event_id
WHERE ae.actor_id = :actor
ORDER BY ae.start_date DESC, ae.event_id DESC
LIMIT 1000"""

Q3 = f"""SELECT {EVENT_COLUMNS}
FROM events e
WHERE e.start_date <= :end AND e.start_date >= {LOWER_BOUND}
  AND {OVERLAPS}
ORDER BY e.start_date DESC, e.id DESC
LIMIT 100"""

# Every month from the actor's first event to its last day; an event counts once in each
# month it overlaps. Multi-month events are expanded month by month, the rest counted once.
Q4 = """WITH RECURSIVE
ev AS MATERIALIZED (
  SELECT e.start_date AS s, e.end_date AS en, e.status AS st
  FROM actor_events ae JOIN events e ON e.id = ae.event_id
  WHERE ae.actor_id = :actor AND ae.start_date IS NOT NULL),
bounds AS (SELECT date(min(s), 'start of month') AS first, max(max(s), max(en)) AS last FROM ev),
spans AS MATERIALIZED (
  SELECT s, coalesce(en, CASE WHEN st = 'ongoing' THEN (SELECT last FROM bounds) ELSE s END) AS l
  FROM ev),
spill(m, l) AS (
  SELECT date(s, 'start of month', '+1 month'), l FROM spans
  WHERE l >= date(s, 'start of month', '+1 month')
  UNION ALL
  SELECT date(m, '+1 month'), l FROM spill WHERE date(m, '+1 month') <= l),
hits(m) AS (SELECT date(s, 'start of month') FROM spans UNION ALL SELECT m FROM spill),
months(m) AS (
  SELECT first FROM bounds WHERE first IS NOT NULL
  UNION ALL
  SELECT date(m, '+1 month') FROM months WHERE date(m, '+1 month') <= (SELECT last FROM bounds))
SELECT months.m AS period_start, date(months.m, '+1 month', '-1 day') AS period_end,
       coalesce(c.n, 0) AS count
FROM months LEFT JOIN (SELECT m, count(*) AS n FROM hits GROUP BY m) AS c ON c.m = months.m
ORDER BY months.m"""

Q5 = f"""SELECT {EVENT_COLUMNS},
  (SELECT json_group_array(json(j)) FROM
    (SELECT json_object('id', c.id, 'event_id', c.event_id, 'statement', c.statement,
              'quote', c.quote,
              'speaker', json(CASE WHEN s.id IS NOT NULL THEN
                                json_object('id', s.id, 'name', s.name, 'kind', s.kind) END),
              'source_id', c.source_id, 'hedging', c.hedging,
              'evidence', json_object('source_id', c.source_id, 'start', c.evidence_start,
                                      'end', c.evidence_end, 'text', c.evidence_text),
              'quantities', json((SELECT json_group_array(json(qj)) FROM
                                   (SELECT {QUANTITY_JSON} AS qj
                                      FROM quantities q WHERE q.claim_id = c.id
                                     ORDER BY q.id))),
              'created_at', c.created_at, 'updated_at', c.updated_at) AS j
       FROM claims c LEFT JOIN actors s ON s.id = c.speaker_id
      WHERE c.event_id = e.id
      ORDER BY c.source_id, c.evidence_start, c.id)) AS claims,
  (SELECT json_group_array(json(j)) FROM
    (SELECT json_object('id', r.related_event_id, 'title', o.title, 'relation', r.relation,
                        'direction', 'outgoing') AS j
       FROM event_relations r JOIN events o ON o.id = r.related_event_id
      WHERE r.event_id = e.id
     UNION ALL
     SELECT json_object('id', r.event_id, 'title', o.title, 'relation', r.relation,
                        'direction', 'incoming') AS j
       FROM event_relations r JOIN events o ON o.id = r.event_id
      WHERE r.related_event_id = e.id)) AS related,
  (SELECT json_group_array(source_id) FROM
    (SELECT DISTINCT source_id FROM claims WHERE event_id = e.id ORDER BY source_id))
    AS source_ids
FROM events e
WHERE e.id = :id"""

Q6 = f"""SELECT {EVENT_COLUMNS}
FROM events e
WHERE {_term("t1")}
  AND {_term("t2")}
ORDER BY e.start_date DESC, e.id DESC
LIMIT 100"""

# The 50 actors in most of the year's events, and every pair of them sharing events: weight,
# first and last day, and the weight per event type.
Q7 = f"""WITH
ev AS MATERIALIZED (
  SELECT e.id, e.event_type, e.start_date,
         coalesce(e.end_date, e.start_date) AS last_day
  FROM events e
  WHERE e.start_date <= :end AND e.start_date >= {LOWER_BOUND}
    AND {OVERLAPS}),
nodes AS MATERIALIZED (
  SELECT ea.actor_id FROM ev CROSS JOIN event_actors ea ON ea.event_id = ev.id
  GROUP BY ea.actor_id ORDER BY count(DISTINCT ea.event_id) DESC, ea.actor_id LIMIT 50),
typed AS (
  SELECT a.actor_id AS source, b.actor_id AS target, ev.event_type,
         count(DISTINCT ev.id) AS n, min(ev.start_date) AS first_date,
         max(ev.last_day) AS last_date
  FROM ev
  JOIN event_actors a ON a.event_id = ev.id
  JOIN event_actors b ON b.event_id = ev.id AND a.actor_id < b.actor_id
  WHERE a.actor_id IN nodes AND b.actor_id IN nodes
  GROUP BY a.actor_id, b.actor_id, ev.event_type)
SELECT source, target, sum(n) AS weight, min(first_date) AS first_date,
       max(last_date) AS last_date, json_group_object(event_type, n) AS types
FROM typed
GROUP BY source, target
ORDER BY weight DESC, source, target"""

# geoevents' CSV columns: lists joined by ';', each list's companion columns aligned with it
# value for value (roles; every place's coordinates and their precision; every figure's
# value, unit, qualifier and bounds), empty where unknown.
Q8 = f"""SELECT e.id, e.title, e.summary, e.event_type, e.status, e.start_date, e.end_date,
  e.date_precision, e.date_note,
  (SELECT group_concat(tag, ';') FROM
    (SELECT tag FROM event_tags WHERE event_id = e.id ORDER BY tag)) AS tags,
  (SELECT group_concat(actor_id, ';') FROM
    (SELECT actor_id FROM event_actors WHERE event_id = e.id ORDER BY position)) AS actors,
  (SELECT group_concat(role, ';') FROM
    (SELECT role FROM event_actors WHERE event_id = e.id ORDER BY position)) AS actors_role,
  (SELECT group_concat(location_id, ';') FROM
    (SELECT location_id FROM event_locations WHERE event_id = e.id ORDER BY position))
    AS locations,
  (SELECT group_concat(coalesce(latitude, ''), ';') FROM
    (SELECT l.latitude FROM event_locations x JOIN locations l ON l.id = x.location_id
      WHERE x.event_id = e.id ORDER BY x.position)) AS locations_latitude,
  (SELECT group_concat(coalesce(longitude, ''), ';') FROM
    (SELECT l.longitude FROM event_locations x JOIN locations l ON l.id = x.location_id
      WHERE x.event_id = e.id ORDER BY x.position)) AS locations_longitude,
  (SELECT group_concat(coalesce(precision, ''), ';') FROM
    (SELECT l.precision FROM event_locations x JOIN locations l ON l.id = x.location_id
      WHERE x.event_id = e.id ORDER BY x.position)) AS locations_precision,
  (SELECT group_concat(label, ';') FROM
    (SELECT q.label FROM quantities q WHERE q.event_id = e.id ORDER BY q.id)) AS quantities,
  (SELECT group_concat(value, ';') FROM
    (SELECT CASE WHEN q.value = CAST(q.value AS INTEGER)
                 THEN CAST(q.value AS INTEGER) ELSE q.value END AS value
       FROM quantities q WHERE q.event_id = e.id ORDER BY q.id)) AS quantities_value,
  (SELECT group_concat(unit, ';') FROM
    (SELECT q.unit FROM quantities q WHERE q.event_id = e.id ORDER BY q.id))
    AS quantities_unit,
  (SELECT group_concat(qualifier, ';') FROM
    (SELECT q.qualifier FROM quantities q WHERE q.event_id = e.id ORDER BY q.id))
    AS quantities_qualifier,
  (SELECT group_concat(coalesce(low, ''), ';') FROM
    (SELECT q.low FROM quantities q WHERE q.event_id = e.id ORDER BY q.id)) AS quantities_low,
  (SELECT group_concat(coalesce(high, ''), ';') FROM
    (SELECT q.high FROM quantities q WHERE q.event_id = e.id ORDER BY q.id))
    AS quantities_high,
  strftime('%Y-%m-%dT%H:%M:%SZ', e.created_at) AS created_at,
  strftime('%Y-%m-%dT%H:%M:%SZ', e.updated_at) AS updated_at
FROM events e
WHERE e.start_date <= :end AND e.start_date >= {LOWER_BOUND}
  AND {OVERLAPS}
ORDER BY e.start_date DESC, e.id DESC"""

SQL: dict[str, str] = {
    "Q1": Q1,
    "Q2": Q2,
    "Q3": Q3,
    "Q4": Q4,
    "Q5": Q5,
    "Q6": Q6,
    "Q7": Q7,
    "Q8": Q8,
}

TITLES: dict[str, str] = {
    "Q1": "Events of an actor overlapping a year, newest 100",
    "Q2": "Events of a rare actor, newest 1000",
    "Q3": "Events overlapping a month, newest 100",
    "Q4": "Monthly event counts of an actor",
    "Q5": "One event with its claims and related events",
    "Q6": "Events matching two words, newest 100",
    "Q7": "Actor pairs sharing events in a year",
    "Q8": "Every event overlapping a year (CSV)",
}


def metadata() -> dict[str, object]:
    """Datasette metadata holding Q1..Q8 as canned queries of the database `geoevents`."""
    queries = {name.lower(): {"title": TITLES[name], "sql": sql} for name, sql in SQL.items()}
    return {
        "title": "geoevents benchmark: hand-written SQL of Q1..Q8",
        "databases": {DATABASE: {"queries": queries}},
    }


def metadata_text() -> str:
    """The metadata file's expected contents."""
    return json.dumps(metadata(), indent=2) + "\n"


def main() -> None:
    """Rewrite datasette-metadata.json from the SQL above (or, with --check, compare)."""
    if "--check" in sys.argv[1:]:
        current = METADATA.read_text() if METADATA.exists() else ""
        sys.exit(0 if current == metadata_text() else f"{METADATA} is out of date")
    METADATA.write_text(metadata_text())
    print(f"wrote {METADATA}")


if __name__ == "__main__":
    main()
