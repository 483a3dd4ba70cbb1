SELECT tenancy.install_module($${
    "key": "chat", "name": "Chat", "version": "1.0.0", "platform": ">=0.1",
    "description": "Channels and messages", "icon": "message-circle", "sort_order": 30,
    "permissions": ["chat:read", "chat:post", "chat:moderate"],
    "config": {"max_message_length": 4000, "retention_days": 365},
    "features": {"private_channels": true, "file_sharing": false}
}$$);

CREATE SCHEMA chat;
CREATE TABLE chat.channels (
    tenant_id  uuid NOT NULL,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    name       text NOT NULL,
    is_private bool NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
CREATE TABLE chat.messages (
    tenant_id  uuid NOT NULL,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    channel_id uuid NOT NULL,
    author_id  uuid,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, channel_id) REFERENCES chat.channels (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_id) REFERENCES core.users (tenant_id, id)
);
CREATE INDEX ON chat.messages (tenant_id, channel_id, sent_at);
