"""Timing and failure capture of the steps of a cycle."""

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from monitoring_core.errors import MonitoringError
from monitoring_core.ports import EtlTelemetry
from monitoring_core.runs import Step, StepTiming

T = TypeVar("T")
log = logging.getLogger(__name__)


class StepRecorder:
    """Runs steps, times them, and keeps the error of a failed step.

    A step that raises a MonitoringError (or any other exception, which is a
    bug but must not stop the service) records its message and returns the
    fallback; the cycle goes on with what it has.
    """

    def __init__(self, telemetry: EtlTelemetry) -> None:
        self._telemetry = telemetry
        self.timings: list[StepTiming] = []

    def run(self, step: Step, action: Callable[[], T], fallback: T) -> T:
        """Run ``action`` as ``step``; on failure record it and return fallback."""
        started = time.perf_counter()
        error: str | None = None
        try:
            return action()
        except MonitoringError as exc:
            error = str(exc)
            return fallback
        except Exception as exc:
            log.exception("step %s failed unexpectedly", step.value)
            error = f"{type(exc).__name__}: {exc}"
            return fallback
        finally:
            seconds = time.perf_counter() - started
            self.timings.append(StepTiming(step=step, seconds=seconds, error=error))
            self._telemetry.observe_step(step, seconds, failed=error is not None)

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return all(t.error is None for t in self.timings)
