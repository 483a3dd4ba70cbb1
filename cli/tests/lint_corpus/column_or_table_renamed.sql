-- expect: column-or-table-renamed at 3:13
-- expect: column-or-table-renamed at 4:13
ALTER TABLE hrms.employees RENAME COLUMN job_title TO title;
ALTER TABLE hrms.departments RENAME TO teams;
