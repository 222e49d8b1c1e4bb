"""An OTMM (OpenText Media Management ``otmmapi/v6``) + OTDS simulator for tests and the demo.

Implements ``shared/reference/otmm_api.md`` §9 and the sign-ins of §2: OTDS tokens
(client credentials and password grant) and OTMM's own password-grant token with a
configurable lifetime, OTMM sessions (``POST``/``DELETE /v6/sessions``) with an inactivity
timeout, folders and exactly paged ``children``, folder metadata, ``search/text``
over folder **and** asset metadata (exact and CONTAINS, and/or with parentheses), grouped
metadata (scalar, domain and table fields), streamed ``contents`` generated deterministically
(a multi-GB asset costs no RAM), ``POST /assets`` → 202 job → ``/jobs/{id}/assets``, and
lock → ``PATCH`` → unlock. With ``auth_mode="mtls"`` (serve it over TLS that requires a
client certificate) no bearer token is needed. Fault injection and the request log come from
:mod:`simulators.common`. Choices where OTMM's behaviour is not public are listed in
:mod:`simulators.otmm.app`, :mod:`simulators.otmm.metadata` and :mod:`simulators.otmm.search`.

Field IDs always come from ``config/dam_fields.toml`` (:func:`domain.fields.load_dam_fields`).

Example::

    sim = OtmmSimulator(client_id="cs", client_secret="s")
    c = sim.add_campaign("C000000078", "Spring Launch", "A1")
    sim.add_asset(c.master_assets_id, "hero.jpg", size=2_000_000, mime_type="image/jpeg")
    with ServerThread(sim.app) as server:
        ...
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.fields import DamFields, load_dam_fields
from simulators.common import FaultInjector, SimulatorMiddleware
from simulators.otmm.app import build_app, otmm_error_body
from simulators.otmm.content import file_chunks, generated_chunks, sha1_of
from simulators.otmm.metadata import MetadataLayout
from simulators.otmm.state import PUBLIC_ROOT, FieldValue, OtmmState, SimError

AUTH_MODES = ("oauth", "mtls")
CAMPAIGNS_CREATED = "2020-01-01T00:00:00Z"


@dataclass(frozen=True)
class SeededCampaign:
    """A campaign folder made by :meth:`OtmmSimulator.add_campaign`."""

    folder_id: str
    master_assets_id: str
    final_assets_id: str
    number: str
    name: str


class OtmmSimulator:
    """The DAM simulator: ``app`` (ASGI) to serve, plus helpers tests use to seed and inspect it.

    Args:
        client_id, client_secret: the OAuth client (OTDS and OTMM's own) that may get tokens.
        username, password: the DAM service user (session login and password grants).
        token_ttl: token lifetime in seconds (``expires_in`` is its ceiling as an int).
        session_timeout: seconds without use after which an OTMM session ends.
        lock_required: ``PATCH`` of a folder/asset needs the caller's lock (else 409).
        auth_mode: ``"oauth"`` (bearer token on every ``/otmmapi`` call) or ``"mtls"`` (the TLS
            client certificate authenticates; serve with ``TLSConfig(..., client_ca=...)``).
        upload_dir: where uploaded files are kept (a temporary directory when ``None``).
        fields: the DAM field IDs (default ``config/dam_fields.toml``).
        import_delay: seconds before an import job reports its asset (the asset exists at once).
    """

    def __init__(self, client_id: str = "demo-client", client_secret: str = "demo-secret",
                 token_ttl: float = 3600.0, lock_required: bool = True, auth_mode: str = "oauth",
                 upload_dir: Path | str | None = None, fields: DamFields | None = None,
                 import_delay: float = 0.0, username: str = "demo-user", password: str = "demo-password",
                 session_timeout: float = 1800.0) -> None:
        if auth_mode not in AUTH_MODES:
            raise ValueError(f"auth_mode must be one of {AUTH_MODES}, not {auth_mode!r}")
        self.client_id, self.client_secret = client_id, client_secret
        self.username, self.password = username, password
        self.token_ttl = float(token_ttl)
        self.session_timeout = float(session_timeout)
        self.lock_required = lock_required
        self.auth_mode = auth_mode
        self.import_delay = float(import_delay)
        self.fields = fields or load_dam_fields()
        self.layout = MetadataLayout(self.fields)
        self.state = OtmmState()
        self.state.table_of[self.fields.creativex.score] = self.fields.creativex.table
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if upload_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="otmm-sim-uploads-")
            upload_dir = self._tmp.name
        self.upload_dir = Path(upload_dir)
        self.upload_dir.mkdir(parents=True, exist_ok=True)
        self.campaigns_root_id = self.state.add_folder(PUBLIC_ROOT, "Campaigns", created=CAMPAIGNS_CREATED).id
        self.injector = FaultInjector()
        self.app = SimulatorMiddleware(build_app(self), self.injector, otmm_error_body)

    # -- seeding ----------------------------------------------------------------------------
    def add_campaign(self, number: str, name: str, status: str, campaign_type: str = "Local comm",
                     created: str | None = None) -> SeededCampaign:
        """A campaign folder ``"<number> <name>"`` under Campaigns, with its campaign fields and
        the sub-folders named by ``campaign.folders`` (Master Assets, Final Assets)."""
        f = self.fields.campaign
        fields = {f.number: FieldValue.scalar(number), f.name: FieldValue.scalar(name),
                  f.type: FieldValue.scalar(campaign_type), f.status: FieldValue.scalar(status)}
        with self.state.lock:
            folder = self.state.add_folder(self.campaigns_root_id, f"{number} {name}".strip(),
                                           container_type_id=self.fields.campaign_container_type_id,
                                           metadata_model_id=self.fields.campaign_model_id, fields=fields,
                                           created=created)
            master = self.state.add_folder(folder.id, f.folders.master_assets, created=folder.date_imported)
            final = self.state.add_folder(folder.id, f.folders.final_assets, created=folder.date_imported)
        return SeededCampaign(folder.id, master.id, final.id, number, name)

    def add_folder(self, parent_id: str, name: str, fields: dict[str, str | int | None] | None = None,
                   created: str | None = None) -> str:
        """A plain sub-folder (optionally with scalar metadata); returns its id."""
        values = {k: FieldValue.scalar(v) for k, v in (fields or {}).items()}
        return self.state.add_folder(parent_id, name, fields=values, created=created).id

    def add_asset(self, folder_id: str, name: str, size: int, mime_type: str = "application/octet-stream",
                  fields: dict[str, str | int | None] | None = None,
                  domain_fields: dict[str, tuple[str, str]] | None = None,
                  tables: dict[str, dict[str, list[Any]]] | None = None, created: str | None = None) -> str:
        """An asset with generated content of ``size`` bytes; returns its id.

        ``fields``: scalar values (``str`` → CHAR, ISO-8601 ``…Z`` string → DATE, ``int`` →
        INTEGER, ``None`` → present but empty); ``domain_fields``: ``{id: (code, label)}``;
        ``tables``: ``{table_id: {table_field_id: [values]}}``.
        """
        values = {k: FieldValue.scalar(v) for k, v in (fields or {}).items()}
        values.update({k: FieldValue.lookup(code, label) for k, (code, label) in (domain_fields or {}).items()})
        return self.state.add_asset(folder_id, name, size=size, mime_type=mime_type,
                                    metadata_model_id=self.fields.metadata_model_id, fields=values,
                                    tables=tables, created=created).id

    def seed_demo(self) -> dict[str, SeededCampaign]:
        """The demo data set (:mod:`simulators.otmm.seed`); returns the campaigns by number."""
        from simulators.otmm.seed import seed_demo

        return seed_demo(self)

    # -- campaign status --------------------------------------------------------------------
    def campaign_status(self, folder_id: str) -> str:
        """The campaign folder's status field."""
        value = self.metadata(folder_id).get(self.fields.campaign.status)
        return "" if value is None else str(value)

    def set_campaign_status(self, folder_id: str, status: str) -> None:
        """Set the status field directly (no lock needed: this is the simulator's back door)."""
        with self.state.lock:
            self.state.folder(folder_id).fields[self.fields.campaign.status] = FieldValue.scalar(status)

    def rename_campaign(self, folder_id: str, name: str) -> None:
        """Rename a campaign as a DAM user would: its name field and its folder name
        (``"<number> <name>"``) change; its id, number and contents stay."""
        f = self.fields.campaign
        with self.state.lock:
            folder = self.state.folder(folder_id)
            number = folder.fields[f.number].value
            folder.fields[f.name] = FieldValue.scalar(name)
            folder.name = f"{number} {name}".strip()

    def move_asset(self, asset_id: str, folder_id: str | None = None, name: str | None = None) -> None:
        """Move and/or rename an asset as a DAM user would; its id and content stay."""
        with self.state.lock:
            asset = self.state.asset(asset_id)
            if folder_id is not None:
                self.state.folder(folder_id)
                asset.parent_id = folder_id
            if name is not None:
                asset.name = name

    def link_asset(self, asset_id: str, folder_id: str) -> None:
        """List the asset in ``folder_id`` too (see ``Asset.links``)."""
        with self.state.lock:
            self.state.folder(folder_id)
            self.state.asset(asset_id).links.add(folder_id)

    def replace_content(self, asset_id: str, size: int) -> None:
        """A new master file of ``size`` bytes for the asset (someone replaced it in the DAM)."""
        with self.state.lock:
            asset = self.state.asset(asset_id)
            asset.size, asset.sha1, asset.file_path = size, None, None

    def campaigns(self) -> list[dict[str, Any]]:
        """Every campaign folder (a folder with a campaign number): number, name, status, type, folder_id."""
        f = self.fields.campaign
        out = []
        with self.state.lock:
            for folder in self.state.folders.values():
                number = folder.fields.get(f.number)
                if number is None or number.value in (None, ""):
                    continue
                values = {k: (folder.fields[fid].value if fid in folder.fields else None)
                          for k, fid in (("name", f.name), ("status", f.status), ("type", f.type))}
                out.append({"number": number.value, **values, "folder_id": folder.id,
                            "created": folder.date_imported})
        return sorted(out, key=lambda c: (str(c["number"]), c["folder_id"]))

    # -- inspection -------------------------------------------------------------------------
    def metadata(self, item_id: str) -> dict[str, Any]:
        """Flat metadata of a folder or asset: field id → value (domain → code; table field → list)."""
        with self.state.lock:
            node = self.state.node(item_id)
            flat: dict[str, Any] = {k: v.value for k, v in node.fields.items()}
            for columns in node.tables.values():
                for field_id, values in columns.items():
                    flat.setdefault(field_id, list(values))
        return flat

    def lock(self, item_id: str, owner: str = "someone-else") -> None:
        """Lock a folder/asset as ``owner`` (e.g. to simulate another user's lock)."""
        with self.state.lock:
            self.state.node(item_id).lock_owner = owner

    def unlock(self, item_id: str) -> None:
        with self.state.lock:
            self.state.node(item_id).lock_owner = None

    def lock_owner(self, item_id: str) -> str | None:
        with self.state.lock:
            return self.state.node(item_id).lock_owner

    # -- sign-ins ---------------------------------------------------------------------------
    def expire_tokens(self) -> None:
        """Every token and session issued so far is refused from now on (401 ``TOKEN_EXPIRED`` /
        ``SESSION_EXPIRED``)."""
        self.state.expire_tokens()

    def sign_ins(self, method: str | None = None) -> int:
        """Successful sign-ins with ``method`` (a DAM block ``auth_method``: ``oauth2``,
        ``otds_password``, ``otmm_password``, ``session``), or with any when ``None``."""
        with self.state.lock:
            counts = dict(self.state.sign_ins)
        return sum(counts.values()) if method is None else counts.get(method, 0)

    @property
    def token_requests(self) -> int:
        """How many tokens were issued (OTDS and OTMM's own)."""
        return sum(self.sign_ins(m) for m in ("oauth2", "otds_password", "otmm_password"))

    def sessions(self) -> list[dict[str, Any]]:
        """Every OTMM session opened: id, login_name, closed (``DELETE``d), revoked (expired by a test)."""
        with self.state.lock:
            return [{"id": s.id, "login_name": s.login_name, "closed": s.closed, "revoked": s.revoked}
                    for s in self.state.sessions.values()]

    def session_credentials(self) -> list[str]:
        """The message digests and JSESSIONIDs handed out (what a secret scan looks for)."""
        with self.state.lock:
            return [v for s in self.state.sessions.values() for v in (s.message_digest, s.jsessionid)]

    # -- content ----------------------------------------------------------------------------
    def iter_content(self, asset_id: str, start: int = 0) -> Iterator[bytes]:
        """The asset's master bytes from ``start``, in chunks of at most 64 KiB."""
        asset = self.state.asset(asset_id)
        if asset.file_path is not None:
            yield from file_chunks(asset.file_path, start)
        else:
            yield from generated_chunks(asset.id, asset.size, start)

    def content_sha1(self, asset_id: str) -> str:
        """Hex SHA-1 of the asset's bytes (streamed once, then cached)."""
        asset = self.state.asset(asset_id)
        if asset.sha1 is None:
            asset.sha1 = sha1_of(self.iter_content(asset_id))
        return asset.sha1

    def uploaded_assets(self) -> list[dict[str, Any]]:
        """Every asset created through ``POST /assets``: asset_id, name, parent_folder_id,
        asset_representation and manifest (parsed JSON as received), size, sha1, mime_type,
        job_id, import_template_id, file_path."""
        with self.state.lock:
            return [dict(u) for u in self.state.uploads]

    def close(self) -> None:
        """Remove the temporary upload directory (when the simulator made one)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


__all__ = ["OtmmSimulator", "SeededCampaign", "SimError", "otmm_error_body"]
