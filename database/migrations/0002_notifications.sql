-- Notifications people can live with: what was last said about each subject, and which flows
-- are failing now, so a situation is told once (when it starts or changes), not on every run.
-- The rules are domain/notification_rules.py; every run is still counted by the daily report
-- (it reads the runs' artifacts in Prefect, not this table).

-- The last notification sent about a subject (a campaign in a DAM→Box workflow).
CREATE TABLE notifications_sent (
    subject          TEXT PRIMARY KEY,                 -- '<workflow>:campaign:<DAM folder id>'
    workflow         TEXT        NOT NULL,
    campaign_number  TEXT,
    kind             TEXT        NOT NULL,             -- e.g. a1_to_a2_no_assets
    fingerprint      TEXT        NOT NULL,             -- digest of what matters about the situation
    summary          TEXT        NOT NULL DEFAULT '',  -- that content for people (failed assets, error classes)
    flow_run_id      TEXT,                             -- the run that sent it
    sent_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    repeats          INTEGER     NOT NULL DEFAULT 0,   -- runs since then in the same situation (nothing sent)
    last_seen_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX notifications_sent_campaign_number ON notifications_sent (campaign_number);

-- A flow failing now: one row from its first failed (or crashed) run until a run completes
-- (then the "resolved" alert is sent and the row deleted).
CREATE TABLE flow_outages (
    workflow           TEXT PRIMARY KEY,               -- the flow's name
    started_at         TIMESTAMPTZ NOT NULL,
    first_flow_run_id  TEXT        NOT NULL,
    first_state        TEXT        NOT NULL,
    first_message      TEXT        NOT NULL DEFAULT '',
    failed_runs        INTEGER     NOT NULL DEFAULT 0,
    crashed_runs       INTEGER     NOT NULL DEFAULT 0,
    last_flow_run_id   TEXT        NOT NULL,
    last_at            TIMESTAMPTZ NOT NULL,
    flow_run_ids       TEXT[]      NOT NULL DEFAULT '{}'  -- the runs counted (the most recent 500): each once
);
