"""The OTMM + OTDS simulator over real HTTP(S) on 127.0.0.1 (httpx against ServerThread)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from domain.fields import load_dam_fields
from simulators.certs import make_pki
from simulators.common import ServerThread
from simulators.otmm import OtmmSimulator

FIELDS = load_dam_fields()
F = FIELDS.campaign
API = "/otmmapi/v6"
IS, CONTAINS = "ARTESIA.OPERATOR.CHAR.IS", "ARTESIA.OPERATOR.CHAR.CONTAINS"
SECRET = "s3cret-for-tests"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[OtmmSimulator]:
    s = OtmmSimulator(client_id="cs-client", client_secret=SECRET, upload_dir=tmp_path / "uploads")
    yield s
    s.close()


@pytest.fixture
def server(sim: OtmmSimulator) -> Iterator[ServerThread]:
    with ServerThread(sim.app) as running:
        yield running


@pytest.fixture
def http(server: ServerThread) -> Iterator[httpx.Client]:
    """An httpx client with a valid bearer token."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        client.headers["Authorization"] = "Bearer " + token(client)
        yield client


def token(client: httpx.Client, secret: str = SECRET) -> str:
    r = client.post("/otdsws/oauth2/token", data={"grant_type": "client_credentials", "client_id": "cs-client",
                                                  "client_secret": secret})
    r.raise_for_status()
    return r.json()["access_token"]


def cond(field_id: str, value: str, op: str = IS, rel: str = "and", left: str = "", right: str = "") -> dict:
    return {"type": "com.artesia.search.SearchScalarCondition", "metadata_field_id": field_id,
            "relational_operator_id": op, "value": value, "relational_operator": rel, "left_paren": left,
            "right_paren": right}


def search(http: httpx.Client, *conditions: dict, method: str = "POST", **params) -> dict:
    body = {"keyword_query": "*", "load_type": "metadata", "search_condition_list":
            json.dumps({"search_condition_list": {"search_condition": list(conditions)}}), **params}
    r = http.post(API + "/search/text", data=body) if method == "POST" else http.get(API + "/search/text",
                                                                                     params=body)
    assert r.status_code == 200, r.text
    return r.json()["search_result_resource"]


def numbers(resource_: dict) -> list[str]:
    out = []
    for item in resource_["asset_list"]:
        for group in item["metadata"]["metadata_element_list"]:
            for e in group["metadata_element_list"]:
                if e["id"] == F.number:
                    out.append(e["value"]["value"]["value"])
    return out


def inject(base_url: str, **rule) -> None:
    httpx.post(base_url + "/_sim/faults", json=rule).raise_for_status()


