-- Grant changes are told through Redis by the process that commits them (src/jobs/grant-changes.ts).
-- A transaction that sends a NOTIFY takes a lock global to the server from its commit until it
-- ends, so every activation and revoke of the install queued behind every other one's WAL flush.
DROP TRIGGER IF EXISTS "Grant_notify_insert" ON "Grant";
DROP TRIGGER IF EXISTS "Grant_notify_update" ON "Grant";
DROP FUNCTION IF EXISTS "sesame_notify_grant_change"();
