"""Real parts for the tests: simulators over HTTP(S) on 127.0.0.1, an embedded PostgreSQL,
and (for flow tests) a real Prefect API from ``prefect_test_harness``."""

from __future__ import annotations

import os

# Before anything imports prefect or the tasks: quiet and offline.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

import secrets  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

import psycopg2  # noqa: E402
import pytest  # noqa: E402

if TYPE_CHECKING:  # imported where used: the fast tier (make test-fast) never loads the simulators
    from simulators.common import ServerThread
    from simulators.jwt_keys import JwtAppKeys


# -- the fast tier ------------------------------------------------------------------------
class SocketInFastTest(RuntimeError):
    """A test marked ``fast`` tried to connect or listen: it belongs in the full suite."""


def _marks_fast(path: Path) -> bool:
    """Whether the test module at ``path`` (or one below the folder ``path``) marks tests fast."""
    files = path.rglob("test_*.py") if path.is_dir() else [path]
    return any("mark.fast" in f.read_text(encoding="utf-8") for f in files)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``-m fast`` (``make test-fast``), modules and folders that mark nothing fast are not
    even imported: the fast tier does not pay for importing Prefect, the flows and the simulators
    only to deselect their tests. Any other run collects as usual."""
    if config.getoption("markexpr") != "fast":
        return None
    if collection_path.is_file() and not collection_path.name.startswith("test_"):
        return None  # conftest.py, helpers: pytest's own rules
    return True if not _marks_fast(collection_path) else None


@pytest.fixture(autouse=True)
def _fast_tests_open_no_sockets(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked ``fast`` (``make test-fast``) runs pure logic: connecting or listening on a
    socket fails it at once, so a server dependency cannot slip into the fast tier unnoticed."""
    if request.node.get_closest_marker("fast") is None:
        return
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise SocketInFastTest(f"{request.node.nodeid} is marked fast but opens a socket; "
                               "drop the fast mark or remove the server it needs")

    for method in ("connect", "connect_ex", "bind"):
        monkeypatch.setattr(socket.socket, method, refuse)


