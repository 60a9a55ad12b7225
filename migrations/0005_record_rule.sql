-- The record rule (src/call/record.rs; scripts/lib/records.mjs for the loader), kept by the database for the
-- writers that bypass the loader and the webhook (`wrangler d1 execute`, another worker): a write to `calls`
-- or `users` that breaks it fails with a message naming the column, before any trigger of 0002/0004 runs,
-- so no rollup is touched. tests/vectors/call-records.json and user-emails.json hold the three homes of the
-- rule together (tests/e2e/guard.test.mjs writes each vector here). Replaces 0003's guard, which this keeps:
--   calls.id, calls.user_id, users.id: 1 to 256 characters without surrounding White_Space (not NULL);
--   calls.platform: 1 to 64 characters, not blank (space, tab, LF, CR: the bucket rule's trim);
--   calls.platform_number: NULL, blank, or at most 64 characters once trimmed that way;
--   calls.started_at: an integer (not text, not a fraction) from 2000-01-01 up to 2100-01-01, UTC, in ms;
--   calls.duration_seconds: a number, at least 0, whose rounded milliseconds are at most one week (1e300,
--     which would turn the rollups' integer sums into REALs, is refused);
--   users.email: the email rule: exactly one @ with text on both sides, at most 64 bytes before it and 254 in
--     all, no White_Space, control, invisible formatting or quoting ("(),:;<>[\]) character;
--   users.id: an id that starts with @ is the webhook's for an email (@ and the email, ASCII letters in lower
--     case) and must be that; and the user '(no owner)' (below) is neither written again nor changed.
-- Rows already stored are not checked (`node scripts/rollups.mjs check` compares the rollups with them).

-- A call may have no owner (the webhook's created_by_email may be null): it then belongs to this user, whose
-- email is no address, so it counts in every cross-tenant total and matches no user_email filter. Written
-- before the guard, which would refuse its email.
INSERT INTO users (id, email) VALUES ('(no owner)', '(no owner)');

DROP TRIGGER calls_guard_insert;
DROP TRIGGER calls_guard_update;

CREATE TRIGGER calls_guard_insert BEFORE INSERT ON calls
BEGIN
  SELECT RAISE(ABORT, 'calls.id must be 1 to 256 characters without surrounding whitespace')
    WHERE NEW.id IS NULL OR typeof(NEW.id) <> 'text' OR NEW.id = '' OR length(NEW.id) > 256
      OR trim(NEW.id, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)) <> NEW.id;
  SELECT RAISE(ABORT, 'calls.user_id must be 1 to 256 characters without surrounding whitespace')
    WHERE NEW.user_id IS NULL OR typeof(NEW.user_id) <> 'text' OR NEW.user_id = '' OR length(NEW.user_id) > 256
      OR trim(NEW.user_id, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)) <> NEW.user_id;
  SELECT RAISE(ABORT, 'calls.platform must be 1 to 64 characters, not blank')
    WHERE NEW.platform IS NULL OR trim(NEW.platform, char(32, 9, 10, 13)) = '' OR length(NEW.platform) > 64;
  SELECT RAISE(ABORT, 'calls.platform_number must be at most 64 characters once trimmed')
    WHERE length(trim(NEW.platform_number, char(32, 9, 10, 13))) > 64;
  SELECT RAISE(ABORT, 'calls.started_at must be an integer of epoch milliseconds from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z')
    WHERE typeof(NEW.started_at) <> 'integer' OR NEW.started_at < 946684800000 OR NEW.started_at >= 4102444800000;
  SELECT RAISE(ABORT, 'calls.duration_seconds must be a number from 0 to one week (604,800 seconds)')
    WHERE typeof(NEW.duration_seconds) NOT IN ('integer', 'real') OR NEW.duration_seconds < 0
      OR round(NEW.duration_seconds * 1000) > 604800000;
END;

CREATE TRIGGER calls_guard_update BEFORE UPDATE ON calls
BEGIN
  SELECT RAISE(ABORT, 'calls.id must be 1 to 256 characters without surrounding whitespace')
    WHERE NEW.id IS NULL OR typeof(NEW.id) <> 'text' OR NEW.id = '' OR length(NEW.id) > 256
      OR trim(NEW.id, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)) <> NEW.id;
  SELECT RAISE(ABORT, 'calls.user_id must be 1 to 256 characters without surrounding whitespace')
    WHERE NEW.user_id IS NULL OR typeof(NEW.user_id) <> 'text' OR NEW.user_id = '' OR length(NEW.user_id) > 256
      OR trim(NEW.user_id, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)) <> NEW.user_id;
  SELECT RAISE(ABORT, 'calls.platform must be 1 to 64 characters, not blank')
    WHERE NEW.platform IS NULL OR trim(NEW.platform, char(32, 9, 10, 13)) = '' OR length(NEW.platform) > 64;
  SELECT RAISE(ABORT, 'calls.platform_number must be at most 64 characters once trimmed')
    WHERE length(trim(NEW.platform_number, char(32, 9, 10, 13))) > 64;
  SELECT RAISE(ABORT, 'calls.started_at must be an integer of epoch milliseconds from 2000-01-01T00:00:00Z up to (not including) 2100-01-01T00:00:00Z')
    WHERE typeof(NEW.started_at) <> 'integer' OR NEW.started_at < 946684800000 OR NEW.started_at >= 4102444800000;
  SELECT RAISE(ABORT, 'calls.duration_seconds must be a number from 0 to one week (604,800 seconds)')
    WHERE typeof(NEW.duration_seconds) NOT IN ('integer', 'real') OR NEW.duration_seconds < 0
      OR round(NEW.duration_seconds * 1000) > 604800000;
