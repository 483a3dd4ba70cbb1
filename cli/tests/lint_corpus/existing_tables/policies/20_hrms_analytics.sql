-- hrms.employees as the policies declare it to analytics (read with `--applied` by tests/lint.rs).
SELECT tenancy.protect('hrms.employees', 'hrms', analytics => '{"job_title": "dimension",
    "salary": {"class": "measure", "extremes": true, "reason": "pay bands are public"}, "email": "private"}'::jsonb);
