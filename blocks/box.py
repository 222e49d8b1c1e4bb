"""Box credentials (a JWT app) as a Prefect block."""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import Field, SecretStr, model_validator

from blocks._budget import RateLimitSpec, SharedBudget
from blocks._cache import cached_client
from clients.box import DEFAULT_CHUNKED_THRESHOLD, DEFAULT_COMMIT_WAIT_S, BoxStore


class BoxCredentials(Block):
    """Credentials of the Box JWT app that owns the campaign folders.

    The values come from the app's JSON config in the Box Developer Console. The private key
    must be an encrypted PKCS#8 PEM; its passphrase and the client secret are secrets.

    Box limits each user (the app's service account is one) to about 1000 API calls and 240
    uploads a minute, uploads included in the calls. With ``request_budget`` on, every Box request
    of every run and worker takes a slot from a Prefect global concurrency limit named here
    (rate-limit mode, created when missing; see ``blocks/_budget.py``): an upload from
    ``uploads_limit_name`` at ``uploads_per_minute``, any other call from ``calls_limit_name`` at
    ``calls_per_minute`` minus ``uploads_per_minute``, so that all of them together stay under
    ``calls_per_minute``. The defaults keep 5 % below Box's published limits with a small burst;
    an enterprise with other limits sets its own. Apps that act as different Box users need
    different limit names.

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

    # Box publishes 1000 calls and 240 uploads a minute per user, uploads inside the calls. 5 %
    # below, with bursts that keep any minute under both even with slots granted just before it
    # (blocks/_budget.py: at most burst + rate × (T + 0.5 s) in any T seconds, per limit).
    request_budget: bool = Field(
        default=True, description="Take every Box request from the shared budget below (Prefect concurrency limits).")
    calls_per_minute: float = Field(default=950.0, gt=0,
                                    description="Box API calls per minute, uploads included, for all runs together.")
    calls_limit_name: str = Field(
        default="box-api-calls",
        description="Prefect concurrency limit of the calls other than uploads (calls_per_minute - uploads_per_minute).")
    calls_burst: int = Field(default=32, ge=1, description="Calls other than uploads that may go at once.")
    uploads_per_minute: float = Field(default=228.0, gt=0,
                                      description="Box upload requests per minute, for all runs together.")
    uploads_limit_name: str = Field(default="box-uploads", description="Prefect concurrency limit of the uploads.")
    uploads_burst: int = Field(default=8, ge=1, description="Uploads that may go at once.")
    budget_wait_s: float = Field(
        default=120.0, gt=0,
        description="Longest wait for a slot; then the request fails as retryable (budget used up, Prefect API down).")

    @model_validator(mode="after")
    def _uploads_inside_calls(self) -> BoxCredentials:
        if self.request_budget and self.uploads_per_minute >= self.calls_per_minute:
            raise ValueError(f"uploads_per_minute ({self.uploads_per_minute:g}) must be below calls_per_minute "
                             f"({self.calls_per_minute:g}): Box counts the uploads inside the calls")
        return self

    def request_budget_hook(self) -> SharedBudget | None:
        """The shared budget the client takes every request from (``None`` when switched off).

        Each request takes from one limit only: a refused acquisition rewrites every limit it
        names without decaying it, so an upload naming both limits let a process that only makes
        calls starve the uploads of another (measured: 120 s without a slot).
        """
        if not self.request_budget:
            return None
        calls = RateLimitSpec(self.calls_limit_name, self.calls_per_minute - self.uploads_per_minute, self.calls_burst)
        uploads = RateLimitSpec(self.uploads_limit_name, self.uploads_per_minute, self.uploads_burst)
        return SharedBudget({"call": [calls], "upload": [uploads]}, self.budget_wait_s, system="Box")

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
