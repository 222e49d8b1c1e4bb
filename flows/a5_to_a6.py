"""A5→A6: rejected final assets go to Box for rework."""

from __future__ import annotations

from domain.transfers import A5_TO_A6
from flows.transfer_pipeline import transfer_flow

a5_to_a6 = transfer_flow(A5_TO_A6, """Copy the rejected final assets of every A5 campaign to Box, then set it to A6.

    1. Find campaigns with status A5, oldest first, at most ``max_campaigns`` per run.
    2. Walk each campaign's ``Final Assets`` folder recursively.
    3. Keep only assets whose ECOMMERCE STATUS is exactly ``NOT APPROVED``; every other value
       (empty included) is counted as skipped.
    4. Read the rejection details (ecommerce status; comments, certifier and date for Approver,
       Legal and IA&CC) into the tracking database event and the run's table artifact.
    5. Stream each rejected asset to ``<box_root_folder_id>/<number>-<name>-Revisions/<sub-path>/``,
       reusing the tracking ID it (or its master) got in an earlier cycle, or allocating one.
    6. Set A5→A6 only when every rejected asset succeeded.
""")