# -- PostgreSQL ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """An embedded PostgreSQL for the whole session (deleted at the end); yields its admin DSN.

    Not under pytest's tmp_path: pytest makes that tree 0700 whenever it creates a new temp
    dir, and the server (which runs as the 'pgserver' user when we are root) loses access.
    """
    import shutil
    import tempfile

    import pgserver

    parent = Path(tempfile.mkdtemp(prefix="cs-test-pg-"))
    parent.chmod(0o755)
    server = pgserver.get_server(parent / "data", cleanup_mode="stop")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def tracking_dsn(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database per test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_server)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    dsn = postgres_server.replace("/postgres?", f"/{name}?")
    admin.close()
    yield dsn
    admin = psycopg2.connect(postgres_server)
    admin.autocommit = True
    admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


TRACKING_ROLE = "content_scaling"  # the role database/roles.sql creates


@pytest.fixture
def restricted_tracking_dsn(tracking_dsn: str) -> str:
    """The fresh database of ``tracking_dsn`` prepared by ``database/roles.sql`` (run as the
    administrator, as the README says); a DSN that connects as its restricted role."""
    roles_sql = Path(__file__).resolve().parent.parent / "database" / "roles.sql"
    admin = psycopg2.connect(tracking_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(roles_sql.read_text())
    admin.close()
    # The embedded server trusts local socket connections: no password to set (production: README).
    return tracking_dsn.replace("postgresql://postgres:@", f"postgresql://{TRACKING_ROLE}@", 1)


# -- simulators ---------------------------------------------------------------------------
# Every sign-in the DAM block offers. Parametrise a test that uses ``otmm`` over them with
# ``@pytest.mark.parametrize("dam_auth", DAM_AUTH_METHODS, indirect=True)``.
DAM_AUTH_METHODS = ("oauth2", "session", "otds_password", "otmm_password", "mtls")
SIGN_IN_METHODS = DAM_AUTH_METHODS[:-1]  # those that sign in (with mTLS the certificate is the credential)


@dataclass
class RunningOtmm:
    sim: object  # simulators.otmm.OtmmSimulator
    server: ServerThread
    client_id: str
    client_secret: str
    username: str = ""
    password: str = ""
    auth_method: str = "oauth2"
    pki: object = None  # simulators.certs.Pki when auth_method is mtls

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def dam_block(self, **fields: object):
        """A ``DAM Credentials`` block for this simulator that signs in with ``auth_method``
        (``fields`` override or add block fields, ``auth_method`` included)."""
        import base64

        from blocks.dam import DamCredentials

        method = str(fields.pop("auth_method", self.auth_method))
        if method == "mtls":
            values: dict[str, object] = {
                "pfx_base64": base64.b64encode(self.pki.client_pfx.read_bytes()).decode(),
                "pfx_password": self.pki.client_password, "ca_bundle_pem": self.pki.ca_cert.read_text()}
        else:
            values = {"client_id": self.client_id, "client_secret": self.client_secret}
            if method != "oauth2":
                values.update(username=self.username, password=self.password)
        return DamCredentials(base_url=self.base_url, auth_method=method, **{**values, **fields})


@pytest.fixture
def dam_auth(request: pytest.FixtureRequest) -> str:
    """How the DAM block signs in: ``oauth2`` unless a test parametrises it (``indirect=True``)."""
    return getattr(request, "param", "oauth2")


@pytest.fixture
def otmm(request: pytest.FixtureRequest, dam_auth: str) -> Iterator[RunningOtmm]:
    """The OTMM simulator; over TLS that requires a client certificate when ``dam_auth`` is mtls."""
    from simulators.common import ServerThread
    from simulators.otmm import OtmmSimulator

    secret, password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    if dam_auth == "mtls":
        pki = request.getfixturevalue("pki")
        sim = OtmmSimulator(auth_mode="mtls")
        with ServerThread(sim.app, tls=pki.server_tls(require_client_cert=True)) as server:
            yield RunningOtmm(sim, server, "cs-test", secret, auth_method="mtls", pki=pki)
        return
    sim = OtmmSimulator(client_id="cs-test", client_secret=secret, token_ttl=3600, username="cs-user",
                        password=password)
    with ServerThread(sim.app) as server:
        yield RunningOtmm(sim, server, "cs-test", secret, "cs-user", password, dam_auth)


@pytest.fixture(scope="session")
def box_keys() -> JwtAppKeys:
    from simulators.jwt_keys import make_jwt_app_keys

    return make_jwt_app_keys("test-key-1", secrets.token_urlsafe(12))


@dataclass
class RunningBox:
    sim: object  # simulators.box.BoxSimulator
    server: ServerThread
    client_id: str
    client_secret: str
    keys: JwtAppKeys
    enterprise_id: str = "4242"
    webhook_primary_key: str = ""
    webhook_secondary_key: str = ""

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def store(self, **options: object):
        """A real ``BoxStore`` (JWT sign-in through the SDK) on this simulator; ``options`` for
        ``BoxStore.from_jwt`` (default: 3 attempts, 10 ms base wait)."""
        from clients.box import BoxStore

        return BoxStore.from_jwt(**{
            "client_id": self.client_id, "client_secret": self.client_secret, "public_key_id": self.keys.key_id,
            "private_key_pem": self.keys.private_key_pem, "private_key_passphrase": self.keys.passphrase,
            "enterprise_id": self.enterprise_id, "api_base_url": self.base_url,
            "upload_base_url": self.base_url + "/api", "max_attempts": 3, "retry_base_interval": 0.01, **options})


@pytest.fixture
def box(tmp_path: Path, box_keys: JwtAppKeys, pki) -> Iterator[RunningBox]:
    """The Box simulator. Its webhooks sign with generated keys, deliver to HTTPS receivers whose
    certificate chains to the test CA (on any port: the one relaxation) and retry within a second."""
    from simulators.box import BoxSimulator, WebhookSettings
    from simulators.common import ServerThread

    secret = secrets.token_urlsafe(16)
    primary, secondary = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    hooks = WebhookSettings(primary_key=primary, secondary_key=secondary, allow_any_port=True,
                            ca_file=str(pki.ca_cert), retry_base_s=0.2, max_retries=10, timeout_s=5.0)
    sim = BoxSimulator(storage_dir=tmp_path / "box", client_id="cs-box", client_secret=secret,
                       public_keys={box_keys.key_id: box_keys.public_key_pem}, enterprise_id="4242",
                       part_size=1024 * 1024, chunked_min_size=1024 * 1024, webhook_settings=hooks)
    with ServerThread(sim.app) as server:
        yield RunningBox(sim, server, "cs-box", secret, box_keys, webhook_primary_key=primary,
                         webhook_secondary_key=secondary)
    sim.webhooks.stop()


# -- Prefect ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """A real Prefect API (temporary server + SQLite), started once for the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


# -- SMTP ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory):
    """A generated CA with a server certificate for 127.0.0.1 (and a client PFX)."""
    from simulators.certs import make_pki

    return make_pki(tmp_path_factory.mktemp("pki"), client_password="pfx-pass")


@pytest.fixture
def mail_server(tmp_path: Path, pki):
    """A real SMTP server (STARTTLS + login required) that keeps what it receives."""
    from simulators.mail import MailServer

    with MailServer(tmp_path / "mail", pki.server_cert, pki.server_key, username="cs-mail",
                    password="mail-pass") as server:
        yield server
