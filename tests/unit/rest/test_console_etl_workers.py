"""The console's ETL runs page names each run's worker and its shards as ranges."""

import re

import attrs
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from tests.support import factories


def _cells(html: str, run_id_started: str) -> list[str]:
    row = re.search(
        rf"<tr><th scope=\"row\">{run_id_started}</th>(.*?)</tr>", html, re.S
    )
    assert row is not None
    return [
        re.sub(r"\s+", " ", c).strip()
        for c in re.findall(r"<td>(.*?)</td>", row[1], re.S)
    ]


def test_each_run_shows_its_worker_and_shard_ranges() -> None:
    store = InMemoryResultStore()
    sharded = factories.sharded_etl_run()
    older = attrs.evolve(
        factories.etl_run(), started_at=sharded.started_at.replace(year=2025)
    )
    store.write([sharded, older])
    client = testing.TestClient(create_app(store, FixedClock(factories.NOW), None))
    page = client.simulate_get("/ui/etl")
    assert page.status_code == 200
    header = re.search(r"<thead>(.*?)</thead>", page.text, re.S)
    assert header is not None
    columns = re.findall(r'<th scope="col">(.*?)</th>', header[1])
    new, old = (
        _cells(page.text, "2026-11-26T12:00:00.000Z"),
        _cells(page.text, "2025-11-26T12:00:00.000Z"),
    )
    at = columns.index("Worker") - 1  # the first column is a <th>
    assert columns[at + 2] == "Shards"
    assert new[at : at + 2] == ["etl-host-1a2b3c4d", "0-3,7,9-10"]
    assert old[at : at + 2] == ["-", "-"]
