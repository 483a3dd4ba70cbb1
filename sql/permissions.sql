-- Module permissions. A module declares "<module>:<action>" permissions in its manifest; a
-- tenant role is a named set of them (defined for one tenant, or with tenant NULL as every
-- tenant's default); who acts holds tenant roles claimed by their token (named by the
-- service role with set_user) or granted in tenant_role_members.
-- SQLSTATEs: TN070 unknown permission or tenant role, TN071 permission denied.

CREATE TABLE tenancy.tenant_roles (
    tenant_id   uuid REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    permissions text[] NOT NULL DEFAULT '{}',
    description text
);
CREATE UNIQUE INDEX tenant_roles_name ON tenancy.tenant_roles
    (coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'), name);
COMMENT ON TABLE tenancy.tenant_roles IS
'Tenant roles: named sets of module permissions. tenant_id NULL: a default every tenant has unless it defines its own of that name.';

CREATE TABLE tenancy.tenant_role_members (
    tenant_id uuid NOT NULL REFERENCES tenancy.tenants (id) ON DELETE CASCADE,
    member    text NOT NULL,
    role_name text NOT NULL,
    PRIMARY KEY (tenant_id, member, role_name)
);
COMMENT ON TABLE tenancy.tenant_role_members IS
'Who holds which tenant role in a tenant: member is a user id (the token''s subject, as set_user names it) or a database role name (an analyst).';

SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_roles', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.tenant_role_members', '');

-- The permissions no installed module declares (a "<module>:*" wildcard needs the module).
CREATE FUNCTION tenancy._unknown_permissions(permissions text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(p ORDER BY p), '{}') FROM unnest(permissions) p
    WHERE NOT EXISTS (SELECT FROM tenancy.modules m
                      WHERE p = ANY (m.permissions) OR p = m.key || ':*');
$$;

CREATE FUNCTION tenancy._require_known_permissions(permissions text[]) RETURNS void
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_variable
DECLARE
    unknown text[] := tenancy._unknown_permissions(permissions);
BEGIN
    IF cardinality(unknown) > 0 THEN
        RAISE EXCEPTION 'unknown permission(s) %', array_to_string(unknown, ', ') USING ERRCODE = 'TN070',
            HINT = 'Permissions are "<module>:<action>" as declared by an installed module''s manifest, or "<module>:*".';
    END IF;
END $$;

-- A tenant's roles by name: its own definition, else the default.
CREATE FUNCTION tenancy._role_permissions(tenant uuid, roles text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(DISTINCT p), '{}')
    FROM (SELECT DISTINCT ON (r.name) r.permissions FROM tenancy.tenant_roles r
          WHERE (r.tenant_id = tenant OR r.tenant_id IS NULL) AND r.name = ANY (roles)
          ORDER BY r.name, r.tenant_id NULLS LAST) defined, unnest(defined.permissions) p;
$$;