# -- auth -----------------------------------------------------------------------------------
def test_token_issue_and_401s(sim: OtmmSimulator, server: ServerThread) -> None:
    with httpx.Client(base_url=server.base_url) as c:
        r = c.post("/otdsws/oauth2/token", data={"grant_type": "client_credentials", "client_id": "cs-client",
                                                 "client_secret": SECRET})
        body = r.json()
        assert r.status_code == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
        basic = c.post("/otdsws/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("cs-client", SECRET))
        assert basic.status_code == 200 and sim.token_requests == 2

        bad = c.post("/otdsws/oauth2/token", data={"grant_type": "client_credentials", "client_id": "cs-client",
                                                   "client_secret": "wrong"})
        assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
        assert sim.token_requests == 2

        missing = c.get(API + "/folders/rootfolders")
        err = missing.json()["exception_body"]
        assert missing.status_code == 401 and err["http_response_code"] == 401 and "missing" in err["message"]
        unknown = c.get(API + "/folders/rootfolders", headers={"Authorization": "Bearer nope"})
        assert unknown.status_code == 401 and unknown.json()["exception_body"]["error_code"] == "TOKEN_INVALID"

        auth = {"Authorization": "Bearer " + body["access_token"]}
        assert c.get(API + "/folders/rootfolders", headers=auth).status_code == 200
        sim.expire_tokens()
        expired = c.get(API + "/folders/rootfolders", headers=auth)
        assert expired.status_code == 401 and "expired" in expired.json()["exception_body"]["message"]
        fresh = {"Authorization": "Bearer " + token(c)}
        assert c.get(API + "/folders/rootfolders", headers=fresh).status_code == 200
        assert c.post("/_sim/otmm/expire-tokens").status_code == 200
        assert c.get(API + "/folders/rootfolders", headers=fresh).status_code == 401


def test_short_token_ttl_expires(tmp_path: Path) -> None:
    sim = OtmmSimulator(client_id="cs-client", client_secret=SECRET, token_ttl=0.2, upload_dir=tmp_path)
    with ServerThread(sim.app) as server, httpx.Client(base_url=server.base_url) as c:
        auth = {"Authorization": "Bearer " + token(c)}
        assert c.get(API + "/folders/rootfolders", headers=auth).status_code == 200
        import time

        time.sleep(0.3)
        assert c.get(API + "/folders/rootfolders", headers=auth).status_code == 401


def login(c: httpx.Client, username: str = "svc-user", password: str = "svc-pass") -> httpx.Response:
    return c.post(API + "/sessions", data={"username": username, "password": password})


@pytest.fixture
def users(tmp_path: Path) -> Iterator[tuple[OtmmSimulator, ServerThread]]:
    sim = OtmmSimulator(client_id="cs-client", client_secret=SECRET, username="svc-user", password="svc-pass",
                        upload_dir=tmp_path / "uploads")
    with ServerThread(sim.app) as server:
        yield sim, server
    sim.close()


def test_session_login_envelope_cookie_and_the_headers_it_requires(users) -> None:
    sim, server = users
    with httpx.Client(base_url=server.base_url) as c:
        r = login(c)
        session = r.json()["session_resource"]["session"]
        assert r.status_code == 200 and isinstance(session["id"], int) and session["login_name"] == "svc-user"
        assert len(session["message_digest"]) == 40 and int(session["message_digest"], 16) >= 0
        assert {"domain_name", "local_session", "role_name", "user_full_name", "user_id", "user_role_id",
                "validation_key"} <= set(session)
        cookie = r.cookies["JSESSIONID"]
        assert "httponly" in r.headers["set-cookie"].lower() and "path=/otmmapi" in r.headers["set-cookie"].lower()
        c.cookies.clear()
        sid, digest = str(session["id"]), session["message_digest"]
        root = API + "/folders/rootfolders"
        # each session credential works on its own, with X-Requested-By
        for proof in ({"otmmauthtoken": digest}, {"Authorization": f"Bearer otmmToken {digest}"},
                      {"Cookie": f"JSESSIONID={cookie}"}):
            assert c.get(root, headers={"X-Requested-By": sid, **proof}).status_code == 200, proof
        no_id = c.get(root, headers={"otmmauthtoken": digest})
        assert no_id.status_code == 401 and no_id.json()["exception_body"]["error_code"] == "SESSION_ID_REQUIRED"
        wrong_id = c.get(root, headers={"otmmauthtoken": digest, "X-Requested-By": "1"})
        assert wrong_id.status_code == 401
        other = login(c).json()["session_resource"]["session"]
        c.cookies.clear()
        mixed = c.get(root, headers={"X-Requested-By": sid, "otmmauthtoken": digest,
                                     "Cookie": f"JSESSIONID={cookie}x"})
        assert mixed.status_code == 401 and mixed.json()["exception_body"]["error_code"] == "SESSION_INVALID"
        crossed = c.get(root, headers={"X-Requested-By": sid, "otmmauthtoken": other["message_digest"]})
        assert crossed.status_code == 401
        # the sessions calls themselves need no X-Requested-By
        again = c.get(API + "/sessions", headers={"otmmauthtoken": digest}).json()["session_resource"]["session"]
        assert again["id"] == session["id"] and again["message_digest"] == digest
        assert sim.sign_ins("session") == 2 and sim.token_requests == 0

        # the lock owner is the user
        folder = sim.add_campaign("C000000001", "Locks", "A1").folder_id
        headers = {"X-Requested-By": sid, "otmmauthtoken": digest}
        assert c.put(API + f"/assets/{folder}/state", data={"action": "lock"}, headers=headers).status_code == 200
        assert sim.lock_owner(folder) == "svc-user"

        closed = c.delete(API + "/sessions", headers={"otmmauthtoken": digest})
        assert closed.status_code == 204
        after = c.get(root, headers=headers)
        assert after.status_code == 401 and after.json()["exception_body"]["error_code"] == "SESSION_EXPIRED"
        assert [s["closed"] for s in sim.sessions()] == [True, False]


def test_session_login_refusals(users) -> None:
    sim, server = users
    with httpx.Client(base_url=server.base_url) as c:
        wrong = login(c, password="nope")
        assert wrong.status_code == 401 and wrong.json()["exception_body"]["error_code"] == "INVALID_CREDENTIALS"
        assert "set-cookie" not in wrong.headers
        assert login(c, username="svc-USER").status_code == 401
        missing = c.post(API + "/sessions", data={"username": "svc-user"})
        assert missing.status_code == 400
        assert c.get(API + "/folders/rootfolders", headers={"X-Requested-By": "1"}).status_code == 401
        assert sim.sign_ins() == 0


def test_session_ends_after_inactivity_and_use_keeps_it_alive(tmp_path: Path) -> None:
    import time

    sim = OtmmSimulator(username="u", password="p", session_timeout=1.0, upload_dir=tmp_path)
    with ServerThread(sim.app) as server, httpx.Client(base_url=server.base_url) as c:
        session = login(c, "u", "p").json()["session_resource"]["session"]
        headers = {"X-Requested-By": str(session["id"]), "otmmauthtoken": session["message_digest"]}
        for _ in range(4):  # 1.2 s in all, but never 1 s without use
            time.sleep(0.3)
            assert c.get(API + "/folders/rootfolders", headers=headers).status_code == 200
        time.sleep(1.2)
        expired = c.get(API + "/folders/rootfolders", headers=headers)
        assert expired.status_code == 401 and expired.json()["exception_body"]["error_code"] == "SESSION_EXPIRED"


def test_otds_password_grant(users) -> None:
    sim, server = users
    with httpx.Client(base_url=server.base_url) as c:
        form = {"grant_type": "password", "username": "svc-user", "password": "svc-pass", "client_id": "cs-client",
                "client_secret": SECRET}
        r = c.post("/otdsws/oauth2/token", data=form)
        assert r.status_code == 200 and r.json()["token_type"] == "Bearer" and r.json()["expires_in"] == 3600
        auth = {"Authorization": "Bearer " + r.json()["access_token"]}
        folder = sim.add_campaign("C000000002", "Grant", "A1").folder_id
        assert c.put(API + f"/assets/{folder}/state", data={"action": "lock"}, headers=auth).status_code == 200
        assert sim.lock_owner(folder) == "svc-user"  # the token speaks for the user, not the OAuth client

        wrong = c.post("/otdsws/oauth2/token", data={**form, "password": "nope"})
        assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
        bad_client = c.post("/otdsws/oauth2/token", data={**form, "client_secret": "nope"})
        assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"
        other = c.post("/otdsws/oauth2/token", data={**form, "grant_type": "authorization_code"})
        assert other.status_code == 400 and other.json()["error"] == "unsupported_grant_type"
        assert sim.sign_ins("otds_password") == 1 and sim.sign_ins() == 1


def test_otmm_password_grant(users) -> None:
    sim, server = users
    with httpx.Client(base_url=server.base_url) as c:
        form = {"username": "svc-user", "password": "svc-pass", "grant_type": "password", "client_id": "cs-client",
                "client_secret": SECRET}
        r = c.post(API + "/sessions/oauth2/token", data=form)
        token_ = r.json()["token_info"]["oauth_token"]["accessToken"]
        assert r.status_code == 200 and token_
        assert c.get(API + "/folders/rootfolders", headers={"Authorization": f"Bearer {token_}"}).status_code == 200
        for change, status, code in ((("password", "nope"), 401, "INVALID_CREDENTIALS"),
                                     (("client_secret", "nope"), 401, "INVALID_CLIENT"),
                                     (("grant_type", "client_credentials"), 400, "UNSUPPORTED_GRANT_TYPE")):
            refused = c.post(API + "/sessions/oauth2/token", data={**form, change[0]: change[1]})
            assert refused.status_code == status and refused.json()["exception_body"]["error_code"] == code
        assert sim.sign_ins("otmm_password") == 1 and sim.token_requests == 1
        sim.expire_tokens()
        assert c.get(API + "/folders/rootfolders", headers={"Authorization": f"Bearer {token_}"}).status_code == 401


# -- folders --------------------------------------------------------------------------------
def test_rootfolders_folders_and_exact_children_paging(sim: OtmmSimulator, http: httpx.Client) -> None:
    c = sim.add_campaign("C000000078", "Spring Launch", "A1", "Local comm", created="2026-01-05T10:00:00Z")
    social = sim.add_folder(c.master_assets_id, "Social")
    stories = sim.add_folder(social, "Stories")
    expected = {sim.add_asset(c.master_assets_id, f"asset_{i:02d}.jpg", 1000 + i, "image/jpeg") for i in range(7)}
    expected |= {social}
    sim.add_asset(social, "post.png", 10, "image/png")
    sim.add_asset(stories, "story.mp4", 10, "video/mp4")

    roots = http.get(API + "/folders/rootfolders").json()["folders_resource"]["folder_list"]
    assert [(f["asset_id"], f["name"]) for f in roots] == [("ARTESIA.PUBLIC.TREEN", "Public Folders")]
    public = http.get(API + "/folders/ARTESIA.PUBLIC.TREEN/children").json()["folder_children"]["asset_list"]
    assert [(f["name"], f["data_type"], f["type"]) for f in public] == [
        ("Campaigns", "CONTAINER", "com.artesia.container.Container")]
    subs = http.get(f"{API}/folders/{c.folder_id}/folders").json()["folders_resource"]["folder_list"]
    assert [f["name"] for f in subs] == ["Final Assets", "Master Assets"]

    seen: list[dict] = []
    after = 0
    while True:
        page = http.get(f"{API}/folders/{c.master_assets_id}/children",
                        params={"after": after, "limit": 3, "load_type": "metadata", "sort": "asc_NAME"}
                        ).json()["folder_children"]["asset_list"]
        seen += page
        if len(page) < 3:
            break
        after += len(page)
    ids = [i["asset_id"] for i in seen]
    assert len(ids) == len(set(ids)) == 8 and set(ids) == expected
    assert [i["name"] for i in seen] == sorted((i["name"] for i in seen), key=str.casefold)
    everything = http.get(f"{API}/folders/{c.master_assets_id}/children", params={"limit": 0}).json()
    assert [i["asset_id"] for i in everything["folder_children"]["asset_list"]] == ids
    folder_item = next(i for i in seen if i["asset_id"] == social)
    assert folder_item["data_type"] == "CONTAINER" and folder_item["container_type_id"]
    asset_item = next(i for i in seen if i["name"] == "asset_00.jpg")
    assert asset_item["type"] == "com.artesia.asset.Asset" and asset_item["content_type"] == "BITMAP"
    assert asset_item["master_content_info"]["content_kind"] == "MASTER" and asset_item["content_size"] == 1000
    assert "data_type" not in asset_item

    folder = http.get(f"{API}/folders/{social}").json()["folder_resource"]["folder"]
    assert folder["container_child_counts"] == {"total_child_count": 2, "container_count": 1, "asset_count": 1}
    assert [p["name"] for p in folder["path_list"][0]["parents"]] == [
        "Public Folders", "Campaigns", "C000000078 Spring Launch", "Master Assets"]
    assert folder["path_list"][0]["tree_descriptor"] == {"tree_id": "ARTESIA.PUBLIC.TREE", "detached": False}
    assert "metadata" not in folder
    dlr = json.dumps({"data_load_request": {"load_metadata": True, "child_count_load_type": "both"}})
    camp = http.get(f"{API}/folders/{c.folder_id}", params={"load_type": "custom", "data_load_request": dlr}
                    ).json()["folder_resource"]["folder"]
    assert camp["metadata"]["type"] == "com.artesia.metadata.MetadataModel"
    assert camp["metadata_model_id"] == FIELDS.campaign_model_id
    assert camp["container_type_id"] == FIELDS.campaign_container_type_id
    assert http.get(f"{API}/folders/{'0' * 40}/children").status_code == 404


# -- search ---------------------------------------------------------------------------------
def test_search_folders_by_status_type_contains_and_or(sim: OtmmSimulator, http: httpx.Client) -> None:
    sim.add_campaign("C000000003", "Spring Sale", "A1", "Local comm", created="2026-03-01T00:00:00Z")
    sim.add_campaign("C000000001", "Winter", "A1", "Local comm", created="2025-12-01T00:00:00Z")
    sim.add_campaign("C000000002", "Global Spring", "A1", "Global comm", created="2026-01-01T00:00:00Z")
    sim.add_campaign("C000000004", "Other", "A2", "Global comm", created="2025-01-01T00:00:00Z")
    b1 = sim.add_campaign("C000000005", "Global B", "B1", "Global comm", created="2026-02-01T00:00:00Z")
    sim.add_campaign("C000000006", "Local B", "B1", "Local comm", created="2026-02-02T00:00:00Z")
    asset = sim.add_asset(b1.master_assets_id, "x.jpg", 10, "image/jpeg", fields={F.status: "A1"})

    hits = search(http, cond(F.status, "A1"))
    assert numbers(hits) == ["C000000001", "C000000002", "C000000003"]  # date_imported ascending
    assert hits["search_result"]["asset_id_list"][-1] == asset  # asset metadata matches too
    assert hits["search_result"]["total_hit_count"] == 4 and hits["search_result"]["hit_count"] == 4
    assert search(http, cond(F.status, "a1"))["search_result"]["total_hit_count"] == 0  # IS is exact

    both = search(http, cond(F.status, "A1"), cond(F.type, "Global comm"))
    assert numbers(both) == ["C000000002"]
    assert numbers(search(http, cond(F.name, "spring", CONTAINS), method="GET")) == ["C000000002", "C000000003"]
    # (A1 or B1) and Global comm — and a version without parentheses binds and tighter
    grouped = search(http, cond(F.status, "A1", left="("), cond(F.status, "B1", rel="or", right=")"),
                     cond(F.type, "Global comm"))
    assert numbers(grouped) == ["C000000002", "C000000005"]
    flat = search(http, cond(F.status, "A1"), cond(F.status, "B1", rel="or"), cond(F.type, "Global comm"))
    assert numbers(flat) == ["C000000001", "C000000002", "C000000005", "C000000003"]

    page = search(http, cond(F.status, "A1"), after=1, limit=2)["search_result"]
    assert page["offset"] == 1 and page["hit_count"] == 2 and page["total_hit_count"] == 4
    ids_only = search(http, cond(F.status, "B1"), return_type="ids", folder_filter=sim.campaigns_root_id,
                      folder_filter_type="all")
    assert ids_only["asset_list"] == [] and len(ids_only["search_result"]["asset_id_list"]) == 2
    scoped = search(http, cond(F.status, "A1"), folder_filter=b1.folder_id)
    assert scoped["search_result"]["asset_id_list"] == [asset]
    bad = http.post(API + "/search/text", data={"search_condition_list": "{not json"})
    assert bad.status_code == 400 and "exception_body" in bad.json()
    unbalanced = http.post(API + "/search/text", data={"search_condition_list": json.dumps(
        {"search_condition_list": {"search_condition": [cond(F.status, "A1", left="(")]}})})
    assert unbalanced.status_code == 400


# -- metadata shape -------------------------------------------------------------------------
def test_asset_metadata_shape(sim: OtmmSimulator, http: httpx.Client) -> None:
    c = sim.add_campaign("C000000078", "Spring Launch", "A1")
    cx = FIELDS.creativex
    asset_id = sim.add_asset(c.master_assets_id, "hero.jpg", 2_000, "image/jpeg",
                             fields={FIELDS.asset.brand: "Nutty", "MKT.FIELD.YEAR": 2026, F.number: "C000000078",
                                     FIELDS.rejection.approver_date: "2026-01-05T10:00:00Z",
                                     FIELDS.rejection.ecommerce_status: None, cx.url: "https://cx/1"},
                             domain_fields={FIELDS.asset.country: ("IT", "Italy")},
                             tables={cx.table: {cx.score: [85]}})
    r = http.get(f"{API}/assets/{asset_id}", params={"load_type": "metadata"})
    asset = r.json()["asset_resource"]["asset"]
    assert asset["asset_id"] == asset_id and asset["type"] == "com.artesia.asset.Asset"
    assert asset["mime_type"] == "image/jpeg" and asset["content_size"] == 2000 and asset["content_type"] == "BITMAP"
    assert asset["metadata_model_id"] == FIELDS.metadata_model_id
    meta = asset["metadata"]
    assert meta["type"] == "com.artesia.metadata.MetadataModel"
    groups = {g["id"]: g for g in meta["metadata_element_list"]}
    assert list(groups) == ["MKT.GROUP.GENERAL", "MKT.GROUP.CAMPAIGN", "MKT.GROUP.REVIEW", "MKT.GROUP.RATING"]
    assert all(g["type"] == "com.artesia.metadata.MetadataFieldGroup" for g in groups.values())
    elements = {e["id"]: e for g in groups.values() for e in g["metadata_element_list"]}
    assert F.number in {e["id"] for e in groups["MKT.GROUP.CAMPAIGN"]["metadata_element_list"]}

    brand = elements[FIELDS.asset.brand]
    assert brand["type"] == "com.artesia.metadata.MetadataField" and brand["data_type"] == "CHAR"
    assert brand["value"] == {"value": {"type": "string", "value": "Nutty"}, "domain_value": False,
                              "cascading_domain_value": False, "is_locked": False}
    assert elements["MKT.FIELD.YEAR"]["value"]["value"] == {"type": "integer", "value": 2026}
    assert elements["MKT.FIELD.YEAR"]["data_type"] == "INTEGER"
    date = elements[FIELDS.rejection.approver_date]
    assert date["data_type"] == "DATE" and date["value"]["value"] == {"type": "dateTime",
                                                                      "value": "2026-01-05T10:00:00Z"}
    assert "value" not in elements[FIELDS.rejection.ecommerce_status]["value"]  # present, empty
    country = elements[FIELDS.asset.country]["value"]
    assert country["domain_value"] is True
    assert country["value"] == {"type": "string", "field_value": {"type": "string", "value": "IT"},
                                "display_value": "Italy"}
    table = elements[cx.table]
    assert table["type"] == "com.artesia.metadata.MetadataTable"
    assert table["metadata_element_list"] == [{"id": cx.score, "name": "Creativex",
                                               "type": "com.artesia.metadata.MetadataTableField",
                                               "data_type": "INTEGER",
                                               "values": [{"value": {"type": "integer", "value": 85}}]}]

    custom = http.get(f"{API}/assets/{asset_id}", params={
        "load_type": "custom", "level_of_detail": "full",
        "data_load_request": json.dumps({"data_load_request": {"load_metadata": True}})}).json()
    assert custom["asset_resource"]["asset"]["metadata"] == meta
    slim = http.get(f"{API}/assets/{asset_id}").json()["asset_resource"]["asset"]
    assert "metadata" not in slim
    missing = http.get(f"{API}/assets/{'0' * 40}")
    assert missing.status_code == 404 and missing.json()["exception_body"]["http_response_code"] == 404
    unknown = http.get(API + "/nothing/here")
    assert unknown.status_code == 404 and "exception_body" in unknown.json()


# -- content --------------------------------------------------------------------------------
def test_contents_stream_with_headers_sha1_and_range(sim: OtmmSimulator, http: httpx.Client) -> None:
    c = sim.add_campaign("C000000078", "Spring Launch", "A1")
    size = 3 * 64 * 1024 + 123
    asset_id = sim.add_asset(c.master_assets_id, "Poster été.pdf", size, "application/pdf")
    r = http.get(f"{API}/assets/{asset_id}/contents", params={"disposition": "attachment"})
    assert r.status_code == 200 and len(r.content) == size
    assert r.headers["content-length"] == str(size) and r.headers["content-type"] == "application/pdf"
    assert "attachment" in r.headers["content-disposition"]
    assert "filename*=UTF-8''Poster%20%C3%A9t%C3%A9.pdf" in r.headers["content-disposition"]
    assert hashlib.sha1(r.content).hexdigest() == sim.content_sha1(asset_id)
    assert b"".join(sim.iter_content(asset_id)) == r.content
    assert b"".join(sim.iter_content(asset_id, start=70_000)) == r.content[70_000:]
    other = sim.add_asset(c.master_assets_id, "b.pdf", size, "application/pdf")
    assert sim.content_sha1(other) != sim.content_sha1(asset_id)  # content depends on the id
    part = http.get(f"{API}/assets/{asset_id}/contents", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == r.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{size}"


def test_50_mb_asset_streams_without_growing_the_process(sim: OtmmSimulator, http: httpx.Client) -> None:
    c = sim.add_campaign("C000000078", "Spring Launch", "A1")
    size = 50 * 1024 * 1024
    asset_id = sim.add_asset(c.master_assets_id, "big.mov", size, "video/quicktime")
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    digest, received, largest = hashlib.sha1(), 0, 0
    with http.stream("GET", f"{API}/assets/{asset_id}/contents") as r:
        assert r.headers["content-length"] == str(size)
        for chunk in r.iter_raw():
            digest.update(chunk)
            received += len(chunk)
            largest = max(largest, len(chunk))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before_kb) / 1024
    assert received == size and largest <= 1024 * 1024
    assert digest.hexdigest() == sim.content_sha1(asset_id)
    assert grown_mb < 30, f"the process grew by {grown_mb:.0f} MB while streaming 50 MB"


# -- upload ---------------------------------------------------------------------------------
def _upload(http: httpx.Client, parent: str, file_name: str, data: bytes, sent_name: str | None = None,
            representation: str | None = None) -> httpx.Response:
    manifest = {"upload_manifest": {"master_files": [{"file": {"file_name": file_name, "file_type": "image/png"}}]}}
    rep = representation if representation is not None else json.dumps({"asset_resource": {"asset": {
        "metadata": {"metadata_element_list": [
            {"id": FIELDS.asset.brand, "type": "com.artesia.metadata.MetadataField",
             "value": {"value": {"type": "string", "value": "Nutty"}}},
            {"id": FIELDS.asset.country, "type": "com.artesia.metadata.MetadataField",
             "value": {"value": {"type": "string", "value": "DE"}, "domain_value": True}},
            {"id": FIELDS.creativex.score, "type": "com.artesia.metadata.MetadataTableField",
             "values": [{"value": {"type": "integer", "value": 77}}]}]},
        "metadata_model_id": FIELDS.metadata_model_id, "security_policy_list": [{"id": 2}]}}})
    return http.post(API + "/assets", data={"parent_folder_id": parent, "manifest": json.dumps(manifest),
                                            "asset_representation": rep},
                     files={"files": (sent_name or file_name, data, "image/png")})


def test_upload_multipart_job_and_validation(sim: OtmmSimulator, http: httpx.Client) -> None:
    c = sim.add_campaign("C000000078", "Spring Launch", "A2")
    data = os.urandom(1_500_000)
    r = _upload(http, c.final_assets_id, "K7M2QX_Hero_de-DE_Bayern.png", data)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_handle"]["job_id"]
    assert isinstance(job_id, str)
    assets = http.get(f"{API}/jobs/{job_id}/assets").json()["assets_resource"]["asset_list"]
    assert len(assets) == 1 and assets[0]["name"] == "K7M2QX_Hero_de-DE_Bayern.png"
    new_id = assets[0]["asset_id"]
    assert assets[0]["content_size"] == len(data) and assets[0]["mime_type"] == "image/png"
    assert sim.content_sha1(new_id) == hashlib.sha1(data).hexdigest()
    assert http.get(f"{API}/assets/{new_id}/contents").content == data
    meta = sim.metadata(new_id)
    assert meta[FIELDS.asset.brand] == "Nutty" and meta[FIELDS.asset.country] == "DE"
    assert meta[FIELDS.creativex.score] == [77]
    assert sim.state.assets[new_id].tables == {FIELDS.creativex.table: {FIELDS.creativex.score: [77]}}
    (upload,) = sim.uploaded_assets()
    assert upload["asset_id"] == new_id and upload["parent_folder_id"] == c.final_assets_id
    assert upload["size"] == len(data) and upload["sha1"] == hashlib.sha1(data).hexdigest()
    assert upload["manifest"]["upload_manifest"]["master_files"][0]["file"]["file_name"] == assets[0]["name"]
    assert upload["asset_representation"]["asset_resource"]["asset"]["metadata_model_id"] == FIELDS.metadata_model_id
    assert httpx.get(http.base_url.join("/_sim/otmm/uploads")).json()["uploads"][0]["asset_id"] == new_id
    children = http.get(f"{API}/folders/{c.final_assets_id}/children").json()["folder_children"]["asset_list"]
    assert [a["asset_id"] for a in children] == [new_id]

    mismatch = _upload(http, c.final_assets_id, "a.png", b"x", sent_name="b.png")
    assert mismatch.status_code == 400 and "a.png" in mismatch.json()["exception_body"]["message"]
    assert _upload(http, "f" * 40, "a.png", b"x").status_code == 404
    assert _upload(http, c.final_assets_id, "a.png", b"x", representation="{oops").status_code == 400
    assert len(sim.uploaded_assets()) == 1


# -- lock / patch ---------------------------------------------------------------------------
def test_lock_patch_unlock(sim: OtmmSimulator, http: httpx.Client) -> None:
    c = sim.add_campaign("C000000078", "Spring Launch", "A1")
    body = {"edited_folder": {"data": {"metadata": [
        {"id": F.status, "type": "com.artesia.metadata.MetadataField", "value": {"value": {"type": "string",
                                                                                          "value": "A2"}}}]}}}
    unlocked = http.patch(f"{API}/folders/{c.folder_id}", json=body)
    assert unlocked.status_code == 409 and "folder is not locked" in unlocked.json()["exception_body"]["message"]
    assert sim.campaign_status(c.folder_id) == "A1"

    assert http.put(f"{API}/assets/{c.folder_id}/state", data={"action": "lock"}).status_code == 200
    assert sim.lock_owner(c.folder_id) == "cs-client"
    r = http.patch(f"{API}/folders/{c.folder_id}", json=body)
    assert r.status_code == 200 and r.json()["folder_resource"]["folder"]["asset_id"] == c.folder_id
    assert sim.campaign_status(c.folder_id) == "A2"
    assert http.put(f"{API}/assets/{c.folder_id}/state", data={"action": "unlock"}).status_code == 200
    assert sim.lock_owner(c.folder_id) is None
    assert numbers(search(http, cond(F.status, "A2"))) == ["C000000078"]

    sim.lock(c.folder_id, "someone-else")
    taken = http.put(f"{API}/assets/{c.folder_id}/state", data={"action": "lock"})
    assert taken.status_code == 409 and "someone-else" in taken.json()["exception_body"]["message"]
    assert http.patch(f"{API}/folders/{c.folder_id}", json=body).status_code == 409
    sim.unlock(c.folder_id)

    asset_id = sim.add_asset(c.master_assets_id, "a.jpg", 10, "image/jpeg", fields={FIELDS.asset.state: "Draft"})
    edit = {"edited_asset": {"data": {"metadata": [
        {"id": FIELDS.asset.state, "type": "com.artesia.metadata.MetadataField",
         "value": {"value": {"type": "string", "value": "Final"}}}]}}}
    assert http.patch(f"{API}/assets/{asset_id}", json=edit).status_code == 409
    assert http.put(f"{API}/assets/{asset_id}/state", params={"action": "lock"}).status_code == 200
    assert http.patch(f"{API}/assets/{asset_id}", json=edit).status_code == 200
    assert sim.metadata(asset_id)[FIELDS.asset.state] == "Final"
    assert http.patch(f"{API}/assets/{asset_id}", json={"wrong": 1}).status_code == 400


# -- faults ---------------------------------------------------------------------------------
def test_fault_injection(sim: OtmmSimulator, server: ServerThread, http: httpx.Client) -> None:
    c = sim.add_campaign("C000000078", "Spring Launch", "A1")
    asset_id = sim.add_asset(c.master_assets_id, "clip.mp4", 500_000, "video/mp4")
    inject(server.base_url, path="/children$", kind="status", status=429, retry_after=2, count=1)
    limited = http.get(f"{API}/folders/{c.folder_id}/children")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert limited.json()["exception_body"]["http_response_code"] == 429
    assert http.get(f"{API}/folders/{c.folder_id}/children").status_code == 200

    inject(server.base_url, path=r"/assets/[^/]+$", method="GET", kind="status", status=503, count=1)
    assert http.get(f"{API}/assets/{asset_id}").status_code == 503
    assert http.get(f"{API}/assets/{asset_id}").status_code == 200

    inject(server.base_url, path="/contents$", kind="drop", after_bytes=100_000, count=1)
    with pytest.raises(httpx.TransportError):  # RemoteProtocolError: incomplete body
        http.get(f"{API}/assets/{asset_id}/contents")
    ok = http.get(f"{API}/assets/{asset_id}/contents")
    assert len(ok.content) == 500_000 and hashlib.sha1(ok.content).hexdigest() == sim.content_sha1(asset_id)
    log = httpx.get(server.base_url + "/_sim/requests").json()["requests"]
    assert [r["status"] for r in log if r["path"].endswith("/contents")] == ["dropped", 200]


# -- mTLS -----------------------------------------------------------------------------------
def test_mtls_requires_a_client_certificate(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki", client_password="pfx-pass")
    key, cert, _chain = pkcs12.load_key_and_certificates(pki.client_pfx.read_bytes(), b"pfx-pass")
    pem = tmp_path / "client-key-and-cert.pem"
    fd = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with_cert = ssl.create_default_context(cafile=str(pki.ca_cert))
    with_cert.load_cert_chain(str(pem))
    pem.unlink()
    without_cert = ssl.create_default_context(cafile=str(pki.ca_cert))

    sim = OtmmSimulator(auth_mode="mtls", upload_dir=tmp_path / "up")
    sim.add_campaign("C000000200", "Secure", "B1", "Global comm")
    with ServerThread(sim.app, tls=pki.server_tls(require_client_cert=True)) as server:
        with httpx.Client(base_url=server.base_url, verify=with_cert, timeout=10) as good:
            r = good.get(API + "/folders/rootfolders")  # no bearer token: the certificate authenticates
            assert r.status_code == 200, r.text
            assert numbers(search(good, cond(F.type, "Global comm"))) == ["C000000200"]
        with httpx.Client(base_url=server.base_url, verify=without_cert, timeout=10) as bad:
            with pytest.raises(httpx.TransportError):  # TLS 1.3: usually RemoteProtocolError / ReadError
                bad.get(API + "/folders/rootfolders")


# -- demo data, admin routes and the command line -------------------------------------------
def test_seed_demo_and_admin_routes(sim: OtmmSimulator, server: ServerThread, http: httpx.Client) -> None:
    seeded = sim.seed_demo()
    campaigns = httpx.get(server.base_url + "/_sim/otmm/campaigns").json()["campaigns"]
    assert {c["status"] for c in campaigns} >= {"A1", "A2", "A3", "A4", "A5", "A6", "B1", "B2"}
    assert {c["type"] for c in campaigns if c["status"] == "B1"} == {"Global comm", "Local comm"}
    assert any("/" in c["name"] and "\\" in c["name"] for c in campaigns if c["status"] == "A1")
    a1 = numbers(search(http, cond(F.status, "A1")))
    created = {c["number"]: c["created"] for c in campaigns}
    assert len(a1) == 4 and [created[n] for n in a1] == sorted(created[n] for n in a1)
    empty = next(c for c in campaigns if c["name"] == "Nothing Yet")
    master = seeded[empty["number"]].master_assets_id
    assert http.get(f"{API}/folders/{master}/children").json()["folder_children"]["asset_list"] == []

    spring = seeded["C000000078"]
    walked, stack = [], [spring.master_assets_id]
    while stack:
        for item in http.get(f"{API}/folders/{stack.pop()}/children", params={"limit": 0}
                             ).json()["folder_children"]["asset_list"]:
            if item.get("data_type") == "CONTAINER":
                stack.append(item["asset_id"])
            else:
                walked.append(item)
    assert 4 <= len(walked) <= 6
    for item in walked:
        meta = sim.metadata(item["asset_id"])
        assert set(FIELDS.mvp.fields) <= set(meta)
        assert 100_000 <= item["content_size"] <= 3_000_000

    finals = seeded["C000000073"].final_assets_id
    statuses = set()
    stack = [finals]
    while stack:
        for item in http.get(f"{API}/folders/{stack.pop()}/children", params={"limit": 0}
                             ).json()["folder_children"]["asset_list"]:
            if item.get("data_type") == "CONTAINER":
                stack.append(item["asset_id"])
            else:
                statuses.add(sim.metadata(item["asset_id"]).get(FIELDS.rejection.ecommerce_status))
    assert statuses == {"NOT APPROVED", "APPROVED", None}
    hits = search(http, cond(FIELDS.rejection.ecommerce_status, "NOT APPROVED"), folder_filter=finals)
    assert hits["search_result"]["total_hit_count"] == 2

    assert httpx.post(server.base_url + f"/_sim/otmm/campaigns/{spring.folder_id}/status",
                      json={"status": "A3"}).status_code == 200
    assert sim.campaign_status(spring.folder_id) == "A3"
    again = OtmmSimulator(upload_dir=sim.upload_dir / "other")
    assert {n: c.folder_id for n, c in again.seed_demo().items()} == {n: c.folder_id for n, c in seeded.items()}


def test_command_line_prints_its_url_and_serves(tmp_path: Path) -> None:
    env = {**os.environ, "OTMM_SIM_CLIENT_ID": "cli-client", "OTMM_SIM_CLIENT_SECRET": "cli-secret",
           "OTMM_SIM_USERNAME": "cli-user", "OTMM_SIM_PASSWORD": "cli-pass"}
    proc = subprocess.Popen([sys.executable, "-m", "simulators.otmm", "--port", "0", "--seed", "demo",
                             "--token-ttl", "60", "--upload-dir", str(tmp_path)],
                            cwd=Path(__file__).resolve().parents[2], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("OTMM simulator at http://127.0.0.1:"), line
        base = line.split()[-1]
        r = httpx.post(base + "/otdsws/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("cli-client", "cli-secret"), timeout=10)
        assert r.status_code == 200 and r.json()["expires_in"] == 60
        session = httpx.post(base + API + "/sessions", data={"username": "cli-user", "password": "cli-pass"},
                             timeout=10)
        assert session.status_code == 200 and session.json()["session_resource"]["session"]["login_name"] == "cli-user"
        assert len(httpx.get(base + "/_sim/otmm/campaigns", timeout=10).json()["campaigns"]) == 13
    finally:
        proc.terminate()
        proc.wait(timeout=10)
