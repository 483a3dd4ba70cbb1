-- Everything the tenancy extension consists of, one line per fact, sorted: what an upgraded
-- database must share with a fresh install. Definitions, not counts.
WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'tenancy'),
member AS (
    SELECT d.classid, d.objid, d.objsubid FROM pg_depend d, ext
    WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
),
rel AS (SELECT objid AS oid FROM member WHERE classid = 'pg_class'::regclass)
SELECT line FROM (
    SELECT 'object ' || pg_describe_object(classid, objid, objsubid) FROM member
    UNION ALL
    SELECT 'function ' || pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, 'default')
    FROM member m JOIN pg_proc p ON p.oid = m.objid WHERE m.classid = 'pg_proc'::regclass AND p.prokind <> 'a'
    UNION ALL
    SELECT format('column %s.%s %s notnull=%s default=%s identity=%s acl=%s', c.oid::regclass, a.attname,
                  format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
                  a.attidentity, a.attacl)
    FROM rel JOIN pg_class c ON c.oid = rel.oid JOIN pg_attribute a ON a.attrelid = c.oid
    LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT format('relation %s kind=%s rls=%s force=%s acl=%s', c.oid::regclass, c.relkind, c.relrowsecurity,
                  c.relforcerowsecurity, c.relacl)
    FROM rel JOIN pg_class c ON c.oid = rel.oid
    UNION ALL
    SELECT format('constraint %s %s: %s', con.conrelid::regclass, con.conname, pg_get_constraintdef(con.oid))
    FROM rel JOIN pg_constraint con ON con.conrelid = rel.oid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM rel JOIN pg_index i ON i.indrelid = rel.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM rel JOIN pg_trigger t ON t.tgrelid = rel.oid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('policy %s %s %s %s roles=%s using=%s check=%s', p.tablename, p.policyname, p.permissive, p.cmd,
                  p.roles, p.qual, p.with_check)
    FROM pg_policies p WHERE p.schemaname = 'tenancy'
    UNION ALL
    SELECT format('event trigger %s on %s tags=%s enabled=%s function=%s', e.evtname, e.evtevent, e.evttags,
                  e.evtenabled, e.evtfoid::regproc)
    FROM member m JOIN pg_event_trigger e ON e.oid = m.objid WHERE m.classid = 'pg_event_trigger'::regclass
    UNION ALL
    SELECT format('schema tenancy acl=%s', n.nspacl) FROM pg_namespace n WHERE n.nspname = 'tenancy'
    UNION ALL
    SELECT format('comment %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
    FROM member m JOIN pg_description d ON d.classoid = m.classid AND d.objoid = m.objid
    UNION ALL
    SELECT format('comment role %s: %s', r.rolname, shobj_description(r.oid, 'pg_authid'))
    FROM pg_roles r WHERE r.rolname LIKE 'tenancy\_%' OR r.rolname = 'tenant_member'
    UNION ALL
    SELECT format('dumped with the database: %s where %s', c::regclass, w)
    FROM ext, unnest(ext.extconfig, ext.extcondition) AS x(c, w)
) facts(line)
ORDER BY 1;