CREATE FUNCTION tenancy.define_tenant_role(tenant uuid, name text, permissions text[], description text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    IF tenant IS NOT NULL THEN
        PERFORM tenancy._tenant_status(tenant);
    END IF;
    PERFORM tenancy._require_known_permissions(permissions);
    DELETE FROM tenancy.tenant_roles r WHERE r.tenant_id IS NOT DISTINCT FROM tenant AND r.name = define_tenant_role.name;
    INSERT INTO tenancy.tenant_roles (tenant_id, name, permissions, description)
    SELECT tenant, name, ARRAY(SELECT DISTINCT unnest(permissions) ORDER BY 1), description;  -- (Citus: no subquery in VALUES)
    PERFORM tenancy._record(tenant, 'role.defined', jsonb_build_object('role', name, 'permissions', permissions));
END $$;
COMMENT ON FUNCTION tenancy.define_tenant_role(uuid, text, text[], text) IS
'Defines (or redefines) a tenant role as a set of module permissions; tenant NULL defines a default every tenant has unless it defines its own of that name. TN070 for a permission no installed module declares.';

CREATE FUNCTION tenancy.drop_tenant_role(tenant uuid, name text) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    DELETE FROM tenancy.tenant_roles r WHERE r.tenant_id IS NOT DISTINCT FROM tenant AND r.name = drop_tenant_role.name;
    IF FOUND THEN
        PERFORM tenancy._record(tenant, 'role.dropped', jsonb_build_object('role', name));
    END IF;
    RETURN FOUND;
END $$;
COMMENT ON FUNCTION tenancy.drop_tenant_role(uuid, text) IS
'Drops a tenant''s own role definition (or, with tenant NULL, a default). Its holders keep the name, which then grants what a default of that name grants, or nothing.';

CREATE FUNCTION tenancy.grant_tenant_role(tenant uuid, member text, role text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    PERFORM tenancy._tenant_status(tenant);
    IF NOT EXISTS (SELECT FROM tenancy.tenant_roles r WHERE (r.tenant_id = tenant OR r.tenant_id IS NULL) AND r.name = role) THEN
        RAISE EXCEPTION 'tenant role "%" is not defined', role USING ERRCODE = 'TN070';
    END IF;
    INSERT INTO tenancy.tenant_role_members (tenant_id, member, role_name) VALUES (tenant, member, role)
    ON CONFLICT ON CONSTRAINT tenant_role_members_pkey DO NOTHING;
    PERFORM tenancy._record(tenant, 'role.granted', jsonb_build_object('role', role, 'member', member));
END $$;
COMMENT ON FUNCTION tenancy.grant_tenant_role(uuid, text, text) IS
'Gives member (a user id, the token''s subject, or a database role name) a tenant role in a tenant. TN070 when the role is not defined for it.';

CREATE FUNCTION tenancy.revoke_tenant_role(tenant uuid, member text, role text) RETURNS bool
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    PERFORM tenancy._serialize_catalog_writes();
    DELETE FROM tenancy.tenant_role_members m
    WHERE m.tenant_id = tenant AND m.member = revoke_tenant_role.member AND m.role_name = role;
    IF FOUND THEN
        PERFORM tenancy._record(tenant, 'role.revoked', jsonb_build_object('role', role, 'member', member));
    END IF;
    RETURN FOUND;
END $$;
COMMENT ON FUNCTION tenancy.revoke_tenant_role(uuid, text, text) IS 'Takes a tenant role back from a member.';

CREATE FUNCTION tenancy.set_user(user_id text, tenant_roles text[] DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF NOT pg_has_role(tenancy._outer_role(), 'tenancy_service', 'MEMBER') THEN
        RAISE EXCEPTION 'permission denied to name the user' USING ERRCODE = '42501',
            HINT = 'Only the service role, which checked the token, may say who acts.';
    END IF;
    IF NOT tenancy._context_set_user(user_id, tenant_roles) THEN
        RAISE EXCEPTION 'set_user needs a tenant entered with enter_tenant in this transaction' USING ERRCODE = 'TN004';
    END IF;
END $$;
COMMENT ON FUNCTION tenancy.set_user(text, text[]) IS
'For the service role, after enter_tenant: who acts (the token''s subject) and the tenant roles the token claims, until the end of the transaction. 42501 for anyone else, TN004 without an entered tenant.';

CREATE FUNCTION tenancy.current_tenant_roles() RETURNS text[]
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    tenant uuid := (tenancy._context()).tenant;
    acting record;
BEGIN
    IF tenant IS NULL THEN
        RETURN '{}';
    END IF;
    SELECT * INTO acting FROM tenancy._context_user();
    RETURN ARRAY(
        SELECT unnest(coalesce(acting.roles, '{}'))
        UNION
        SELECT m.role_name FROM tenancy.tenant_role_members m
        WHERE m.tenant_id = tenant AND m.member = coalesce(acting.user_id, tenancy._outer_role()::regrole::text)
        ORDER BY 1);
END $$;
COMMENT ON FUNCTION tenancy.current_tenant_roles() IS
'The tenant roles of who acts in the current tenant: those their token claims (set_user) and those granted to them (to the token''s subject, or else to the database role acting). Empty without a tenant.';

CREATE FUNCTION tenancy.current_permissions() RETURNS text[]
LANGUAGE sql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(p ORDER BY p), '{}')
    FROM tenancy._context() c, unnest(tenancy._role_permissions(c.tenant, tenancy.current_tenant_roles())) p
    WHERE split_part(p, ':', 1) = ANY (c.modules);
$$;
COMMENT ON FUNCTION tenancy.current_permissions() IS
'The permissions who acts holds in the current tenant, for modules the tenant (and company) has enabled: for a frontend to show what the user may do.';

CREATE FUNCTION tenancy.has_permission(permission text) RETURNS bool
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
    granted text[];
BEGIN
    PERFORM tenancy._require_known_permissions(ARRAY[permission]);
    granted := tenancy.current_permissions();
    RETURN permission = ANY (granted) OR split_part(permission, ':', 1) || ':*' = ANY (granted);
END $$;
COMMENT ON FUNCTION tenancy.has_permission(text) IS
'Whether who acts holds a module permission ("<module>:<action>") in the current tenant, the module being enabled for it. For policies write (SELECT tenancy.has_permission(...)): one evaluation per statement. TN070 for a permission no module declares.';

CREATE FUNCTION tenancy.require_permission(permission text) RETURNS bool
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
BEGIN
    IF (tenancy._context()).tenant IS NULL THEN
        RETURN false;  -- no tenant: the tenant policies refuse, as for any table
    END IF;
    IF NOT tenancy.has_permission(permission) THEN
        RAISE EXCEPTION 'permission "%" denied', permission USING ERRCODE = 'TN071',
            DETAIL = format('permission=%s', permission),
            HINT = coalesce('Tenant roles that grant it: ' || (
                SELECT string_agg(DISTINCT r.name, ', ') FROM tenancy.tenant_roles r
                WHERE (r.tenant_id = (tenancy._context()).tenant OR r.tenant_id IS NULL)
                  AND (permission = ANY (r.permissions) OR split_part(permission, ':', 1) || ':*' = ANY (r.permissions))),
                'No tenant role grants it.');
    END IF;
    RETURN true;
END $$;
COMMENT ON FUNCTION tenancy.require_permission(text) IS
'has_permission that refuses: TN071 naming the permission (DETAIL permission=<p>, HINT the roles that grant it); false without a tenant. For write policies: USING ((SELECT tenancy.require_permission(''hrms:write''))).';
