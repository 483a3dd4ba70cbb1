-- The publications the coordinator alone has (the first `migrate` runs without propagation, so
-- V14's tenancy_realtime stayed there) that publish a distributed table, each as the commands
-- that make it again through Citus: dropped and created in one transaction, Citus creates it on
-- every worker (with the distributed tables), marks it distributed, and from then on carries
-- each ALTER PUBLICATION there. A worker's real-time slot decodes its shards' changes as the
-- distributed table's (citus.enable_change_data_capture), which its own publication must list.
-- (publication, commands).
SELECT p.pubname::text,
       format('DROP PUBLICATION %I; CREATE PUBLICATION %I%s WITH (publish = %L, publish_via_partition_root = %s); '
              'ALTER PUBLICATION %I OWNER TO %I',
              p.pubname, p.pubname,
              CASE WHEN p.puballtables THEN ' FOR ALL TABLES'
                   ELSE ' FOR ' || concat_ws(', ',
                       (SELECT 'TABLE ' || string_agg(format('%s%s%s', r.prrelid::regclass,
                                   (SELECT ' (' || string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) || ')'
                                    FROM pg_attribute a WHERE a.attrelid = r.prrelid AND a.attnum = ANY (r.prattrs)),
                                   ' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')'), ', TABLE ')
                        FROM pg_publication_rel r WHERE r.prpubid = p.oid),
                       (SELECT string_agg(format('TABLES IN SCHEMA %I', n.pnnspid::regnamespace::text), ', ')
                        FROM pg_publication_namespace n WHERE n.pnpubid = p.oid)) END,
              concat_ws(', ', CASE WHEN p.pubinsert THEN 'insert' END, CASE WHEN p.pubupdate THEN 'update' END,
                        CASE WHEN p.pubdelete THEN 'delete' END, CASE WHEN p.pubtruncate THEN 'truncate' END),
              CASE WHEN p.pubviaroot THEN 'true' ELSE 'false' END, p.pubname, p.pubowner::regrole::text)
FROM pg_publication p
WHERE NOT EXISTS (SELECT FROM pg_dist_object o WHERE o.classid = 'pg_publication'::regclass AND o.objid = p.oid)
  AND EXISTS (SELECT FROM pg_publication_rel r JOIN pg_dist_partition d ON d.logicalrelid = r.prrelid
              WHERE r.prpubid = p.oid)
ORDER BY 1
