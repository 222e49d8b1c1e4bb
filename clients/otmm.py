"""OpenText Media Management (``otmmapi/v6``) over httpx: campaigns, folders, assets, content.

Everything the flows need from the DAM goes through :class:`OtmmClient`. It raises the typed
errors of :mod:`clients.errors` (never returns ``None`` on failure) and is thread-safe: one
instance, one connection pool and one sign-in serve every worker thread.

Field IDs come from ``config/dam_fields.toml`` (:class:`domain.fields.DamFields`), never from
this module. The request shapes follow ``reference/otmm_api.md``; where the reference marks a
shape as inferred, the choice is documented next to the code.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from clients.budget import RequestBudget, RequestCounts
from clients.errors import (
    AuthError,
    BudgetUnavailable,
    ClientError,
    Conflict,
    InvalidData,
    NotFound,
    TransientError,
)
from clients.otmm_auth import API_PATH, SYSTEM, MutualTLS, OtmmAuth, load_pfx, parse_retry_after
from clients.otmm_signin import (
    OAuth2ClientCredentials,
    OtdsPasswordGrant,
    OtmmPasswordGrant,
    OtmmSession,
    dig,
)
from clients.retry import REQUEST_RETRIES
from domain.campaigns import Campaign, DamAsset, InvalidCampaign
from domain.dam_metadata import FIELD_TYPE, flatten_metadata
from domain.fields import DamFields, load_dam_fields

__all__ = ["AssetContent", "MutualTLS", "OAuth2ClientCredentials", "OtdsPasswordGrant", "OtmmClient",
           "OtmmPasswordGrant", "OtmmSession", "load_pfx"]

CHUNK_SIZE = 1024 * 1024
CONDITION_TYPE = "com.artesia.search.SearchScalarCondition"
OP_IS = "ARTESIA.OPERATOR.CHAR.IS"
OP_CONTAINS = "ARTESIA.OPERATOR.CHAR.CONTAINS"
CONTAINER_TYPE = "com.artesia.container.Container"

log = logging.getLogger(__name__)


class AssetContent:
    """An open download of an asset's master file (from :meth:`OtmmClient.open_content`)."""

    def __init__(self, response: httpx.Response, asset_id: str, size: int, mime_type: str) -> None:
        self._response = response
        self.asset_id = asset_id
        self.size = size
        self.mime_type = mime_type

    def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
        """The body in chunks of ``chunk_size``; :class:`TransientError` when the connection breaks
        or the body ends short of ``size`` (a truncated file is never passed on as complete)."""
        received = 0
        try:
            for chunk in self._response.iter_bytes(chunk_size):
                received += len(chunk)
                yield chunk
        except httpx.TransportError as exc:
            raise TransientError(f"download of asset {self.asset_id} broke after {received} of {self.size} bytes: "
                                 f"{type(exc).__name__}: {exc}", system=SYSTEM) from exc
        if received != self.size:
            raise TransientError(f"download of asset {self.asset_id} ended after {received} of {self.size} bytes",
                                 system=SYSTEM)


