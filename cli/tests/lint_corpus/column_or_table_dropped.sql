-- expect: column-or-table-dropped at 4:13
-- expect: column-or-table-dropped at 5:1
-- expect: column-or-table-dropped at 5:1
ALTER TABLE hrms.employees DROP COLUMN job_title;
DROP TABLE hrms.departments, payroll.payslips;
-- created and dropped in the same run: nothing to lose
CREATE TEMP TABLE scratch (a int);
DROP TABLE scratch;
