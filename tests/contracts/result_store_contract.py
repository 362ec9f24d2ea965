"""The contract every ResultStore (with ResultQueries) honours."""

import math
import struct
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from adapters.kafka.codec import encode
from adapters.sql import migrate, rows, tables
from adapters.sql.engine import make_engine, make_read_engine
from adapters.sql.legacy_points import points_to_json
from adapters.sql.packed import pack_points, unpack_points
from adapters.sql.result_store import SqlResultStore, sql_store
from monitoring_core.errors import StoreUnavailable
from monitoring_core.forecasts import Forecast, ForecastPoint, ForecastScore
from monitoring_core.metadata import SeriesMetadata, StationarityTest
from monitoring_core.ports import Result, ResultQueries, ResultStore
from monitoring_core.runs import EtlRun, Step, StepTiming
from monitoring_core.series import MetricKind, SeriesKey
from monitoring_core.windows import SeriesWindowStats, WindowStats
from tests.support import factories, forecast_shapes
from tests.support.factories import KEY, NOW

INF, NAN = math.inf, math.nan
FAR_FUTURE = NOW + timedelta(days=3650)


class Store(ResultStore, ResultQueries, Protocol):
    """Both ports: what the fixtures provide."""


HEAD = "0006"
"""The newest schema revision."""


def at(minutes: float) -> datetime:
    """``NOW`` moved by some minutes."""
    return NOW + timedelta(minutes=minutes)


def key(i: int, name: str = "m") -> SeriesKey:
    return SeriesKey.of(name, {"i": str(i)})


def stats(
    series: SeriesKey = KEY, minutes: float = 0, kind: MetricKind = MetricKind.GAUGE
) -> SeriesWindowStats:
    return attrs.evolve(factories.window_stats(kind), series=series, at=at(minutes))


def metadata(series: SeriesKey = KEY, minutes: float = 0) -> SeriesMetadata:
    return attrs.evolve(factories.metadata(), series=series, computed_at=at(minutes))


def forecast(series: SeriesKey = KEY, minutes: float = 0) -> Forecast:
    return attrs.evolve(factories.forecast(), series=series, made_at=at(minutes))


def score(series: SeriesKey = KEY, minutes: float = 0) -> ForecastScore:
    made = at(minutes)
    return attrs.evolve(
        factories.score(), series=series, forecast_made_at=made, scored_at=made
    )


def run(run_id: str, minutes: float = 0) -> EtlRun:
    moment = at(minutes)
    return attrs.evolve(
        factories.etl_run(), run_id=run_id, started_at=moment, finished_at=moment
    )


def same(read: Result | None, written: Result) -> bool:
    """Equal field for field, NaN included (the encoder spells it)."""
    return read is not None and encode(read, NOW)[1] == encode(written, NOW)[1]


def one_of_each(series: SeriesKey = KEY, minutes: float = 0) -> list[Result]:
    return [
        stats(series, minutes),
        metadata(series, minutes),
        forecast(series, minutes),
        score(series, minutes),
    ]


def rows_of(results: list[Result]) -> int:
    """Rows a batch takes: one per window, one per other result."""
    return sum(
        len(r.windows) if isinstance(r, SeriesWindowStats) else 1 for r in results
    )


def everything(store: Store, ids: list[str]) -> list[Any]:
    """All that the queries show about some series and the runs."""
    shown: list[Any] = [store.etl_runs(100), store.list_series(None, None, 100)]
    for i in ids:
        between = store.window_stats_between(i, at(-1e6), at(1e6))
        shown.append([encode(s, NOW)[1] for s in between])
        for read in (store.latest_metadata, store.latest_forecast):
            found = read(i)
            shown.append(None if found is None else encode(found, NOW)[1])
        shown.append(store.latest_forecast_score(i))
    return shown


