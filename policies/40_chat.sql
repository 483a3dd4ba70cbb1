-- Module chat: its tables are tenant-owned and usable only while chat is enabled.
-- Idempotent: applied by `tenancy migrate` after every migration run. analytics => the class
-- of each column for cross-tenant aggregates (README: Cross-tenant aggregation).
SELECT tenancy.protect('chat.channels', 'chat', analytics => '{"id": "private", "name": "private", "is_private": "dimension"}');
SELECT tenancy.protect('chat.messages', 'chat', analytics => '{"id": "private", "channel_id": "private", "author_id": "private", "body": "private", "sent_at": "private"}');
GRANT USAGE ON SCHEMA chat TO tenant_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA chat TO tenant_member;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA chat TO tenant_member;
