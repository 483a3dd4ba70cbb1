-- Real-time (issue 12): the publication the API's WAL consumer reads (one replication slot per
-- server instance reads it), who may add tables to it, the login the consumer connects with,
-- and broadcasts from the database (a trigger can call realtime.broadcast).
CREATE SCHEMA realtime;
COMMENT ON SCHEMA realtime IS 'Real-time: tables published to /realtime/v1 and broadcasts from SQL.';

-- Inserts, updates and deletes only: a TRUNCATE names no rows, so no tenant to route it to.
CREATE PUBLICATION tenancy_realtime FOR TABLE chat.messages, events.events
    WITH (publish = 'insert, update, delete');

-- The consumer's login: REPLICATION reads the stream and keeps the slot, nothing else (it
-- owns no table and is granted none). Operators give it a password or a certificate.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenancy_realtime') THEN
        CREATE ROLE tenancy_realtime LOGIN REPLICATION;
    END IF;
END $$;

-- A broadcast is a transactional logical message carrying its tenant: the consumer trusts the
-- tenant it names, so only realtime.broadcast (which takes the tenant from the caller's
-- context, never from a parameter) may emit one.
REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(bool, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pg_logical_emit_message(bool, text, bytea) FROM PUBLIC;

CREATE FUNCTION realtime.broadcast(topic text, event text, payload jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    tenant uuid := tenancy.current_tenant_id();
BEGIN
    IF tenant IS NULL THEN
        RAISE EXCEPTION 'realtime.broadcast needs a tenant context' USING ERRCODE = 'TN004',
            HINT = 'Call it from a request (or a trigger) acting for a tenant.';
    END IF;
    IF coalesce(topic, '') = '' OR coalesce(event, '') = '' THEN
        RAISE EXCEPTION 'realtime.broadcast needs a topic and an event' USING ERRCODE = '22023';
    END IF;
    PERFORM pg_logical_emit_message(true, 'tenancy_realtime', jsonb_build_object(
        'tenant', tenant, 'topic', 'realtime:' || topic, 'event', event, 'payload', coalesce(payload, '{}'))::text);
END $$;
COMMENT ON FUNCTION realtime.broadcast(text, text, jsonb) IS
'Sends event with payload to the subscribers of channel topic (realtime-js channel name) of the current tenant only, when the transaction commits. TN004 without a tenant context.';
GRANT USAGE ON SCHEMA realtime TO tenant_member;
REVOKE EXECUTE ON FUNCTION realtime.broadcast(text, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION realtime.broadcast(text, text, jsonb) TO tenant_member;

-- Publishing a table streams its rows' changes to the consumer: only tenant-owned tables
-- (a tenant_id to route each change by), and only the platform's administrators decide.
CREATE FUNCTION realtime.publish(tbl regclass) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM tenancy.protected_tables p WHERE p.tbl = publish.tbl) THEN
        RAISE EXCEPTION 'table % is not tenant-owned', tbl USING ERRCODE = '42501',
            HINT = 'Protect it with tenancy.protect first: each change is routed by its tenant_id.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid
                   WHERE p.pubname = 'tenancy_realtime' AND r.prrelid = tbl) THEN
        EXECUTE format('ALTER PUBLICATION tenancy_realtime ADD TABLE %s', tbl);
    END IF;
END $$;
COMMENT ON FUNCTION realtime.publish(regclass) IS
'Streams the inserts, updates and deletes of a tenant-owned table to /realtime/v1 subscribers (Postgres Changes). tenancy_admin only.';
REVOKE EXECUTE ON FUNCTION realtime.publish(regclass) FROM PUBLIC;
GRANT USAGE ON SCHEMA realtime TO tenancy_admin;
GRANT EXECUTE ON FUNCTION realtime.publish(regclass) TO tenancy_admin;
