-- Tells listeners (the admission webhook's in-memory view of active grants) when a grant enters or
-- leaves `active`, or an active grant's expiry moves: NOTIFY is delivered at commit, in commit
-- order, and only if the transaction commits. Listeners also re-read by "updatedAt" now and then,
-- so a notification missed while disconnected is caught up.
CREATE FUNCTION "sesame_notify_grant_change"() RETURNS trigger AS $$
BEGIN
  IF NEW.status = 'active' OR (TG_OP = 'UPDATE' AND OLD.status = 'active') THEN
    PERFORM pg_notify('sesame_grant_changes', json_build_object(
      'id', NEW.id,
      'subjectId', NEW."subjectId",
      'resourceId', NEW."resourceId",
      'status', NEW.status,
      'expiresAtMs', (extract(epoch FROM NEW."expiresAt") * 1000)::float8,
      'version', NEW.version
    )::text);
  END IF;
  RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER "Grant_notify_insert" AFTER INSERT ON "Grant"
  FOR EACH ROW WHEN (NEW.status = 'active') EXECUTE FUNCTION "sesame_notify_grant_change"();
CREATE TRIGGER "Grant_notify_update" AFTER UPDATE OF "status", "expiresAt" ON "Grant"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD."expiresAt" IS DISTINCT FROM NEW."expiresAt")
  EXECUTE FUNCTION "sesame_notify_grant_change"();
