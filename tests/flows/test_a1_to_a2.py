"""A1→A2 end to end: a real flow run against the simulators, PostgreSQL and a Prefect API."""

from __future__ import annotations

import json

import httpx
import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

from flows.a1_to_a2 import a1_to_a2

pytestmark = pytest.mark.prefect

CAMPAIGN = "C000000101"


def seed_campaign(sim, number: str = CAMPAIGN, name: str = "Spring Launch", status: str = "A1",
                  created: str = "2026-01-05T10:00:00Z") -> dict[str, str]:
    """A campaign with assets at the root of Master Assets and two levels below it."""
    c = sim.add_campaign(number=number, name=name, status=status, campaign_type="Local comm", created=created)
    social = sim.add_folder(c.master_assets_id, "Social")
    stories = sim.add_folder(social, "Stories")
    return {
        "hero.jpg": sim.add_asset(c.master_assets_id, "hero.jpg", size=300_000, mime_type="image/jpeg",
                                  fields={"MKT.FIELD.BRAND": "Nutty", "MKT.FIELD.COUNTRY": "IT"}),
        "Social/post.png": sim.add_asset(social, "post.png", size=120_000, mime_type="image/png"),
        "Social/Stories/story.mp4": sim.add_asset(stories, "story.mp4", size=2_500_000, mime_type="video/mp4"),
        "folder_id": c.folder_id,
    }


def box_files(env) -> dict[str, dict]:
    """Box files below the A1→A2 root, keyed by their path relative to it."""
    root_path = next(f["path"] for f in env.box.sim.folders() if f["id"] == env.box_root)
    return {f["path"][len(root_path) + 1:]: f for f in env.box.sim.files() if f["path"].startswith(root_path + "/")}


def artifact_rows(state) -> list[dict]:
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
            key=ArtifactFilterKey(any_=["a1-to-a2-assets"])))
    assert len(arts) == 1
    data = arts[0].data
    return json.loads(data) if isinstance(data, str) else data


def inject(base_url: str, **rule) -> None:
    httpx.post(base_url + "/_sim/faults", json=rule).raise_for_status()


def clear_faults(base_url: str) -> None:
    httpx.delete(base_url + "/_sim/faults").raise_for_status()


def test_happy_path_with_nested_sub_folders(flow_env):
    """(Every DAM sign-in runs A1→A2 in tests/flows/test_a2_to_a3.py.)"""
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert sim.campaign_status(assets["folder_id"]) == "A2"
    files = box_files(flow_env)
    assert len(files) == 3
    rows = flow_env.db.fetch_all("SELECT * FROM master_assets ORDER BY dam_path")
    by_path = {r["dam_path"]: r for r in rows}
    for dam_path in ("hero.jpg", "Social/post.png", "Social/Stories/story.mp4"):
        tracking_id = by_path[dam_path]["tracking_id"]
        folder, _, name = dam_path.rpartition("/")
        box_path = "/".join(p for p in [f"{CAMPAIGN}-Spring Launch", folder, f"{tracking_id}_{name}"] if p)
        assert box_path in files, sorted(files)
        assert files[box_path]["sha1"] == sim.content_sha1(assets[dam_path])
    assert by_path["hero.jpg"]["brand"] == "Nutty" and by_path["hero.jpg"]["country"] == "IT"
    assert by_path["hero.jpg"]["metadata"]["fields"]["MKT.FIELD.BRAND"] == "Nutty"
    assert len(flow_env.db.events(event="uploaded_to_box")) == 3
    table = artifact_rows(state)
    assert {r["outcome"] for r in table} == {"uploaded"}
    assert [r["body"] for r in flow_env.webhook.received] == [
        {"campaign_number": CAMPAIGN, "campaign_name": "Spring Launch", "status": "A2", "Live Campaign": "NO"}]
    [mail] = flow_env.mail.messages
    assert mail["To"] == "ops@example.test" and "C000000101 Spring Launch" in mail["Subject"]
    html = mail.get_body(("html",)).get_content()
    text = mail.get_body(("plain",)).get_content()
    assert "#1e7d32" in html and "https://app.box.com/folder/" in html  # green, Box folder link
    assert by_path["hero.jpg"]["tracking_id"] in text and "Social/Stories/story.mp4" in text
    assert {r["tracking_id"] for r in table} == set(by_path[p]["tracking_id"] for p in by_path)


