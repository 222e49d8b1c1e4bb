"""A4 monitor: Live Campaign: NO once per campaign ever, even with overlapping runs."""

from __future__ import annotations

import secrets
import threading

import httpx
import pytest

from flows.a4_live_webhook import a4_live_webhook
from simulators.common import ServerThread
from simulators.webhook import WebhookReceiver

pytestmark = pytest.mark.prefect


@pytest.fixture
def hook(flow_env):
    from blocks._cache import clear_cached_clients
    from blocks.status_webhook import StatusWebhook

    receiver = WebhookReceiver()
    clear_cached_clients()
    with ServerThread(receiver.app) as server:
        token = secrets.token_urlsafe(8)
        StatusWebhook(url=f"{server.base_url}/hooks/{token}").save("status-webhook", overwrite=True)
        for number in ("C000000401", "C000000402"):
            flow_env.otmm.sim.add_campaign(number=number, name=f"Live {number}", status="A4")
        flow_env.otmm.sim.add_campaign(number="C000000403", name="Still A3", status="A3")
        yield receiver, server


def test_sent_once_per_campaign_ever(flow_env, hook):
    receiver, _ = hook
    state = a4_live_webhook(return_state=True)
    assert state.is_completed(), state.message
    assert "2 sent, 0 sent earlier" in state.message
    bodies = sorted((r["body"] for r in receiver.received), key=lambda b: b["campaign_number"])
    assert bodies == [{"campaign_number": "C000000401", "campaign_name": "Live C000000401", "status": "A4",
                       "Live Campaign": "NO"},
                      {"campaign_number": "C000000402", "campaign_name": "Live C000000402", "status": "A4",
                       "Live Campaign": "NO"}]

    state = a4_live_webhook(return_state=True)
    assert state.is_completed() and "0 sent, 2 sent earlier" in state.message
    assert len(receiver.received) == 2
    assert len(flow_env.db.fetch_all("SELECT * FROM campaign_status WHERE webhook_sent_at IS NOT NULL")) == 2


def test_overlapping_runs_send_once(flow_env, hook):
    receiver, server = hook
    httpx.post(server.base_url + "/_sim/faults", json={"path": "^/hooks/", "kind": "latency", "seconds": 0.5}
               ).raise_for_status()
    states = []
    runs = [threading.Thread(target=lambda: states.append(a4_live_webhook(return_state=True))) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert all(s.is_completed() for s in states), [s.message for s in states]
    assert sorted(r["body"]["campaign_number"] for r in receiver.received) == ["C000000401", "C000000402"]


def test_failed_send_is_retried_next_run(flow_env, hook):
    receiver, server = hook
    httpx.post(server.base_url + "/_sim/faults", json={"path": "^/hooks/", "kind": "status", "status": 500}
               ).raise_for_status()
    state = a4_live_webhook(return_state=True)
    assert state.is_failed() and "2 failed" in state.message
    assert "/hooks/" not in state.message  # the secret URL never shows
    httpx.delete(server.base_url + "/_sim/faults").raise_for_status()
    assert a4_live_webhook(return_state=True).is_completed()
    assert len(receiver.received) == 2
