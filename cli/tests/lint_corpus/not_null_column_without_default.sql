-- expect: not-null-column-without-default at 2:39
ALTER TABLE hrms.employees ADD COLUMN badge text NOT NULL;
ALTER TABLE hrms.employees ADD COLUMN floor int NOT NULL DEFAULT 0;
ALTER TABLE hrms.employees ADD COLUMN seq bigint NOT NULL GENERATED ALWAYS AS IDENTITY;
ALTER TABLE hrms.employees ADD COLUMN nickname text;
