"""The one write path: records as documents, written by kind, every change kept as a revision.

Every write (the seed, an ingest, the write API, a replay of the change feed) says which
records it touches, writes their documents with `kinds.put` or takes them away with
`kinds.remove`, and then `revisions.Changes.record` compares each touched record's document
before and after: for every record that changed it bumps the record's version and appends a
revision with both documents. Reading the revisions back in order (`revisions.replay`)
rebuilds the same records.

Its rooms: `kinds` (the registry of record kinds), `documents` (records read as documents),
`store` (tables and derived rows), `projections` (stored read documents, the actor index,
the timeline rollup), `versions` (every versioned row's validity intervals), `revisions`
(history and replay), `writes` (the write API), `ingest` (new reporting), `backups` (export
and import), `seed` (the seed bundles), `router` (the HTTP routes that write).
"""
