-- The tenant's own event log over REST, for its administrators. users 1.1.0 declares the
-- permission users:audit; the default tenant role tenant_admin holds it.
SELECT tenancy.install_module($${
    "key": "users", "name": "Users", "version": "1.1.0", "platform": ">=0.2",
    "description": "People of the tenant and their profiles", "icon": "users", "core": true, "sort_order": 0,
    "permissions": ["users:read", "users:write", "users:audit"],
    "config": {"default_locale": "en", "allow_avatars": true}
}$$);
SELECT tenancy.define_tenant_role(NULL, 'tenant_admin', '{users:*,hrms:read}',
                                  'Administers the tenant: its users and its event log');

-- Reads tenancy.events with its owner's rights (the log is granted to nobody): the current
-- tenant's events only, and only for holders of users:audit (TN071, 403, otherwise).
-- SELECT is all that is granted; the log refuses changes anyway (TN050).
CREATE VIEW api.events AS
SELECT e.id, e.at, e.actor, e.action, e.detail
FROM tenancy.events e
WHERE e.tenant_id = tenancy.current_tenant_id() AND (SELECT tenancy.require_permission('users:audit'));
GRANT SELECT ON api.events TO tenant_member;
