"""Forecast and predicted-violation accuracy on public series, rolling origins (issue 13).

Usage: ``python bench/forecast_accuracy.py [--data DIR] [--origins 100]
[--history 360] [--horizon 10] [--baseline-ref bfc21c2] [--write]
[--series-limit N] [--no-baseline]``

Every ``*.csv`` under DIR (``timestamp,value``) is one series; each row becomes
one 60 s ETL step (rows re-indexed). At evenly spaced origins the methods see
the ``history`` steps up to the origin and forecast the next ``horizon`` steps:
the engine (this checkout's production path: ``VectorizedEtsForecaster``, the
ETL's value-domain clamp, the SLA manager's ``slo.predict``), the baseline (the
same path on the code of ``--baseline-ref``, run in a subprocess), and the
peers in ``forecast_peers``. The metrics are in ``forecast_metrics``. A
markdown report goes to stdout; ``--write`` appends it to bench/RESULTS.md and
puts its summary between the forecast-accuracy markers of docs/forecasting.md.
The per-case arrays are saved to bench/out/forecast_accuracy.npz.
"""

import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import forecast_metrics as fm  # noqa: E402
import forecast_peers as fp  # noqa: E402
import host  # noqa: E402

import monitoring_core  # noqa: E402
from adapters.forecasting.ets import VectorizedEtsForecaster  # noqa: E402
from monitoring_core.forecasts import Forecast, ForecastPoint  # noqa: E402
from monitoring_core.series import (  # noqa: E402
    MetricKind,
    SeriesHistory,
    SeriesInfo,
    SeriesKey,
)
from monitoring_core.slo import AllowedRange, Prediction, predict  # noqa: E402
from monitoring_core.value_domains import history_domain, keep_in_domains  # noqa: E402

STEP = 60
T0 = 1_700_000_040  # a minute boundary; case c's origin is T0 + origin * STEP
WINDOW_SECONDS = 3600
TARGET = 0.99
DEFAULT_DATA = ROOT.parent / "shared" / "reference" / "data" / "nab-public"
Floats = fm.Floats
Arrays = dict[str, np.ndarray[Any, Any]]


@dataclass(frozen=True)
class SourceSeries:
    """One CSV file: its name, values (NaN when unparseable) and source step."""

    name: str
    values: Floats
    step_seconds: float

    @property
    def period(self) -> int:
        """One day in rows of the source data (288 for 5-minute rows)."""
        return max(1, round(86400 / self.step_seconds))


def read_series(path: Path, name: str) -> SourceSeries:
    """A ``timestamp,value`` CSV; the step is the median timestamp difference."""
    stamps: list[float] = []
    values: list[float] = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                stamps.append(datetime.fromisoformat(row["timestamp"]).timestamp())
            except (ValueError, TypeError, KeyError):
                stamps.append(math.nan)
            try:
                values.append(float(row["value"]))
            except (ValueError, TypeError, KeyError):
                values.append(math.nan)
    diffs = np.diff(np.array(stamps))
    diffs = diffs[np.isfinite(diffs) & (diffs > 0)]
    step = float(np.median(diffs)) if diffs.size else float(STEP)
    return SourceSeries(name, np.array(values, dtype=np.float64), step)


def load(folder: Path) -> list[SourceSeries]:
    """Every CSV under the folder, by relative path."""
    files = sorted(folder.rglob("*.csv"))
    return [read_series(f, str(f.relative_to(folder).with_suffix(""))) for f in files]


@dataclass(frozen=True)
class Cases:
    """Every (series, origin) pair of the run, one row each.

    Attributes:
        names, periods, non_negative: per series used.
        series, origin: per case, the series index and the origin's row.
        history: cases x history, the steps up to and including the origin.
        actual: cases x horizon, the steps after it.
        past: cases x (history + longest period), the longer past, NaN-padded.
        full: per series used, all its values (for the coarse histories).
    """

    names: list[str]
    periods: np.ndarray[Any, np.dtype[np.intp]]
    non_negative: np.ndarray[Any, np.dtype[np.bool_]]
    series: np.ndarray[Any, np.dtype[np.intp]]
    origin: np.ndarray[Any, np.dtype[np.intp]]
    history: Floats
    actual: Floats
    past: Floats
    full: tuple[Floats, ...] = ()

    def __len__(self) -> int:
        return len(self.series)

    @property
    def ends(self) -> Floats:
        """The Unix time of each case's origin step."""
        return np.asarray(T0 + self.origin * STEP, dtype=np.float64)


def origins_of(length: int, history: int, horizon: int, count: int) -> list[int]:
    """``count`` evenly spaced origins with the history before, the horizon after."""
    first, last = history - 1, length - horizon - 1
    return sorted(set(np.linspace(first, last, count).round().astype(int).tolist()))


def build_cases(
    sources: Sequence[SourceSeries], args: argparse.Namespace, notes: list[str]
) -> Cases:
    """The cases of every series long enough; a note for each one skipped."""
    need = args.history + args.horizon + args.origins
    used = [s for s in sources if len(s.values) >= need]
    for s in sources:
        if len(s.values) < need:
            notes.append(f"skipped {s.name}: {len(s.values)} rows < {need}")
    if args.series_limit:
        used = used[: args.series_limit]
    if not used:
        raise SystemExit("no series long enough: " + "; ".join(notes))
    width = args.history + max(s.period for s in used)
    rows: list[tuple[int, int]] = []
    for i, s in enumerate(used):
        found = origins_of(len(s.values), args.history, args.horizon, args.origins)
        rows += [(i, o) for o in found]
    series = np.array([r[0] for r in rows], dtype=np.intp)
    origin = np.array([r[1] for r in rows], dtype=np.intp)
    padded = [np.concatenate([np.full(width, np.nan), s.values]) for s in used]
    take = np.arange(-width + 1, 1)
    past = np.stack([padded[i][width + o + take] for i, o in rows])
    ahead = np.arange(1, args.horizon + 1)
    actual = np.stack([padded[i][width + o + ahead] for i, o in rows])
    return Cases(
        names=[s.name for s in used],
        periods=np.array([s.period for s in used], dtype=np.intp),
        non_negative=np.array([bool(np.nanmin(s.values) >= 0) for s in used]),
        series=series,
        origin=origin,
        history=past[:, -args.history :],
        actual=actual,
        past=past,
        full=tuple(s.values for s in used),
    )


SHAPES = {"two": "two-sided [p1, p99]", "one": "one-sided x <= p99"}
BOUNDS = ("mean", "lower_80", "upper_80", "lower_95", "upper_95")
STATS = ("max", "min", "avg")


