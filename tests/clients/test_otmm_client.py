"""The OTMM client over real HTTP(S) against the OTMM simulator (every sign-in, and mTLS)."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from clients.errors import AuthError, Conflict, InvalidData, NotFound, TransientError
from clients.otmm import (
    MutualTLS,
    OAuth2ClientCredentials,
    OtdsPasswordGrant,
    OtmmClient,
    OtmmPasswordGrant,
    OtmmSession,
)
from clients.otmm_signin import SignIn
from domain.dam_metadata import asset_representation, scalar_field, table, table_field
from domain.fields import load_dam_fields
from simulators.certs import Pki, make_pki, make_untrusted_client_pfx
from simulators.common import ServerThread
from simulators.otmm import OtmmSimulator
from tests.conftest import SIGN_IN_METHODS

FIELDS = load_dam_fields()
PASSWORD_METHODS = ("session", "otds_password", "otmm_password")


def oauth(base_url: str, client_id: str, secret: str, skew: float = 60, ca_bundle: str | None = None
          ) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(base_url + "/otdsws/oauth2/token", client_id, secret,
                                   refresh_skew_seconds=skew, ca_bundle=ca_bundle)


def sign_in(method: str, otmm, *, password: str | None = None, client_secret: str | None = None,
            skew: float = 60) -> SignIn:
    """The sign-in ``method`` (a DAM block ``auth_method``) for the ``otmm`` simulator."""
    base, token_url = otmm.base_url, otmm.base_url + "/otdsws/oauth2/token"
    password, client_secret = password or otmm.password, client_secret or otmm.client_secret
    if method == "oauth2":
        return oauth(base, otmm.client_id, client_secret, skew)
    if method == "otds_password":
        return OtdsPasswordGrant(token_url, otmm.client_id, otmm.username, password, client_secret,
                                 refresh_skew_seconds=skew)
    if method == "otmm_password":
        return OtmmPasswordGrant(base, otmm.client_id, otmm.username, password, client_secret)
    assert method == "session"
    return OtmmSession(base, otmm.username, password)


@pytest.fixture
def client(otmm) -> Iterator[OtmmClient]:
    with OtmmClient(otmm.base_url, oauth(otmm.base_url, otmm.client_id, otmm.client_secret),
                    timeout=httpx.Timeout(10.0), fields=FIELDS, page_size=2) as c:
        yield c


def inject(base_url: str, **rule) -> None:
    httpx.post(base_url + "/_sim/faults", json=rule).raise_for_status()


# -- campaigns ----------------------------------------------------------------------------
def test_find_campaigns_by_status_and_type_oldest_first_and_limited(client: OtmmClient, otmm) -> None:
    sim: OtmmSimulator = otmm.sim
    newest = sim.add_campaign("C000000003", "Summer", "A1", "Local comm", created="2026-03-01T00:00:00Z")
    oldest = sim.add_campaign("C000000001", "Winter", "A1", "Local comm", created="2025-12-01T00:00:00Z")
    same_day_b = sim.add_campaign("C000000005", "Spring B", "A1", "Local comm", created="2026-02-01T00:00:00Z")
    same_day_a = sim.add_campaign("C000000004", "Spring A", "A1", "Local comm", created="2026-02-01T00:00:00Z")
    sim.add_campaign("C000000002", "Other status", "A2", "Local comm", created="2025-01-01T00:00:00Z")
    global_ = sim.add_campaign("C000000006", "Global one", "A1", "Global comm", created="2025-06-01T00:00:00Z")
    sim.add_folder(sim.campaigns_root_id, "Not a campaign", fields={FIELDS.campaign.status: "A1"})
    sim.add_asset(newest.master_assets_id, "looks-like-status.jpg", 10, fields={FIELDS.campaign.status: "A1"})

    found = client.find_campaigns("A1")  # page_size 2: several search pages
    assert [c.number for c in found] == ["C000000006", "C000000001", "C000000004", "C000000005", "C000000003"]
    assert found[1].folder_id == oldest.folder_id and found[1].name == "Winter" and found[1].status == "A1"
    assert found[1].type == "Local comm" and found[1].created.isoformat() == "2025-12-01T00:00:00+00:00"
    assert {found[2].folder_id, found[3].folder_id} == {same_day_a.folder_id, same_day_b.folder_id}

    local = client.find_campaigns("A1", campaign_type="Local comm", limit=2)
    assert [c.number for c in local] == ["C000000001", "C000000004"]
    assert [c.folder_id for c in client.find_campaigns("A1", "Global comm")] == [global_.folder_id]
    assert client.find_campaigns("B1") == []
    assert client.get_campaign(oldest.folder_id) == found[1]


def test_find_by_number_or_name(client: OtmmClient, otmm) -> None:
    sim = otmm.sim
    sim.add_campaign("C000000078", "Spring Launch", "A3")
    sim.add_campaign("C000000079", "Spring Sale", "A1")
    sim.add_campaign("C000000080", "Autumn", "A1")
    assert [c.number for c in client.find_campaigns_by_number_or_name("C000000078")] == ["C000000078"]
    assert {c.number for c in client.find_campaigns_by_number_or_name("spring")} == {"C000000078", "C000000079"}
    assert client.find_campaigns_by_number_or_name("C0000000") == []  # a partial number is not a name
    assert client.find_campaigns_by_number_or_name("Nothing like it") == []


def test_campaign_folder_without_name_is_invalid_data(client: OtmmClient, otmm) -> None:
    f = FIELDS.campaign
    broken = otmm.sim.add_folder(otmm.sim.campaigns_root_id, "broken",
                                 fields={f.number: "C000000099", f.status: "A1"})
    with pytest.raises(InvalidData, match="no campaign name"):
        client.find_campaigns("A1")
    with pytest.raises(InvalidData, match=broken):
        client.get_campaign(broken)
    plain = otmm.sim.add_folder(otmm.sim.campaigns_root_id, "plain folder")
    with pytest.raises(InvalidData, match="number, name, status"):
        client.get_campaign(plain)


# -- folders and assets -------------------------------------------------------------------
def seed_tree(sim: OtmmSimulator) -> tuple[str, dict[str, str]]:
    c = sim.add_campaign("C000000101", "Tree", "A1")
    social = sim.add_folder(c.master_assets_id, "Social")
    stories = sim.add_folder(social, "Stories")
    empty = sim.add_folder(social, "Empty")
    sim.add_folder(empty, "Deeper empty")
    print_ = sim.add_folder(c.master_assets_id, "Print")
    ids = {
        "a.jpg": sim.add_asset(c.master_assets_id, "a.jpg", 10, "image/jpeg"),
        "b.jpg": sim.add_asset(c.master_assets_id, "b.jpg", 11, "image/jpeg"),
        "c.pdf": sim.add_asset(c.master_assets_id, "c.pdf", 12, "application/pdf"),
        "Social/post1.png": sim.add_asset(social, "post1.png", 13, "image/png"),
        "Social/post2.png": sim.add_asset(social, "post2.png", 14, "image/png"),
        "Social/Stories/s1.mp4": sim.add_asset(stories, "s1.mp4", 15, "video/mp4"),
        "Social/Stories/s2.mp4": sim.add_asset(stories, "s2.mp4", 16, "video/mp4"),
        "Social/Stories/s3.mp4": sim.add_asset(stories, "s3.mp4", 17, "video/mp4"),
        "Print/flyer.pdf": sim.add_asset(print_, "flyer.pdf", 18, "application/pdf"),
    }
    return c.folder_id, ids


def test_walk_assets_recurses_and_pages(client: OtmmClient, otmm) -> None:
    campaign_id, ids = seed_tree(otmm.sim)
    master = client.find_subfolder(campaign_id, FIELDS.campaign.folders.master_assets)

    assets = list(client.walk_assets(master))  # page_size 2: every folder needs several pages

    assert {a.dam_path: a.asset_id for a in assets} == ids
    assert len(assets) == len(ids)
    by_path = {a.dam_path: a for a in assets}
    assert by_path["Social/Stories/s2.mp4"].sub_path == ["Social", "Stories"]
    assert by_path["a.jpg"].sub_path == []
    assert by_path["c.pdf"].mime_type == "application/pdf" and by_path["c.pdf"].size == 12
    children_calls = [r for r in httpx.get(otmm.base_url + "/_sim/requests").json()["requests"]
                      if r["path"].endswith("/children")]
    assert any("after=2" in r["query"] for r in children_calls)


def test_find_subfolder_missing_is_not_found(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000102", "No finals", "A1")
    assert client.find_subfolder(c.folder_id, "final assets") == c.final_assets_id  # case-insensitive fallback
    with pytest.raises(NotFound, match="Localised"):
        client.find_subfolder(c.folder_id, "Localised")


def test_get_asset_flattens_scalar_domain_and_table_fields(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000103", "Meta", "A1")
    asset_id = otmm.sim.add_asset(
        c.master_assets_id, "hero.jpg", 1234, "image/jpeg",
        fields={FIELDS.asset.brand: "Nutty", "MKT.FIELD.YEAR": 2026, FIELDS.rejection.approver_date:
                "2026-02-03T04:05:06Z"},
        domain_fields={FIELDS.asset.country: ("IT", "Italy")},
        tables={FIELDS.creativex.table: {FIELDS.creativex.score: [87, 91], "MKT.FIELD.PLATFORMRATING.NAME":
                                         ["Meta", "TikTok"]}},
    )
    asset = client.get_asset(asset_id)
    assert (asset.name, asset.size, asset.mime_type, asset.sub_path) == ("hero.jpg", 1234, "image/jpeg", [])
    assert asset.metadata == {
        FIELDS.asset.brand: "Nutty", "MKT.FIELD.YEAR": 2026, FIELDS.rejection.approver_date: "2026-02-03T04:05:06Z",
        FIELDS.asset.country: "IT",
        FIELDS.creativex.score: [87, 91], "MKT.FIELD.PLATFORMRATING.NAME": ["Meta", "TikTok"],
    }
    assert asset.raw_metadata and all("metadata_element_list" in g for g in asset.raw_metadata)
    with pytest.raises(NotFound, match="not found"):
        client.get_asset("0" * 40)


# -- content ------------------------------------------------------------------------------
def test_open_content_streams_the_exact_bytes(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000104", "Bytes", "A1")
    asset_id = otmm.sim.add_asset(c.master_assets_id, "big.mov", 3 * 1024 * 1024 + 7, "video/quicktime")
    digest, chunks = hashlib.sha1(), 0
    with client.open_content(asset_id) as content:
        assert content.size == 3 * 1024 * 1024 + 7 and content.mime_type == "video/quicktime"
        for chunk in content.iter_bytes(1024 * 1024):
            assert len(chunk) <= 1024 * 1024
            digest.update(chunk)
            chunks += 1
    assert digest.hexdigest() == otmm.sim.content_sha1(asset_id)
    assert chunks == 4


def test_drop_mid_body_raises_transient_not_short_data(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000105", "Drop", "A1")
    asset_id = otmm.sim.add_asset(c.master_assets_id, "clip.mp4", 500_000, "video/mp4")
    inject(otmm.base_url, path="/contents$", kind="drop", after_bytes=100_000, count=1)
    received = 0
    with pytest.raises(TransientError, match="500000"):
        with client.open_content(asset_id) as content:
            for chunk in content.iter_bytes(64 * 1024):
                received += len(chunk)
    assert received < 500_000
    with client.open_content(asset_id) as content:  # the next attempt works
        assert sum(len(b) for b in content.iter_bytes()) == 500_000


def test_429_with_retry_after_and_5xx_are_transient(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000106", "Busy", "A1")
    inject(otmm.base_url, path="/children$", kind="status", status=429, retry_after=7, count=1)
    with pytest.raises(TransientError) as caught:
        list(client.walk_assets(c.master_assets_id))
    assert caught.value.retry_after == 7 and caught.value.status == 429
    assert "simulated fault" in str(caught.value)  # the exception_body message
    inject(otmm.base_url, path="/search/text$", kind="status", status=503, count=1)
    with pytest.raises(TransientError) as caught:
        client.find_campaigns("A1")
    assert caught.value.status == 503 and caught.value.retry_after is None
    assert [x.number for x in client.find_campaigns("A1")] == ["C000000106"]


def test_hang_is_a_transient_timeout(otmm) -> None:
    inject(otmm.base_url, path="/children$", kind="latency", seconds=1.0, count=1)
    with OtmmClient(otmm.base_url, oauth(otmm.base_url, otmm.client_id, otmm.client_secret),
                    timeout=httpx.Timeout(0.3), fields=FIELDS) as c:
        with pytest.raises(TransientError, match="timed out"):
            c.ping()


# -- auth ---------------------------------------------------------------------------------
@pytest.mark.parametrize("method", SIGN_IN_METHODS)
def test_every_sign_in_reads_writes_and_uploads(method: str, otmm) -> None:
    sim: OtmmSimulator = otmm.sim
    c = sim.add_campaign("C000000120", "Signed in", "A1")
    asset_id = sim.add_asset(c.master_assets_id, "hero.jpg", 70_000, "image/jpeg")
    with OtmmClient(otmm.base_url, sign_in(method, otmm), fields=FIELDS, page_size=2) as client:
        assert [x.number for x in client.find_campaigns("A1")] == ["C000000120"]
        with client.open_content(asset_id) as content:
            assert hashlib.sha1(b"".join(content.iter_bytes())).hexdigest() == sim.content_sha1(asset_id)
        client.set_campaign_status(c.folder_id, "A2")
        new_id = client.create_asset(c.final_assets_id, "x.txt", "text/plain", io.BytesIO(b"x"), {})
        assert [a.asset_id for a in client.walk_assets(c.final_assets_id)] == [new_id]
    assert sim.campaign_status(c.folder_id) == "A2"
    assert sim.sign_ins(method) == sim.sign_ins() == 1  # one sign-in for the whole conversation
    log = httpx.get(otmm.base_url + "/_sim/requests").json()["requests"]
    assert [r["status"] for r in log if r["status"] == 401] == []


@pytest.mark.parametrize("method", SIGN_IN_METHODS)
def test_racing_threads_share_one_sign_in_and_one_renewal(method: str, otmm) -> None:
    with OtmmClient(otmm.base_url, sign_in(method, otmm), fields=FIELDS) as client:
        with ThreadPoolExecutor(16) as pool:  # sixteen threads start together on a fresh client
            list(pool.map(lambda _: client.ping(), range(32)))
        assert otmm.sim.sign_ins(method) == 1
        otmm.sim.expire_tokens()
        with ThreadPoolExecutor(16) as pool:  # concurrent 401s still cause one new sign-in
            list(pool.map(lambda _: client.ping(), range(32)))
        assert otmm.sim.sign_ins(method) == 2


@pytest.mark.parametrize("method", PASSWORD_METHODS)
def test_wrong_password_or_client_secret_is_an_auth_error_naming_the_method(method: str, otmm) -> None:
    wrong = "not-the-password-" + secrets.token_hex(4)
    auth = sign_in(method, otmm, password=wrong)
    with OtmmClient(otmm.base_url, auth, fields=FIELDS) as c:
        with pytest.raises(AuthError) as caught:
            c.ping()
    text = str(caught.value)
    assert text.startswith(f"{auth.label} (auth_method {method!r}) failed: ") and auth.label
    assert repr(otmm.username) in text and "check the username" in text and "password" in text
    assert wrong not in text and wrong not in repr(auth) and wrong not in repr(c)
    if method != "session":  # the password grants also go through the OAuth client
        with OtmmClient(otmm.base_url, sign_in(method, otmm, client_secret="wrong"), fields=FIELDS) as c:
            with pytest.raises(AuthError, match=f"auth_method {method!r}.*client_secret"):
                c.ping()
    assert otmm.sim.sign_ins() == 0


@pytest.mark.parametrize("method", ["oauth2", "otds_password"])
def test_token_is_refreshed_before_it_expires(method: str) -> None:
    secret = secrets.token_urlsafe(8)
    sim = OtmmSimulator(client_id="short", client_secret=secret, token_ttl=2, username="u", password="p")
    with ServerThread(sim.app) as server:
        running = SimpleNamespace(base_url=server.base_url, client_id="short", client_secret=secret, username="u",
                                  password="p")
        with OtmmClient(server.base_url, sign_in(method, running, skew=1), fields=FIELDS) as c:
            c.ping()
            assert sim.sign_ins(method) == 1
            c.ping()
            assert sim.sign_ins(method) == 1  # cached
            time.sleep(1.2)  # past expires_in - skew, before expiry
            c.ping()
            assert sim.sign_ins(method) == 2
        log = httpx.get(server.base_url + "/_sim/requests").json()["requests"]
        assert all(r["status"] != 401 for r in log)  # refreshed proactively, never refused


@pytest.mark.parametrize("method", ["otmm_password", "session"])
def test_sign_in_without_a_stated_lifetime_is_renewed_on_the_401(method: str) -> None:
    """OTMM's token and session answers state no lifetime: the client finds out from a 401."""
    sim = OtmmSimulator(client_id="c", client_secret="s", token_ttl=0.5, session_timeout=0.5, username="u",
                        password="p")
    with ServerThread(sim.app) as server:
        running = SimpleNamespace(base_url=server.base_url, client_id="c", client_secret="s", username="u",
                                  password="p")
        with OtmmClient(server.base_url, sign_in(method, running), fields=FIELDS) as c:
            c.ping()
            time.sleep(0.7)
            c.ping()
        assert sim.sign_ins(method) == 2
        statuses = [r["status"] for r in httpx.get(server.base_url + "/_sim/requests").json()["requests"]
                    if r["path"].endswith("/children")]
        assert statuses == [200, 401, 200]


