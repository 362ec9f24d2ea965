"""The all-in-one progress display: the first cycles' steps, then silence."""

import io
from datetime import UTC, datetime

from adapters.in_memory.telemetry import InMemoryEtlTelemetry
from apps.run.progress import ProgressTelemetry
from monitoring_core.runs import EtlRun, Step, StepTiming

AT = datetime(2026, 11, 27, tzinfo=UTC)


def run(series: int, error: str | None = None) -> EtlRun:
    return EtlRun(
        run_id="r",
        started_at=AT,
        finished_at=AT,
        ok=error is None,
        steps=(StepTiming(step=Step.FORECAST, seconds=0.5, error=error),),
        series_count=series,
        results_published=2 * series,
    )


def test_steps_and_cycles_are_shown_then_only_recorded() -> None:
    inner, out = InMemoryEtlTelemetry(), io.StringIO()
    progress = ProgressTelemetry(inner, cycles=1, out=out)
    progress.observe_step(Step.WINDOW_STATS, 1.25, failed=False)
    progress.observe_step(Step.FORECAST, 2.0, failed=True)
    progress.observe_cycle(run(3, "boom"))
    progress.observe_step(Step.WINDOW_STATS, 1.0, failed=False)
    progress.observe_cycle(run(3))
    lines = out.getvalue().splitlines()
    assert lines == [
        "  ✓ [cycle] window_stats    1.25 s",
        "  ✗ [cycle] forecast        2.00 s",
        "cycle done with errors: forecast: boom: 3 series, 6 results published",
    ]
    assert len(inner.cycles) == 2 and len(inner.steps) == 3
