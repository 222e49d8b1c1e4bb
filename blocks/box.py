"""Box credentials (a JWT app) as a Prefect block."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr

from blocks._budget import RateLimitSpec, SharedBudget
from blocks._cache import cached_client
from clients.box import DEFAULT_CHUNKED_THRESHOLD, DEFAULT_COMMIT_WAIT_S, BoxStore


class BoxCredentials(Block):
    """Credentials of the Box JWT app that owns the campaign folders.

    The values come from the app's JSON config in the Box Developer Console. The private key
    must be an encrypted PKCS#8 PEM; its passphrase and the client secret are secrets.

    Box limits each user (the app's service account is one) to about 1000 API calls and 240
    uploads a minute. With ``request_budget`` on, every Box request of every run and worker takes
    its share from two Prefect global concurrency limits named here (rate-limit mode, created
    when missing; see ``blocks/_budget.py``). The defaults keep 5 % below Box's published
    limits with a small burst; an enterprise with other limits sets its own. Apps that act as
    different Box users need different limit names.

    Example:
        ```python
        from blocks.box import BoxCredentials

        box = BoxCredentials.load("box").get_client()
        folder_id = box.ensure_folder_path("0", ["C000000078-Spring Launch"])
        ```
    """

    _block_type_name = "Box Credentials"
    _block_type_slug = "content-scaling-box-credentials"
    _description = "Box JWT app credentials used to create campaign folders and move files."

    client_id: str = Field(description="The app's client ID (boxAppSettings.clientID).")
    client_secret: SecretStr = Field(description="The app's client secret (boxAppSettings.clientSecret).")
    public_key_id: str = Field(description="ID of the public key registered for the app (appAuth.publicKeyID).")
    private_key: SecretStr = Field(description="Encrypted PKCS#8 private key in PEM form (appAuth.privateKey).")
    private_key_passphrase: SecretStr = Field(description="Passphrase of the private key (appAuth.passphrase).")
    enterprise_id: str | None = Field(default=None, description="Enterprise ID to act as (enterpriseID).")
    user_id: str | None = Field(default=None, description="User ID to act as, instead of the enterprise.")
    api_base_url: str = Field(default="https://api.box.com", description="Box API base URL.")
    upload_base_url: str = Field(default="https://upload.box.com/api", description="Box upload API base URL.")
    max_attempts: int = Field(default=5, description="Attempts per Box request on 429/5xx (Box SDK retries).")
    retry_base_interval: float = Field(default=1.0, description="Base delay in seconds between Box retries.")
    connect_timeout_s: float = Field(default=10.0, description="Seconds to wait for a connection to Box.")
    read_timeout_s: float = Field(default=60.0, description="Seconds to wait for each read from Box.")
    chunked_threshold_bytes: int = Field(
        default=DEFAULT_CHUNKED_THRESHOLD, description="Files of this size or more are uploaded in parts."
    )

    commit_wait_s: float = Field(
        default=DEFAULT_COMMIT_WAIT_S,
        description="Longest wait, in seconds, while Box assembles an upload in parts (commit answered 202).")

    # Box publishes 1000 calls and 240 uploads a minute per user. 5 % below, with a burst that
    # keeps any minute under them even with a batch granted just before it (blocks/_budget.py).
    request_budget: bool = Field(
        default=True, description="Take every Box request from the shared budget below (Prefect concurrency limits).")
    calls_limit_name: str = Field(default="box-api-calls",
                                  description="Prefect concurrency limit every Box request takes a slot from.")
    calls_per_minute: float = Field(default=950.0, gt=0, description="Box API calls per minute, for all runs together.")
    calls_burst: int = Field(default=32, ge=1, description="Calls that may go at once (and slots taken per request to Prefect).")
    uploads_limit_name: str = Field(default="box-uploads",
                                    description="Prefect concurrency limit every Box upload request also takes from.")
    uploads_per_minute: float = Field(default=228.0, gt=0,
                                      description="Box upload requests per minute, for all runs together.")
    uploads_burst: int = Field(default=8, ge=1, description="Uploads that may go at once (and slots taken per request to Prefect).")
    budget_wait_s: float = Field(
        default=120.0, gt=0,
        description="Longest wait for a slot; then the request fails as retryable (budget used up, Prefect API down).")

    def request_budget_hook(self) -> SharedBudget | None:
        """The shared budget the client takes every request from (``None`` when switched off)."""
        if not self.request_budget:
            return None
        calls = RateLimitSpec(self.calls_limit_name, self.calls_per_minute, self.calls_burst)
        uploads = RateLimitSpec(self.uploads_limit_name, self.uploads_per_minute, self.uploads_burst)
        return SharedBudget({"call": [calls], "upload": [uploads, calls]}, self.budget_wait_s, system="Box")

    def get_client(self) -> BoxStore:
        """The Box adapter for these credentials (one per process, shared by threads)."""
        return cached_client(self, lambda: BoxStore.from_jwt(
            client_id=self.client_id,
            client_secret=self.client_secret.get_secret_value(),
            public_key_id=self.public_key_id,
            private_key_pem=self.private_key.get_secret_value(),
            private_key_passphrase=self.private_key_passphrase.get_secret_value(),
            enterprise_id=self.enterprise_id,
            user_id=self.user_id,
            api_base_url=self.api_base_url,
            upload_base_url=self.upload_base_url,
            max_attempts=self.max_attempts,
            retry_base_interval=self.retry_base_interval,
            connect_timeout_s=self.connect_timeout_s,
            read_timeout_s=self.read_timeout_s,
            chunked_threshold=self.chunked_threshold_bytes,
            commit_wait_s=self.commit_wait_s,
            budget=self.request_budget_hook(),
        ))
