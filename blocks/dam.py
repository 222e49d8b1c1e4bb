"""The DAM (OpenText Media Management) connection as a Prefect block: every sign-in a tenant may use."""

from __future__ import annotations

import base64
from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr, model_validator

from blocks._budget import RateLimitSpec, SharedBudget
from blocks._cache import ca_bundle_file, cached_client
from clients.otmm import (
    MutualTLS,
    OAuth2ClientCredentials,
    OtdsPasswordGrant,
    OtmmClient,
    OtmmPasswordGrant,
    OtmmSession,
)
from clients.otmm_auth import OtmmAuth
from domain.fields import load_dam_fields

AuthMethod = Literal["oauth2", "session", "otds_password", "otmm_password", "mtls"]

# What each auth_method needs (client_secret is optional for the password grants: an OAuth
# client set up for them may be public).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "oauth2": ("client_id", "client_secret"),
    "session": ("username", "password"),
    "otds_password": ("username", "password", "client_id"),
    "otmm_password": ("username", "password", "client_id"),
    "mtls": ("pfx_base64", "pfx_password"),
}


class DamCredentials(Block):
    """How to reach the OTMM DAM: base URL plus one sign-in, chosen per block with
    ``auth_method``: ``oauth2`` (OTDS client credentials), ``session`` (OTMM session login of a
    service user), ``otds_password`` (OTDS password grant), ``otmm_password`` (OTMM's own
    password grant) or ``mtls`` (a PFX/P12 client certificate with its password).

    Example:
        ```python
        from blocks.dam import DamCredentials

        dam = DamCredentials.load("dam").get_client()
        campaigns = dam.find_campaigns("A1")
        ```
    """

    _block_type_name = "DAM Credentials"
    _block_type_slug = "content-scaling-dam-credentials"
    _description = ("OpenText Media Management connection: OTDS client credentials, OTMM session login, "
                    "OTDS or OTMM password grant, or an mTLS certificate.")

    base_url: str = Field(description="DAM server root, e.g. https://dam.example.com (the API is under /otmmapi/v6).")
    auth_method: AuthMethod = Field(
        default="oauth2",
        description="oauth2 (OTDS client credentials), session (OTMM session login), otds_password (OTDS "
                    "password grant), otmm_password (OTMM password grant) or mtls (client certificate).",
    )
    otds_url: str | None = Field(
        default=None, description="OTDS server root for tokens (…/otdsws/oauth2/token); defaults to base_url."
    )
    client_id: str | None = Field(default=None, description="OAuth client ID (oauth2, otds_password, otmm_password).")
    client_secret: SecretStr | None = Field(
        default=None, description="OAuth client secret (oauth2; otds_password/otmm_password when the client has one)."
    )
    username: str | None = Field(
        default=None, description="DAM service user (session, otds_password, otmm_password)."
    )
    password: SecretStr | None = Field(
        default=None, description="Password of the service user (session, otds_password, otmm_password)."
    )
    pfx_base64: SecretStr | None = Field(
        default=None, description="Client certificate + key as a base64-encoded PFX/P12 file (mtls only)."
    )
    pfx_password: SecretStr | None = Field(default=None, description="Password of the PFX file (mtls only).")
    ca_bundle_pem: str | None = Field(
        default=None, description="PEM CA certificates that sign the DAM's server certificate; system store if empty."
    )
    timeout_s: float = Field(default=60.0, description="Timeout in seconds for connecting and for each read.")
    page_size: int = Field(default=100, description="Items per page when listing folders and search results.")
    request_attempts: int = Field(
        default=5, description="Tries per DAM call on 429/5xx/timeouts (Retry-After honoured); uploads excepted."
    )
    # OTMM publishes no rate limits: off by default; a site whose DAM needs protecting sets one
    # budget that every run and worker shares (blocks/_budget.py).
    request_budget: bool = Field(
        default=False, description="Take every DAM request from a shared budget (a Prefect concurrency limit).")
    budget_limit_name: str = Field(default="dam-api-calls", description="Prefect concurrency limit of the DAM budget.")
    budget_calls_per_minute: float = Field(default=600.0, gt=0, description="DAM calls per minute, all runs together.")
    budget_burst: int = Field(default=10, ge=1, description="DAM calls that may go at once after a quiet spell.")
    budget_wait_s: float = Field(default=120.0, gt=0,
                                 description="Longest wait for a slot; then the call fails as retryable.")

    def request_budget_hook(self) -> SharedBudget | None:
        """The shared budget the client takes every request from (``None`` when switched off)."""
        if not self.request_budget:
            return None
        spec = RateLimitSpec(self.budget_limit_name, self.budget_calls_per_minute, self.budget_burst)
        return SharedBudget({"call": [spec]}, self.budget_wait_s, system="the DAM")

    @model_validator(mode="after")
    def _credentials_for_method(self) -> DamCredentials:
        missing = [name for name in REQUIRED_FIELDS[self.auth_method] if not getattr(self, name)]
        if missing:
            names = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
            raise ValueError(f"auth_method {self.auth_method!r} needs {names}")
        return self

    @property
    def sign_in_summary(self) -> str:
        """How this block signs in, in words (no secret): for connection tests and messages."""
        who = {"oauth2": f"OTDS client credentials of {self.client_id!r}",
               "session": f"OTMM session login as {self.username!r}",
               "otds_password": f"OTDS password grant as {self.username!r}",
               "otmm_password": f"OTMM password grant as {self.username!r}",
               "mtls": "mTLS client certificate"}
        return who[self.auth_method]

    def get_client(self) -> OtmmClient:
        """The OTMM client for this block (one per process, shared by threads)."""
        return cached_client(self, self._build_client)

    def _build_client(self) -> OtmmClient:
        return OtmmClient(self.base_url, self._auth(), timeout=self.timeout_s, fields=load_dam_fields(),
                          page_size=self.page_size, request_attempts=self.request_attempts,
                          budget=self.request_budget_hook())

    def _auth(self) -> OtmmAuth:
        """The sign-in of ``auth_method`` (the validator has checked its fields are there)."""
        ca_bundle = ca_bundle_file(self.ca_bundle_pem)
        secret = self.client_secret.get_secret_value() if self.client_secret else None
        password = self.password.get_secret_value() if self.password else ""
        token_url = (self.otds_url or self.base_url).rstrip("/") + "/otdsws/oauth2/token"
        if self.auth_method == "mtls":
            assert self.pfx_base64 and self.pfx_password
            return MutualTLS(pfx_bytes=base64.b64decode(self.pfx_base64.get_secret_value()),
                             password=self.pfx_password.get_secret_value(), ca_bundle=ca_bundle)
        if self.auth_method == "session":
            return OtmmSession(self.base_url, str(self.username), password, ca_bundle=ca_bundle)
        if self.auth_method == "otds_password":
            return OtdsPasswordGrant(token_url, str(self.client_id), str(self.username), password, secret,
                                     ca_bundle=ca_bundle)
        if self.auth_method == "otmm_password":
            return OtmmPasswordGrant(self.base_url, str(self.client_id), str(self.username), password, secret,
                                     ca_bundle=ca_bundle)
        return OAuth2ClientCredentials(token_url, str(self.client_id), str(secret), ca_bundle=ca_bundle)