def ranges_of(cases: Cases) -> dict[str, tuple[Floats, Floats]]:
    """Per range shape, ``(lo, hi)`` per case (NaN: open) from its history."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: no percentile
        lo = np.nanpercentile(cases.history, 1, axis=1)
        hi = np.nanpercentile(cases.history, 99, axis=1)
    return {"two": (lo, hi), "one": (np.full_like(hi, np.nan), hi)}


# --- the production path (run here and, on old code, in the baseline subprocess) ---


def case_keys(count: int) -> list[SeriesKey]:
    """One series identity per case, so the batch holds every case at once."""
    return [SeriesKey.of("nab_value", {"case": str(i)}) for i in range(count)]


def histories_of(cases: Cases, keys: Sequence[SeriesKey]) -> list[SeriesHistory]:
    """Each case's history on the 60 s grid, ending at its origin."""
    span = (cases.history.shape[1] - 1) * STEP
    return [
        SeriesHistory(series=k, start=end - span, step_seconds=STEP, values=tuple(row))
        for k, end, row in zip(
            keys, cases.ends.tolist(), cases.history.tolist(), strict=True
        )
    ]


def in_domains(
    forecasts: Sequence[Forecast],
    keys: Sequence[SeriesKey],
    histories: Sequence[SeriesHistory],
) -> list[Forecast | None]:
    """The ETL cycle's clamp (``keep_in_domains``, gauges), one entry per case."""
    infos = [SeriesInfo(k, MetricKind.GAUGE) for k in keys]
    by_key = {f.series: f for f in keep_in_domains(forecasts, infos, histories)}
    return [by_key.get(k) for k in keys]


SEASONAL_PERIODS = 3
"""Periods of past rows the coarse (seasonal) history of a case spans before
its forecast history (the engine reads its profile from that part only)."""

SEASONAL_PHASES = 72
"""About this many coarse steps per period: rows are averaged in blocks of
``period // 72`` (4 five-minute rows, i.e. 20 minutes, for a daily period)."""