def test_rerun_is_idempotent(flow_env):
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    first_files = box_files(flow_env)
    first_ids = flow_env.db.fetch_all("SELECT tracking_id, dam_asset_id FROM master_assets ORDER BY 1")
    counts = {t: flow_env.db.fetch_all(f"SELECT count(*) AS n FROM {t}")[0]["n"]
              for t in ("master_assets", "box_uploads", "asset_events")}

    sim.set_campaign_status(assets["folder_id"], "A1")  # someone sends it round again
    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert sim.campaign_status(assets["folder_id"]) == "A2"
    assert box_files(flow_env).keys() == first_files.keys()
    assert flow_env.db.fetch_all("SELECT tracking_id, dam_asset_id FROM master_assets ORDER BY 1") == first_ids
    assert counts == {t: flow_env.db.fetch_all(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in counts}
    assert {r["outcome"] for r in artifact_rows(state)} == {"already_in_box"}


def test_crash_after_upload_before_record_is_recognised(flow_env):
    """A Box file whose upload was never recorded (crash) is adopted, not duplicated."""
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)
    assert a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True).is_completed()
    flow_env.db.fetch_all("DELETE FROM box_uploads RETURNING 1")
    sim.set_campaign_status(assets["folder_id"], "A1")

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert len(box_files(flow_env)) == 3
    assert len(flow_env.db.events(event="found_in_box")) == 3


def test_one_asset_failing_keeps_status_then_next_run_completes(flow_env):
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)
    broken = assets["Social/post.png"]
    inject(flow_env.otmm.base_url, path=f"/assets/{broken}/contents$", kind="status", status=403, count=-1)

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_failed()
    assert "1 partial" in state.message and "Social/post.png" in state.message
    assert sim.campaign_status(assets["folder_id"]) == "A1"
    assert len(box_files(flow_env)) == 2  # the others were still copied and recorded
    assert len(flow_env.db.fetch_all("SELECT * FROM box_uploads")) == 2
    failed = flow_env.db.events(event="transfer_failed")
    assert [e["dam_asset_id"] for e in failed] == [broken]
    rows = {r["path"]: r for r in artifact_rows(state)}
    assert rows["Social/post.png"]["outcome"] == "failed" and rows["Social/post.png"]["error"]
    kinds = {m["To"]: m for m in flow_env.mail.messages}
    assert "Some assets could not be copied" in kinds["ops@example.test"]["Subject"]  # a1_to_a2_partial, orange
    assert "prefect deployment run a1-to-a2/a1-to-a2 -p campaign_number=C000000101" in \
        kinds["ops@example.test"].get_body(("plain",)).get_content()
    assert "ERROR" in kinds["errors@example.test"]["Subject"]  # the failed run's error email

    clear_faults(flow_env.otmm.base_url)
    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert sim.campaign_status(assets["folder_id"]) == "A2"
    assert len(box_files(flow_env)) == 3
    outcomes = {r["path"]: r["outcome"] for r in artifact_rows(state)}
    assert outcomes == {"hero.jpg": "already_in_box", "Social/post.png": "uploaded",
                        "Social/Stories/story.mp4": "already_in_box"}


def test_transient_429_and_5xx_are_retried(flow_env):
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)
    inject(flow_env.otmm.base_url, path="/contents$", kind="status", status=503, count=2)
    inject(flow_env.otmm.base_url, path="/folders/.*/children", kind="status", status=429, retry_after=0, count=1)
    inject(flow_env.otmm.base_url, path="/contents$", kind="drop", after_bytes=50_000, count=1)
    inject(flow_env.box.base_url, path="/files/content$", method="POST", kind="status", status=429, retry_after=0,
           count=2)
    inject(flow_env.box.base_url, path="/2.0/folders$", kind="status", status=500, count=1)

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert sim.campaign_status(assets["folder_id"]) == "A2"
    files = box_files(flow_env)
    assert len(files) == 3
    assert sorted(f["sha1"] for f in files.values()) == sorted(
        sim.content_sha1(assets[k]) for k in ("hero.jpg", "Social/post.png", "Social/Stories/story.mp4"))


@pytest.mark.parametrize("dam_auth", ["oauth2", "session"], indirect=True)
def test_sign_in_expiring_mid_run(flow_env, dam_auth):
    """The token or session ends while assets are copied: one new sign-in, the run completes,
    nothing is copied twice. (The password grants share the token code of oauth2; every method
    also loses its sign-in between two runs in tests/flows/test_a2_to_a3.py.)"""
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)
    downloads: list[str] = []

    def expire_at_the_second_download(entry: dict, phase: str) -> None:
        # Not a timer: under load a timer may fire before the first sign-in or after the last call.
        if phase == "request" and entry["path"].endswith("/contents"):
            downloads.append(entry["path"])
            if len(downloads) == 2:
                sim.expire_tokens()

    sim.injector.observers.append(expire_at_the_second_download)
    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True, max_concurrent_transfers=1)

    assert state.is_completed(), state.message
    assert sim.campaign_status(assets["folder_id"]) == "A2"
    assert sim.sign_ins(dam_auth) == sim.sign_ins() == 2  # the first sign-in, then exactly one after expiry
    log = httpx.get(flow_env.otmm.base_url + "/_sim/requests").json()["requests"]
    statuses = [r["status"] for r in log if r["path"].endswith("/contents")]
    assert statuses.count(401) == 1 and statuses.count(200) == 3, statuses  # refused once, each asset read once
    assert len(box_files(flow_env)) == 3 and len(flow_env.db.fetch_all("SELECT * FROM box_uploads")) == 3


