-- The tables other services write (names and meanings fixed by the data contract), and what the
-- calls-by-phone-number query needs to read them.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE TABLE calls (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  -- 'web' (any case, surrounding whitespace ignored) is a browser session; anything else is telephony.
  platform TEXT NOT NULL,
  -- The platform's number that carried the call; NULL, empty or blank means missing.
  platform_number TEXT,
  -- Unix epoch milliseconds, UTC.
  started_at INTEGER NOT NULL,
  duration_seconds REAL NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),

  -- Derived, never written: the single definition of a call's bucket and of its exact duration.
  -- WEB_CALL for web sessions (whatever their number), UNKNOWN_PLATFORM for other calls without a number,
  -- else the number without surrounding whitespace (space, tab, CR, LF).
  bucket TEXT GENERATED ALWAYS AS (
    CASE
      WHEN lower(trim(platform, char(32, 9, 10, 13))) = 'web' THEN 'WEB_CALL'
      WHEN trim(coalesce(platform_number, ''), char(32, 9, 10, 13)) = '' THEN 'UNKNOWN_PLATFORM'
      ELSE trim(platform_number, char(32, 9, 10, 13))
    END
  ) VIRTUAL,
  -- Whole milliseconds: integer sums are exact and do not depend on the order they are added in.
  duration_ms INTEGER GENERATED ALWAYS AS (CAST(round(duration_seconds * 1000) AS INTEGER)) VIRTUAL
);

-- Covering indexes: a date range (optionally for one user) is answered from the index alone.
CREATE INDEX calls_by_start ON calls (started_at, bucket, duration_ms);
CREATE INDEX calls_by_user_start ON calls (user_id, started_at, bucket, duration_ms);
