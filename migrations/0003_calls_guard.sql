-- Refuse the writes to `calls` that the data contract rules out but SQLite's column types let through, and
-- that would make the rollups (0002) disagree with the calls they summarize:
--   - a NULL id (SQLite allows it in a TEXT PRIMARY KEY; the rollup ledger cannot hold it);
--   - a started_at that is not an integer once the column's INTEGER affinity has had its way: an ISO text
--     ('2026-11-01T00:00:00Z') or a fractional millisecond would be filed under the wrong hour;
--   - a duration_seconds that is not a number ('abc' passes CHECK (duration_seconds >= 0), since SQLite
--     orders text after numbers, and would count as 0).
-- Numeric text that the affinity converts ('1793491200000', '12.5') is accepted, as before. The statement
-- that tries such a write fails with the message below and changes nothing.

CREATE TRIGGER calls_guard_insert BEFORE INSERT ON calls
BEGIN
  SELECT RAISE(ABORT, 'calls.id must not be NULL') WHERE NEW.id IS NULL;
  SELECT RAISE(ABORT, 'calls.started_at must be an integer: Unix epoch milliseconds')
    WHERE typeof(NEW.started_at) <> 'integer';
  SELECT RAISE(ABORT, 'calls.duration_seconds must be a number of seconds')
    WHERE typeof(NEW.duration_seconds) NOT IN ('integer', 'real');
END;

CREATE TRIGGER calls_guard_update BEFORE UPDATE ON calls
BEGIN
  SELECT RAISE(ABORT, 'calls.id must not be NULL') WHERE NEW.id IS NULL;
  SELECT RAISE(ABORT, 'calls.started_at must be an integer: Unix epoch milliseconds')
    WHERE typeof(NEW.started_at) <> 'integer';
  SELECT RAISE(ABORT, 'calls.duration_seconds must be a number of seconds')
    WHERE typeof(NEW.duration_seconds) NOT IN ('integer', 'real');
END;
