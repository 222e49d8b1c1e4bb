"""B1→B2: final assets of global campaigns go to Box as global masters."""

from __future__ import annotations

from domain.transfers import B1_TO_B2
from flows.transfer_pipeline import transfer_flow

b1_to_b2 = transfer_flow(B1_TO_B2, """Copy the final assets of every B1 ``Global comm`` campaign to Box, then set it to B2.

    1. Find campaigns with status B1 **and** type ``Global comm``; other types are left alone.
    2. Walk each campaign's ``Final Assets`` folder recursively.
    3. Stream every asset to ``<box_root_folder_id>/MASTERS_<number>-<name>/<sub-path>/`` with
       its tracking ID in the file name, recorded with the global master campaign id.
    4. Set B1→B2 only when every asset succeeded.
""")
