-- The Box folder each DAM→Box workflow made for a campaign, by the campaign's DAM folder id
-- (which never changes, unlike its name): a campaign renamed in the DAM keeps its one Box
-- folder, renamed to follow (see README "Campaign renamed in the DAM").
CREATE TABLE campaign_box_folders (
    workflow            TEXT        NOT NULL,
    campaign_folder_id  TEXT        NOT NULL,
    box_root_folder_id  TEXT        NOT NULL,
    box_folder_id       TEXT        NOT NULL,
    box_folder_name     TEXT        NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow, campaign_folder_id)
);