class ResultStoreContract:
    """Subclasses provide ``store`` (fresh and empty) and ``unreachable_store``."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError

    @pytest.fixture
    def unreachable_store(self) -> Store:
        raise NotImplementedError

    def test_each_result_type_reads_back_as_written(self, store: Store) -> None:
        written = [*one_of_each(), factories.etl_run()]
        store.write(written)
        assert same(store.latest_window_stats(KEY.id), written[0])
        assert same(store.latest_metadata(KEY.id), written[1])
        assert same(store.latest_forecast(KEY.id), written[2])
        assert same(store.latest_forecast_score(KEY.id), written[3])
        assert [same(r, written[4]) for r in store.etl_runs(10)] == [True]

    def test_window_statistics_keep_infinity_nan_and_empty_windows(
        self, store: Store
    ) -> None:
        written = stats()  # max=+Inf, last=NaN, and a window with no sample
        store.write([written])
        read = store.latest_window_stats(KEY.id)
        assert read is not None and same(read, written)
        assert math.isinf(read.windows[0].max or 0) and math.isnan(
            read.windows[0].last or 0
        )
        assert read.windows[1].count == 0 and read.windows[1].min is None

    def test_metadata_with_insufficient_data_reads_back_without_tests(
        self, store: Store
    ) -> None:
        written = factories.insufficient_metadata()
        store.write([written])
        read = store.latest_metadata(KEY.id)
        assert read is not None and read.adf is None and read.kpss is None
        assert same(read, written)

    def test_non_finite_values_read_back_in_every_float_field(
        self, store: Store
    ) -> None:
        odd = StationarityTest(statistic=-INF, p_value=NAN, stationary=False)
        meta = attrs.evolve(metadata(), adf=odd, acf=(1.0, NAN, INF, -INF))
        meta = attrs.evolve(
            meta, seasonality=attrs.evolve(meta.seasonality, strength=NAN)
        )
        point = ForecastPoint(
            timestamp=NOW.timestamp() + 60,
            mean=NAN,
            lower_80=-INF,
            upper_80=INF,
            lower_95=-INF,
            upper_95=INF,
        )
        fc = attrs.evolve(forecast(), holdout_mae=INF, points=(point,))
        sc = attrs.evolve(score(), mae=NAN, coverage_80=INF, coverage_95=-INF)
        timing = StepTiming(step=Step.FORECAST, seconds=NAN, error="timeout")
        odd_run = attrs.evolve(run("odd"), steps=(timing,))
        store.write([meta, fc, sc, odd_run])
        assert same(store.etl_runs(1)[0], odd_run)
        assert same(store.latest_metadata(KEY.id), meta)
        assert same(store.latest_forecast(KEY.id), fc)
        assert same(store.latest_forecast_score(KEY.id), sc)

    def test_floats_read_back_bit_for_bit(self, store: Store) -> None:
        values = [0.1, 1 / 3, 5e-324, 1.7976931348623157e308, -2.5e-10, 1e15 + 0.3]
        window = WindowStats(
            window_seconds=60,
            count=5,
            min=values[0],
            max=values[1],
            avg=values[2],
            stddev=values[3],
            last=values[4],
        )
        written = attrs.evolve(stats(), windows=(window,))
        points = (attrs.evolve(forecast().points[0], mean=values[5]),)
        store.write([written, attrs.evolve(forecast(), points=points)])
        read = store.latest_window_stats(KEY.id)
        assert read is not None and read.windows == (window,)
        found = store.latest_forecast(KEY.id)
        assert found is not None and found.points == points

    @pytest.mark.parametrize(("horizon", "step"), [(120, 5), (10, 60)])
    def test_real_forecasts_read_back_exactly_as_written(
        self, store: Store, horizon: int, step: int
    ) -> None:
        written = forecast_shapes.forecasts(36, horizon, step)
        store.write(written)
        for fc in written:
            read = store.latest_forecast(fc.series.id)
            assert read is not None and same(read, fc)
            assert read.points == fc.points and read.model == fc.model

    def test_text_with_quotes_backslashes_and_unicode_reads_back(
        self, store: Store
    ) -> None:
        labels = {
            "q": "'; DROP TABLE series; --",
            "b": 'back\\slash "quoted" 100%s %(x)s',
            "u": "Zürich ☃ 😀",
            "n": "line\nbreak\x00nul",
        }
        series = SeriesKey.of("odd:metric_total", labels)
        written = attrs.evolve(forecast(series), model="m'o\"d\\el")
        scored = attrs.evolve(score(series), model='say "hi" 100% -- /* ; */')
        store.write([written, scored])
        found = store.get_series(series.id)
        assert found is not None and found.key == series
        assert same(store.latest_forecast(series.id), written)
        assert same(store.latest_forecast_score(series.id), scored)

    def test_times_are_kept_to_the_millisecond(self, store: Store) -> None:
        moment = NOW.replace(microsecond=123456)
        window = attrs.evolve(
            stats().windows[0], last_timestamp=NOW.timestamp() + 0.456789
        )
        store.write([attrs.evolve(stats(), at=moment, windows=(window,))])
        read = store.latest_window_stats(KEY.id)
        assert read is not None and read.at == NOW.replace(microsecond=123000)
        assert read.windows[0].last_timestamp == (NOW.timestamp() * 1000 + 456) / 1000

    def test_writing_the_same_batch_twice_changes_nothing(self, store: Store) -> None:
        batch = [*one_of_each(key(1)), *one_of_each(key(2), 5), run("r1")]
        store.write(batch)
        before = everything(store, [key(1).id, key(2).id])
        store.write(batch)
        assert everything(store, [key(1).id, key(2).id]) == before
        assert store.prune(FAR_FUTURE, 1000) == rows_of(batch)

    def test_a_key_repeated_in_one_batch_keeps_the_last(self, store: Store) -> None:
        first, last = forecast(), attrs.evolve(forecast(), model="holt_damped")
        busy = attrs.evolve(
            stats(), windows=(attrs.evolve(stats().windows[0], count=7),)
        )
        runs = [run("r"), attrs.evolve(run("r"), ok=True)]
        store.write([first, stats(), last, busy, *runs])
        assert same(store.latest_forecast(KEY.id), last)
        read = store.latest_window_stats(KEY.id)
        assert read is not None and read.windows[0].count == 7
        assert [r.ok for r in store.etl_runs(10)] == [True]
        assert store.prune(FAR_FUTURE, 1000) == 2 + 1 + 1  # two windows, one each

    def test_a_later_write_replaces_the_result_with_the_same_key(
        self, store: Store
    ) -> None:
        store.write([forecast(), score()])
        newer = attrs.evolve(score(), mae=9.5)
        store.write([attrs.evolve(forecast(), model="naive"), newer])
        found = store.latest_forecast(KEY.id)
        assert found is not None and found.model == "naive"
        assert same(store.latest_forecast_score(KEY.id), newer)

    def test_series_span_the_times_of_all_their_results(self, store: Store) -> None:
        store.write([stats(minutes=2), metadata(minutes=1), forecast(minutes=3)])
        store.write([score(minutes=-5)])
        store.write([stats(minutes=0)])
        found = store.get_series(KEY.id)
        assert found is not None
        assert (found.first_seen, found.last_seen) == (at(-5), at(3))

    def test_series_kind_comes_from_window_statistics(self, store: Store) -> None:
        store.write([metadata(key(1))])
        first = store.get_series(key(1).id)
        store.write([stats(key(1), kind=MetricKind.COUNTER)])
        store.write([forecast(key(1), 10)])
        last = store.get_series(key(1).id)
        store.write([metadata(key(2)), stats(key(2), kind=MetricKind.COUNTER)])
        same_batch = store.get_series(key(2).id)
        assert first is not None and first.kind is MetricKind.GAUGE
        assert last is not None and last.kind is MetricKind.COUNTER
        assert same_batch is not None and same_batch.kind is MetricKind.COUNTER

    def test_latest_results_are_the_newest_by_time_not_by_write_order(
        self, store: Store
    ) -> None:
        newest = one_of_each(KEY, 10)
        store.write(newest)
        store.write(one_of_each(KEY, 0))
        assert same(store.latest_window_stats(KEY.id), newest[0])
        assert same(store.latest_metadata(KEY.id), newest[1])
        assert same(store.latest_forecast(KEY.id), newest[2])
        assert same(store.latest_forecast_score(KEY.id), newest[3])

    def test_window_stats_between_includes_both_bounds_oldest_first(
        self, store: Store
    ) -> None:
        reversed_windows = attrs.evolve(stats(), windows=stats().windows[::-1])
        store.write([attrs.evolve(reversed_windows, at=at(m)) for m in (4, 0, 3, 1, 2)])
        found = store.window_stats_between(KEY.id, at(1), at(3))
        assert [s.at for s in found] == [at(1), at(2), at(3)]
        assert all(
            same(s, stats(KEY, m)) for s, m in zip(found, (1, 2, 3), strict=True)
        )
        assert store.window_stats_between(KEY.id, at(5), at(9)) == []

    def test_forecast_scores_between_include_both_bounds_oldest_first(
        self, store: Store
    ) -> None:
        store.write([score(KEY, m) for m in (4, 0, 3, 1, 2)] + [score(key(7), 2)])
        found = store.forecast_scores_between(KEY.id, at(1), at(3))
        assert [s.forecast_made_at for s in found] == [at(1), at(2), at(3)]
        assert all(
            same(s, score(KEY, m)) for s, m in zip(found, (1, 2, 3), strict=True)
        )
        assert store.forecast_scores_between(KEY.id, at(5), at(9)) == []
        assert store.forecast_scores_between("unknown", at(-9), at(9)) == []

    def test_list_series_pages_visit_every_series_once_in_id_order(
        self, store: Store
    ) -> None:
        keys = [key(i, "a" if i % 2 else "b") for i in range(7)]
        store.write([stats(k) for k in keys])
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(len(keys)):  # a cursor that does not move would loop forever
            page = store.list_series(None, cursor, 3)
            if not page:
                break
            assert len(page) <= 3
            seen += [s.key.id for s in page]
            cursor = page[-1].key.id
        assert seen == sorted(k.id for k in keys)
        assert store.list_series(None, cursor, 3) == []

    def test_list_series_filters_by_exact_name(self, store: Store) -> None:
        keys = [key(1, "m"), key(2, "m"), key(3, "m_total"), key(4, "M")]
        store.write([metadata(k) for k in keys])
        named = store.list_series("m", None, 10)
        assert [s.key for s in named] == sorted(keys[:2], key=lambda k: k.id)
        after = store.list_series("m", named[0].key.id, 10)
        assert [s.key for s in after] == [named[1].key]

    def test_etl_runs_come_newest_first_up_to_the_limit(self, store: Store) -> None:
        store.write([run("b", 1), run("d", 3), run("a", 0), run("c", 2)])
        assert [r.run_id for r in store.etl_runs(3)] == ["d", "c", "b"]
        assert same(store.etl_runs(1)[0], run("d", 3))

    def test_prune_deletes_older_rows_in_batches_and_keeps_series(
        self, store: Store
    ) -> None:
        for m in range(5):
            store.write([*one_of_each(KEY, m), run(f"r{m}", m)])
        deleted = store.prune(at(2), batch_size=2)
        assert deleted == 2 * rows_of([*one_of_each(), run("x")])
        assert [s.at for s in store.window_stats_between(KEY.id, at(-9), at(9))] == [
            at(2),
            at(3),
            at(4),
        ]
        assert [r.run_id for r in store.etl_runs(10)] == ["r4", "r3", "r2"]
        assert store.get_series(KEY.id) is not None
        assert store.prune(at(2), batch_size=2) == 0

    def test_prune_refuses_a_batch_size_below_one(self, store: Store) -> None:
        with pytest.raises(ValueError, match="batch_size"):
            store.prune(NOW, 0)

    def test_unknown_series_give_nothing(self, store: Store) -> None:
        store.write(one_of_each())
        unknown = "0123456789abcdef"
        assert store.get_series(unknown) is None
        assert store.latest_window_stats(unknown) is None
        assert store.window_stats_between(unknown, at(-9), at(9)) == []
        assert store.latest_metadata(unknown) is None
        assert store.latest_forecast(unknown) is None
        assert store.latest_forecast_score(unknown) is None
        assert store.list_series("nothing_like_it", None, 10) == []

    def test_an_empty_store_answers_ping_and_empty_queries(self, store: Store) -> None:
        store.ping()
        store.write([])
        assert store.etl_runs(5) == [] and store.list_series(None, None, 5) == []

    def test_an_unreachable_store_raises_store_unavailable(
        self, unreachable_store: Store
    ) -> None:
        with pytest.raises(StoreUnavailable):
            unreachable_store.write(one_of_each())
        with pytest.raises(StoreUnavailable):
            unreachable_store.ping()
        with pytest.raises(StoreUnavailable):
            unreachable_store.latest_forecast(KEY.id)
        with pytest.raises(StoreUnavailable):
            unreachable_store.prune(NOW, 10)

    def test_a_batch_refused_midway_stores_nothing_of_it(self, store: Store) -> None:
        store.write([stats(KEY, 0), run("kept", 0)])
        newcomer = key(99)
        doomed = [*one_of_each(newcomer, 5), stats(KEY, 5), run("x" * 65, 5)]
        with pytest.raises(StoreUnavailable):
            store.write(doomed)
        assert store.get_series(newcomer.id) is None
        assert store.latest_forecast(newcomer.id) is None
        found = store.get_series(KEY.id)
        assert found is not None and found.last_seen == at(0)
        assert [r.run_id for r in store.etl_runs(10)] == ["kept"]
        assert store.prune(FAR_FUTURE, 100) == rows_of([stats(), run("kept")])

    @pytest.mark.parametrize(
        "shards",
        [
            (0, 1, 2, 3, 7, 9, 10),
            (5,),
            (),
            tuple(range(64)),
            tuple(range(0, 10_000, 2)),  # the longest text: 5,000 single shards
        ],
        ids=["ranges", "one", "none", "all-64", "every-other-of-10000"],
    )
    def test_a_run_reads_back_with_its_worker_and_shards(
        self, store: Store, shards: tuple[int, ...]
    ) -> None:
        written = attrs.evolve(run("sharded"), worker="etl-a.1_x", shards=shards)
        store.write([written])
        assert store.etl_runs(1) == [written]

    def test_a_run_of_an_older_etl_reads_back_without_worker_or_shards(
        self, store: Store
    ) -> None:
        older = run("older")
        store.write([older])
        found = store.etl_runs(1)[0]
        assert found.worker is None and found.shards is None
        assert found == older

    def test_a_worker_longer_than_its_column_is_refused(self, store: Store) -> None:
        store.write([attrs.evolve(run("fits"), worker="w" * 255)])
        with pytest.raises(StoreUnavailable):
            store.write([attrs.evolve(run("long"), worker="w" * 256)])
        assert [r.run_id for r in store.etl_runs(10)] == ["fits"]


class SqlResultStoreContract(ResultStoreContract):
    """The contract plus what only the SQL store has: migrations, rows, batches.

    Subclasses provide ``empty_url`` (a new, empty database for each test) and
    ``unreachable_url`` (a database that cannot be reached).
    """

    @pytest.fixture
    def empty_url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def unreachable_url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def engine(self, empty_url: str) -> Iterator[Engine]:
        migrate.upgrade(empty_url)
        engine = make_engine(empty_url)
        yield engine
        engine.dispose()

    @pytest.fixture
    def reader(self, empty_url: str, engine: Engine) -> Iterator[Engine]:
        reader = make_read_engine(empty_url)
        yield reader
        reader.dispose()

    @pytest.fixture
    def store(self, engine: Engine, reader: Engine) -> Store:
        return SqlResultStore(engine, reader)

    @pytest.fixture
    def unreachable_store(self, unreachable_url: str) -> Iterator[Store]:
        with sql_store(unreachable_url) as store:
            yield store

    def test_migrations_build_exactly_the_tables_of_tables_py(
        self, engine: Engine
    ) -> None:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, tables.metadata) == []
            inspector = sa.inspect(connection)
            for table in tables.metadata.sorted_tables:
                key = inspector.get_pk_constraint(table.name)["constrained_columns"]
                assert key == [c.name for c in table.primary_key], table.name
                checks = {
                    c["name"] for c in inspector.get_check_constraints(table.name)
                }
                assert checks == {c.name for c in table.constraints if _is_check(c)}

    def test_an_upgrade_killed_half_way_is_finished_by_the_next_one(
        self, empty_url: str
    ) -> None:
        # MySQL commits each CREATE TABLE at once: a crash leaves some behind.
        engine = make_engine(empty_url)
        try:
            tables.metadata.tables["series"].create(engine)
        finally:
            engine.dispose()
        migrate.upgrade(empty_url)
        assert migrate.current(empty_url) == HEAD
        assert _tables(empty_url) == {*tables.metadata.tables, "alembic_version"}

    def test_downgrade_to_base_drops_every_table_and_upgrade_works_again(
        self, empty_url: str
    ) -> None:
        assert migrate.current(empty_url) is None
        migrate.upgrade(empty_url)
        assert migrate.current(empty_url) == HEAD
        assert _tables(empty_url) == {*tables.metadata.tables, "alembic_version"}
        migrate.downgrade(empty_url, "base")
        assert _tables(empty_url) == {"alembic_version"}
        assert migrate.current(empty_url) is None
        migrate.upgrade(empty_url)
        assert _tables(empty_url) == {*tables.metadata.tables, "alembic_version"}

    def test_upgrade_to_0004_packs_stored_points_and_downgrade_restores_the_text(
        self, empty_url: str
    ) -> None:
        written = _old_forecasts()
        _write_at_0003(empty_url, written)
        migrate.upgrade(empty_url)
        with sql_store(empty_url) as store:
            for fc in written:
                assert same(store.latest_forecast(fc.series.id), fc)
        migrate.downgrade(empty_url, "0003")
        assert _point_columns(empty_url) == {
            fc.series.id: points_to_json(fc.points) for fc in written
        }
        migrate.upgrade(empty_url)
        with sql_store(empty_url) as store:
            assert [same(store.latest_forecast(f.series.id), f) for f in written] == [
                True
            ] * len(written)

    def test_an_upgrade_to_0004_killed_half_way_is_finished_by_the_next_one(
        self, empty_url: str
    ) -> None:
        made = [
            _before_distributions(f) for f in forecast_shapes.forecasts(100, 10, 60)
        ]
        written = [  # more rows than the migration converts per batch (500)
            attrs.evolve(f, made_at=f.made_at + timedelta(minutes=k))
            for k in range(11)
            for f in made
        ]
        _write_at_0003(empty_url, written)
        engine = make_engine(empty_url)
        blob = "MEDIUMBLOB" if engine.dialect.name == "mysql" else "BLOB"
        converted = [
            {"v": pack_points(f.points, 60), "m": rows.ms(f.made_at), "s": f.series.id}
            for f in written[::3]
        ]
        try:  # killed after converting every third row
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    f"ALTER TABLE forecasts ADD COLUMN points_new {blob}"
                )
                connection.execute(
                    sa.text(
                        "UPDATE forecasts SET points_new = :v "
                        "WHERE made_at = :m AND series_id = :s"
                    ),
                    converted,
                )
        finally:
            engine.dispose()
        migrate.upgrade(empty_url)
        assert migrate.current(empty_url) == HEAD
        assert _point_columns(empty_url, True) == {
            (rows.ms(f.made_at), f.series.id): _point_bits(f.points) for f in written
        }
        with sql_store(empty_url) as store:
            assert same(store.latest_forecast(written[-1].series.id), written[-1])

    def test_an_upgrade_to_0005_killed_half_way_is_finished_and_keeps_old_runs(
        self, empty_url: str
    ) -> None:
        migrate.upgrade(empty_url, "0004")
        old = factories.etl_run()
        engine = make_engine(empty_url)
        row = {
            k: v
            for k, v in rows.run_row(old).items()
            if k not in ("results_delivered", "results_buffered", "aborted", *_0006)
        }
        try:  # killed after adding the first of the three columns
            with engine.begin() as connection:
                connection.execute(tables.etl_runs.insert().values(**row))
                connection.exec_driver_sql(
                    "ALTER TABLE etl_runs ADD COLUMN results_delivered INTEGER"
                )
        finally:
            engine.dispose()
        migrate.upgrade(empty_url)
        assert migrate.current(empty_url) == HEAD
        aborted = attrs.evolve(old, run_id="later", aborted="killed mid-cycle")
        with sql_store(empty_url) as store:
            store.write([aborted])
            found = {r.run_id: r for r in store.etl_runs(10)}
        assert found[old.run_id] == old  # unknown counts read back as None
        assert found["later"].aborted == "killed mid-cycle"
        assert found["later"].status == "aborted"
        migrate.downgrade(empty_url, "0004")
        assert migrate.current(empty_url) == "0004"

    def test_an_upgrade_to_0006_killed_half_way_is_finished_and_keeps_old_runs(
        self, empty_url: str
    ) -> None:
        migrate.upgrade(empty_url, "0005")
        old = factories.etl_run()
        row = {k: v for k, v in rows.run_row(old).items() if k not in _0006}
        engine = make_engine(empty_url)
        try:  # killed after adding the first of the two columns
            with engine.begin() as connection:
                connection.execute(tables.etl_runs.insert().values(**row))
                connection.exec_driver_sql(
                    "ALTER TABLE etl_runs ADD COLUMN worker VARCHAR(255)"
                )
        finally:
            engine.dispose()
        migrate.upgrade(empty_url)
        assert migrate.current(empty_url) == HEAD
        assert _run_columns(empty_url) == (set(_0006), {_WORKER_CHECK})
        sharded = attrs.evolve(old, run_id="later", worker="w-1", shards=(0, 1, 3))
        with sql_store(empty_url) as store:
            store.write([sharded])
            found = {r.run_id: r for r in store.etl_runs(10)}
            with pytest.raises(StoreUnavailable):
                store.write([attrs.evolve(old, run_id="long", worker="w" * 256)])
        assert found == {old.run_id: old, "later": sharded}  # old: None, None
        assert _shards_texts(empty_url) == {old.run_id: None, "later": "0-1,3"}
        migrate.downgrade(empty_url, "0005")
        assert migrate.current(empty_url) == "0005"
        assert _run_columns(empty_url) == (set(), set())
        migrate.upgrade(empty_url)
        assert _run_columns(empty_url) == (set(_0006), {_WORKER_CHECK})

    def test_rows_are_stored_once_however_often_written(
        self, store: Store, engine: Engine
    ) -> None:
        batch = [*one_of_each(key(1)), *one_of_each(key(2)), run("r")]
        store.write(batch)
        store.write(batch)
        store.write(batch[::-1])
        assert _counts(engine) == {
            "series": 2,
            "window_stats": 4,
            "metadata": 2,
            "forecasts": 2,
            "forecast_scores": 2,
            "etl_runs": 1,
            "slas": 0,
            "sla_predictions": 0,
        }

    def test_non_finite_values_are_null_columns_spelled_in_special(
        self, store: Store, engine: Engine
    ) -> None:
        store.write([stats()])  # the 1 h window has max=+Inf and last=NaN
        ws = tables.window_stats
        query = sa.select(ws.c.at, ws.c.max, ws.c.last, ws.c.special)
        with engine.connect() as connection:
            row = connection.execute(query.where(ws.c.window_seconds == 3600)).one()
        assert tuple(row) == (1795694400000, None, None, '{"last":"NaN","max":"+Inf"}')

    def test_a_refused_batch_is_rolled_back_after_other_tables_were_written(
        self, store: Store, engine: Engine
    ) -> None:
        inserted: list[str] = []

        @sa.event.listens_for(engine, "after_cursor_execute")
        def count(_c: Any, _cursor: Any, statement: str, *_: Any) -> None:
            inserted.append(statement.split()[2])  # INSERT INTO <table>

        with pytest.raises(StoreUnavailable, match=r"run_id|Data too long"):
            store.write([*one_of_each(), run("x" * 65)])
        assert inserted[:5] == [
            "series",
            "window_stats",
            "metadata",
            "forecasts",
            "forecast_scores",
        ]
        assert _counts(engine) == dict.fromkeys(tables.metadata.tables, 0)

    def test_prune_deletes_at_most_batch_size_rows_per_transaction(
        self, store: Store, engine: Engine
    ) -> None:
        store.write([stats(KEY, m) for m in range(5)])  # 10 rows
        deleted: list[int] = []
        commits: list[int] = []

        @sa.event.listens_for(engine, "after_cursor_execute")
        def count(_c: Any, cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("DELETE"):
                deleted.append(cursor.rowcount)

        sa.event.listen(engine, "commit", lambda _c: commits.append(1))
        assert store.prune(at(4), batch_size=3) == 8
        assert deleted == [3, 3, 2]
        assert len(commits) >= 3


_0006 = ("worker", "shards")
"""The columns migration 0006 adds to ``etl_runs``."""
_WORKER_CHECK = "ck_etl_runs_worker_length"


def _run_columns(url: str) -> tuple[set[str], set[str]]:
    """Which of migration 0006's columns and checks ``etl_runs`` has."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            inspector = sa.inspect(connection)
            columns = {c["name"] for c in inspector.get_columns("etl_runs")}
            checks = {
                str(c["name"]) for c in inspector.get_check_constraints("etl_runs")
            }
    finally:
        engine.dispose()
    return columns & set(_0006), checks & {_WORKER_CHECK}