def test_session_is_closed_when_the_client_closes(otmm) -> None:
    sim: OtmmSimulator = otmm.sim
    with OtmmClient(otmm.base_url, sign_in("session", otmm), fields=FIELDS):
        pass  # never signed in: nothing to close
    client = OtmmClient(otmm.base_url, sign_in("session", otmm), fields=FIELDS)
    client.ping()
    sim.expire_tokens()  # the session ends mid-use: one new session, the old one is not closed
    client.ping()
    client.close()
    client.close()
    assert [(s["revoked"], s["closed"]) for s in sim.sessions()] == [(True, False), (False, True)]
    deletes = [r for r in httpx.get(otmm.base_url + "/_sim/requests").json()["requests"] if r["method"] == "DELETE"]
    assert [(r["path"], r["status"]) for r in deletes] == [("/otmmapi/v6/sessions", 204)]


def test_sign_in_endpoint_trouble_is_typed(otmm) -> None:
    inject(otmm.base_url, path="/sessions$", method="POST", kind="status", status=503, count=1)
    with OtmmClient(otmm.base_url, sign_in("session", otmm), fields=FIELDS, request_attempts=2) as c:
        c.ping()  # a 503 from the login is transient: retried
    inject(otmm.base_url, path="/sessions$", method="POST", kind="status", status=404)
    with OtmmClient(otmm.base_url, sign_in("session", otmm), fields=FIELDS) as c:
        with pytest.raises(InvalidData, match="OTMM session login.*answered 404.*check base_url"):
            c.ping()


