-- expect: column-without-analytics-class at 5:39
-- hrms.employees exists and analytics reads it once its policies declare column classes (the
-- database's tenancy.analytics_columns, or `--applied existing_tables/policies`): a new column
-- without a class is a warning, never a refusal.
ALTER TABLE hrms.employees ADD COLUMN shift text;
