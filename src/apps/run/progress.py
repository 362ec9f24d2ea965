"""A progress display of the first cycles' phases, for people at a terminal."""

import sys
import threading
from typing import TextIO

from monitoring_core.ports import EtlTelemetry
from monitoring_core.runs import EtlRun, Step


class ProgressTelemetry(EtlTelemetry):
    """Passes everything on to ``inner`` and prints the first cycles' steps.

    Args:
        inner: the real telemetry (Prometheus metrics).
        cycles: how many analysis cycles to show; 0 shows none.
        out: where to print (standard error by default, so it never mixes with
            machine-readable output).
    """

    def __init__(
        self, inner: EtlTelemetry, cycles: int = 2, out: TextIO | None = None
    ) -> None:
        self._inner = inner
        self._left = cycles
        self._out = out or sys.stderr
        self._lock = threading.Lock()

    def _show(self, text: str) -> None:
        with self._lock:
            if self._left > 0:
                print(text, file=self._out, flush=True)

    def observe_step(self, step: Step, seconds: float, failed: bool) -> None:
        """Record, and show ``  ✓ window_stats  1.2 s``."""
        self._inner.observe_step(step, seconds, failed)
        mark = "✗" if failed else "✓"
        # The runner's metadata thread is named "metadata"; say whose step it is.
        whose = "metadata" if threading.current_thread().name == "metadata" else "cycle"
        self._show(f"  {mark} [{whose}] {step.value:<13} {seconds:6.2f} s")

    def observe_cycle(self, run: EtlRun) -> None:
        """Record, and summarise an analysis cycle."""
        self._inner.observe_cycle(run)
        if run.series_count == 0 and not run.errors and run.results_published <= 1:
            return  # the metadata thread's own runs are summarised by their steps
        state = "ok" if run.ok else "with errors: " + "; ".join(run.errors)
        self._show(
            f"cycle done {state}: {run.series_count} series, "
            f"{run.results_published} results published"
        )
        with self._lock:
            self._left -= 1