def test_wrong_client_secret_is_auth_error(otmm) -> None:
    with OtmmClient(otmm.base_url, oauth(otmm.base_url, otmm.client_id, "wrong"), fields=FIELDS) as c:
        with pytest.raises(AuthError, match="refused the client credentials"):
            c.ping()
    assert "wrong" not in repr(oauth(otmm.base_url, otmm.client_id, "wrong"))


@pytest.mark.parametrize("method", SIGN_IN_METHODS)
def test_401_after_a_fresh_sign_in_is_auth_error(method: str, otmm) -> None:
    inject(otmm.base_url, path="/children$", kind="status", status=401, count=2)
    with OtmmClient(otmm.base_url, sign_in(method, otmm), fields=FIELDS) as client:
        with pytest.raises(AuthError, match="401"):
            client.ping()
    assert otmm.sim.sign_ins(method) == 2  # the first sign-in, one more after the first 401, then give up


# -- status and uploads -------------------------------------------------------------------
def test_set_campaign_status_round_trip(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000107", "Move", "A1")
    client.set_campaign_status(c.folder_id, "A2")
    calls = [(r["method"], r["path"].rsplit("/", 1)[-1]) for r in
             httpx.get(otmm.base_url + "/_sim/requests").json()["requests"] if c.folder_id in r["path"]]
    assert calls == [("PUT", "state"), ("PATCH", c.folder_id), ("PUT", "state")]
    assert otmm.sim.campaign_status(c.folder_id) == "A2"
    assert client.get_campaign(c.folder_id).status == "A2"
    assert otmm.sim.lock_owner(c.folder_id) is None  # unlocked again


def test_status_update_unlocks_even_when_the_update_fails(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000108", "Fails", "A1")
    inject(otmm.base_url, path="/folders/", method="PATCH", kind="status", status=500, count=1)
    with pytest.raises(TransientError):
        client.set_campaign_status(c.folder_id, "A2")
    assert otmm.sim.campaign_status(c.folder_id) == "A1"
    assert otmm.sim.lock_owner(c.folder_id) is None


def test_locked_by_someone_else_is_conflict(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000109", "Locked", "A1")
    otmm.sim.lock(c.folder_id, "someone-else")
    with pytest.raises(Conflict, match="locked by someone-else"):
        client.set_campaign_status(c.folder_id, "A2")
    assert otmm.sim.campaign_status(c.folder_id) == "A1"


def test_create_asset_round_trip_streams_the_file(client: OtmmClient, otmm, tmp_path: Path) -> None:
    c = otmm.sim.add_campaign("C000000110", "Upload", "A2")
    data = os.urandom(2 * 1024 * 1024 + 3)
    path = tmp_path / "IT_hero.jpg"
    path.write_bytes(data)
    rep = asset_representation([scalar_field(FIELDS.asset.brand, "Nutty"), scalar_field(FIELDS.asset.language, "it"),
                                table(FIELDS.creativex.table, [table_field(FIELDS.creativex.score, [88])])],
                               FIELDS.metadata_model_id)
    with path.open("rb") as fh:
        asset_id = client.create_asset(c.final_assets_id, "IT_hero.jpg", "image/jpeg", fh, rep)

    assert otmm.sim.content_sha1(asset_id) == hashlib.sha1(data).hexdigest()
    upload = otmm.sim.uploaded_assets()[-1]
    assert upload["parent_folder_id"] == c.final_assets_id and upload["asset_representation"] == rep
    assert upload["manifest"] == {"upload_manifest": {"master_files": [{"file": {"file_name": "IT_hero.jpg",
                                                                                 "file_type": "image/jpeg"}}]}}
    back = client.get_asset(asset_id)
    assert back.metadata[FIELDS.asset.brand] == "Nutty" and back.metadata[FIELDS.creativex.score] == [88]
    assert [a.asset_id for a in client.walk_assets(c.final_assets_id)] == [asset_id]


def test_create_asset_waits_for_the_import_job() -> None:
    sim = OtmmSimulator(client_id="slow", client_secret="s", import_delay=0.4)
    with ServerThread(sim.app) as server, OtmmClient(server.base_url, oauth(server.base_url, "slow", "s"),
                                                     fields=FIELDS, job_timeout=5) as c:
        folder = sim.add_campaign("C000000112", "Slow import", "A2").final_assets_id
        started = time.monotonic()
        asset_id = c.create_asset(folder, "y.bin", "application/octet-stream", io.BytesIO(b"y" * 10), {})
        assert time.monotonic() - started >= 0.3
        assert sim.content_sha1(asset_id) == hashlib.sha1(b"y" * 10).hexdigest()
    sim.close()


def test_create_asset_retries_after_401_by_replaying_a_seekable_file(client: OtmmClient, otmm) -> None:
    c = otmm.sim.add_campaign("C000000111", "Upload again", "A2")
    client.ping()
    otmm.sim.expire_tokens()
    asset_id = client.create_asset(c.final_assets_id, "x.txt", "text/plain", io.BytesIO(b"hello"),
                                   {"metadata": {"metadata_element_list": []}, "metadata_model_id": "M"})
    assert otmm.sim.content_sha1(asset_id) == hashlib.sha1(b"hello").hexdigest()
    with pytest.raises(NotFound):
        client.create_asset("f" * 40, "x.txt", "text/plain", io.BytesIO(b"hello"), {})


# -- mTLS ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"), client_password="pfx-pass")


@pytest.fixture
def mtls_server(pki: Pki) -> Iterator[tuple[OtmmSimulator, ServerThread]]:
    sim = OtmmSimulator(auth_mode="mtls")
    with ServerThread(sim.app, tls=pki.server_tls(require_client_cert=True)) as server:
        yield sim, server


def test_mtls_with_the_right_certificate(pki: Pki, mtls_server) -> None:
    sim, server = mtls_server
    c = sim.add_campaign("C000000200", "Secure", "B1", "Global comm")
    asset_id = sim.add_asset(c.master_assets_id, "g.jpg", 70_000, "image/jpeg")
    auth = MutualTLS(pki.client_pfx.read_bytes(), pki.client_password, ca_bundle=str(pki.ca_cert))
    assert len(auth.certificate.chain) == 1 and 29 < auth.certificate.expires_in_days() <= 30
    assert "content-scaling DAM client" in auth.certificate.subject
    with OtmmClient(server.base_url, auth, fields=FIELDS) as client:
        client.ping()
        assert [x.number for x in client.find_campaigns("B1", "Global comm")] == ["C000000200"]
        with client.open_content(asset_id) as content:
            digest = hashlib.sha1(b"".join(content.iter_bytes()))
        assert digest.hexdigest() == sim.content_sha1(asset_id)
        client.set_campaign_status(c.folder_id, "B2")
    assert sim.campaign_status(c.folder_id) == "B2"


def test_mtls_untrusted_certificate_is_a_clear_auth_error(pki: Pki, mtls_server, tmp_path: Path) -> None:
    _sim, server = mtls_server
    untrusted = make_untrusted_client_pfx(tmp_path, "other-pass")
    auth = MutualTLS(untrusted.read_bytes(), "other-pass", ca_bundle=str(pki.ca_cert))
    with OtmmClient(server.base_url, auth, fields=FIELDS) as client:
        with pytest.raises(AuthError, match="closed the connection during the TLS handshake: check the client "
                                            "certificate and IP allow-list"):
            client.ping()


def test_mtls_wrong_pfx_password_or_garbage_is_auth_error(pki: Pki) -> None:
    message = "could not open the client certificate: wrong password or not a PKCS#12 file"
    with pytest.raises(AuthError, match=message):
        MutualTLS(pki.client_pfx.read_bytes(), "not-the-password", ca_bundle=str(pki.ca_cert))
    with pytest.raises(AuthError, match=message):
        MutualTLS(b"definitely not a pfx", "x")


def test_server_certificate_not_trusted_is_auth_error(pki: Pki, otmm, tmp_path: Path) -> None:
    """An OAuth client whose CA bundle does not cover the DAM's certificate fails fast."""
    other = make_pki(tmp_path / "other", "x")
    sim = OtmmSimulator(client_id="tls", client_secret="s")
    with ServerThread(sim.app, tls=pki.server_tls(require_client_cert=False)) as server:
        with OtmmClient(server.base_url, oauth(server.base_url, "tls", "s", ca_bundle=str(pki.ca_cert)),
                        fields=FIELDS) as good:
            good.ping()
        with OtmmClient(server.base_url, oauth(server.base_url, "tls", "s", ca_bundle=str(other.ca_cert)),
                        fields=FIELDS) as bad:
            with pytest.raises(AuthError, match="server certificate is not trusted"):
                bad.ping()
