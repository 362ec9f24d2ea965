"""`monitoring api` while its MariaDB goes down and comes back, without a restart
of the API."""

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from adapters.sql import migrate
from adapters.sql.result_store import sql_store
from apps.api.config import DEFAULT_CACHE_SECONDS as CACHE_SECONDS
from tests.integration.test_api_schemathesis import running_api, sample_results
from tests.support.mariadb import private_mariadb

NO_CACHE = {"Cache-Control": "no-cache"}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    """Status, headers and JSON body of a GET, error statuses included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.headers, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


@pytest.mark.timeout(180)
def test_an_outage_is_a_503_with_retry_after_and_the_api_recovers_by_itself() -> None:
    results = sample_results(20)
    ids = sorted({r.series.id for r in results if hasattr(r, "series")})
    with private_mariadb() as db:
        migrate.upgrade(db.url)
        with sql_store(db.url) as store:
            store.write(results)
        with running_api(db.url) as base:
            values = [f"{base}/v1/series/{i}/values" for i in ids]
            assert all(_get(url)[0] == 200 for url in values)  # pools are warm
            db.stop()
            down = [
                _get(values[0], NO_CACHE),
                _get(f"{base}/v1/series/{ids[0]}/forecast"),
                _get(f"{base}/v1/etl/runs"),
            ]
            for status, headers, body in down:
                assert (status, headers["Retry-After"]) == (503, "5")
                assert body["title"] == "Store unavailable"
            assert _get(f"{base}/readyz")[0] == 503
            time.sleep(CACHE_SECONDS)
            assert {_get(url)[0] for url in values} == {503}  # nothing kept longer
            db.start()
            after = [_get(url, NO_CACHE)[0] for url in values * 2]
            assert _get(f"{base}/readyz")[0] == 200
            db.stop()  # a restart nobody saw: pooled connections are dead
            db.start()
            restarted = [_get(url, NO_CACHE)[0] for url in values * 2]
    assert after == [200] * len(after)
    assert restarted == [200] * len(restarted)  # dead ones are replaced, not 503
