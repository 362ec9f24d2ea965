"""The REST API answers the same from SQLite (packed points, or JSON points
migrated by 0004) as from the in-memory store, which keeps the results put in."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa
from falcon import testing

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.result_store import InMemoryResultStore
from adapters.rest.api import create_app
from adapters.sql import migrate, rows
from adapters.sql.engine import make_engine
from adapters.sql.legacy_points import points_to_json
from adapters.sql.result_store import SqlResultStore
from monitoring_core.forecasts import Forecast, ForecastPoint
from monitoring_core.ports import Result
from monitoring_core.series import MetricKind
from tests.support import factories, forecast_shapes

NAN, INF = float("nan"), float("inf")


def _results() -> list[Result]:
    """Statistics, a score and metadata of every series, and their forecasts:
    real ones of 120 and of 10 points, and one of odd numbers."""
    made = [
        *forecast_shapes.forecasts(18, 120, 5),
        *forecast_shapes.forecasts(6, 10, 60),
    ]
    made = [  # the 10-point ones on series of their own
        attrs.evolve(f, series=attrs.evolve(f.series, name="other")) if i >= 18 else f
        for i, f in enumerate(made)
    ]
    odd = ForecastPoint(
        timestamp=factories.NOW.timestamp() + 60,
        mean=NAN,
        lower_80=-INF,
        upper_80=INF,
        lower_95=-0.0,
        upper_95=5e-324,
    )
    made.append(attrs.evolve(factories.forecast(), points=(odd,) * 3))
    out: list[Result] = []
    for f in made:
        at = f.made_at
        out += [
            attrs.evolve(factories.window_stats(), series=f.series, at=at),
            attrs.evolve(factories.metadata(), series=f.series, computed_at=at),
            attrs.evolve(factories.score(), series=f.series, forecast_made_at=at),
            f,
        ]
    return out


def _client(store: object) -> testing.TestClient:
    clock = FixedClock(forecast_shapes.MADE_AT + timedelta(seconds=7))
    return testing.TestClient(create_app(store, clock, None))  # type: ignore[arg-type]


def _answers(client: testing.TestClient, results: list[Result]) -> dict[str, bytes]:
    """The body of every route of every series (and of the series list)."""
    ids = sorted({r.series.id for r in results})  # type: ignore[union-attr]
    paths = ["/v1/series?limit=1000", "/v1/etl/runs"]
    for i in ids:
        paths += [
            f"/v1/series/{i}{route}"
            for route in ("", "/metadata", "/values", "/forecast", "/values/history")
        ]
    answers = {}
    for path in paths:
        response = client.simulate_get(path)
        assert response.status_code == 200, (path, response.text)
        answers[path] = response.content
    return answers


@pytest.fixture
def expected() -> tuple[list[Result], dict[str, bytes]]:
    results = _results()
    store = InMemoryResultStore()
    store.write(results)
    return results, _answers(_client(store), results)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'results.db'}"


@pytest.fixture
def sql_store(sqlite_url: str) -> Iterator[SqlResultStore]:
    engine = make_engine(sqlite_url)
    yield SqlResultStore(engine)
    engine.dispose()


def test_answers_from_packed_points_are_those_of_the_results_put_in(
    expected: tuple[list[Result], dict[str, bytes]],
    sqlite_url: str,
    sql_store: SqlResultStore,
) -> None:
    results, answers = expected
    # The real forecasts carry their distributions (ADR 0039), and the REST
    # answers show them.
    first = next(r for r in results if isinstance(r, Forecast))
    assert b'"running_max"' in answers[f"/v1/series/{first.series.id}/forecast"]
    migrate.upgrade(sqlite_url)
    sql_store.write(results)
    assert _answers(_client(sql_store), results) == answers


def _before_distributions(result: Result) -> Result:
    """Forecasts as 0003 stored them, without the distributions of ADR 0039."""
    if not isinstance(result, Forecast):
        return result
    points = [
        attrs.evolve(p, running_max=None, running_min=None) for p in result.points
    ]
    return attrs.evolve(result, points=tuple(points), average=None)


def test_answers_after_migrating_json_points_are_those_of_the_results_put_in(
    sqlite_url: str, sql_store: SqlResultStore
) -> None:
    results = [_before_distributions(r) for r in _results()]
    store = InMemoryResultStore()
    store.write(results)
    answers = _answers(_client(store), results)
    migrate.upgrade(sqlite_url, "0003")
    _write_with_json_points(sql_store, sqlite_url, results)
    migrate.upgrade(sqlite_url)
    assert _answers(_client(sql_store), results) == answers


def _write_with_json_points(
    store: SqlResultStore, url: str, results: list[Result]
) -> None:
    """As schema 0003 stored them: forecasts' points as JSON text."""
    store.write([r for r in results if not isinstance(r, Forecast)])
    forecasts = [r for r in results if isinstance(r, Forecast)]
    old = [
        rows.forecast_row(f) | {"points": points_to_json(f.points)} for f in forecasts
    ]
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            shape = sa.table("forecasts", *(sa.column(name) for name in old[0]))
            connection.execute(sa.insert(shape), old)
    finally:
        engine.dispose()
    assert all(f.kind is MetricKind.GAUGE for f in forecasts)
