"""CreativeX credentials as a Prefect block."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks._cache import cached_client
from clients.creativex import CreativeXClient


class CreativeXCredentials(Block):
    """The CreativeX API that scores localised assets before they go back into the DAM.

    Example:
        ```python
        from blocks.creativex import CreativeXCredentials

        score = CreativeXCredentials.load("creativex").get_client().score(
            tracking_id="K7M2QX", file_name="K7M2QX_Hero_it-IT_Lazio.jpg", sha1="…")
        ```
    """

    _block_type_name = "CreativeX Credentials"
    _block_type_slug = "content-scaling-creativex-credentials"
    _description = "CreativeX API URL and key (creative-quality score and report URL)."

    url: str = Field(description="CreativeX API base URL.")
    api_key: SecretStr = Field(description="CreativeX API key.")
    timeout_s: float = Field(default=30.0, description="Request timeout in seconds.")

    def get_client(self) -> CreativeXClient:
        """The CreativeX client for these credentials (one per process)."""
        return cached_client(self, lambda: CreativeXClient(self.url, self.api_key.get_secret_value(), self.timeout_s))