def seasonal_histories(cases: Cases, keys: Sequence[SeriesKey]) -> dict[str, Any]:
    """Each case's coarse history, as the ETL would read it (ADR 0050).

    The rows before and at the origin, over the history and
    ``SEASONAL_PERIODS`` periods before it (a period is a day, from the CSV's
    time stamps) or as many rows as there are, averaged in
    blocks of ``period // SEASONAL_PHASES`` rows; each block's mean stands at
    its middle row's time on the 60 s grid. Cases whose past holds fewer than
    two periods before their history get none (the engine needs every phase
    twice).
    """
    from monitoring_core.metadata import SeasonalHistory

    out: dict[str, Any] = {}
    for key, i, o in zip(
        keys, cases.series.tolist(), cases.origin.tolist(), strict=True
    ):
        period = int(cases.periods[i])
        block = max(1, period // SEASONAL_PHASES)
        span = SEASONAL_PERIODS * period + cases.history.shape[1]
        blocks = min(span, o + 1) // block
        if blocks * block < 2 * period + cases.history.shape[1]:
            continue
        rows = cases.full[i][o + 1 - blocks * block : o + 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN block
            coarse = np.nanmean(rows.reshape(blocks, block), axis=1)
        first = o + 1 - blocks * block + (block - 1) / 2
        out[key.id] = SeasonalHistory(
            history=SeriesHistory(
                series=key,
                start=T0 + first * STEP,
                step_seconds=block * STEP,
                values=tuple(coarse.tolist()),
            ),
            period_seconds=period * STEP,
        )
    return out


def engine_forecasts(
    cases: Cases, horizon: int, seasonal: bool = False
) -> list[Forecast | None]:
    """The engine on every case in one ``forecast`` call, clamped like the ETL.

    ``seasonal``: also hand it each case's coarse history (ADR 0050; the
    baseline's older code has no such argument).
    """
    keys = case_keys(len(cases))
    histories = histories_of(cases, keys)
    made_at = datetime.fromtimestamp(T0, UTC)
    engine = VectorizedEtsForecaster()
    if seasonal:
        made = engine.forecast(
            histories, horizon, made_at, {}, seasonal_histories(cases, keys)
        )
    else:
        made = engine.forecast(histories, horizon, made_at, {})
    return in_domains(made, keys, histories)


def forecasts_from_path(
    path: fp.PathForecast, cases: Cases, model: str
) -> list[Forecast | None]:
    """A peer's forecasts as the domain's objects, clamped like the ETL's."""
    keys = case_keys(len(cases))
    stacked = np.stack([getattr(path, b) for b in BOUNDS], axis=-1)
    made = [
        Forecast(
            series=keys[i],
            made_at=datetime.fromtimestamp(T0, UTC),
            step_seconds=STEP,
            model=model,
            holdout_mae=math.nan,
            points=tuple(
                ForecastPoint(
                    timestamp=end + k * STEP, **dict(zip(BOUNDS, v, strict=False))
                )
                for k, v in enumerate(stacked[i].tolist(), start=1)
            ),
        )
        for i, end in enumerate(cases.ends.tolist())
        if np.isfinite(stacked[i]).all()
    ]
    return in_domains(made, keys, histories_of(cases, keys))


def path_arrays(forecasts: Sequence[Forecast | None], horizon: int) -> Arrays:
    """The points of each forecast, cases x steps per bound (NaN: none)."""
    out = np.full((len(BOUNDS), len(forecasts), horizon), np.nan)
    for i, f in enumerate(forecasts):
        if f is not None:
            rows = [[getattr(p, b) for b in BOUNDS] for p in f.points[:horizon]]
            out[:, i, : len(rows)] = np.array(rows, dtype=np.float64).T
    return dict(zip(BOUNDS, out, strict=True))


def window_from_path(path: Arrays) -> Arrays:
    """Window max/min/avg from the point path; bounds from the path's bounds.

    Max: ``[max(lower), max(upper)]``; min: ``[min(lower), min(upper)]``; avg:
    the means of the bounds (labelled "from the point path").
    """
    reduce: dict[str, Callable[[Floats], Floats]] = {
        "max": lambda a: np.max(a, axis=1),
        "min": lambda a: np.min(a, axis=1),
        "avg": lambda a: np.mean(a, axis=1),
    }
    out: Arrays = {}
    for stat, how in reduce.items():
        out[f"{stat}_point"] = how(path["mean"])
        for b in BOUNDS[1:]:
            out[f"{stat}_{b}"] = how(path[b])
        out[f"{stat}_band"] = np.zeros(len(path["mean"]), dtype=bool)
    return out


def window_arrays(forecasts: Sequence[Forecast | None], path: Arrays) -> Arrays:
    """Window max/min/avg: the forecast's own values and bands where it has them."""
    out = window_from_path(path)
    for i, f in enumerate(forecasts):
        if f is None or not f.points:
            continue
        last = f.points[-1]
        own = {
            "max": (f.predicted_max, getattr(last, "running_max", None)),
            "min": (f.predicted_min, getattr(last, "running_min", None)),
            "avg": (f.predicted_avg, getattr(f, "average", None)),
        }
        for stat, (point, band) in own.items():
            out[f"{stat}_point"][i] = point
            if band is not None:
                out[f"{stat}_band"][i] = True
                for b in BOUNDS[1:]:
                    out[f"{stat}_{b}"][i] = getattr(band, b)
    return out


def floors_of(cases: Cases) -> list[float | None]:
    """The floor ``PredictionService._floor`` would give: the history's domain."""
    return [history_domain(row).lower for row in cases.history.tolist()]


def within_horizon(prediction: Prediction) -> float:
    """P(a bad slice within the horizon): the prediction's own, else the worst slice."""
    own = getattr(prediction, "within_horizon", None)
    if own is not None:
        return float(own)
    return max((s.probability for s in prediction.slices), default=0.0)


def slo_arrays(
    forecasts: Sequence[Forecast | None],
    cases: Cases,
    ranges: dict[str, tuple[Floats, Floats]],
    horizon: int,
) -> Arrays:
    """``slo.predict`` per case and range shape: P, yes (an ETA), ETA, slice P."""
    floors = floors_of(cases)
    out: Arrays = {}
    for tag, (lo, hi) in ranges.items():
        p = np.full(len(cases), np.nan)
        eta = np.full(len(cases), -1, dtype=np.intp)
        slices = np.full((len(cases), horizon), np.nan)
        for i, f in enumerate(forecasts):
            if f is None or math.isnan(hi[i]):
                continue
            now = T0 + int(cases.origin[i]) * STEP
            kind = AllowedRange(
                lo=None if math.isnan(lo[i]) else float(lo[i]), hi=hi[i]
            )
            prediction = predict(
                f.points,
                kind,
                now=now,
                horizon_seconds=horizon * STEP,
                slice_seconds=STEP,
                past=[],
                window_seconds=WINDOW_SECONDS,
                target=TARGET,
                floor=floors[i],
            )
            p[i] = within_horizon(prediction)
            for s in prediction.slices:
                slices[i, _step_of(s, now)] = s.probability
            if prediction.eta is not None:
                eta[i] = _step_of(prediction.eta, now)
        out |= {f"{tag}_p": p, f"{tag}_yes": eta >= 0, f"{tag}_eta": eta}
        out[f"{tag}_slices"] = slices
    return out


def slo_method(
    forecasts: Sequence[Forecast | None], cases: Cases, horizon: int
) -> Arrays:
    """Every array of a method that goes through the production path."""
    path = path_arrays(forecasts, horizon)
    arrays = path | window_arrays(forecasts, path)
    arrays |= slo_arrays(forecasts, cases, ranges_of(cases), horizon)
    arrays["present"] = np.array([f is not None for f in forecasts])
    return arrays


def engine_arrays(
    cases: Cases, horizon: int, seasonal: bool = False
) -> tuple[Arrays, float]:
    """The engine's arrays and the seconds its forecast call took."""
    began = time.perf_counter()
    forecasts = engine_forecasts(cases, horizon, seasonal)
    took = time.perf_counter() - began
    arrays = slo_method(forecasts, cases, horizon)
    arrays["seasonal_model"] = np.array(
        [f is not None and f.model == "seasonal_ses" for f in forecasts]
    )
    arrays["code"] = np.array(str(Path(monitoring_core.__file__).parent))
    return arrays, took


def run_baseline(args: argparse.Namespace) -> Arrays:
    """``engine_arrays`` on the code of ``--baseline-ref``, in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", args.baseline_ref, "src"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        dump = Path(tmp) / "baseline.npz"
        command = [sys.executable, str(Path(__file__).resolve()), "--engine-only"]
        command += ["--dump", str(dump), "--data", str(args.data)]
        for flag in ("origins", "history", "horizon", "series_limit"):
            command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        env = dict(os.environ, PYTHONPATH=str(Path(tmp) / "src"))
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        with np.load(dump, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    if not str(arrays["code"]).startswith(tmp):
        raise SystemExit(f"the baseline ran on {arrays['code']}, not on {tmp}")
    return arrays


def _step_of(predicted: Any, now: float) -> int:
    """The forecast step (0 = the first) whose point a predicted slice holds.

    Since issue 13 a point lies in the slice its time falls in (its start, for
    points on the slice grid); before (the baseline) a point on a slice's end
    belonged to that slice. The newer slices carry ``cumulative_probability``.
    """
    edge: float = (
        predicted.start
        if hasattr(predicted, "cumulative_probability")
        else (predicted.end)
    )
    return round((edge - now) / STEP) - 1


# --- the peers ---


def peer_paths(
    cases: Cases, horizon: int, progress: Callable[[str, float], None]
) -> tuple[dict[str, fp.PathForecast], list[str]]:
    """Point forecasts and intervals of every peer that runs here."""
    notes: list[str] = []
    paths: dict[str, fp.PathForecast] = {}
    periods = cases.periods[cases.series]
    simple: dict[str, Callable[[], fp.PathForecast]] = {
        "naive": lambda: fp.naive(cases.history, horizon),
        "seasonal_naive": lambda: fp.seasonal_naive(
            cases.past, cases.history.shape[1], horizon, periods
        ),
        "climatology": lambda: fp.climatology(cases.history, horizon),
    }
    for name, make in simple.items():
        began = time.perf_counter()
        paths[name] = make()
        progress(name, time.perf_counter() - began)
    version = fp.statsforecast_available()
    if os.environ.get("FORECAST_ACCURACY_NO_STATSFORECAST"):
        notes.append("statsforecast skipped (FORECAST_ACCURACY_NO_STATSFORECAST set)")
        return paths, notes
    if version is None:
        notes.append("statsforecast is not importable: AutoETS and AutoTheta left out")
        return paths, notes
    seasons = np.where(cases.history.shape[1] >= 2 * periods, periods, 1)
    notes.append(
        f"statsforecast {version}: AutoETS(season_length=1), AutoTheta(season_length="
        "the daily period when the history holds two, else 1), 80/95 % levels"
    )
    for name, season in (("AutoETS", np.ones_like(seasons)), ("AutoTheta", seasons)):
        began = time.perf_counter()
        paths[name] = fp.statsforecast_model(name, cases.history, season, horizon)
        progress(name, time.perf_counter() - began)
    return paths, notes


def peer_arrays(path: fp.PathForecast) -> Arrays:
    """A peer's path arrays and window values from its point path."""
    arrays: Arrays = {b: getattr(path, b) for b in BOUNDS}
    arrays |= window_from_path(arrays)
    arrays["present"] = np.isfinite(np.stack(list(arrays.values())[:5])).all(
        axis=(0, 2)
    )
    return arrays


def answer(p: Floats, eta: np.ndarray[Any, np.dtype[np.intp]], tag: str) -> Arrays:
    """Violation arrays of a method without slice probabilities (yes: P >= 0.5)."""
    yes = p >= 0.5
    return {f"{tag}_p": p, f"{tag}_yes": yes, f"{tag}_eta": np.where(yes, eta, -1)}


def violation_peers(
    cases: Cases, ranges: dict[str, tuple[Floats, Floats]], engine_mean: Floats
) -> dict[str, Arrays]:
    """Climatology, persistence, point-crosses and always-yes, per range shape.

    Their ETA: slice 0, except point-crosses (the first step the engine's
    point forecast leaves the range).
    """
    horizon = engine_mean.shape[1]
    last = fp.last_observed(cases.history)[:, None]
    zero = np.zeros(len(cases), dtype=np.intp)
    out: dict[str, Arrays] = {
        k: {} for k in ("climatology", "persistence", "point_crosses", "always_yes")
    }
    for tag, (lo, hi) in ranges.items():
        rate = fm.history_event_rate(cases.history, lo, hi, horizon)
        out["climatology"] |= answer(rate, zero, tag)
        outside, _ = fm.bad_within_horizon(last, lo, hi)
        out["persistence"] |= answer(outside.astype(float), zero, tag)
        crosses, first = fm.bad_within_horizon(engine_mean, lo, hi)
        out["point_crosses"] |= answer(crosses.astype(float), first - 1, tag)
        out["always_yes"] |= answer(np.ones(len(cases)), zero, tag)
    return out


# --- scoring ---


@dataclass(frozen=True)
class Scoring:
    """What every score needs: the cases, the mask of cases compared, naive MAE."""

    cases: Cases
    mask: np.ndarray[Any, np.dtype[np.bool_]]
    naive_mae: Floats  # per series, over every step of its compared cases

    @property
    def series(self) -> np.ndarray[Any, np.dtype[np.intp]]:
        """The series of each compared case."""
        return np.asarray(self.cases.series[self.mask], dtype=np.intp)

    @property
    def scale(self) -> Floats:
        """The naive MAE of each compared case's series."""
        return np.asarray(self.naive_mae[self.series], dtype=np.float64)

    def per_series(self, values: Floats) -> Floats:
        """Means per series of per-case (rows) values of the compared cases."""
        return fm.group_means(values, self.series, len(self.cases.names))


def score_path(arrays: Arrays, sc: Scoring) -> dict[str, Any]:
    """Point and interval scores of one method's forecasts."""
    actual = sc.cases.actual[sc.mask]
    mean = arrays["mean"][sc.mask]
    ratio = sc.per_series(fm.abs_errors(actual, mean)) / sc.naive_mae
    mase = fm.mase(actual, mean, fm.naive_scale(sc.cases.history[sc.mask]))
    out: dict[str, Any] = {
        "ratio": ratio,
        "avgrelmae": fm.geometric_mean(ratio),
        "mase": fm.mean_or_nan(mase),
        "mase_series": sc.per_series(mase),
    }
    for level in ("80", "95"):
        hit = fm.inside(
            actual, arrays[f"lower_{level}"][sc.mask], arrays[f"upper_{level}"][sc.mask]
        )
        out[f"cov{level}"] = fm.mean_or_nan(hit)
        out[f"cov{level}_step"] = fm.row_means(hit.T)
        out[f"cov{level}_series"] = sc.per_series(hit)
    for tau, b in zip(
        fp.LEVELS, ("lower_95", "lower_80", "upper_80", "upper_95"), strict=False
    ):
        loss = fm.pinball(actual, arrays[b][sc.mask], tau) / sc.scale[:, None]
        out[f"pinball_{tau}"] = fm.mean_or_nan(loss)
    out["pinball"] = float(np.mean([out[f"pinball_{t}"] for t in fp.LEVELS]))
    return out


def actual_windows(actual: Floats) -> dict[str, Floats]:
    """The max, min and mean of each case's actual horizon values."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN horizons
        return {
            "max": np.nanmax(actual, axis=1),
            "min": np.nanmin(actual, axis=1),
            "avg": np.nanmean(actual, axis=1),
        }


def score_windows(arrays: Arrays, sc: Scoring) -> dict[str, dict[str, float]]:
    """Window max/min/avg: errors in naive-MAE units, coverage, pinball."""
    truth = actual_windows(sc.cases.actual[sc.mask])
    out = {}
    for stat in STATS:
        y = truth[stat]
        point = arrays[f"{stat}_point"][sc.mask]
        err = (point - y) / sc.scale
        lo80, hi80 = (
            arrays[f"{stat}_lower_80"][sc.mask],
            arrays[f"{stat}_upper_80"][sc.mask],
        )
        lo95, hi95 = (
            arrays[f"{stat}_lower_95"][sc.mask],
            arrays[f"{stat}_upper_95"][sc.mask],
        )
        loss = (fm.pinball(y, lo80, 0.1) + fm.pinball(y, hi80, 0.9)) / (2 * sc.scale)
        out[stat] = {
            "median": float(np.nanmedian(err)) if np.isfinite(err).any() else math.nan,
            "mae": fm.mean_or_nan(np.abs(err)),
            "cov80": fm.mean_or_nan(fm.inside(y, lo80, hi80)),
            "cov95": fm.mean_or_nan(fm.inside(y, lo95, hi95)),
            "pinball80": fm.mean_or_nan(loss),
            "band": float(np.mean(arrays[f"{stat}_band"][sc.mask])),
        }
    return out


def score_violations(
    arrays: Arrays, tag: str, truth: "Truth", sc: Scoring
) -> dict[str, Any]:
    """Scores of "a bad slice within the horizon" for one method and range shape."""
    m = truth.mask
    p, yes = arrays[f"{tag}_p"][sc.mask][m], arrays[f"{tag}_yes"][sc.mask][m]
    c = fm.classify(yes, truth.event)
    caught = yes & truth.event
    eta = arrays[f"{tag}_eta"][sc.mask][m]
    out: dict[str, Any] = {
        "cases": int(m.sum()),
        "base": float(truth.event.mean()),
        "class": c,
        "brier": fm.brier(p, truth.event),
        "onsets": int(truth.onsets.sum()),
        "caught": int((yes & truth.onsets).sum()),
        "eta": fm.mean_or_nan(fm.eta_errors(eta, truth.first, caught)) * STEP / 60,
        "eta_onsets": fm.mean_or_nan(
            fm.eta_errors(eta, truth.first, yes & truth.onsets)
        )
        * STEP
        / 60,
        "reliability": fm.reliability(p, truth.event),
    }
    slices = arrays.get(f"{tag}_slices")
    if slices is not None:
        probs = slices[sc.mask][m]
        out["slice_p"] = fm.mean_or_nan(probs)
        out["slice_bad"] = fm.mean_or_nan(np.where(np.isnan(probs), np.nan, truth.bad))
    return out


@dataclass(frozen=True)
class Truth:
    """What happened after each compared case, for one range shape."""

    mask: np.ndarray[Any, np.dtype[np.bool_]]  # among compared cases: a range
    event: np.ndarray[Any, np.dtype[np.bool_]]
    first: np.ndarray[Any, np.dtype[np.intp]]
    onsets: np.ndarray[Any, np.dtype[np.bool_]]
    bad: Floats  # per step: 1.0 bad, 0.0 good


def truth_of(lo: Floats, hi: Floats, sc: Scoring) -> Truth:
    """Events, first bad steps, onsets and bad steps of the compared cases."""
    m = np.isfinite(hi[sc.mask])
    lo, hi = lo[sc.mask][m], hi[sc.mask][m]
    actual = sc.cases.actual[sc.mask][m]
    event, first = fm.bad_within_horizon(actual, lo, hi)
    last = fp.last_observed(sc.cases.history[sc.mask][m])
    with np.errstate(invalid="ignore"):
        bad = (actual > hi[:, None]) | (~np.isnan(lo[:, None]) & (actual < lo[:, None]))
    return Truth(m, event, first, fm.onsets(last, lo, hi, event), bad.astype(float))


# --- checks of issue 13's acceptance item 4 ---

PROBES = (
    ("flat at 0, range [0, 10]", 0.0, 0.0, 10.0),
    ("flat at 5, range [5, 10]", 5.0, 5.0, 10.0),
    ("flat at 10, range [0, 10]", 10.0, 0.0, 10.0),
    ("flat at -3, range [-3, 3]", -3.0, -3.0, 3.0),
    ("flat at 4, one-sided x <= 4", 4.0, math.nan, 4.0),
)


def probe_rows(history_steps: int, horizon: int) -> list[list[str]]:
    """Flat synthetic series sitting on a bound, through the production path."""
    values = np.array([[v] * history_steps for _, v, _, _ in PROBES], dtype=float)
    cases = Cases(
        names=[p[0] for p in PROBES],
        periods=np.ones(len(PROBES), dtype=np.intp),
        non_negative=values.min(axis=1) >= 0,
        series=np.arange(len(PROBES), dtype=np.intp),
        origin=np.zeros(len(PROBES), dtype=np.intp),
        history=values,
        actual=np.full((len(PROBES), horizon), np.nan),
        past=values,
    )
    forecasts = engine_forecasts(cases, horizon)
    lo = np.array([p[2] for p in PROBES])
    hi = np.array([p[3] for p in PROBES])
    arrays = slo_arrays(forecasts, cases, {"probe": (lo, hi)}, horizon)
    rows = []
    for i, (label, *_rest) in enumerate(PROBES):
        slices = arrays["probe_slices"][i]
        rows.append(
            [
                label,
                "yes" if forecasts[i] is not None else "no forecast",
                str(int((slices >= 0.5).sum())),
                fmt(float(np.nanmax(slices, initial=0.0))),
                fmt(float(arrays["probe_p"][i])),
            ]
        )
    return rows


def negative_bounds(arrays: Arrays, cases: Cases) -> tuple[int, int]:
    """``(cases with a bound below 0, cases)`` of series never below 0."""
    rows = cases.non_negative[cases.series] & arrays["present"].astype(bool)
    lows = [arrays[b] for b in BOUNDS] + [
        arrays[f"{s}_{b}"][:, None] for s in STATS for b in BOUNDS[1:]
    ]
    below = np.zeros(len(cases), dtype=bool)
    for low in lows:
        below |= (low < 0).any(axis=1)
    return int((below & rows).sum()), int(rows.sum())


def flat_on_bound(arrays: Arrays, cases: Cases, lo: Floats, hi: Floats) -> str:
    """Cases of the data whose last 30 steps sit flat on a bound of the range."""
    tail = cases.history[:, -30:]
    flat = (tail == tail[:, -1:]).all(axis=1)
    on = flat & ((tail[:, -1] == lo) | (tail[:, -1] == hi))
    said = (np.nan_to_num(arrays["two_slices"]) >= 0.5).any(axis=1)
    went, _ = fm.bad_within_horizon(cases.actual, lo, hi)
    return (
        f"{int(on.sum())} cases sit flat on a bound of [p1, p99] for their last 30 "
        f"steps; the engine predicts a bad slice for {int((on & said).sum())}, "
        f"{int((on & went).sum())} went bad"
    )


# --- the report ---


def fmt(x: float, digits: int = 3) -> str:
    """A number, or n/a for NaN."""
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def pct(x: float) -> str:
    """A share as a percentage."""
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f} %"


def table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


@dataclass
class Run:
    """Everything measured in one run."""

    cases: Cases
    sc: Scoring
    methods: dict[str, Arrays]
    notes: list[str]
    timings: dict[str, float]
    paths: dict[str, dict[str, Any]]
    windows: dict[str, dict[str, dict[str, float]]]
    violations: dict[str, dict[str, dict[str, Any]]]  # shape -> method -> scores


FORECASTERS = (
    "engine",
    "engine_no_season",
    "baseline",
    "naive",
    "seasonal_naive",
    "climatology",
)
PEERS = ("seasonal_naive", "climatology", "AutoETS", "AutoTheta")
VIOLATORS = (
    "engine",
    "baseline",
    "AutoETS",
    "AutoTheta",
    "climatology",
    "persistence",
    "point_crosses",
    "always_yes",
)


def forecast_section(run: Run) -> str:
    """Pooled forecast scores, coverage per step and the window values."""
    names = [n for n in run.paths]
    rows = [
        [
            n,
            fmt(s["avgrelmae"]),
            fmt(s["mase"]),
            pct(s["cov80"]),
            pct(s["cov95"]),
            fmt(s["pinball"]),
            *(fmt(s[f"pinball_{t}"]) for t in fp.LEVELS),
        ]
        for n, s in run.paths.items()
    ]
    head = ["method", "AvgRelMAE", "MASE", "cov 80", "cov 95", "pinball"]
    text = "### Forecasts, pooled\n\n" + table(
        head + [f"pinball {t}" for t in fp.LEVELS], rows
    )
    text += (
        "\nAvgRelMAE: geometric mean over series of the MAE ratio to naive. "
        "MASE: scale = the history's in-sample one-step naive MAE, per origin. "
        "Pinball: quantile loss of the interval bounds at their levels, in units "
        "of the series' naive MAE.\n\n### Coverage per step ahead (80 % / 95 %)\n\n"
    )
    steps = len(run.paths[names[0]]["cov80_step"])
    step_rows = [
        [str(k + 1)]
        + [
            f"{pct(run.paths[n]['cov80_step'][k])} / {pct(run.paths[n]['cov95_step'][k])}"
            for n in names
        ]
        for k in range(steps)
    ]
    return text + table(["step", *names], step_rows)


def window_section(run: Run) -> str:
    """The predicted window max/min/avg of every forecasting method."""
    rows = []
    for name, stats in run.windows.items():
        for stat, s in stats.items():
            source = "band" if s["band"] == 1 else "from the point path"
            if 0 < s["band"] < 1:
                source = f"band on {pct(s['band'])}"
            rows.append(
                [
                    name,
                    stat,
                    source,
                    fmt(s["median"]),
                    fmt(s["mae"]),
                    pct(s["cov80"]),
                    pct(s["cov95"]),
                    fmt(s["pinball80"]),
                ]
            )
    head = ["method", "window", "interval", "median error", "MAE", "cov 80"]
    return (
        "### Predicted window max / min / avg over the horizon\n\n"
        "Errors are predicted minus actual (max, min or mean of the horizon's values) "
        "in units of the series' naive MAE; pinball: mean of the 80 % bounds' losses "
        "(levels 0.1 and 0.9) in the same units.\n\n"
        + table([*head, "cov 95", "pinball 80"], rows)
    )


def violation_section(run: Run, tag: str) -> str:
    """Scores of "a bad slice within the horizon" for one range shape."""
    scores = run.violations[tag]
    clim = scores["climatology"]["brier"]
    rows = []
    for name, s in scores.items():
        c = s["class"]
        rows.append(
            [
                name,
                fmt(c.precision),
                fmt(c.recall),
                fmt(c.f1),
                fmt(s["brier"]),
                fmt(fm.brier_skill(s["brier"], clim)),
                pct(c.false_alarm_rate),
                f"{s['caught']} / {s['onsets']}",
                fmt(s["eta"], 2),
                fmt(s["eta_onsets"], 2),
                f"{fmt(s['slice_p'])} / {fmt(s['slice_bad'])}"
                if "slice_p" in s
                else "",
            ]
        )
    first = next(iter(scores.values()))
    head = ["method", "precision", "recall", "F1", "Brier", "BSS vs clim"]
    head += ["false alarms", "onsets caught", "ETA err (min)", "ETA err onsets"]
    return (
        f"### Predicted violations, range {SHAPES[tag]}\n\n"
        f"{first['cases']} cases, base rate {pct(first['base'])} (a bad slice within "
        "the horizon: some actual value strictly outside the range). Engine, "
        "baseline and statsforecast: `slo.predict`; P = `within_horizon` when the "
        "prediction has it, else the worst slice's probability; yes = an ETA. "
        "Others: yes = P >= 0.5. Last column: mean slice probability / share of "
        "bad slices.\n\n" + table([*head, "slice P / bad"], rows)
    )


def reliability_section(run: Run) -> str:
    """Reliability tables of the engine and baseline per range shape."""
    text = "### Reliability of P(a bad slice within the horizon)\n\n"
    for tag, scores in run.violations.items():
        for name in ("engine", "baseline"):
            if name not in scores:
                continue
            rows = [
                [
                    f"[{b.low:.1f}, {b.high:.1f}{']' if b.high == 1 else ')'}",
                    str(b.count),
                    pct(b.share),
                    fmt(b.mean_probability),
                    fmt(b.observed),
                ]
                for b in scores[name]["reliability"]
            ]
            text += f"{name}, range {SHAPES[tag]}:\n\n"
            text += table(["P", "cases", "share", "mean P", "observed"], rows) + "\n"
    return text


def series_section(run: Run) -> str:
    """One row per series: MAE ratios to naive, engine MASE and coverage."""
    names = [n for n in run.paths if n != "naive"]
    e = run.paths["engine"]
    counts = np.bincount(run.sc.series, minlength=len(run.cases.names))
    rows = [
        [
            name,
            str(int(run.cases.periods[i])),
            str(int(counts[i])),
            fmt(float(run.sc.naive_mae[i]), 4),
            *(fmt(float(run.paths[n]["ratio"][i])) for n in names),
            fmt(float(e["mase_series"][i])),
            pct(float(e["cov80_series"][i])),
            pct(float(e["cov95_series"][i])),
        ]
        for i, name in enumerate(run.cases.names)
    ]
    head = ["series", "period", "cases", "naive MAE"]
    head += [f"{n} / naive" for n in names] + ["engine MASE", "cov 80", "cov 95"]
    return "### Per series (MAE ratio to naive)\n\n" + table(head, rows)


def check(label: str, value: str, target: str, ok: bool) -> list[str]:
    """One acceptance row."""
    return [label, value, target, "pass" if ok else "FAIL"]


def acceptance_violations(run: Run) -> list[list[str]]:
    """Issue 13, acceptance item 1."""
    rows = []
    for tag, scores in run.violations.items():
        e = scores["engine"]
        bss = fm.brier_skill(e["brier"], scores["climatology"]["brier"])
        rows.append(
            check(
                f"1. BSS vs climatology, {SHAPES[tag]}", fmt(bss), ">= 0.1", bss >= 0.1
            )
        )
        others = ("persistence", "point_crosses", "always_yes")
        best = max(scores[o]["class"].f1 for o in others)
        f1 = e["class"].f1
        rows.append(
            check(
                f"1. F1 above persistence, point-crosses, always-yes, {SHAPES[tag]}",
                f"{fmt(f1)} vs {fmt(best)}",
                "> best of the three",
                f1 > best,
            )
        )
        caught, pc = e["caught"], scores["point_crosses"]["caught"]
        far = e["class"].false_alarm_rate
        rows.append(
            check(
                f"1. onsets caught vs point-crosses, {SHAPES[tag]}",
                f"{caught} vs {pc} at {pct(far)} false alarms",
                ">= 3x at < 10 %",
                caught >= 3 * pc and far < 0.1 and caught > 0,
            )
        )
        gap = fm.worst_reliability_gap(e["reliability"], 0.01)
        rows.append(
            check(
                f"1. reliability, worst decile (>= 1 % of cases), {SHAPES[tag]}",
                fmt(gap),
                "<= 0.1",
                gap <= 0.1,
            )
        )
    return rows


def acceptance_forecasts(run: Run) -> list[list[str]]:
    """Issue 13, acceptance items 2 and 3."""
    e = run.paths["engine"]
    peers = {n: run.paths[n]["avgrelmae"] for n in PEERS if n in run.paths}
    best = min(peers, key=lambda n: peers[n])
    rows = [
        check(
            "2. AvgRelMAE to naive",
            fmt(e["avgrelmae"]),
            "<= 0.85",
            e["avgrelmae"] <= 0.85,
        ),
        check(
            "2. AvgRelMAE vs best peer",
            f"{fmt(e['avgrelmae'])} vs {best} {fmt(peers[best])}",
            "<= best peer",
            e["avgrelmae"] <= peers[best],
        ),
    ]
    for level in ("80", "95"):
        nominal = int(level) / 100
        pooled = e[f"cov{level}"]
        share = float(np.nanmean(np.abs(e[f"cov{level}_series"] - nominal) <= 0.05))
        rows.append(
            check(
                f"2. coverage {level} %, pooled",
                pct(pooled),
                f"{level} % +- 3",
                abs(pooled - nominal) <= 0.03,
            )
        )
        rows.append(
            check(
                f"2. coverage {level} % within 5 points, share of series",
                pct(share),
                ">= 80 %",
                share >= 0.8,
            )
        )
    w = run.windows["engine"]
    for stat in ("max", "min"):
        med, cov = w[stat]["median"], w[stat]["cov80"]
        rows.append(
            check(
                f"3. window {stat}: median error (naive-MAE units)",
                fmt(med),
                "within +-0.25",
                abs(med) <= 0.25,
            )
        )
        rows.append(
            check(
                f"3. window {stat}: 80 % interval coverage",
                pct(cov),
                "80 % +- 5",
                abs(cov - 0.8) <= 0.05,
            )
        )
    return rows


def acceptance_section(run: Run, probes: list[list[str]]) -> str:
    """The acceptance table of issue 13, items 1-4."""
    rows = acceptance_violations(run) + acceptance_forecasts(run)
    below, total = negative_bounds(run.methods["engine"], run.cases)
    rows.append(
        check(
            "4. cases of non-negative series with a bound below 0",
            f"{below} of {total}",
            "0",
            below == 0,
        )
    )
    bad = sum(int(r[2]) for r in probes)
    rows.append(
        check(
            "4. predicted-bad slices of flat series on a bound (probes)",
            str(bad),
            "0",
            bad == 0,
        )
    )
    return "### Acceptance (issue 13, items 1-4), engine\n\n" + table(
        ["criterion", "measured", "target", "result"], rows
    )


def code_state() -> str:
    """The checkout's commit, and whether src/ has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "outside git"
    return f"commit {commit}" + (
        " with uncommitted changes under src/" if dirty else ""
    )


def header(run: Run, args: argparse.Namespace) -> str:
    """What was run on what."""
    cases = run.cases
    lines = [
        f"Data: `{args.data}`, {len(cases.names)} series, {len(cases)} cases "
        f"({args.origins} origins per series, evenly spaced); each CSV row re-indexed "
        f"as one {STEP} s ETL step (rows re-indexed; the seasonal period is a day "
        "in rows of the source data). History "
        f"{args.history} steps up to and including the origin, horizon {args.horizon} "
        f"steps. Compared: {int(run.sc.mask.sum())} cases that every method forecast.",
        f"Engine: `VectorizedEtsForecaster()` of `{run.methods['engine']['code']}` "
        f"({code_state()}; history {args.history} steps, metadata {{}}), "
        "the ETL's `keep_in_domains` (gauges), "
        f"`slo.predict` (slices {STEP} s, horizon {args.horizon * STEP} s, window "
        f"{WINDOW_SECONDS} s, target {TARGET}, floor from the history's domain, "
        "past []).",
    ]
    if "engine_no_season" in run.methods:
        lines.append(
            "Seasonal (ADR 0050): the engine also gets each case's coarse history "
            f"(rows averaged in blocks of period // {SEASONAL_PHASES}, over the "
            f"history and {SEASONAL_PERIODS} periods before it; a period is a day of "
            "the source data, so here it is shorter than in production) and may "
            "choose `seasonal_ses`; `engine_no_season` is the same engine without "
            "it (as with `--no-seasonal`)."
        )
    if "baseline" in run.methods:
        lines.append(
            f"Baseline: the same path on `git archive {args.baseline_ref} src`, run in a "
            "subprocess (checked: its monitoring_core came from the archive)."
        )
    return "\n".join(f"- {line}" for line in lines + run.notes) + "\n"


def render(run: Run, args: argparse.Namespace, probes: list[list[str]]) -> str:
    """The whole markdown report."""
    ranges = ranges_of(run.cases)
    timing = ", ".join(f"{n} {t:.1f} s" for n, t in run.timings.items())
    parts = [
        header(run, args),
        acceptance_section(run, probes),
        forecast_section(run),
        window_section(run),
        *(violation_section(run, tag) for tag in run.violations),
        reliability_section(run),
        "### Flat series on a bound\n\n"
        + table(
            ["probe", "forecast", "slices P >= 0.5", "max slice P", "P within"], probes
        )
        + "\nOn the data: "
        + flat_on_bound(run.methods["engine"], run.cases, *ranges["two"])
        + ".\n",
        series_section(run),
        seasonal_section(run),
        f"Timings: {timing}.\n",
    ]
    return "\n".join(parts)


def seasonal_section(run: Run) -> str:
    """Per series: how often ``seasonal_ses`` was chosen and what it changed."""
    if "engine_no_season" not in run.paths:
        return ""
    chosen = run.methods["engine"]["seasonal_model"].astype(bool)[run.sc.mask]
    per = np.bincount(run.sc.series[chosen], minlength=len(run.cases.names))
    with_s = run.paths["engine"]["ratio"]
    without = run.paths["engine_no_season"]["ratio"]
    rows = [
        [
            name,
            str(int(per[i])),
            fmt(float(with_s[i])),
            fmt(float(without[i])),
            fmt(float(with_s[i] / without[i])),
        ]
        for i, name in enumerate(run.cases.names)
    ]
    head = ["series", "cases with seasonal_ses", "engine / naive"]
    head += ["engine_no_season / naive", "with / without"]
    return (
        "### Seasonal candidate (ADR 0050), per series\n\n"
        f"`seasonal_ses` chosen in {int(chosen.sum())} of {int(chosen.size)} "
        "compared cases.\n\n" + table(head, rows)
    )


# --- the run ---

SLO_PEERS = ("AutoETS", "AutoTheta")


def progress(name: str, seconds: float) -> None:
    """One line per method on stderr."""
    print(f"forecast_accuracy: {name} {seconds:.1f} s", file=sys.stderr, flush=True)


def all_methods(
    cases: Cases, args: argparse.Namespace, timings: dict[str, float]
) -> tuple[dict[str, Arrays], list[str]]:
    """Every method's arrays, the engine first."""

    def tick(name: str, seconds: float) -> None:
        timings[name] = seconds
        progress(name, seconds)

    began = time.perf_counter()
    engine, took = engine_arrays(cases, args.horizon, seasonal=not args.no_seasonal)
    tick("engine forecast call", took)
    tick("engine with clamp and slo.predict", time.perf_counter() - began)
    methods = {"engine": engine}
    if not args.no_seasonal:
        began = time.perf_counter()
        methods["engine_no_season"] = engine_arrays(cases, args.horizon)[0]
        tick("engine without the coarse history", time.perf_counter() - began)
    if not args.no_baseline:
        began = time.perf_counter()
        methods["baseline"] = run_baseline(args)
        tick("baseline (subprocess)", time.perf_counter() - began)
    paths, notes = peer_paths(cases, args.horizon, tick)
    for name, path in paths.items():
        if name in SLO_PEERS:
            began = time.perf_counter()
            made = forecasts_from_path(path, cases, name)
            methods[name] = slo_method(made, cases, args.horizon)
            tick(f"{name} clamp and slo.predict", time.perf_counter() - began)
        else:
            methods[name] = peer_arrays(path)
    ranges = ranges_of(cases)
    for name, arrays in violation_peers(cases, ranges, engine["mean"]).items():
        methods[name] = methods.get(name, {}) | arrays
    return methods, notes


def measure(args: argparse.Namespace) -> Run:
    """Load, forecast with every method and score."""
    notes: list[str] = []
    cases = build_cases(load(args.data), args, notes)
    timings: dict[str, float] = {}
    methods, peer_notes = all_methods(cases, args, timings)
    forecasters = [n for n in (*FORECASTERS, *SLO_PEERS) if n in methods]
    mask = np.logical_and.reduce(
        [methods[n]["present"].astype(bool) for n in forecasters]
    )
    naive_err = fm.abs_errors(cases.actual, methods["naive"]["mean"])[mask]
    sc = Scoring(
        cases, mask, fm.group_means(naive_err, cases.series[mask], len(cases.names))
    )
    truths = {tag: truth_of(lo, hi, sc) for tag, (lo, hi) in ranges_of(cases).items()}
    return Run(
        cases=cases,
        sc=sc,
        methods=methods,
        notes=notes + peer_notes,
        timings=timings,
        paths={n: score_path(methods[n], sc) for n in forecasters},
        windows={n: score_windows(methods[n], sc) for n in forecasters},
        violations={
            tag: {
                n: score_violations(methods[n], tag, truth, sc)
                for n in VIOLATORS
                if n in methods
            }
            for tag, truth in truths.items()
        },
    )


def save_arrays(run: Run, folder: Path) -> Path:
    """The per-case arrays of every method, as ``method/name`` in one npz."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {
        "cases/series": run.cases.series,
        "cases/origin": run.cases.origin,
        "cases/actual": run.cases.actual,
        "cases/compared": run.sc.mask,
        "cases/names": np.array(run.cases.names),
    }
    for name, method in run.methods.items():
        arrays |= {f"{name}/{k}": v for k, v in method.items()}
    path = folder / "forecast_accuracy.npz"
    np.savez_compressed(path, **arrays)
    return path


def machine() -> str:
    """Cores, CPU, RAM, Python and numpy."""
    meminfo = Path("/proc/meminfo").read_text().split()
    ram = int(meminfo[meminfo.index("MemTotal:") + 1]) / 2**20
    return (
        f"Machine: {host.cpu()}, {ram:.0f} GiB, Python {sys.version.split()[0]}, "
        f"numpy {np.__version__}."
    )


BEGIN, END = "<!-- forecast-accuracy:begin -->", "<!-- forecast-accuracy:end -->"


def write(report: str, summary: str, args: argparse.Namespace) -> None:
    """Append to bench/RESULTS.md; replace the marked block of docs/forecasting.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"## Forecast accuracy on {args.data.resolve().name} ({stamp})"
    with (BENCH / "RESULTS.md").open("a") as out:
        out.write(f"\n{title}\n\n{machine()}\n\n{report}")
    doc = ROOT / "docs" / "forecasting.md"
    text = doc.read_text()
    block = (
        f"{BEGIN}\n*Generated by `bench/forecast_accuracy.py --write` on "
        f"{args.data.resolve().name}, {stamp}; do not edit by hand.*\n\n{summary}{END}"
    )
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.write_text(text)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark (see the module docstring)."""
    args = parse(argv)
    if args.engine_only:
        cases = build_cases(load(args.data), args, [])
        arrays: dict[str, Any] = engine_arrays(cases, args.horizon)[0]
        np.savez(args.dump, **arrays)
        return
    run = measure(args)
    probes = probe_rows(args.history, args.horizon)
    report = render(run, args, probes)
    print(report)
    saved = save_arrays(run, args.out)
    print(f"forecast_accuracy: arrays saved to {saved}", file=sys.stderr)
    if args.write:
        summary = "\n".join(
            [
                header(run, args),
                acceptance_section(run, probes),
                forecast_section(run),
                window_section(run),
                *(violation_section(run, tag) for tag in run.violations),
                seasonal_section(run),
            ]
        )
        write(report, summary, args)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--origins", type=int, default=100)
    parser.add_argument("--history", type=int, default=360)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--baseline-ref", default="bfc21c2")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--series-limit", type=int, default=0)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--no-seasonal",
        action="store_true",
        help="do not give the engine the coarse seasonal history (ADR 0050)",
    )
    parser.add_argument("--engine-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=BENCH / "out", help="npz folder")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
