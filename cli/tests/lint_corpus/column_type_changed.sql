-- expect: column-type-changed at 2:13
ALTER TABLE hrms.employees ALTER COLUMN job_title TYPE varchar(80);
ALTER TABLE hrms.employees ALTER COLUMN job_title SET DEFAULT 'staff';
