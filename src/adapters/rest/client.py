"""A small client of this project's REST API, for the command line."""

from typing import Any

import requests

DEFAULT_API_URL = "http://127.0.0.1:8080"
"""Where ``monitoring api`` and ``monitoring run`` listen by default."""


class ApiCallError(Exception):
    """The API could not be reached or refused the request; the text says why."""


class ApiClient:
    """GETs JSON from the API at ``base_url`` with an optional bearer token.

    Args:
        base_url: e.g. ``http://127.0.0.1:8080``.
        token: sent as ``Authorization: Bearer`` when given.
        timeout: seconds to wait for the connection and for the answer.
    """

    def __init__(
        self, base_url: str, token: str | None = None, timeout: float = 10.0
    ) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._timeout = timeout

    def get(self, path: str, params: dict[str, str]) -> Any:
        """The JSON body of ``GET path``.

        Raises:
            ApiCallError: unreachable, timed out, an error status (the
                problem's detail is given) or a body that is not JSON.
        """
        url = self._base + path
        try:
            answer = requests.get(
                url, params=params, headers=self._headers, timeout=self._timeout
            )
        except requests.RequestException as exc:
            why = _why(exc)
            raise ApiCallError(f"cannot reach the API at {self._base}: {why}") from exc
        if answer.status_code != 200:
            raise ApiCallError(
                f"{url} answered {answer.status_code}: {_problem(answer)}"
            )
        try:
            return answer.json()
        except ValueError as exc:
            raise ApiCallError(f"{url} answered with something else than JSON") from exc

    def etl_shards(self, since: str | None, shards: int | None) -> Any:
        """``GET /v1/etl/shards``."""
        params = {"since": since} if since else {}
        if shards is not None:
            params["shards"] = str(shards)
        return self.get("/v1/etl/shards", params)


def _why(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or host unknown"
    return type(exc).__name__


def _problem(answer: requests.Response) -> str:
    """An RFC 9457 problem's title and detail, else the reason phrase."""
    try:
        body = answer.json()
    except ValueError:
        return answer.reason or "error"
    if not isinstance(body, dict):
        return answer.reason or "error"
    parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
    return ": ".join(parts) or answer.reason or "error"
