-- SPDX-License-Identifier: LGPL-2.1-or-later
-- The schema of a dermaroll database at schema version 4, exactly as the
-- daemon before people (migrations 0 to 3 of daemon/store/store-schema.c)
-- left it in sqlite_master: the output of `sqlite3 FILE .schema` on a file
-- those migrations made. test-store's /store/open/migrate-from-4 builds a
-- file from it, fills it as that daemon wrote its rows, and opens it with
-- this one. Never edit: files in the field look like this.
CREATE TABLE rollers (  id INTEGER PRIMARY KEY,  address TEXT NOT NULL UNIQUE,  name TEXT NOT NULL DEFAULT '',  paired INTEGER NOT NULL DEFAULT 0,  dropped_frames INTEGER NOT NULL DEFAULT 0,  acked_t0_ms INTEGER,  acked_seq INTEGER, malformed_kept INTEGER NOT NULL DEFAULT 0, malformed_dropped INTEGER NOT NULL DEFAULT 0);
CREATE TABLE heads (  head_id INTEGER PRIMARY KEY,  needle_length_um INTEGER NOT NULL DEFAULT 0,  needle_count INTEGER NOT NULL DEFAULT 0,  drum_diameter_10um INTEGER NOT NULL DEFAULT 0,  drum_width_10um INTEGER NOT NULL DEFAULT 0,  ticks_per_rev INTEGER NOT NULL DEFAULT 0,  revolutions REAL NOT NULL DEFAULT 0,  sessions INTEGER NOT NULL DEFAULT 0);
CREATE TABLE frames (  id INTEGER PRIMARY KEY,  roller_id INTEGER NOT NULL REFERENCES rollers (id),  t0_ms INTEGER NOT NULL,  seq INTEGER NOT NULL,  flags INTEGER NOT NULL,  received_ms INTEGER NOT NULL,  raw BLOB NOT NULL,  UNIQUE (roller_id, t0_ms, seq));
CREATE TABLE malformed_frames (  id INTEGER PRIMARY KEY,  roller_id INTEGER NOT NULL REFERENCES rollers (id),  received_ms INTEGER NOT NULL,  reason TEXT NOT NULL,  raw BLOB NOT NULL);
CREATE INDEX malformed_frames_by_roller ON malformed_frames (roller_id);
CREATE TABLE sessions (  id INTEGER PRIMARY KEY,  roller_id INTEGER NOT NULL REFERENCES rollers (id),  start_ms INTEGER NOT NULL,  end_ms INTEGER,  needle_length_um INTEGER NOT NULL,  head_id INTEGER NOT NULL,  mean_coverage REAL NOT NULL DEFAULT 0, head_counted INTEGER NOT NULL DEFAULT 1);
CREATE INDEX sessions_by_start ON sessions (start_ms);
CREATE INDEX sessions_by_roller ON sessions (roller_id, start_ms);
CREATE TABLE session_zones (  session_id INTEGER NOT NULL REFERENCES sessions (id),  zone TEXT NOT NULL,  zone_id INTEGER NOT NULL,  coverage REAL NOT NULL,  passes REAL NOT NULL,  rolled_cm2 REAL NOT NULL,  revolutions REAL NOT NULL,  punctures_per_cm2 REAL NOT NULL,  peak_force_n REAL NOT NULL,  source TEXT NOT NULL, passes_horizontal REAL NOT NULL DEFAULT 0, passes_vertical REAL NOT NULL DEFAULT 0, passes_diagonal REAL NOT NULL DEFAULT 0, passes_unknown REAL NOT NULL DEFAULT 0,  PRIMARY KEY (session_id, zone)) WITHOUT ROWID;
CREATE TABLE events (  id INTEGER PRIMARY KEY,  session_id INTEGER REFERENCES sessions (id),  roller_id INTEGER NOT NULL REFERENCES rollers (id),  time_ms INTEGER NOT NULL,  kind TEXT NOT NULL,  zone TEXT,  force_n REAL,  limit_n REAL,  peak_n REAL,  duration_ms INTEGER,  last_treated_ms INTEGER,  head_id INTEGER,  wear REAL,  frames INTEGER);
CREATE INDEX events_by_session ON events (session_id, time_ms);
CREATE TABLE settings (  key TEXT PRIMARY KEY,  value);
