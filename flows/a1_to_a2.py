"""A1→A2: master assets of local campaigns go from the DAM to Box for adaptation."""

from __future__ import annotations

from domain.transfers import A1_TO_A2
from flows.transfer_pipeline import transfer_flow

a1_to_a2 = transfer_flow(A1_TO_A2, """Copy the master assets of every A1 campaign to Box, then set the campaign to A2.

    1. Find campaigns with status A1, oldest first, at most ``max_campaigns`` per run.
    2. Walk each campaign's ``Master Assets`` folder recursively.
    3. Give every asset a tracking ID and stream it into
       ``<box_root_folder_id>/<number>-<name>/<same sub-folders>/<tracking ID>_<file name>``,
       recording it (with its full DAM metadata) and an audit event in the tracking database.
    4. Set A1→A2 only for campaigns whose assets all succeeded; the others stay A1 and the
       next run finishes them without redoing what succeeded.
""")
