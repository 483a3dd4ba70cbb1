-- The school ERP: a student registry, libraries, events and attendance.
SELECT tenancy.install_module($${
    "key": "school", "name": "School administration", "version": "1.0.0", "platform": ">=0.1",
    "description": "Students and their classes", "icon": "school", "sort_order": 100,
    "permissions": ["school:read", "school:admin"],
    "config": {"grades": [1, 12], "term_starts": "09-01"}
}$$);
SELECT tenancy.install_module($${
    "key": "library", "name": "Library", "version": "1.0.0", "platform": ">=0.1",
    "description": "Books and loans", "icon": "book", "sort_order": 110,
    "requires": ["school"], "tier": "standard",
    "permissions": ["library:read", "library:lend"],
    "config": {"loan_days": 14, "max_loans": 3},
    "features": {"reservations": false, "late_fees": true}
}$$);
SELECT tenancy.install_module($${
    "key": "events", "name": "Events", "version": "1.0.0", "platform": ">=0.1",
    "description": "School events and calendars", "icon": "calendar", "sort_order": 120,
    "permissions": ["events:read", "events:write"],
    "config": {"timezone": "UTC"}
}$$);
SELECT tenancy.install_module($${
    "key": "attendance", "name": "Attendance", "version": "1.0.0", "platform": ">=0.1",
    "description": "Daily attendance of students", "icon": "check-square", "sort_order": 130,
    "requires": ["school"],
    "permissions": ["attendance:read", "attendance:record"],
    "config": {"late_after": "08:15"},
    "features": {"parent_notifications": false}
}$$);

CREATE SCHEMA school;
CREATE TABLE school.students (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    company_id  uuid,
    first_name  text NOT NULL,
    last_name   text NOT NULL,
    grade       int NOT NULL CHECK (grade BETWEEN 1 AND 12),
    enrolled_on date NOT NULL DEFAULT current_date,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, company_id) REFERENCES tenancy.companies (tenant_id, id)
);

CREATE SCHEMA library;
CREATE TABLE library.books (
    tenant_id uuid NOT NULL,
    id        uuid NOT NULL DEFAULT gen_random_uuid(),
    isbn      text,
    title     text NOT NULL,
    author    text,
    copies    int NOT NULL DEFAULT 1 CHECK (copies >= 0),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, isbn)
);
CREATE TABLE library.loans (
    tenant_id   uuid NOT NULL,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    book_id     uuid NOT NULL,
    student_id  uuid NOT NULL,
    loaned_on   date NOT NULL DEFAULT current_date,
    due_on      date NOT NULL,
    returned_on date,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, book_id) REFERENCES library.books (tenant_id, id),
    FOREIGN KEY (tenant_id, student_id) REFERENCES school.students (tenant_id, id)
);

CREATE SCHEMA events;
CREATE TABLE events.events (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    company_id uuid,
    title      text NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz,
    location   text,
    PRIMARY KEY (tenant_id, id),
    CHECK (ends_at IS NULL OR ends_at >= starts_at),
    FOREIGN KEY (tenant_id, company_id) REFERENCES tenancy.companies (tenant_id, id)
);

CREATE SCHEMA attendance;
CREATE TABLE attendance.records (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    student_id uuid NOT NULL,
    day        date NOT NULL,
    status     text NOT NULL CHECK (status IN ('present', 'absent', 'late', 'excused')),
    note       text,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, student_id, day),
    FOREIGN KEY (tenant_id, student_id) REFERENCES school.students (tenant_id, id)
);
