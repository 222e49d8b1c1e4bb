"""Flow tests: blocks saved in a real Prefect API, pointing at the simulators and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from blocks._cache import clear_cached_clients
from clients.tracking_db import TrackingDatabase

pytestmark = pytest.mark.prefect


@dataclass
class FlowEnv:
    otmm: object  # tests.conftest.RunningOtmm
    box: object  # tests.conftest.RunningBox
    db: TrackingDatabase
    box_root: str
    mail: object  # simulators.mail.MailServer
    webhook: object  # simulators.webhook.WebhookReceiver


@pytest.fixture
def flow_env(prefect_api: None, otmm, box, tracking_dsn: str, mail_server, pki) -> Iterator[FlowEnv]:
    from blocks.box import BoxCredentials
    from blocks.tracking_database import TrackingDatabaseBlock

    clear_cached_clients()
    otmm.dam_block(page_size=3).save("dam", overwrite=True)  # signs in the way dam_auth says
    BoxCredentials(client_id=box.client_id, client_secret=box.client_secret, public_key_id=box.keys.key_id,
                   private_key=box.keys.private_key_pem, private_key_passphrase=box.keys.passphrase,
                   enterprise_id=box.enterprise_id, api_base_url=box.base_url, upload_base_url=box.base_url + "/api",
                   max_attempts=3, retry_base_interval=0.01, chunked_threshold_bytes=1024 * 1024,
                   request_budget=False,  # the budget has its own tests (tests/flows/test_request_budget.py)
                   ).save("box", overwrite=True)
    TrackingDatabaseBlock(dsn=tracking_dsn).save("tracking-db", overwrite=True)
    from blocks.mail_server import MailServer

    MailServer(host="127.0.0.1", port=mail_server.port, username="cs-mail", password="mail-pass",
               from_address="content-scaling@example.test", ca_bundle_pem=pki.ca_cert.read_text(),
               default_recipients=["ops@example.test"], error_recipients=["errors@example.test"],
               ).save("email", overwrite=True)
    from blocks.status_webhook import StatusWebhook
    from simulators.common import ServerThread
    from simulators.webhook import WebhookReceiver

    receiver = WebhookReceiver()
    hook_server = ServerThread(receiver.app).start()
    StatusWebhook(url=f"{hook_server.base_url}/hooks/test-token").save("status-webhook", overwrite=True)
    db = TrackingDatabase(tracking_dsn)
    db.migrate()
    root = box.sim.create_folder("0", "Local adaptation")
    yield FlowEnv(otmm, box, db, root, mail_server, receiver)
    db.close()
    hook_server.stop()
    clear_cached_clients()  # before the simulators stop: an OTMM session is closed on the DAM