class OtmmClient:
    """The DAM as the flows see it. Thread-safe; use as a context manager or call :meth:`close`.

    Args:
        base_url: DAM server root, e.g. ``https://dam.example.com`` (the API is ``{base}/otmmapi/v6``).
        auth: how to sign in: :class:`OAuth2ClientCredentials`, :class:`OtdsPasswordGrant`,
            :class:`OtmmPasswordGrant`, :class:`OtmmSession` or :class:`MutualTLS` (each carries
            the CA bundle that verifies the DAM's server certificate).
        timeout: httpx timeout, or seconds for connect and each read/write.
        fields: the DAM field IDs (default: ``config/dam_fields.toml``).
        page_size: items per page when listing folders and search results.
        job_timeout: seconds to wait for an import job to report its asset (:meth:`create_asset`).
        request_attempts: tries per call without a file body on 429/5xx/timeouts/dropped
            connections (Retry-After honoured); 1 leaves every retry to the caller.
        budget: called with ``"call"`` before every request to the DAM API (see
            ``clients/budget.py``); ``None`` sends at once. OTMM publishes no limits: this is
            for sites that want to share a self-imposed one between runs and workers.
    """

    def __init__(self, base_url: str, auth: OtmmAuth, *, timeout: httpx.Timeout | float = 60.0,
                 fields: DamFields | None = None, page_size: int = 100, job_timeout: float = 60.0,
                 request_attempts: int = 1, budget: RequestBudget | None = None) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.fields = fields or load_dam_fields()
        self.page_size = page_size
        self.job_timeout = job_timeout
        self.retry = REQUEST_RETRIES.model_copy(update={"attempts": max(1, request_attempts)})
        self.budget = budget
        self.counts = RequestCounts()
        self._answered = False  # the DAM has answered at least once (mTLS: the certificate is proven)
        self._http = httpx.Client(
            base_url=self.base_url + API_PATH,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            verify=auth.tls_context(),
            headers={"Accept": "application/json"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Sign out where the method has a sign-out (an OTMM session is deleted), then drop the
        connections. Best effort: closing never raises for the DAM's sake."""
        try:
            self.auth.close(self._http)
        finally:
            self._http.close()

    def __enter__(self) -> OtmmClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OtmmClient({self.base_url!r}, {self.auth!r})"

    # -- campaigns --------------------------------------------------------------------------
    def find_campaigns(self, status: str, campaign_type: str | None = None, limit: int | None = None,
                       invalid: list[InvalidCampaign] | None = None) -> list[Campaign]:
        """Campaign folders whose status is ``status`` (and type ``campaign_type``), oldest first
        (folder ``date_imported``, then number), at most ``limit``. With ``invalid`` a list, a
        campaign folder whose metadata is unusable (no name…) is described there and skipped
        instead of failing the whole search.

        Search hits that are not folders, or folders without a campaign number, are not campaigns
        and are left out; a campaign folder without name or status raises :class:`InvalidData`.
        """
        f = self.fields.campaign
        conditions = [_condition(f.status, status)]
        if campaign_type is not None:
            conditions.append(_condition(f.type, campaign_type))
        campaigns = [c for c in self._search_campaigns(conditions, invalid)
                     if c.status == status and (campaign_type is None or c.type == campaign_type)]
        campaigns.sort(key=_age_key)
        return campaigns if limit is None else campaigns[:max(0, limit)]

    def find_campaigns_by_number_or_name(self, text: str) -> list[Campaign]:
        """Campaigns whose number is exactly ``text``; when none, those whose name contains it."""
        text = text.strip()
        if not text:
            raise ValueError("give a campaign number or part of a campaign name")
        f = self.fields.campaign
        found = [c for c in self._search_campaigns([_condition(f.number, text)]) if c.number == text]
        if not found:
            needle = text.casefold()
            found = [c for c in self._search_campaigns([_condition(f.name, text, OP_CONTAINS)])
                     if needle in c.name.casefold()]
        found.sort(key=_age_key)
        return found

    def get_campaign(self, folder_id: str) -> Campaign:
        """The campaign in folder ``folder_id`` (:class:`InvalidData` when it is no campaign folder)."""
        return self._campaign(self._folder(folder_id))

    def set_campaign_status(self, folder_id: str, status: str) -> None:
        """Set the campaign folder's status field: lock, update, and always unlock.

        :class:`Conflict` when someone else holds the lock. A failed unlock after a successful
        update is logged, not raised: the status did change.
        """
        state_path = f"/assets/{_q(folder_id)}/state"
        what = f"status of campaign folder {folder_id}"
        self._send("PUT", state_path, data={"action": "lock"}, what=f"lock {what}")
        try:
            body = {"edited_folder": {"data": {"metadata": [
                {"id": self.fields.campaign.status, "type": FIELD_TYPE,
                 "value": {"value": {"type": "string", "value": status}}},
            ]}}}
            self._send("PATCH", f"/folders/{_q(folder_id)}", json=body, what=f"update {what} to {status}")
        finally:
            try:
                self._send("PUT", state_path, data={"action": "unlock"}, what=f"unlock {what}")
            except ClientError as exc:
                log.warning("could not unlock campaign folder %s: %s", folder_id, exc)

    # -- folders and assets -----------------------------------------------------------------
    def find_subfolder(self, folder_id: str, name: str) -> str:
        """The id of the direct sub-folder ``name`` of ``folder_id`` (:class:`NotFound` when missing).

        An exact name wins; otherwise a single case-insensitive match is accepted.
        """
        loose: list[str] = []
        for item in self._children(folder_id):
            if not _is_folder(item):
                continue
            item_name = str(item.get("name") or "")
            if item_name == name:
                return _required_id(item, f"sub-folder {name!r} of {folder_id}")
            if item_name.strip().casefold() == name.strip().casefold():
                loose.append(_required_id(item, f"sub-folder {item_name!r} of {folder_id}"))
        if len(loose) == 1:
            return loose[0]
        raise NotFound(f"folder {folder_id} has no sub-folder {name!r}", status=404, system=SYSTEM)

    def walk_assets(self, folder_id: str) -> Iterator[DamAsset]:
        """Every asset below ``folder_id``, recursively (depth first, in listing order).

        ``sub_path`` is the list of folder names between ``folder_id`` and the asset.
        """
        stack: list[tuple[str, list[str]]] = [(folder_id, [])]
        seen = {folder_id}
        while stack:
            current, sub_path = stack.pop()
            sub_folders: list[tuple[str, list[str]]] = []
            for item in self._children(current):
                if _is_folder(item):
                    child_id = _required_id(item, f"a sub-folder of {current}")
                    if child_id not in seen:  # a folder linked in twice is walked once
                        seen.add(child_id)
                        sub_folders.append((child_id, [*sub_path, str(item.get("name") or child_id)]))
                else:
                    yield _dam_asset(item, sub_path)
            stack.extend(reversed(sub_folders))

    def get_asset(self, asset_id: str) -> DamAsset:
        """One asset with its flattened metadata (``sub_path`` empty)."""
        payload = self._json(self._send("GET", f"/assets/{_q(asset_id)}", params={"load_type": "metadata"},
                                        what=f"asset {asset_id}"), "asset")
        asset = dig(payload, "asset_resource", "asset")
        if not isinstance(asset, dict):
            raise InvalidData(f"the DAM sent no asset_resource for asset {asset_id}", system=SYSTEM)
        return _dam_asset(asset, [])

    @contextmanager
    def open_content(self, asset_id: str) -> Iterator[AssetContent]:
        """Stream the asset's master file: ``with client.open_content(id) as c: c.iter_bytes()``.

        ``c.size`` is the Content-Length. The body is never held in memory whole.
        """
        response = self._send("GET", f"/assets/{_q(asset_id)}/contents", stream=True,
                              headers={"Accept": "*/*", "Accept-Encoding": "identity"},
                              what=f"content of asset {asset_id}")
        try:
            length = response.headers.get("Content-Length")
            mime_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
            if length is not None and length.isdigit():
                size = int(length)
            else:  # chunked answer: the asset record knows the size
                size = self.get_asset(asset_id).size
            yield AssetContent(response, asset_id, size, mime_type)
        finally:
            response.close()

    def create_asset(self, parent_folder_id: str, file_name: str, mime_type: str, fileobj: BinaryIO,
                     representation: dict[str, Any]) -> str:
        """Upload ``fileobj`` as a new asset in ``parent_folder_id``; return the new asset id.

        ``representation`` is the ``asset_representation`` JSON (``{"asset_resource": {"asset":
        ...}}``, see :func:`domain.dam_metadata.asset_representation`; a bare asset dict is wrapped).
        The file is streamed from ``fileobj``, never read whole. The DAM imports asynchronously:
        the job is polled until it reports the asset (:class:`TransientError` after
        ``job_timeout``; the job may still finish, so look for the asset before uploading again).
        """
        if "asset_resource" not in representation:
            representation = {"asset_resource": {"asset": representation}}
        manifest = {"upload_manifest": {"master_files": [{"file": {"file_name": file_name,
                                                                   "file_type": mime_type}}]}}
        data = {"parent_folder_id": parent_folder_id, "manifest": json.dumps(manifest),
                "asset_representation": json.dumps(representation)}
        seekable = _seekable(fileobj)

        def rewind() -> None:  # httpx seeks a seekable file back to 0 itself
            if not seekable:
                raise TransientError(f"the DAM refused the sign-in while {file_name!r} was uploading and the "
                                     "stream cannot be replayed", status=401, system=SYSTEM)

        response = self._send("POST", "/assets", data=data, files={"files": (file_name, fileobj, mime_type)},
                              rewind=rewind, what=f"upload of {file_name!r} into folder {parent_folder_id}")
        job_id = dig(self._json(response, "upload"), "job_handle", "job_id")
        if job_id in (None, ""):
            raise InvalidData(f"the DAM accepted {file_name!r} but sent no job_handle.job_id", system=SYSTEM)
        return self._job_asset_id(str(job_id), file_name)

    def ping(self) -> None:
        """One cheap authenticated call (connection tests): the children of Public Folders, limit 1."""
        self._send("GET", "/folders/ARTESIA.PUBLIC.TREEN/children", params={"after": 0, "limit": 1,
                                                                            "load_type": "system"},
                   what="connection test").close()

    # -- internals --------------------------------------------------------------------------
    def _search_campaigns(self, conditions: list[dict[str, Any]],
                          invalid: list[InvalidCampaign] | None = None) -> Iterator[Campaign]:
        seen: set[str] = set()
        number_field = self.fields.campaign.number
        for item in self._search(conditions):
            if not _is_folder(item):
                continue
            folder_id = _required_id(item, "a search hit")
            if folder_id in seen:
                continue
            seen.add(folder_id)
            if "metadata" not in item:  # a slim hit without metadata: read the folder itself
                item = self._folder(folder_id)
            if flatten_metadata(_elements(item)).get(number_field) in (None, ""):
                continue  # a folder, but not a campaign folder
            try:
                campaign = self._campaign(item)
            except InvalidData as exc:
                if invalid is None:
                    raise
                number = flatten_metadata(_elements(item)).get(number_field)
                invalid.append(InvalidCampaign(folder_id=folder_id, number=str(number), problem=str(exc)))
                continue
            yield campaign

    def _search(self, conditions: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Every hit of a folder/asset metadata search, page by page (``after`` += ``hit_count``)."""
        condition_list = json.dumps({"search_condition_list": {"search_condition": conditions}})
        after = 0
        while True:
            form = {"keyword_query": "*", "search_condition_list": condition_list, "load_type": "metadata",
                    "level_of_detail": "slim", "after": str(after), "limit": str(self.page_size),
                    "folder_filter_type": "all"}
            payload = self._json(self._send("POST", "/search/text", data=form, what="campaign search"), "search")
            resource = payload.get("search_result_resource")
            if not isinstance(resource, dict):
                raise InvalidData("the DAM's search answer has no search_result_resource", system=SYSTEM)
            result = resource.get("search_result") or {}
            items = resource.get("asset_list") or []
            if not isinstance(items, list) or not isinstance(result, dict):
                raise InvalidData("the DAM's search answer is malformed", system=SYSTEM)
            yield from (i for i in items if isinstance(i, dict))
            try:
                hits = int(result.get("hit_count", len(items)))
                total = int(result.get("total_hit_count", after + hits))
            except (TypeError, ValueError) as exc:
                raise InvalidData(f"the DAM's search answer has unreadable counts: {exc}", system=SYSTEM) from exc
            after += hits
            if hits <= 0 or after >= total:
                return

    def _folder(self, folder_id: str) -> dict[str, Any]:
        payload = self._json(self._send("GET", f"/folders/{_q(folder_id)}", params={"load_type": "metadata"},
                                        what=f"folder {folder_id}"), "folder")
        folder = dig(payload, "folder_resource", "folder")
        if not isinstance(folder, dict):
            raise InvalidData(f"the DAM sent no folder_resource for folder {folder_id}", system=SYSTEM)
        return folder

    def _children(self, folder_id: str) -> Iterator[dict[str, Any]]:
        """Direct children (assets and folders) of a folder, page by page until a short page."""
        after = 0
        while True:
            params = {"after": after, "limit": self.page_size, "load_type": "metadata"}
            payload = self._json(self._send("GET", f"/folders/{_q(folder_id)}/children", params=params,
                                            what=f"children of folder {folder_id}"), "folder children")
            items = dig(payload, "folder_children", "asset_list")
            if items is None and isinstance(payload.get("folder_children"), dict):
                items = []  # an empty folder may leave the list out
            if not isinstance(items, list):
                raise InvalidData(f"the DAM sent no folder_children for folder {folder_id}", system=SYSTEM)
            yield from (i for i in items if isinstance(i, dict))
            if len(items) < self.page_size:
                return
            after += len(items)

    def _campaign(self, folder: dict[str, Any]) -> Campaign:
        f = self.fields.campaign
        folder_id = _required_id(folder, "a campaign folder")
        meta = flatten_metadata(_elements(folder))
        values = {"number": meta.get(f.number), "name": meta.get(f.name), "status": meta.get(f.status)}
        missing = [k for k, v in values.items() if v in (None, "") or isinstance(v, list | dict)]
        if missing:
            raise InvalidData(f"campaign folder {folder_id} ({folder.get('name')!r}) has no campaign "
                              f"{', '.join(missing)}", system=SYSTEM)
        kind = meta.get(f.type)
        return Campaign(folder_id=folder_id, number=str(values["number"]), name=str(values["name"]),
                        status=str(values["status"]), type="" if kind is None else str(kind),
                        created=_parse_time(folder.get("date_imported") or folder.get("date_created")))

    def _job_asset_id(self, job_id: str, file_name: str) -> str:
        deadline = time.monotonic() + self.job_timeout
        delay = 0.05
        while True:
            payload = self._json(self._send("GET", f"/jobs/{_q(job_id)}/assets", what=f"import job {job_id}"),
                                 "import job")
            assets = dig(payload, "assets_resource", "asset_list") or []
            if assets:
                first = assets[0]
                if isinstance(first, dict) and first.get("asset_id"):
                    return str(first["asset_id"])
                raise InvalidData(f"import job {job_id} reported an asset without asset_id", system=SYSTEM)
            if time.monotonic() + delay > deadline:
                raise TransientError(f"import job {job_id} for {file_name!r} reported no asset after "
                                     f"{self.job_timeout:.0f}s", system=SYSTEM)
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    # Calls without a file body are reads or set a state (lock, status): replaying them is safe,
    # so the client replays them (clients/retry.py: the request layer). The asset upload (a
    # streamed body that creates an asset) is left to the unit of work around it.
    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """:meth:`_send_once`, replayed on a ``TransientError`` when the request has no file body."""
        if kwargs.get("files") is not None:
            return self._send_once(method, path, **kwargs)
        return self.retry.run(lambda: self._send_once(method, path, **kwargs), f"DAM {method} {path}",
                              leave=(BudgetUnavailable,))

    def _send_once(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   data: dict[str, Any] | None = None, json: Any = None, files: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None, stream: bool = False,
                   rewind: Callable[[], None] | None = None, what: str = "") -> httpx.Response:
        """One API call with auth; a 401 gets a fresh sign-in and one more try. Errors → typed.

        A streamed response is returned open (the caller closes it); others are read.
        """
        what = what or f"{method} {path}"
        for attempt in (1, 2):
            auth_headers = self.auth.auth_headers(self._http)
            request = self._http.build_request(method, path, params=params, data=data, json=json, files=files,
                                               headers={**(headers or {}), **auth_headers})
            self.counts.take(self.budget, "call")
            try:
                response = self._http.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                raise TransientError(f"the DAM timed out ({what}): {type(exc).__name__}", system=SYSTEM) from exc
            except httpx.TransportError as exc:
                mapped = self.auth.transport_error(exc, ever_answered=self._answered)
                if mapped is not None:
                    raise mapped from exc
                raise TransientError(f"the DAM connection failed ({what}): {type(exc).__name__}: {exc}",
                                     system=SYSTEM) from exc
            self._answered = True
            if response.status_code == 429:
                self.counts.throttled()
            if response.status_code == 401 and attempt == 1 and self.auth.unauthorized(auth_headers):
                response.close()
                if rewind is not None:
                    rewind()
                continue
            if response.is_error:
                raise self._error(response, what)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _error(self, response: httpx.Response, what: str) -> ClientError:
        try:
            response.read()
        except httpx.HTTPError:
            pass
        finally:
            response.close()
        status = response.status_code
        text = f"{what}: the DAM answered {status}: {_exception_message(response)}"
        if status == 401:
            return AuthError(f"{text} (the credentials were refused)", status=status, system=SYSTEM)
        if status == 403:
            return AuthError(f"{text} (the service account lacks a permission)", status=status, system=SYSTEM)
        if status == 404:
            return NotFound(text, status=status, system=SYSTEM)
        if status in (409, 423):
            return Conflict(text, status=status, system=SYSTEM)
        if status in (408, 429) or status >= 500:
            return TransientError(text, status=status, system=SYSTEM,
                                  retry_after=parse_retry_after(response.headers.get("Retry-After")))
        return InvalidData(text, status=status, system=SYSTEM)

    @staticmethod
    def _json(response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError as exc:
            raise InvalidData(f"the DAM's {what} answer is not JSON: {response.text[:200]!r}",
                              status=response.status_code, system=SYSTEM) from exc
        if not isinstance(payload, dict):
            raise InvalidData(f"the DAM's {what} answer is not a JSON object", system=SYSTEM)
        return payload


# -- helpers ------------------------------------------------------------------------------
def _q(identifier: str) -> str:
    return quote(identifier, safe="")


def _condition(field_id: str, value: str, operator: str = OP_IS) -> dict[str, Any]:
    return {"type": CONDITION_TYPE, "metadata_field_id": field_id, "relational_operator_id": operator,
            "value": value, "relational_operator": "and"}


def _elements(item: dict[str, Any]) -> list[dict[str, Any]]:
    elements = dig(item, "metadata", "metadata_element_list")
    return [e for e in elements if isinstance(e, dict)] if isinstance(elements, list) else []


def _is_folder(item: dict[str, Any]) -> bool:
    return item.get("data_type") == "CONTAINER" or item.get("type") == CONTAINER_TYPE


def _required_id(item: dict[str, Any], what: str) -> str:
    value = item.get("asset_id") or item.get("container_id")
    if not isinstance(value, str) or not value:
        raise InvalidData(f"the DAM sent {what} without an id", system=SYSTEM)
    return value


def _dam_asset(item: dict[str, Any], sub_path: list[str]) -> DamAsset:
    asset_id = _required_id(item, "an asset")
    master = item.get("master_content_info") if isinstance(item.get("master_content_info"), dict) else {}
    name = item.get("name") or master.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidData(f"the DAM sent asset {asset_id} without a name", system=SYSTEM)
    size = item.get("content_size", master.get("content_size"))
    try:
        size = max(0, int(size)) if size is not None else 0
    except (TypeError, ValueError):
        size = 0
    mime_type = item.get("mime_type") or master.get("mime_type") or "application/octet-stream"
    elements = _elements(item)
    return DamAsset(asset_id=asset_id, name=name, size=size, mime_type=str(mime_type), sub_path=list(sub_path),
                    metadata=flatten_metadata(elements), raw_metadata=elements)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


_NEVER = datetime.max.replace(tzinfo=UTC)


def _age_key(campaign: Campaign) -> tuple[datetime, str]:
    created = campaign.created
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return (created or _NEVER, campaign.number)


def _exception_message(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:300].strip() or response.reason_phrase or "no details"
    body = payload.get("exception_body") if isinstance(payload, dict) else None
    if isinstance(body, dict):
        message = body.get("message") or body.get("debug_message")
        if message:
            code = body.get("error_code")
            return f"{message} ({code})" if code else str(message)
    return json.dumps(payload)[:300]


def _seekable(fileobj: Any) -> bool:
    try:
        return bool(fileobj.seekable())
    except (AttributeError, OSError):
        return hasattr(fileobj, "seek")
