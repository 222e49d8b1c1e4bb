"""Prefect tasks that talk to Box: one Box operation each."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks.box import BoxCredentials
from tasks.retry import IO_RETRIES


@task(name="ensure-box-folder", task_run_name="box-folder-{name}", cache_policy=NO_CACHE, **IO_RETRIES)
def ensure_box_folder(box: BoxCredentials, parent_folder_id: str, name: str) -> str:
    """The id of Box folder ``parent/name``, created when missing (safe against races)."""
    return box.get_client().ensure_folder_path(parent_folder_id, [name])