END;

CREATE TRIGGER users_guard_insert BEFORE INSERT ON users
BEGIN
  SELECT RAISE(ABORT, 'users.id (no owner) is the user of calls without an owner, and no other')
    WHERE NEW.id = '(no owner)';
  SELECT RAISE(ABORT, 'users.id must be 1 to 256 characters without surrounding whitespace')
    WHERE NEW.id IS NULL OR typeof(NEW.id) <> 'text' OR NEW.id = '' OR length(NEW.id) > 256
      OR trim(NEW.id, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)) <> NEW.id;
  SELECT RAISE(ABORT, 'users.id that starts with @ must be @ and the email, its ASCII letters in lower case')
    WHERE substr(NEW.id, 1, 1) = '@' AND NEW.id IS NOT '@' || lower(NEW.email);
  SELECT RAISE(ABORT, 'users.email must be an email address (at most 254 bytes)')
    WHERE NEW.email IS NULL OR typeof(NEW.email) <> 'text'
      OR instr(NEW.email, char(0)) > 0
      OR instr(NEW.email, '@') < 2
      OR substr(NEW.email, instr(NEW.email, '@') + 1) = ''
      OR instr(substr(NEW.email, instr(NEW.email, '@') + 1), '@') > 0
      OR length(CAST(substr(NEW.email, 1, instr(NEW.email, '@') - 1) AS BLOB)) > 64
      OR length(CAST(NEW.email AS BLOB)) > 254
      -- Forbidden characters, in four patterns: D1 allows GLOB patterns of at most 50 bytes.
      OR NEW.email GLOB '*[' || char(1) || '-' || char(32) || char(127) || '-' || char(160) || ']*'
      OR NEW.email GLOB '*[' || char(173, 5760, 8192) || '-' || char(8207, 8232) || '-' || char(8239) || ']*'
      OR NEW.email GLOB '*[' || char(8287) || '-' || char(8292, 8294) || '-' || char(8303, 12288, 65279) || ']*'
      OR NEW.email GLOB '*[]"(),:;<>[\]*';
END;

CREATE TRIGGER users_guard_update BEFORE UPDATE ON users
BEGIN
  SELECT RAISE(ABORT, 'users.id (no owner) is the user of calls without an owner, and no other')
    WHERE OLD.id = '(no owner)' OR NEW.id = '(no owner)';
  SELECT RAISE(ABORT, 'users.id must be 1 to 256 characters without surrounding whitespace')
    WHERE NEW.id IS NULL OR typeof(NEW.id) <> 'text' OR NEW.id = '' OR length(NEW.id) > 256
      OR trim(NEW.id, char(9, 10, 11, 12, 13, 32, 133, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288)) <> NEW.id;
  SELECT RAISE(ABORT, 'users.id that starts with @ must be @ and the email, its ASCII letters in lower case')
    WHERE substr(NEW.id, 1, 1) = '@' AND NEW.id IS NOT '@' || lower(NEW.email);
  SELECT RAISE(ABORT, 'users.email must be an email address (at most 254 bytes)')
    WHERE NEW.email IS NULL OR typeof(NEW.email) <> 'text'
      OR instr(NEW.email, char(0)) > 0
      OR instr(NEW.email, '@') < 2
      OR substr(NEW.email, instr(NEW.email, '@') + 1) = ''
      OR instr(substr(NEW.email, instr(NEW.email, '@') + 1), '@') > 0
      OR length(CAST(substr(NEW.email, 1, instr(NEW.email, '@') - 1) AS BLOB)) > 64
      OR length(CAST(NEW.email AS BLOB)) > 254
      -- Forbidden characters, in four patterns: D1 allows GLOB patterns of at most 50 bytes.
      OR NEW.email GLOB '*[' || char(1) || '-' || char(32) || char(127) || '-' || char(160) || ']*'
      OR NEW.email GLOB '*[' || char(173, 5760, 8192) || '-' || char(8207, 8232) || '-' || char(8239) || ']*'
      OR NEW.email GLOB '*[' || char(8287) || '-' || char(8292, 8294) || '-' || char(8303, 12288, 65279) || ']*'
      OR NEW.email GLOB '*[]"(),:;<>[\]*';
END;
