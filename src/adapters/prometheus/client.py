"""HTTP access to Prometheus through prometheus-api-client's session."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

from monitoring_core.errors import SourceUnavailable

JsonObject = dict[str, Any]


class PrometheusHttp:
    """Thin wrapper that turns every library and HTTP error into SourceUnavailable.

    prometheus-api-client 0.7 puts even POST parameters in the URL, so queries
    are sent here as a form body through the client's own session (same URL,
    headers, auth and TLS settings); Prometheus accepts both.
    """

    def __init__(
        self,
        url: str,
        timeout_seconds: float,
        headers: Mapping[str, str] | None = None,
        *,
        retries: int | None = None,
    ) -> None:
        """``retries``: attempts after a failed connection (None: the library's
        default, several with backoff; 0 fails at once, for a page that must not
        wait, ADR 0057)."""
        self.url = url.rstrip("/")
        self._timeout = timeout_seconds
        self.recorded: list[tuple[str, dict[str, str]]] | None = None
        """Set to a list to record every query sent (benchmarks replay them)."""
        self._client = PrometheusConnect(
            url=self.url,
            headers=dict(headers or {}),
            timeout=int(timeout_seconds),
            method="POST",
            retry=None if retries is None else Retry(total=retries),
        )

    def post(self, path: str, form: Mapping[str, str]) -> Any:
        """POST a form to ``/api/v1/<path>`` and return the ``data`` member."""
        if self.recorded is not None:
            self.recorded.append((path, dict(form)))
        try:
            response = self._client._session.post(
                f"{self.url}/api/v1/{path}",
                data=dict(form),
                headers=self._client.headers,
                auth=self._client.auth,
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise SourceUnavailable(f"Prometheus at {self.url}: {exc}") from exc
        return self._data_of(response)

    def post_body(self, path: str, form: Mapping[str, str]) -> bytes:
        """POST a form to ``/api/v1/<path>``; the answer's body, uncompressed.

        For large answers on a fast link: Prometheus compresses a body when
        asked to, at a cost (a 4.8 MB answer of raw samples took 290 ms with
        gzip and 30 ms without on loopback, bench/sla_violations.py). The
        caller decodes the body; an error answer raises here.
        """
        if self.recorded is not None:
            self.recorded.append((path, dict(form)))
        try:
            response = self._client._session.post(
                f"{self.url}/api/v1/{path}",
                data=dict(form),
                headers={**self._client.headers, "Accept-Encoding": "identity"},
                auth=self._client.auth,
                timeout=self._timeout,
            )
            body: bytes = response.content
        except requests.RequestException as exc:
            raise SourceUnavailable(f"Prometheus at {self.url}: {exc}") from exc
        if response.status_code != 200:
            raise SourceUnavailable(
                f"Prometheus at {self.url} answered {response.status_code}: "
                f"{_error_of(body)}"
            )
        return body

    def _data_of(self, response: requests.Response) -> Any:
        """The ``data`` member of a successful JSON answer; else SourceUnavailable."""
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceUnavailable(f"Prometheus at {self.url}: {exc}") from exc
        if response.status_code != 200 or body.get("status") != "success":
            raise SourceUnavailable(
                f"Prometheus at {self.url} answered {response.status_code}: "
                f"{body.get('error', response.text[:300])}"
            )
        return body["data"]

    def get(self, path: str) -> Any:
        """GET ``/api/v1/<path>`` and return the ``data`` member."""
        try:
            response = self._client._session.get(
                f"{self.url}/api/v1/{path}",
                headers=self._client.headers,
                auth=self._client.auth,
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise SourceUnavailable(f"Prometheus at {self.url}: {exc}") from exc
        return self._data_of(response)

    def query(self, promql: str, at: datetime) -> list[JsonObject]:
        """Instant query evaluated at ``at`` (always explicit)."""
        form = {"query": promql, "time": f"{at.timestamp():.3f}"}
        result: list[JsonObject] = self.post("query", form)["result"]
        return result

    def query_range(
        self, promql: str, start: float, end: float, step_seconds: int
    ) -> list[JsonObject]:
        """Range query over ``[start, end]`` (Unix times) at ``step_seconds``."""
        form = {
            "query": promql,
            "start": f"{start:.3f}",
            "end": f"{end:.3f}",
            "step": str(step_seconds),
        }
        result: list[JsonObject] = self.post("query_range", form)["result"]
        return result

    def series(
        self, matchers: list[str], start: datetime, end: datetime
    ) -> list[dict[str, str]]:
        """Label sets of the series the matchers select in ``[start, end]``."""
        try:
            found: list[dict[str, str]] = self._client.get_series(
                start=start, end=end, params={"match[]": matchers}
            )
        except (
            requests.RequestException,
            PrometheusApiClientException,
            ValueError,
        ) as exc:
            raise SourceUnavailable(f"Prometheus at {self.url}: {exc}") from exc
        return found

    def metric_types(self) -> dict[str, str]:
        """Metric name to type (``counter``, ``gauge``, ...) from the metadata API."""
        try:
            entries = self._client.get_metric_metadata(metric=None)
        except (
            requests.RequestException,
            PrometheusApiClientException,
            ValueError,
        ) as exc:
            raise SourceUnavailable(f"Prometheus at {self.url}: {exc}") from exc
        return {e["metric_name"]: e["type"] for e in entries}


def _error_of(body: bytes) -> str:
    """The ``error`` member of an error answer, else the body's start."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    return str(error) if error else body[:300].decode(errors="replace")
