-- Rollups: per-bucket call counts and exact durations by UTC hour, day and month, for all tenants and per
-- user, so that a range is answered from a few rows per bucket and period instead of every call in it.
--
-- Kept exact by triggers, whoever writes `calls`:
--   calls --(insert/update/delete triggers)--> call_facts --(insert/delete triggers)--> the six rollups
-- `call_facts` holds, per call id, what that call currently contributes. A write to `calls` first removes
-- the contribution on record for the ids it touches, then records the new one. That also covers
-- INSERT OR REPLACE (whose implicit delete fires no delete trigger unless recursive_triggers is on) and an
-- UPDATE that changes a call's id.

CREATE TABLE call_facts (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  bucket TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  -- Period starts, in epoch milliseconds (floored, also before 1970).
  hour_start INTEGER GENERATED ALWAYS AS (started_at - ((started_at % 3600000) + 3600000) % 3600000) VIRTUAL,
  day_start INTEGER GENERATED ALWAYS AS (started_at - ((started_at % 86400000) + 86400000) % 86400000) VIRTUAL,
  month_start INTEGER GENERATED ALWAYS AS (
    CAST(strftime('%s', day_start / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000
  ) VIRTUAL
) WITHOUT ROWID;

CREATE TABLE calls_by_hour (
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (period_start, bucket)
) WITHOUT ROWID;

CREATE TABLE calls_by_day (
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (period_start, bucket)
) WITHOUT ROWID;

CREATE TABLE calls_by_month (
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (period_start, bucket)
) WITHOUT ROWID;

CREATE TABLE user_calls_by_hour (
  user_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, period_start, bucket)
) WITHOUT ROWID;

CREATE TABLE user_calls_by_day (
  user_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, period_start, bucket)
) WITHOUT ROWID;

CREATE TABLE user_calls_by_month (
  user_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, period_start, bucket)
) WITHOUT ROWID;

-- Backfill from the calls already there, before any trigger exists (set-wise, not row by row).
INSERT INTO call_facts (id, user_id, bucket, started_at, duration_ms)
  SELECT id, user_id, bucket, started_at, duration_ms FROM calls;
INSERT INTO calls_by_hour SELECT hour_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2;
INSERT INTO calls_by_day SELECT day_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2;
INSERT INTO calls_by_month SELECT month_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2;
INSERT INTO user_calls_by_hour
  SELECT user_id, hour_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2, 3;
INSERT INTO user_calls_by_day
  SELECT user_id, day_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2, 3;
INSERT INTO user_calls_by_month
  SELECT user_id, month_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2, 3;

-- A contribution recorded: add it to every rollup.
CREATE TRIGGER call_facts_added AFTER INSERT ON call_facts
BEGIN
  INSERT INTO calls_by_hour VALUES (NEW.hour_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO calls_by_day VALUES (NEW.day_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO calls_by_month VALUES (NEW.month_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO user_calls_by_hour VALUES (NEW.user_id, NEW.hour_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO user_calls_by_day VALUES (NEW.user_id, NEW.day_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO user_calls_by_month VALUES (NEW.user_id, NEW.month_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
END;

-- A contribution withdrawn: subtract it, and drop rows that no longer count any call.
CREATE TRIGGER call_facts_removed AFTER DELETE ON call_facts
BEGIN
  UPDATE calls_by_hour SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE period_start = OLD.hour_start AND bucket = OLD.bucket;
  DELETE FROM calls_by_hour WHERE period_start = OLD.hour_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE calls_by_day SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE period_start = OLD.day_start AND bucket = OLD.bucket;
  DELETE FROM calls_by_day WHERE period_start = OLD.day_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE calls_by_month SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE period_start = OLD.month_start AND bucket = OLD.bucket;
  DELETE FROM calls_by_month WHERE period_start = OLD.month_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE user_calls_by_hour SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE user_id = OLD.user_id AND period_start = OLD.hour_start AND bucket = OLD.bucket;
  DELETE FROM user_calls_by_hour
    WHERE user_id = OLD.user_id AND period_start = OLD.hour_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE user_calls_by_day SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE user_id = OLD.user_id AND period_start = OLD.day_start AND bucket = OLD.bucket;
  DELETE FROM user_calls_by_day
    WHERE user_id = OLD.user_id AND period_start = OLD.day_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE user_calls_by_month SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE user_id = OLD.user_id AND period_start = OLD.month_start AND bucket = OLD.bucket;
  DELETE FROM user_calls_by_month
    WHERE user_id = OLD.user_id AND period_start = OLD.month_start AND bucket = OLD.bucket AND calls = 0;
END;

CREATE TRIGGER calls_inserted AFTER INSERT ON calls
BEGIN
  -- Left over only when an INSERT OR REPLACE removed the previous row without a delete trigger.
  DELETE FROM call_facts WHERE id = NEW.id;
  INSERT INTO call_facts (id, user_id, bucket, started_at, duration_ms)
    VALUES (NEW.id, NEW.user_id, NEW.bucket, NEW.started_at, NEW.duration_ms);
END;

-- Any change to what a call contributes: its id, user, start, bucket (platform or number) or duration.
CREATE TRIGGER calls_updated AFTER UPDATE ON calls
WHEN OLD.id IS NOT NEW.id OR OLD.user_id IS NOT NEW.user_id OR OLD.started_at IS NOT NEW.started_at
  OR OLD.bucket IS NOT NEW.bucket OR OLD.duration_ms IS NOT NEW.duration_ms
BEGIN
  -- NEW.id too: an UPDATE OR REPLACE onto another call's id removes that call without a delete trigger.
  DELETE FROM call_facts WHERE id IN (OLD.id, NEW.id);
  INSERT INTO call_facts (id, user_id, bucket, started_at, duration_ms)
    VALUES (NEW.id, NEW.user_id, NEW.bucket, NEW.started_at, NEW.duration_ms);
END;

CREATE TRIGGER calls_deleted AFTER DELETE ON calls
BEGIN
  DELETE FROM call_facts WHERE id = OLD.id;
END;
