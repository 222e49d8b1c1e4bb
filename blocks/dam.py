"""The DAM (OpenText Media Management) connection as a Prefect block: OAuth2 or mTLS."""

from __future__ import annotations

import base64
from typing import Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr, model_validator

from blocks._cache import ca_bundle_file, cached_client
from clients.otmm import MutualTLS, OAuth2ClientCredentials, OtmmClient
from domain.fields import load_dam_fields


class DamCredentials(Block):
    """How to reach the OTMM DAM: base URL plus OAuth2 client credentials (OTDS) or an mTLS
    client certificate (PFX/P12 with password), chosen per block.

    Example:
        ```python
        from blocks.dam import DamCredentials

        dam = DamCredentials.load("dam").get_client()
        campaigns = dam.find_campaigns("A1")
        ```
    """

    _block_type_name = "DAM Credentials"
    _block_type_slug = "content-scaling-dam-credentials"
    _description = "OpenText Media Management connection: OAuth2 client credentials or an mTLS certificate."

    base_url: str = Field(description="DAM server root, e.g. https://dam.example.com (the API is under /otmmapi/v6).")
    auth_method: Literal["oauth2", "mtls"] = Field(default="oauth2", description="oauth2 (OTDS token) or mtls.")
    otds_url: str | None = Field(
        default=None, description="OTDS server root for the token (…/otdsws/oauth2/token); defaults to base_url."
    )
    client_id: str | None = Field(default=None, description="OAuth2 client ID (oauth2 only).")
    client_secret: SecretStr | None = Field(default=None, description="OAuth2 client secret (oauth2 only).")
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
        default=3, description="Tries per DAM call on 429/5xx/timeouts (Retry-After honoured); uploads excepted."
    )

    @model_validator(mode="after")
    def _credentials_for_method(self) -> DamCredentials:
        if self.auth_method == "oauth2" and not (self.client_id and self.client_secret):
            raise ValueError("auth_method 'oauth2' needs client_id and client_secret")
        if self.auth_method == "mtls" and not (self.pfx_base64 and self.pfx_password):
            raise ValueError("auth_method 'mtls' needs pfx_base64 and pfx_password")
        return self

    def get_client(self) -> OtmmClient:
        """The OTMM client for this block (one per process, shared by threads)."""
        return cached_client(self, self._build_client)

    def _build_client(self) -> OtmmClient:
        ca_bundle = ca_bundle_file(self.ca_bundle_pem)
        if self.auth_method == "mtls":
            assert self.pfx_base64 and self.pfx_password
            auth: OAuth2ClientCredentials | MutualTLS = MutualTLS(
                pfx_bytes=base64.b64decode(self.pfx_base64.get_secret_value()),
                password=self.pfx_password.get_secret_value(),
                ca_bundle=ca_bundle,
            )
        else:
            assert self.client_id and self.client_secret
            auth = OAuth2ClientCredentials(
                token_url=(self.otds_url or self.base_url).rstrip("/") + "/otdsws/oauth2/token",
                client_id=self.client_id,
                client_secret=self.client_secret.get_secret_value(),
                ca_bundle=ca_bundle,
            )
        return OtmmClient(self.base_url, auth, timeout=self.timeout_s, fields=load_dam_fields(),
                          page_size=self.page_size, request_attempts=self.request_attempts)