def _shards_texts(url: str) -> dict[str, str | None]:
    """The ``shards`` column of every run, as stored."""
    runs = tables.etl_runs
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.select(runs.c.run_id, runs.c.shards))
            return {r.run_id: r.shards for r in found}
    finally:
        engine.dispose()


def _is_check(constraint: Any) -> bool:
    return isinstance(constraint, sa.CheckConstraint)


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t.name: connection.execute(
                sa.select(sa.func.count()).select_from(t)
            ).scalar_one()
            for t in tables.metadata.sorted_tables
        }


def _old_forecasts() -> list[Forecast]:
    """Forecasts as stored before 0004: real ones, and one of odd numbers."""
    odd = ForecastPoint(
        timestamp=NOW.timestamp() + 60,
        mean=NAN,
        lower_80=-INF,
        upper_80=INF,
        lower_95=-0.0,
        upper_95=5e-324,
    )
    odd_forecast = attrs.evolve(forecast(key(999)), points=(odd,) * 3)
    made = forecast_shapes.forecasts(12, 120, 5)
    return [*(_before_distributions(f) for f in made), odd_forecast]


def _before_distributions(made: Forecast) -> Forecast:
    """The forecast without the distributions its JSON text had no place for."""
    points = [attrs.evolve(p, running_max=None, running_min=None) for p in made.points]
    return attrs.evolve(made, points=tuple(points), average=None)


