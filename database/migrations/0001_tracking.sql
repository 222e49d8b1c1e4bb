-- Tracking database: what moved where, with a stable tracking ID per DAM asset and campaign.
-- Workflow run state lives in Prefect; this database remembers assets across runs.

CREATE TABLE master_assets (
    tracking_id               CHAR(6) PRIMARY KEY,
    dam_asset_id              TEXT        NOT NULL,
    campaign_folder_id        TEXT        NOT NULL,
    campaign_number           TEXT        NOT NULL,
    campaign_name             TEXT        NOT NULL,
    local_campaign_id         TEXT,
    global_master_campaign_id TEXT,
    dam_path                  TEXT        NOT NULL,
    file_name                 TEXT        NOT NULL,
    extension                 TEXT        NOT NULL DEFAULT '',
    size                      BIGINT      NOT NULL,
    mime_type                 TEXT,
    brand                     TEXT,
    country                   TEXT,
    language                  TEXT,
    metadata                  JSONB       NOT NULL DEFAULT '{}'::jsonb,
    status                    TEXT        NOT NULL DEFAULT 'registered',
    created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- "the same DAM asset in the same campaign always keeps its ID"
    CONSTRAINT master_assets_asset_in_campaign UNIQUE (campaign_folder_id, dam_asset_id),
    CONSTRAINT master_assets_tracking_id_format CHECK (tracking_id ~ '^[A-Z0-9]{6}$')
);
CREATE INDEX master_assets_campaign_number ON master_assets (campaign_number);
CREATE INDEX master_assets_dam_asset_id ON master_assets (dam_asset_id);

-- One row per DAM asset copied to Box by a workflow (A1→A2, A5→A6, B1→B2). Several DAM
-- assets may share a tracking ID (localised versions of one master), hence the key.
CREATE TABLE box_uploads (
    workflow      TEXT        NOT NULL,
    tracking_id   CHAR(6)     NOT NULL,
    dam_asset_id  TEXT        NOT NULL,
    box_folder_id TEXT        NOT NULL,
    box_file_id   TEXT        NOT NULL,
    box_file_name TEXT        NOT NULL,
    sha1          CHAR(40)    NOT NULL,
    size          BIGINT      NOT NULL,
    uploaded_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow, dam_asset_id)
);
CREATE INDEX box_uploads_tracking_id ON box_uploads (tracking_id);

-- Localised files that came back from Box into the DAM (A2→A3).
CREATE TABLE derivative_assets (
    id                   BIGSERIAL PRIMARY KEY,
    tracking_id          CHAR(6)     NOT NULL,
    master_dam_asset_id  TEXT        NOT NULL,
    dam_asset_id         TEXT,
    campaign_number      TEXT        NOT NULL,
    box_file_id          TEXT        NOT NULL,
    box_file_name        TEXT        NOT NULL,
    box_sha1             CHAR(40),
    description          TEXT,
    language             TEXT,
    state                TEXT,
    metadata             JSONB       NOT NULL DEFAULT '{}'::jsonb,
    status               TEXT        NOT NULL DEFAULT 'uploading',
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT derivative_assets_box_file UNIQUE (box_file_id)
);
CREATE INDEX derivative_assets_tracking_id ON derivative_assets (tracking_id);

-- Audit log: every change to an asset, with the Prefect flow run that made it.
CREATE TABLE asset_events (
    id              BIGSERIAL PRIMARY KEY,
    tracking_id     CHAR(6),
    dam_asset_id    TEXT,
    campaign_number TEXT,
    workflow        TEXT        NOT NULL,
    event           TEXT        NOT NULL,
    detail          JSONB       NOT NULL DEFAULT '{}'::jsonb,
    flow_run_id     TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX asset_events_tracking_id ON asset_events (tracking_id);
CREATE INDEX asset_events_campaign_number ON asset_events (campaign_number);

-- What the status webhook already said about a campaign (A4 sends "Live Campaign: NO" once).
CREATE TABLE campaign_status (
    campaign_number      TEXT PRIMARY KEY,
    campaign_folder_id   TEXT        NOT NULL,
    status               TEXT        NOT NULL,
    live_campaign        TEXT,
    webhook_sent_at      TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