def test_wrong_password_fails_the_run_naming_the_method(flow_env):
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)
    wrong = "wrong-password-4f2a"
    for method in ("session", "otds_password", "otmm_password"):
        flow_env.otmm.dam_block(auth_method=method, password=wrong).save("dam-wrong", overwrite=True)

        state = a1_to_a2(box_root_folder_id=flow_env.box_root, dam_block="dam-wrong", return_state=True)

        assert state.is_failed(), method
        assert f"(auth_method '{method}') failed" in state.message, state.message
        assert "cs-user" in state.message and wrong not in state.message
    assert sim.campaign_status(assets["folder_id"]) == "A1" and box_files(flow_env) == {}
    assert sim.sign_ins() == 0


def test_empty_campaign(flow_env):
    sim = flow_env.otmm.sim
    c = sim.add_campaign(number="C000000102", name="Nothing Yet", status="A1", campaign_type="Local comm",
                         created="2026-01-06T10:00:00Z")

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert "1 without assets" in state.message
    assert sim.campaign_status(c.folder_id) == "A1"  # nothing went to Box: agencies have nothing to adapt
    assert box_files(flow_env) == {}
    assert [r["outcome"] for r in artifact_rows(state)] == ["no_assets"]


def test_campaign_name_with_characters_box_forbids(flow_env):
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim, name=" Summer/Winter \\ Launch\t")

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_completed(), state.message
    assert sim.campaign_status(assets["folder_id"]) == "A2"
    folders = {f["path"].rsplit("/", 1)[-1] for f in flow_env.box.sim.folders()}
    assert f"{CAMPAIGN}- Summer_Winter _ Launch" in folders
    assert len(box_files(flow_env)) == 3


def test_only_the_targeted_campaign_oldest_first_and_bounded(flow_env):
    sim = flow_env.otmm.sim
    older = seed_campaign(sim, number="C000000001", name="Old", created="2025-01-01T00:00:00Z")
    newer = seed_campaign(sim, number="C000000002", name="New", created="2026-03-01T00:00:00Z")
    other = seed_campaign(sim, number="C000000003", name="Other", status="A3")

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, max_campaigns=1, return_state=True)
    assert state.is_completed(), state.message
    assert (sim.campaign_status(older["folder_id"]), sim.campaign_status(newer["folder_id"])) == ("A2", "A1")

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, campaign_number="C000000003", return_state=True)
    assert state.is_completed() and "0 campaign(s) found" in state.message
    assert sim.campaign_status(other["folder_id"]) == "A3"

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, campaign_number="C000000002", return_state=True)
    assert state.is_completed(), state.message
    assert sim.campaign_status(newer["folder_id"]) == "A2"


@pytest.fixture
def mtls_otmm(tmp_path):
    """The DAM over TLS that requires a client certificate (no bearer token)."""
    from simulators.certs import make_pki, make_untrusted_client_pfx
    from simulators.common import ServerThread
    from simulators.otmm import OtmmSimulator

    pki = make_pki(tmp_path / "pki", client_password="pfx-pass")
    untrusted = make_untrusted_client_pfx(tmp_path / "other", password="pfx-pass")
    sim = OtmmSimulator(auth_mode="mtls")
    with ServerThread(sim.app, tls=pki.server_tls(require_client_cert=True)) as server:
        yield sim, server, pki, untrusted


def save_mtls_dam_block(base_url: str, pfx_path, ca_cert) -> None:
    import base64

    from blocks._cache import clear_cached_clients
    from blocks.dam import DamCredentials

    clear_cached_clients()
    DamCredentials(base_url=base_url, auth_method="mtls",
                   pfx_base64=base64.b64encode(pfx_path.read_bytes()).decode(), pfx_password="pfx-pass",
                   ca_bundle_pem=ca_cert.read_text()).save("dam", overwrite=True)


def test_mtls_wrong_client_certificate_is_refused_clearly(flow_env, mtls_otmm):
    sim, server, pki, untrusted = mtls_otmm
    assets = seed_campaign(sim)
    save_mtls_dam_block(server.base_url, untrusted, pki.ca_cert)

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert state.is_failed()
    assert "client certificate" in state.message, state.message
    assert sim.campaign_status(assets["folder_id"]) == "A1"
    assert box_files(flow_env) == {}


def test_status_webhook_failure_is_reported_not_hidden(flow_env):
    sim = flow_env.otmm.sim
    assets = seed_campaign(sim)
    hook_url = flow_env.webhook  # the receiver; its faults go through its own server
    from blocks.status_webhook import StatusWebhook

    url = StatusWebhook.load("status-webhook").url.get_secret_value()
    inject(url.split("/hooks/")[0], path="^/hooks/", kind="status", status=500)

    state = a1_to_a2(box_root_folder_id=flow_env.box_root, return_state=True)

    assert sim.campaign_status(assets["folder_id"]) == "A2"  # the assets are in Box: the status moved
    assert hook_url.received == []
    campaigns = state.result(raise_on_failure=False)["campaigns"]
    assert "status webhook failed" in campaigns[0]["error"]
    assert "status webhook failed" in flow_env.mail.messages[0].get_body(("plain",)).get_content()
