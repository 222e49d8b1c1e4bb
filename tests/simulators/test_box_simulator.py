"""The Box simulator driven by the real ``box_sdk_gen`` (real JWT, real HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from box_sdk_gen import (
    BaseUrls,
    BoxAPIError,
    BoxClient,
    BoxJWTAuth,
    BoxRetryStrategy,
    CreateFolderParent,
    JWTConfig,
    NetworkSession,
    PreflightFileUploadCheckParent,
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
)

from simulators.box import BoxSimulator
from simulators.common import ServerThread
from simulators.jwt_keys import JwtAppKeys, make_jwt_app_keys

MiB = 1024 * 1024
CLIENT_ID = "cs-box"
ENTERPRISE = "4242"


AppKey = JwtAppKeys


def make_key(kid: str) -> AppKey:
    return make_jwt_app_keys(kid, uuid.uuid4().hex)


@pytest.fixture(scope="module")
def app_key() -> AppKey:
    return make_key("kid-1")


@pytest.fixture(scope="module")
def other_key() -> AppKey:
    return make_key("kid-2")


@dataclass
class Env:
    sim: BoxSimulator
    server: ServerThread
    secret: str
    key: AppKey

    @property
    def url(self) -> str:
        return self.server.base_url

    def client(self, key: AppKey | None = None, secret: str | None = None, attempts: int = 3) -> BoxClient:
        key = key or self.key
        config = JWTConfig(client_id=CLIENT_ID, client_secret=secret or self.secret, jwt_key_id=key.key_id,
                           private_key=key.private_key_pem, private_key_passphrase=key.passphrase,
                           enterprise_id=ENTERPRISE)
        session = NetworkSession(
            base_urls=BaseUrls(base_url=self.url, upload_url=self.url + "/api", oauth_2_url=self.url + "/oauth2"),
            retry_strategy=BoxRetryStrategy(max_attempts=attempts, retry_base_interval=0.01))
        return BoxClient(auth=BoxJWTAuth(config=config), network_session=session)

    def fault(self, **rule: object) -> None:
        httpx.post(self.url + "/_sim/faults", json=rule).raise_for_status()

    def log(self) -> list[dict]:
        return httpx.get(self.url + "/_sim/requests").json()["requests"]

    def token(self) -> str:
        """A bearer token for raw HTTP calls (through the CCG grant)."""
        r = httpx.post(self.url + "/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": self.secret,
            "box_subject_type": "enterprise", "box_subject_id": ENTERPRISE})
        r.raise_for_status()
        return r.json()["access_token"]


@pytest.fixture
def env(tmp_path: Path, app_key: AppKey) -> Iterator[Env]:
    secret = uuid.uuid4().hex
    sim = BoxSimulator(storage_dir=tmp_path / "box", client_id=CLIENT_ID, client_secret=secret,
                       public_keys={app_key.key_id: app_key.public_key_pem}, enterprise_id=ENTERPRISE,
                       part_size=MiB, chunked_min_size=MiB, direct_upload_max=8 * MiB)
    with ServerThread(sim.app) as server:
        yield Env(sim, server, secret, app_key)


@pytest.fixture
def client(env: Env) -> BoxClient:
    return env.client()


def upload(client: BoxClient, parent: str, name: str, data: bytes, stream: io.RawIOBase | None = None):
    attrs = UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id=parent))
    return client.uploads.upload_file(attrs, stream or io.BytesIO(data)).entries[0]


class OneShotStream(io.RawIOBase):
    """Not seekable and without a length: requests sends it with Transfer-Encoding: chunked."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - memoryview
        chunk = self._data[self._pos:self._pos + min(len(buffer), 7000)]
        buffer[:len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


# -- tokens ---------------------------------------------------------------------------------
def test_jwt_token_and_root_folder(env: Env, client: BoxClient) -> None:
    root = client.folders.get_folder_by_id("0")
    assert (root.id, root.name, root.item_collection.total_count) == ("0", "All Files", 0)
    assert env.sim.token_requests == 1
    auth = [r["headers"].get("authorization", "") for r in env.log() if r["path"] == "/2.0/folders/0"]
    assert auth and auth[0].startswith("Bearer ")


def test_unknown_kid_wrong_key_and_wrong_secret_are_refused(env: Env, other_key: AppKey) -> None:
    with pytest.raises(BoxAPIError) as unknown:
        env.client(key=other_key).folders.get_folder_by_id("0")
    assert unknown.value.response_info.status_code == 400
    assert unknown.value.response_info.body["error"] == "invalid_grant"
    assert "kid" in unknown.value.response_info.body["error_description"]

    wrong_key = AppKey(env.key.key_id, other_key.private_key_pem, other_key.passphrase, other_key.public_key_pem)
    with pytest.raises(BoxAPIError) as forged:
        env.client(key=wrong_key).folders.get_folder_by_id("0")
    assert forged.value.response_info.body["error"] == "invalid_grant"
    assert "Signature" in forged.value.response_info.body["error_description"]

    with pytest.raises(BoxAPIError) as secret:
        env.client(secret="nope").folders.get_folder_by_id("0")
    assert secret.value.response_info.body["error"] == "invalid_client"

    # a key registered at run time (as another process would) is then accepted
    httpx.post(env.url + "/_sim/box/keys", json={"kid": other_key.key_id, "pem": other_key.public_key_pem}).raise_for_status()
    assert env.client(key=other_key).folders.get_folder_by_id("0").id == "0"


def test_api_needs_a_bearer_token(env: Env) -> None:
    r = httpx.get(env.url + "/2.0/folders/0")
    assert r.status_code == 401 and r.headers["content-type"] == "application/json"
    assert r.json()["type"] == "error" and r.json()["code"] == "unauthorized"
    ok = httpx.get(env.url + "/2.0/folders/0", headers={"Authorization": f"Bearer {env.token()}"})
    assert ok.status_code == 200 and ok.json()["name"] == "All Files"


def test_expired_token_is_refreshed_by_the_sdk(env: Env, client: BoxClient) -> None:
    folder = client.folders.create_folder("before", CreateFolderParent(id="0"))
    before = env.sim.token_requests
    env.sim.expire_tokens()
    assert client.folders.get_folder_by_id(folder.id).name == "before"
    assert env.sim.token_requests == before + 1
    statuses = [r["status"] for r in env.log() if r["path"] == f"/2.0/folders/{folder.id}"]
    assert statuses == [401, 200]


# -- folders --------------------------------------------------------------------------------
def test_create_folder_and_conflicts_are_a_list(env: Env, client: BoxClient) -> None:
    reports = client.folders.create_folder("Reports", CreateFolderParent(id="0"))
    assert reports.parent.id == "0" and [p.id for p in reports.path_collection.entries] == ["0"]
    with pytest.raises(BoxAPIError) as clash:
        client.folders.create_folder("reports", CreateFolderParent(id="0"))  # case-insensitive
    info = clash.value.response_info
    assert (info.status_code, info.code) == (409, "item_name_in_use")
    assert isinstance(info.context_info["conflicts"], list)
    assert info.context_info["conflicts"][0]["id"] == reports.id
    assert info.context_info["conflicts"][0]["type"] == "folder"

    file_id = env.sim.put_file(reports.id, "notes.txt", b"hello")
    with pytest.raises(BoxAPIError) as file_clash:  # a file blocks a folder of the same name
        client.folders.create_folder("NOTES.txt", CreateFolderParent(id=reports.id))
    assert file_clash.value.response_info.context_info["conflicts"][0]["id"] == file_id

    sub = client.folders.create_folder("Q1", CreateFolderParent(id=reports.id))
    assert [p.name for p in sub.path_collection.entries] == ["All Files", "Reports"]
    assert [f["path"] for f in env.sim.folders()] == ["Reports", "Reports/Q1"]


def test_forbidden_names_are_rejected(env: Env, client: BoxClient) -> None:
    for name in ["a/b", "back\\slash", ".", "..", " lead", "trail ", "bell\x07", "del\x7f", "x" * 256]:
        with pytest.raises(BoxAPIError) as bad:
            client.folders.create_folder(name, CreateFolderParent(id="0"))
        assert bad.value.response_info.status_code == 400, name
        assert bad.value.response_info.code == ("item_name_too_long" if len(name) > 255 else "item_name_invalid")
    assert client.folders.create_folder("x" * 255, CreateFolderParent(id="0")).name == "x" * 255
    assert client.folders.create_folder("ünï <cödé>: ok?", CreateFolderParent(id="0")).name == "ünï <cödé>: ok?"
    assert len(env.sim.folders()) == 2


def test_parallel_uploads_and_racing_folder_creates(env: Env, client: BoxClient) -> None:
    blobs = {f"p{i:02d}.bin": os.urandom(50_000 + i) for i in range(16)}
    with ThreadPoolExecutor(16) as pool:
        stored = list(pool.map(lambda kv: upload(client, "0", kv[0], kv[1]), blobs.items()))
        racers = list(pool.map(lambda _: _create_or_conflict(client, "Shared"), range(8)))
    assert {f.name: f.sha_1 for f in stored} == {n: hashlib.sha1(b).hexdigest() for n, b in blobs.items()}
    assert racers.count("created") == 1 and racers.count("conflict") == 7
    assert len(env.sim.files()) == 16 and [f["name"] for f in env.sim.folders()] == ["Shared"]


def _create_or_conflict(client: BoxClient, name: str) -> str:
    try:
        client.folders.create_folder(name, CreateFolderParent(id="0"))
        return "created"
    except BoxAPIError as exc:
        return "conflict" if exc.response_info.status_code == 409 else "error"


def test_marker_and_offset_paging_over_250_items(env: Env, client: BoxClient) -> None:
    parent = env.sim.create_folder("0", "many")
    folders = [env.sim.create_folder(parent, f"dir-{i:03d}") for i in range(50)]
    files = [env.sim.put_file(parent, f"file-{i:03d}.jpg", b"%d" % i) for i in range(200)]
    expected = folders + files  # folders first, then files, each by name

    seen, marker, pages = [], None, 0
    while True:
        page = client.folders.get_folder_items(parent, usemarker=True, marker=marker, limit=100,
                                               fields=["name", "size", "sha1"])
        pages += 1
        seen += [e.id for e in page.entries]
        marker = page.next_marker
        if not marker:
            break
    assert pages == 3 and seen == expected
    assert "next_marker" not in page.raw_data
    file_entry = next(e for e in page.entries if e.id == files[-1])
    assert file_entry.sha_1 == hashlib.sha1(b"199").hexdigest() and file_entry.size == 3

    seen, offset = [], 0
    while True:
        page = client.folders.get_folder_items(parent, offset=offset, limit=100)
        assert page.total_count == 250 and page.offset == offset
        seen += [e.id for e in page.entries]
        offset += len(page.entries)
        if offset >= page.total_count:
            break
    assert seen == expected
    assert page.entries[-1].type.value == "file" and page.entries[-1].sha_1
    head = client.folders.get_folder_by_id(parent, offset=240, limit=5)
    assert [e.id for e in head.item_collection.entries] == expected[240:245]


def test_delete_folder_needs_recursive_when_not_empty(env: Env, client: BoxClient) -> None:
    parent = env.sim.create_folder("0", "doomed")
    env.sim.put_file(parent, "a.txt", b"a")
    with pytest.raises(BoxAPIError) as not_empty:
        client.folders.delete_folder_by_id(parent)
    assert not_empty.value.response_info.code == "folder_not_empty"
    client.folders.delete_folder_by_id(parent, recursive=True)
    assert env.sim.files() == [] and env.sim.folders() == []


# -- files ----------------------------------------------------------------------------------
def test_upload_file_returns_the_sha1_and_streams_chunked_bodies(env: Env, client: BoxClient) -> None:
    folder = env.sim.create_folder("0", "up")
    data = os.urandom(300_000)
    stored = upload(client, folder, "hero.jpg", data)
    assert stored.sha_1 == hashlib.sha1(data).hexdigest() and stored.size == len(data)
    assert stored.parent.id == folder and stored.name == "hero.jpg"
    assert env.sim.file_path(stored.id).read_bytes() == data

    chunked = os.urandom(150_001)
    stored2 = upload(client, folder, "stream.bin", b"", stream=OneShotStream(chunked))
    assert stored2.sha_1 == hashlib.sha1(chunked).hexdigest()
    sent = [r for r in env.log() if r["path"] == "/api/2.0/files/content" and r["status"] == 201]
    assert "content-length" in sent[0]["headers"] and "content-length" not in sent[1]["headers"]
    assert {f["path"]: f["sha1"] for f in env.sim.files()} == {
        "up/hero.jpg": stored.sha_1, "up/stream.bin": stored2.sha_1}


def test_upload_conflict_is_one_object_with_id_and_sha1(env: Env, client: BoxClient) -> None:
    existing = upload(client, "0", "dup.jpg", b"first")
    with pytest.raises(BoxAPIError) as clash:
        upload(client, "0", "DUP.jpg", b"second")
    conflicts = clash.value.response_info.context_info["conflicts"]
    assert isinstance(conflicts, dict)
    assert (conflicts["id"], conflicts["sha1"]) == (existing.id, hashlib.sha1(b"first").hexdigest())

    with pytest.raises(BoxAPIError) as preflight:
        client.uploads.preflight_file_upload_check(name="dup.jpg", size=5,
                                                   parent=PreflightFileUploadCheckParent(id="0"))
    assert preflight.value.response_info.context_info["conflicts"]["id"] == existing.id
    ok = client.uploads.preflight_file_upload_check(name="new.jpg", size=5,
                                                    parent=PreflightFileUploadCheckParent(id="0"))
    assert ok.upload_url.startswith(env.url + "/api/2.0/files/content")
    assert len(env.sim.files()) == 1


def test_upload_limits_digest_and_names(env: Env, client: BoxClient) -> None:
    with pytest.raises(BoxAPIError) as too_big:
        upload(client, "0", "huge.bin", b"\0" * (8 * MiB + 1))
    assert (too_big.value.response_info.status_code, too_big.value.response_info.code) == (
        413, "request_entity_too_large")
    attrs = UploadFileAttributes(name="md5.txt", parent=UploadFileAttributesParentField(id="0"))
    with pytest.raises(BoxAPIError) as digest:
        client.uploads.upload_file(attrs, io.BytesIO(b"abc"), content_md_5="0" * 40)
    assert digest.value.response_info.code == "bad_digest"
    ok = client.uploads.upload_file(attrs, io.BytesIO(b"abc"), content_md_5=hashlib.sha1(b"abc").hexdigest())
    assert ok.entries[0].sha_1 == hashlib.sha1(b"abc").hexdigest()
    with pytest.raises(BoxAPIError) as bad_name:
        upload(client, "0", "a/b", b"x")
    assert bad_name.value.response_info.code == "item_name_invalid"
    with pytest.raises(BoxAPIError) as no_parent:
        upload(client, "999999", "x.txt", b"x")
    assert no_parent.value.response_info.status_code == 404
    assert [f["name"] for f in env.sim.files()] == ["md5.txt"]
    assert list((env.sim.state.tmp_dir).iterdir()) == []  # nothing left behind


def test_get_download_new_version_delete(env: Env, client: BoxClient) -> None:
    folder = env.sim.create_folder("0", "dl")
    data = os.urandom(200_000)
    file_id = env.sim.put_file(folder, "clip.mp4", data)
    info = client.files.get_file_by_id(file_id)
    assert (info.name, info.size, info.sha_1, info.item_status.value) == (
        "clip.mp4", len(data), hashlib.sha1(data).hexdigest(), "active")
    assert [p.id for p in info.path_collection.entries] == ["0", folder]
    slim = client.files.get_file_by_id(file_id, fields=["size"])
    assert slim.size == len(data) and slim.path_collection is None

    out = io.BytesIO()
    client.downloads.download_file_to_output_stream(file_id, out)
    assert out.getvalue() == data
    redirect = next(r for r in env.log() if r["path"] == f"/2.0/files/{file_id}/content")
    assert redirect["status"] == 302
    ranged = httpx.get(env.url + f"/dl/{file_id}", headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == data[10:20]

    new = os.urandom(1000)
    version = client.uploads.upload_file_version(file_id, UploadFileVersionAttributes(name="clip.mp4"),
                                                 io.BytesIO(new)).entries[0]
    assert version.id == file_id and version.sha_1 == hashlib.sha1(new).hexdigest()

    client.files.delete_file_by_id(file_id)
    with pytest.raises(BoxAPIError) as gone:
        client.files.get_file_by_id(file_id)
    assert (gone.value.response_info.status_code, gone.value.response_info.code) == (404, "not_found")
    assert not env.sim.file_path(file_id).exists()


# -- upload sessions ------------------------------------------------------------------------
def test_upload_big_file_in_parts(env: Env, client: BoxClient) -> None:
    folder = env.sim.create_folder("0", "big")
    data = os.urandom(3 * MiB + MiB // 2)
    stored = client.chunked_uploads.upload_big_file(io.BytesIO(data), "big.mov", len(data), folder)
    assert stored.sha_1 == hashlib.sha1(data).hexdigest() and stored.size == len(data)
    assert env.sim.file_path(stored.id).read_bytes() == data
    parts = [r for r in env.log() if r["method"] == "PUT"]
    assert [p["headers"]["content-range"] for p in parts] == [
        f"bytes {i * MiB}-{min((i + 1) * MiB, len(data)) - 1}/{len(data)}" for i in range(4)]
    assert all(p["headers"]["digest"].startswith("sha=") for p in parts)
    assert list(env.sim.state.sessions_dir.iterdir()) == []

    with pytest.raises(BoxAPIError) as small:
        client.chunked_uploads.create_file_upload_session(folder, MiB - 1, "small.bin")
    assert small.value.response_info.code == "file_size_too_small"
    with pytest.raises(BoxAPIError) as clash:
        client.chunked_uploads.upload_big_file(io.BytesIO(data), "BIG.mov", len(data), folder)
    assert clash.value.response_info.context_info["conflicts"]["id"] == stored.id


def test_upload_session_checks_ranges_and_digests(env: Env) -> None:
    headers = {"Authorization": f"Bearer {env.token()}"}
    size = 2 * MiB + 10
    r = httpx.post(env.url + "/api/2.0/files/upload_sessions", headers=headers,
                   json={"folder_id": "0", "file_size": size, "file_name": "raw.bin"})
    assert r.status_code == 201
    session = r.json()
    assert session["total_parts"] == 3 and session["num_parts_processed"] == 0
    part_url = session["session_endpoints"]["upload_part"]
    assert part_url.startswith(env.url)
    data = os.urandom(size)

    def put(start: int, end: int, body: bytes, digest: bytes | None = None) -> httpx.Response:
        sha = base64.b64encode(hashlib.sha1(digest if digest is not None else body).digest()).decode()
        return httpx.put(part_url, content=body, headers={**headers, "digest": f"sha={sha}",
                                                          "content-range": f"bytes {start}-{end}/{size}"})

    assert put(1, MiB, data[1:MiB + 1]).status_code == 416  # misaligned
    assert put(0, 99, data[:100]).status_code == 416  # short non-final part
    bad = put(0, MiB - 1, data[:MiB], digest=b"other")
    assert (bad.status_code, bad.json()["code"]) == (400, "bad_digest")
    parts = [put(i * MiB, min((i + 1) * MiB, size) - 1, data[i * MiB:(i + 1) * MiB]).json()["part"]
             for i in range(3)]
    assert parts[2]["size"] == 10 and parts[2]["sha1"] == hashlib.sha1(data[2 * MiB:]).hexdigest()
    assert put(0, MiB - 1, data[:MiB]).json()["part"] == parts[0]  # a retried part: same answer
    listed = httpx.get(session["session_endpoints"]["list_parts"], headers=headers).json()
    assert listed["total_count"] == 3

    whole = "sha=" + base64.b64encode(hashlib.sha1(data).digest()).decode()
    wrong = httpx.post(session["session_endpoints"]["commit"], json={"parts": parts},
                       headers={**headers, "digest": "sha=" + base64.b64encode(b"x" * 20).decode()})
    assert wrong.json()["code"] == "bad_digest"
    done = httpx.post(session["session_endpoints"]["commit"], json={"parts": parts},
                      headers={**headers, "digest": whole})
    assert done.status_code == 201 and done.json()["entries"][0]["sha1"] == hashlib.sha1(data).hexdigest()
    assert httpx.delete(session["session_endpoints"]["abort"], headers=headers).status_code == 404

    other = httpx.post(env.url + "/api/2.0/files/upload_sessions", headers=headers,
                       json={"folder_id": "0", "file_size": size, "file_name": "aborted.bin"}).json()
    assert httpx.delete(other["session_endpoints"]["abort"], headers=headers).status_code == 204


# -- faults ---------------------------------------------------------------------------------
def test_429_twice_then_success(env: Env, client: BoxClient) -> None:
    env.fault(path="^/2.0/folders/0$", kind="status", status=429, retry_after=0, count=2)
    assert client.folders.get_folder_by_id("0").id == "0"
    statuses = [r["status"] for r in env.log() if r["path"] == "/2.0/folders/0"]
    assert statuses == [429, 429, 200]


def test_503_until_the_sdk_gives_up(env: Env, client: BoxClient) -> None:
    env.fault(path="^/2.0/folders", kind="status", status=503, count=-1)
    with pytest.raises(BoxAPIError) as unavailable:
        client.folders.create_folder("never", CreateFolderParent(id="0"))
    assert unavailable.value.response_info.status_code == 503
    assert unavailable.value.response_info.body["type"] == "error"
    assert len([r for r in env.log() if r["path"] == "/2.0/folders"]) == 3  # max_attempts
    assert env.sim.folders() == []


# -- admin routes, persistence, command line -------------------------------------------------
def test_admin_seed_list_and_restart_keeps_state(env: Env, tmp_path: Path, client: BoxClient) -> None:
    r = httpx.post(env.url + "/_sim/box/seed-file", json={
        "path": "Agency/Italy", "name": "post.png", "content_base64": base64.b64encode(b"png!").decode()})
    assert r.status_code == 201
    seeded = r.json()
    r2 = httpx.post(env.url + "/_sim/box/seed-file", data={"path": "Agency/Italy"},
                    files={"file": ("story.mp4", b"mp4!")})
    assert r2.status_code == 201 and r2.json()["path"] == "Agency/Italy/story.mp4"
    listed = httpx.get(env.url + "/_sim/box/files").json()
    assert [(f["path"], f["sha1"]) for f in listed] == [
        ("Agency/Italy/post.png", hashlib.sha1(b"png!").hexdigest()),
        ("Agency/Italy/story.mp4", hashlib.sha1(b"mp4!").hexdigest())]
    assert client.files.get_file_by_id(seeded["id"]).parent.id == seeded["parent_id"]
    assert httpx.post(env.url + "/_sim/box/expire-tokens").status_code == 200

    env.sim.flush()
    again = BoxSimulator(storage_dir=tmp_path / "box", client_id=CLIENT_ID, client_secret="x")
    assert again.files() == env.sim.files() and again.folders() == env.sim.folders()
    assert again.create_folder("0", "fresh") not in {f["id"] for f in env.sim.folders()}


def test_command_line_prints_its_url_and_serves(tmp_path: Path, app_key: AppKey) -> None:
    pem = tmp_path / "pub.pem"
    pem.write_text(app_key.public_key_pem)
    cmd = [sys.executable, "-m", "simulators.box", "--port", "0", "--storage", str(tmp_path / "cli"),
           "--public-key", f"{app_key.key_id}={pem}", "--part-size", str(MiB)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
                            env={**os.environ, "BOX_SIM_CLIENT_SECRET": "cli-secret"})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        url = line.strip().rsplit(" ", 1)[-1]
        assert line.startswith("Box simulator at http://127.0.0.1:")
        deadline = time.monotonic() + 10
        while True:
            try:
                assert httpx.get(url + "/_sim/box/files").json() == []
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        token = httpx.post(url + "/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": "cs-box", "client_secret": "cli-secret",
            "box_subject_type": "enterprise", "box_subject_id": "12345"})
        assert token.status_code == 200 and token.json()["token_type"] == "bearer"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_rename_and_move_follow_the_name_rules(env: Env, client: BoxClient) -> None:
    from box_sdk_gen import UpdateFileByIdParent

    a, b = env.sim.create_folder("0", "campaign-old"), env.sim.create_folder("0", "other")
    renamed = client.folders.update_folder_by_id(a, name="campaign-new")
    assert renamed.name == "campaign-new" and env.sim.state.conflict("0", "campaign-old") is None
    with pytest.raises(BoxAPIError) as clash:  # case-insensitive clash, conflicts as a list for folders
        client.folders.update_folder_by_id(a, name="OTHER")
    assert clash.value.response_info.status_code == 409
    assert clash.value.response_info.context_info["conflicts"][0]["id"] == b
    f = upload(client, a, "x.jpg", b"one")
    moved = client.files.update_file_by_id(f.id, name="y.jpg", parent=UpdateFileByIdParent(id=b))
    assert (moved.name, moved.parent.id) == ("y.jpg", b)
    assert env.sim.file_path(f.id).read_bytes() == b"one"
    with pytest.raises(BoxAPIError) as bad:
        client.files.update_file_by_id(f.id, name="a/b.jpg")
    assert bad.value.response_info.code == "item_name_invalid"


def test_commit_stays_202_while_box_processes(env: Env, client: BoxClient) -> None:
    """Box answers a commit 202 + Retry-After until the parts are assembled; the SDK gives up
    after its attempts and returns None (the pitfall the project's own commit loop handles)."""
    httpx.post(env.url + "/_sim/box/upload-processing", json={"commit_processing_s": 30, "retry_after_s": 0.01}
               ).raise_for_status()
    folder = env.sim.create_folder("0", "slow")
    data = os.urandom(2 * MiB)
    with pytest.raises(AttributeError):  # upload_big_file: None.entries
        client.chunked_uploads.upload_big_file(io.BytesIO(data), "slow.mov", len(data), folder)
    commits = [r for r in env.log() if r["path"].endswith("/commit")]
    assert commits and all(r["status"] == 202 for r in commits)
    assert httpx.get(env.url + "/_sim/box/stats").json()["open_upload_sessions"] == 1
