"""Create or update the shared request budgets (Prefect global concurrency limits) from the blocks.

    .venv/bin/python -m deployments.limits [--box-block box] [--dam-block dam]

Idempotent: a missing limit is created, an existing one is set to the block's rate and burst.
A block that is not saved yet, or whose budget is switched off, is skipped (and said so).
``deployments.create_blocks`` and ``deployments.serve`` run it; ``prefect deploy`` runs it as the
build step :func:`ensure_request_budgets` (see prefect.yaml). A run also creates a missing limit
on its first request, so a budget never fails for not existing yet.

The limits appear on the Prefect UI's Concurrency page (Global), with their active slots.
"""

from __future__ import annotations

import argparse
from typing import Any

from blocks._budget import ensure_rate_limits
from blocks.box import BoxCredentials
from blocks.dam import DamCredentials


def ensure_request_budgets(box_block: str | None = "box", dam_block: str | None = "dam") -> dict[str, str]:
    """Create or update the limits of the named blocks; what was done, per limit or block.

    Also a ``prefect deploy`` build step: ``deployments.limits.ensure_request_budgets``.
    """
    done: dict[str, str] = {}
    for block_type, name in ((BoxCredentials, box_block), (DamCredentials, dam_block)):
        if not name:
            continue
        try:
            block: Any = block_type.load(name)
        except ValueError:
            done[f"{block_type.__name__} {name!r}"] = "skipped: block not saved yet (run deployments.create_blocks)"
            continue
        budget = block.request_budget_hook()
        if budget is None:
            done[f"{block_type.__name__} {name!r}"] = "skipped: request_budget is off"
            continue
        done.update(ensure_rate_limits(budget.specs(), update=True))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--box-block", default="box", help="Box Credentials block (empty: none).")
    parser.add_argument("--dam-block", default="dam", help="DAM Credentials block (empty: none).")
    args = parser.parse_args()
    for name, outcome in ensure_request_budgets(args.box_block or None, args.dam_block or None).items():
        print(f"{name:30} {outcome}")


if __name__ == "__main__":
    main()
