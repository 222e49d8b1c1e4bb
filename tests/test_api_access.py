"""How the project's commands report a Prefect API that refuses them (the real server's 401s are
proved in test_deploy_to_server.py; here the mapping itself, without a server)."""

from __future__ import annotations

import httpx
import pytest
from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

from deployments.api_access import ApiAccessError, api_errors_as_messages, auth_headers, check_api_access
from simulators.processes import free_port

URL = "https://prefect.example.test/api"


def _status_error(code: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", URL + "/admin/version")
    return httpx.HTTPStatusError(f"{code}", request=request, response=httpx.Response(code, request=request))


@pytest.mark.parametrize(("credential", "said"), [
    (None, f"error: the Prefect API at {URL} requires authentication: set PREFECT_API_AUTH_STRING to the server's "
           "PREFECT_SERVER_API_AUTH_STRING (user:password)"),
    ("ops:not-it", f"error: the Prefect API at {URL} refused PREFECT_API_AUTH_STRING (401 Unauthorized): it must "
                   "equal the server's PREFECT_SERVER_API_AUTH_STRING"),
])
def test_a_401_deep_in_a_command_becomes_one_line_naming_the_setting(credential: str | None, said: str) -> None:
    with temporary_settings({PREFECT_API_URL: URL, PREFECT_API_AUTH_STRING: credential}):
        with pytest.raises(SystemExit) as exited, api_errors_as_messages():
            try:
                raise _status_error(401)
            except httpx.HTTPStatusError as exc:
                raise RuntimeError("the flow engine wrapped it") from exc
    assert exited.value.code == said
    assert credential is None or credential not in str(exited.value.code)


@pytest.mark.parametrize("error", [_status_error(500), _status_error(403), ValueError("not the API")])
def test_other_errors_pass_through_unchanged(error: Exception) -> None:
    with pytest.raises(type(error)) as raised, api_errors_as_messages():
        raise error
    assert raised.value is error


def test_the_header_is_the_one_prefects_client_sends() -> None:
    from prefect.client.orchestration import SyncPrefectClient

    with temporary_settings({PREFECT_API_AUTH_STRING: "ops:s3cr:et"}):
        ours = auth_headers()
    prefects = SyncPrefectClient(URL, auth_string="ops:s3cr:et")._client.headers["Authorization"]
    assert ours == {"Authorization": prefects}
    with temporary_settings({PREFECT_API_AUTH_STRING: None}):
        assert auth_headers() == {}


def test_an_unreachable_api_is_named_with_the_setting_to_check() -> None:
    url = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    with temporary_settings({PREFECT_API_URL: url}), pytest.raises(ApiAccessError) as refused:
        check_api_access()
    assert str(refused.value).startswith(f"cannot reach the Prefect API at {url} (ConnectError")
    assert str(refused.value).endswith("check PREFECT_API_URL")