def _write_at_0003(url: str, written: list[Forecast]) -> None:
    """The schema of 0003 holding ``written`` with its points as JSON text."""
    migrate.upgrade(url, "0003")
    series = list(
        {
            f.series.id: rows.series_row(f.series, MetricKind.GAUGE, f.made_at)
            for f in written
        }.values()
    )
    old = [rows.forecast_row(f) | {"points": points_to_json(f.points)} for f in written]
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for table, values in (("series", series), ("forecasts", old)):
                shape = sa.table(table, *(sa.column(name) for name in values[0]))
                connection.execute(sa.insert(shape), values)
    finally:
        engine.dispose()


def _point_columns(url: str, packed: bool = False) -> dict[Any, Any]:
    """Stored points by series id (JSON text), or by key as ``_point_bits``
    when ``packed``."""
    engine = sa.create_engine(url)
    query = "SELECT made_at, series_id, step_seconds, points FROM forecasts"
    try:
        with engine.connect() as connection:
            found = connection.execute(sa.text(query)).all()
    finally:
        engine.dispose()
    if not packed:
        return {row.series_id: row.points for row in found}
    return {
        (row.made_at, row.series_id): _point_bits(
            unpack_points(row.points, row.step_seconds)
        )
        for row in found
    }


def _point_bits(points: tuple[ForecastPoint, ...]) -> list[bytes]:
    """Every number of the points as its IEEE 754 bytes (NaN equals itself)."""
    return [struct.pack("<6d", *attrs.astuple(p)[:6]) for p in points]
