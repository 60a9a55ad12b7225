-- Quarter-hour rollups, for local time: every zone in use today is a whole number of quarter-hours from UTC
-- (+05:30 India, +05:45 Nepal, +12:45 Chatham...), so every local hour and day starts on a UTC quarter-hour.
-- With per-quarter counts and durations (all tenants, and per user) next to the hourly, daily and monthly
-- ones of 0002, a range or series in any zone is answered from rollups, never from raw calls, when its
-- bounds fall on quarter-hours (src/sql.rs).
--
-- Kept exact by the same ledger as 0002: the triggers on call_facts now also add to and subtract from these
-- two tables. The cost: two more rows written per call written.

CREATE TABLE calls_by_quarter (
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (period_start, bucket)
) WITHOUT ROWID;

CREATE TABLE user_calls_by_quarter (
  user_id TEXT NOT NULL,
  period_start INTEGER NOT NULL,
  bucket TEXT NOT NULL,
  calls INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (user_id, period_start, bucket)
) WITHOUT ROWID;

-- The quarter-hour a call started in (floored, also before 1970), beside 0002's hour, day and month.
ALTER TABLE call_facts ADD COLUMN quarter_start INTEGER
  GENERATED ALWAYS AS (started_at - ((started_at % 900000) + 900000) % 900000) VIRTUAL;

-- Backfill from the ledger, set-wise, before the triggers change.
INSERT INTO calls_by_quarter SELECT quarter_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2;
INSERT INTO user_calls_by_quarter
  SELECT user_id, quarter_start, bucket, COUNT(*), SUM(duration_ms) FROM call_facts GROUP BY 1, 2, 3;

DROP TRIGGER call_facts_added;
DROP TRIGGER call_facts_removed;

-- A contribution recorded: add it to every rollup.
CREATE TRIGGER call_facts_added AFTER INSERT ON call_facts
BEGIN
  INSERT INTO calls_by_quarter VALUES (NEW.quarter_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO calls_by_hour VALUES (NEW.hour_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO calls_by_day VALUES (NEW.day_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO calls_by_month VALUES (NEW.month_start, NEW.bucket, 1, NEW.duration_ms)
    ON CONFLICT DO UPDATE SET calls = calls + 1, duration_ms = duration_ms + excluded.duration_ms;
  INSERT INTO user_calls_by_quarter VALUES (NEW.user_id, NEW.quarter_start, NEW.bucket, 1, NEW.duration_ms)
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
  UPDATE calls_by_quarter SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE period_start = OLD.quarter_start AND bucket = OLD.bucket;
  DELETE FROM calls_by_quarter WHERE period_start = OLD.quarter_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE calls_by_hour SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE period_start = OLD.hour_start AND bucket = OLD.bucket;
  DELETE FROM calls_by_hour WHERE period_start = OLD.hour_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE calls_by_day SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE period_start = OLD.day_start AND bucket = OLD.bucket;
  DELETE FROM calls_by_day WHERE period_start = OLD.day_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE calls_by_month SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE period_start = OLD.month_start AND bucket = OLD.bucket;
  DELETE FROM calls_by_month WHERE period_start = OLD.month_start AND bucket = OLD.bucket AND calls = 0;
  UPDATE user_calls_by_quarter SET calls = calls - 1, duration_ms = duration_ms - OLD.duration_ms
    WHERE user_id = OLD.user_id AND period_start = OLD.quarter_start AND bucket = OLD.bucket;
  DELETE FROM user_calls_by_quarter
    WHERE user_id = OLD.user_id AND period_start = OLD.quarter_start AND bucket = OLD.bucket AND calls = 0;
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
