-- Box webhook deliveries the receiver accepted (signature verified), one row per payload id:
-- Box keeps a payload's id when it retries a delivery, so a retry, or a delivery repeated after
-- the receiver restarted, finds its row and runs nothing again. The rows are also the inbox of
-- the webhook-triggered import: a2-to-a3-webhook takes the rows not taken yet (taken_at), so a
-- burst of uploads announced by several deliveries is imported by one run.
CREATE TABLE box_webhook_deliveries (
    payload_id          TEXT        PRIMARY KEY,
    trigger             TEXT        NOT NULL,
    box_file_id         TEXT        NOT NULL,
    box_folder_id       TEXT,
    webhook_id          TEXT,
    event_created_at    TEXT,
    deliveries          INTEGER     NOT NULL DEFAULT 1,
    received_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_delivery_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    taken_at            TIMESTAMPTZ,
    taken_by_flow_run   TEXT
);
CREATE INDEX box_webhook_deliveries_waiting ON box_webhook_deliveries (received_at) WHERE taken_at IS NULL;
