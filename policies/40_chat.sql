-- Module chat: its tables are tenant-owned and usable only while chat is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run.
SELECT tenancy.protect('chat.channels', 'chat');
SELECT tenancy.protect('chat.messages', 'chat');
GRANT USAGE ON SCHEMA chat TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA chat TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA chat TO tenant_member;
