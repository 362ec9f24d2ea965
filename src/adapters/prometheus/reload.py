"""Asking a Prometheus to reload its configuration and rule files.

Prometheus answers ``POST /-/reload`` (with ``--web.enable-lifecycle``) with
200 once the new configuration and every rule file are loaded; with 500 and
the reason when they are not (it then keeps running on the old ones); with 403
when the lifecycle API is off.
"""

import requests


class ReloadFailed(Exception):
    """A reload that did not happen; the message says why, in one line.

    Attributes:
        rejected: Prometheus was reached and refused what it read (a broken
            rule or configuration file); False when it was not reached, or
            cannot be reloaded over HTTP at all.
    """

    def __init__(self, message: str, rejected: bool) -> None:
        super().__init__(message)
        self.rejected = rejected


def _reason(body: str) -> str:
    return " ".join(body.split())[:300] or "no reason given"


class PrometheusReloader:
    """``POST`` to a Prometheus' reload URL, e.g. ``http://host:9090/-/reload``."""

    def __init__(self, url: str, timeout_seconds: float = 30.0) -> None:
        self.url = url
        self._timeout = timeout_seconds

    def reload(self) -> None:
        """Reload once.

        Raises:
            ReloadFailed: not reached, lifecycle API off, or the files refused.
        """
        try:
            response = requests.post(self.url, timeout=self._timeout)
        except requests.RequestException as exc:
            raise ReloadFailed(
                f"cannot reach {self.url}: {type(exc).__name__}", rejected=False
            ) from None
        if response.status_code == 200:
            return
        reason = _reason(response.text)
        if response.status_code in (403, 404, 405):
            raise ReloadFailed(
                f"{self.url} answered {response.status_code} ({reason}): start "
                "Prometheus with --web.enable-lifecycle, or reload it yourself "
                "(SIGHUP)",
                rejected=False,
            )
        raise ReloadFailed(
            f"{self.url} answered {response.status_code}: {reason}",
            rejected=response.status_code == 500,
        )
