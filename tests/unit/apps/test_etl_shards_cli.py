"""``monitoring etl-shards`` against a real HTTP server running the REST API."""

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import attrs
import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from apps import cli
from monitoring_core.runs import Step, StepTiming
from tests.support import factories
from tests.support.prometheus import free_port

NOW = factories.NOW
TOKEN = "s3cret"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _cycle(run_id: str, minutes_ago: int, worker: str, shards: tuple[int, ...]) -> Any:
    end = NOW - timedelta(minutes=minutes_ago)
    return attrs.evolve(
        factories.sharded_etl_run(),
        run_id=run_id,
        started_at=end - timedelta(seconds=20),
        finished_at=end,
        ok=True,
        steps=(StepTiming(step=Step.WINDOW_STATS, seconds=1.0),),
        worker=worker,
        shards=shards,
    )


@pytest.fixture
def api() -> Iterator[str]:
    store = InMemoryResultStore()
    store.write(
        [
            _cycle("a1", 3, "etl-a", (0, 1, 2)),
            _cycle("b1", 90, "etl-b", (3, 5)),
        ]
    )
    app = create_app(store, FixedClock(NOW), TOKEN)
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_prints_shard_ranges_per_worker_and_each_shards_last_analysis(
    api: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITORING_API_TOKEN", TOKEN)
    assert cli.main(["etl-shards", "--api", api]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "6 shards (runs), 2 runs since 2026-11-25 12:00:00Z"
    assert lines[2].split() == ["WORKER", "SHARDS", "RANGES"]
    assert [line.split() for line in lines[3:6]] == [
        ["etl-a", "3", "0-2"],
        ["etl-b", "2", "3,5"],
        ["(none)", "1", "4"],
    ]
    shards = {int(line.split()[0]): line.split() for line in lines[8:]}
    assert shards[0] == ["0", "etl-a", "2026-11-26", "11:57:00Z", "3m", "a1"]
    assert shards[5] == ["5", "etl-b", "2026-11-26", "10:30:00Z", "1h30m", "b1"]
    assert shards[4] == ["4", "-", "never", "-", "-"]


def test_json_output_is_the_apis_answer(
    api: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITORING_API_TOKEN", TOKEN)
    args = ["etl-shards", "--api", api, "-o", "json", "--since", "1h", "--shards", "4"]
    assert cli.main(args) == 0
    body = json.loads(capsys.readouterr().out)
    assert (body["shard_count"], body["shard_count_from"]) == (4, "parameter")
    assert [s["worker"] for s in body["shards"]] == ["etl-a"] * 3 + [None]


def test_an_unreachable_api_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert cli.main(["etl-shards", "--api", url]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"monitoring etl-shards: cannot reach the API at {url}: "
        "connection refused or host unknown\n"
    )


def test_a_missing_token_is_the_apis_refusal_in_one_line(
    api: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MONITORING_API_TOKEN", raising=False)
    assert cli.main(["etl-shards", "--api", api]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"monitoring etl-shards: {api}/v1/etl/shards answered 401")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--api", "localhost:8080"], "--api 'localhost:8080': must be an http://"),
        (["--since", "a day"], "--since 'a day': must be a duration"),
        (["--shards", "0"], "--shards 0: must be 1 to 10000"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["etl-shards", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"monitoring etl-shards: {message}") and err.count("\n") == 1


def test_a_bad_token_setting_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITORING_API_TOKEN", "has space")
    assert cli.main(["etl-shards"]) == 2
    err = capsys.readouterr().err
    assert "MONITORING_API_TOKEN" in err and err.count("\n") == 1


def test_an_api_error_beyond_the_parameters_check_is_reported(
    api: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MONITORING_API_TOKEN", TOKEN)
    assert cli.main(["etl-shards", "--api", api, "--since", "30d"]) == 1
    err = capsys.readouterr().err
    assert "answered 400" in err and "since: may be at most 7 days" in err
