-- Demo data: two applications on one core. Loaded by scripts/up; does nothing when present.
-- Business suite: acme (premium, every business module, two companies with overrides),
-- globex (standard, the same modules), initech (free: hrms and chat only).
-- School ERP: springfield and shelbyville (standard, every school module), ogdenville (free:
-- school and attendance only).
-- Analysts: analyst_acme (acme, tenant role hr_manager), analyst_springfield (springfield),
-- analyst_multi (acme, globex).
-- The REST server: logs in as authenticator (NOINHERIT, PostgREST's idiom), enters the
-- token's tenant as a member of tenancy_service, then becomes tenant_member or web_anon
-- (or platform_admin, for the platform API; tenancy_analytics, for the analytics API).

SET client_min_messages = warning;

DO $demo$
DECLARE
    t uuid;
    c1 uuid;
    c2 uuid;
    spec record;
BEGIN
    IF EXISTS (SELECT FROM tenancy.tenants WHERE slug = 'acme') THEN
        RETURN;
    END IF;

    FOR spec IN SELECT * FROM (VALUES
        ('acme', 'Acme Corporation', 'premium', '{"primary": "#d9480f", "logo_url": "https://acme.example/logo.svg"}'::jsonb,
         '{hrms,payroll,chat,pipeline}'::text[], 'business'),
        ('globex', 'Globex', 'standard', '{"primary": "#1864ab"}', '{hrms,payroll,chat,pipeline}', 'business'),
        ('initech', 'Initech', 'free', '{"primary": "#2b8a3e"}', '{hrms,chat}', 'business'),
        ('springfield', 'Springfield School District', 'standard', '{"primary": "#f08c00"}',
         '{school,library,events,attendance}', 'school'),
        ('shelbyville', 'Shelbyville Schools', 'standard', '{"primary": "#5f3dc4"}',
         '{school,library,events,attendance}', 'school'),
        ('ogdenville', 'Ogdenville Academy', 'free', '{}', '{school,attendance}', 'school')
    ) AS s (slug, name, plan, theme, modules, app)
    LOOP
        t := tenancy.create_tenant(spec.slug, spec.name, spec.plan, spec.theme, spec.modules);
        c1 := tenancy.create_company(t, spec.name || CASE spec.app WHEN 'school' THEN ' Elementary' ELSE ' US' END);
        c2 := tenancy.create_company(t, spec.name || CASE spec.app WHEN 'school' THEN ' High' ELSE ' DE' END);
        -- Write the tenant's rows the way an application does: in its context, under RLS.
        PERFORM tenancy.enter_tenant(t);
        PERFORM tenancy.set_user('demo-loader', '{hr_manager}');  -- hrms:write, for the employees
        SET LOCAL ROLE tenant_member;

        INSERT INTO core.users (email, display_name)
        SELECT format('user%s@%s.example', i, spec.slug), format('User %s of %s', i, spec.name)
        FROM generate_series(1, 20) i;
        INSERT INTO core.user_profiles (user_id, phone, locale)
        SELECT id, '+1-555-' || lpad((row_number() OVER ())::text, 4, '0'), 'en' FROM core.users;

        IF spec.app = 'business' THEN
            INSERT INTO hrms.departments (company_id, name)
            SELECT c, d FROM unnest(ARRAY[c1, c2]) c, unnest('{Engineering,Sales,Finance}'::text[]) d;
            INSERT INTO hrms.employees (company_id, department_id, user_id, first_name, last_name, email, job_title, hired_on, salary)
            SELECT d.company_id, d.id, u.id, 'First' || i, 'Last' || i, format('employee%s@%s.example', i, spec.slug),
                   d.name || ' specialist', date '2020-01-01' + (i * 17), 40000 + i * 1000
            FROM generate_series(1, 30) i
            JOIN LATERAL (SELECT * FROM hrms.departments ORDER BY name, company_id OFFSET (i % 6) LIMIT 1) d ON true
            LEFT JOIN LATERAL (SELECT id FROM core.users ORDER BY email OFFSET (i % 20) LIMIT 1) u ON i <= 20;
            INSERT INTO chat.channels (name, is_private) VALUES ('general', false), ('random', false), ('leadership', true);
            INSERT INTO chat.messages (channel_id, author_id, body)
            SELECT ch.id, u.id, format('Message %s in #%s', i, ch.name)
            FROM chat.channels ch, LATERAL (SELECT id FROM core.users ORDER BY email LIMIT 5) u, generate_series(1, 4) i;
            IF 'payroll' = ANY (spec.modules) THEN
                INSERT INTO payroll.payslips (employee_id, period_start, period_end, gross, tax, currency)
                SELECT e.id, m, (m + interval '1 month' - interval '1 day')::date, e.salary / 12, round(e.salary / 12 * 0.2, 2),
                       CASE spec.slug WHEN 'acme' THEN 'EUR' ELSE 'USD' END
                FROM hrms.employees e, generate_series(date '2026-01-01', date '2026-03-01', interval '1 month') m;
                INSERT INTO pipeline.deals (company_id, title, amount, stage, owner_id, expected_close)
                SELECT CASE WHEN i % 2 = 0 THEN c1 ELSE c2 END, format('Deal %s', i), i * 2500,
                       (ARRAY['lead', 'qualified', 'proposal', 'won', 'lost'])[1 + i % 5],
                       (SELECT id FROM core.users ORDER BY email OFFSET (i % 20) LIMIT 1), date '2026-12-01' + i
                FROM generate_series(1, 12) i;
            END IF;
        ELSE
            INSERT INTO school.students (company_id, first_name, last_name, grade)
            SELECT CASE WHEN i % 2 = 0 THEN c1 ELSE c2 END, 'Student' || i, spec.name, 1 + i % 12
            FROM generate_series(1, 40) i;
            INSERT INTO attendance.records (student_id, day, status)
            SELECT s.id, d::date, (ARRAY['present', 'present', 'present', 'late', 'absent'])[1 + (abs(hashtext(s.id::text || d)) % 5)]
            FROM school.students s, generate_series(date '2026-11-02', date '2026-11-06', interval '1 day') d;
            IF 'library' = ANY (spec.modules) THEN
                INSERT INTO library.books (isbn, title, author, copies)
                SELECT format('978-0-%s-%s', 100 + i, spec.slug), format('Book %s', i), format('Author %s', i % 7), 1 + i % 3
                FROM generate_series(1, 25) i;
                INSERT INTO library.loans (book_id, student_id, loaned_on, due_on)
                SELECT b.id, s.id, date '2026-11-01', date '2026-11-15'
                FROM (SELECT id, row_number() OVER (ORDER BY title) n FROM library.books) b
                JOIN (SELECT id, row_number() OVER (ORDER BY first_name) n FROM school.students) s ON s.n = b.n
                WHERE b.n <= 10;
                INSERT INTO events.events (company_id, title, starts_at, ends_at, location)
                SELECT CASE WHEN i % 2 = 0 THEN c1 ELSE c2 END, format('Event %s', i),
                       timestamptz '2026-12-01 09:00+00' + i * interval '3 days',
                       timestamptz '2026-12-01 11:00+00' + i * interval '3 days', 'Main hall'
                FROM generate_series(1, 6) i;
            END IF;
        END IF;

        RESET ROLE;
        IF spec.slug = 'acme' THEN
            -- The configuration example of the design: defaults -> tenant -> company.
            PERFORM tenancy.enable_module(t, 'pipeline', '{"currency": "EUR", "tax_rate": 0.20, "invoice_prefix": "ACME"}');
            PERFORM tenancy.set_company_module(c2, 'pipeline', true, '{"tax_rate": 0.19, "invoice_prefix": "ACME-DE"}',
                                               enabled_features => '{forecasting}');
            PERFORM tenancy.set_company_module(c1, 'payroll', false);
        ELSIF spec.slug = 'springfield' THEN
            PERFORM tenancy.set_company_module(c1, 'library', false);
        END IF;
    END LOOP;
END $demo$;

DO $roles$
DECLARE
    analyst text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'authenticator') THEN
        CREATE ROLE authenticator LOGIN NOINHERIT;
    END IF;
    GRANT tenancy_service, tenant_member, web_anon, platform_admin, tenancy_analytics TO authenticator;
    FOREACH analyst IN ARRAY '{analyst_acme,analyst_springfield,analyst_multi}'::text[] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = analyst) THEN
            EXECUTE format('CREATE ROLE %I LOGIN IN ROLE tenant_member', analyst);
        END IF;
    END LOOP;
END $roles$;
SELECT tenancy.bind_role('analyst_acme', id) FROM tenancy.tenants WHERE slug = 'acme';
SELECT tenancy.bind_role('analyst_springfield', id) FROM tenancy.tenants WHERE slug = 'springfield';
SELECT tenancy.bind_role('analyst_multi', id) FROM tenancy.tenants WHERE slug IN ('acme', 'globex');
-- analyst_acme manages acme's staff (hrms:write); the others only read.
SELECT tenancy.grant_tenant_role(id, 'analyst_acme', 'hr_manager') FROM tenancy.tenants WHERE slug = 'acme';
