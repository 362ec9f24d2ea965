"""Forecasts awaiting their score, kept until their horizon has passed.

With an ``EtlStateStore`` the ledger survives restarts (ADR 0047): it starts
from the stored forecasts, and every ``remember`` saves what changed since the
last save in one write. A failed save is logged and retried at the next one as
a full rewrite, so the scores go on in memory while the store is away.
"""

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from monitoring_core.errors import StoreUnavailable
from monitoring_core.forecasts import Forecast, ForecastScore, score_forecast
from monitoring_core.ports import EtlStateStore, ForecastKey
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesHistory

log = logging.getLogger(__name__)


class ForecastLedger:
    """Remembers forecasts; scores each once the values it predicted exist.

    Args:
        max_age_seconds: a forecast never scored after this long is dropped
            (its series vanished), so memory and the store stay bounded.
        store: where the pending forecasts are kept across restarts; None
            keeps them in memory only.
    """

    def __init__(
        self, max_age_seconds: float, store: EtlStateStore | None = None
    ) -> None:
        self._pending: dict[ForecastKey, Forecast] = {}
        self._max_age = max_age_seconds
        self._lock = threading.Lock()
        self._store = store
        self._added: dict[ForecastKey, Forecast] = {}
        self._removed: set[ForecastKey] = set()
        self._rewrite = False
        self._failing = False
        if store is not None:
            self._load(store)

    def __len__(self) -> int:
        return len(self._pending)

    def _load(self, store: EtlStateStore) -> None:
        try:
            kept = store.pending_forecasts()
        except StoreUnavailable as exc:
            log.warning("starting with no pending forecasts: %s", exc)
            self._rewrite = True
            return
        self._pending = {(f.series.id, f.made_at): f for f in kept}
        if kept:
            log.info("%d pending forecasts loaded from the ETL state", len(kept))

    def remember(self, forecasts: Sequence[Forecast]) -> None:
        """Keep forecasts until they can be scored; then save every change
        since the last save (these and the forecasts scored or expired) in one
        write to the store."""
        with self._lock:
            for f in forecasts:
                key = (f.series.id, f.made_at)
                self._pending[key] = f
                self._added[key] = f
                self._removed.discard(key)
            self._save()

    def score(
        self, histories: Sequence[SeriesHistory], now: datetime
    ) -> list[ForecastScore]:
        """Score every forecast whose horizon ends inside the given histories."""
        by_id = {h.series.id: h for h in histories}
        scores = []
        with self._lock:
            for key, forecast in list(self._pending.items()):
                history = by_id.get(key[0])
                age = (now - forecast.made_at).total_seconds()
                if history and forecast.points[-1].timestamp <= history.end:
                    score = score_forecast(forecast, history, now)
                    scores.extend([score] if score else [])
                    self._forget(key)
                elif age > self._max_age:
                    self._forget(key)
        return scores

    def _forget(self, key: ForecastKey) -> None:
        del self._pending[key]
        if self._added.pop(key, None) is None:
            self._removed.add(key)

    def _save(self) -> None:
        store = self._store
        if store is None:
            self._added.clear()
            self._removed.clear()
            return
        if not (self._added or self._removed or self._rewrite):
            return
        try:
            if self._rewrite:
                store.replace_forecasts(list(self._pending.values()))
            else:
                store.update_forecasts(list(self._added.values()), list(self._removed))
        except StoreUnavailable as exc:
            if not self._failing:
                log.warning(
                    "pending forecasts not saved (kept in memory, retried at the "
                    "next cycle): %s",
                    exc,
                )
            self._failing = self._rewrite = True
        else:
            if self._failing:
                log.info("pending forecasts saved again")
            self._failing = self._rewrite = False
        # After a failure the next save rewrites everything: no delta to keep.
        self._added.clear()
        self._removed.clear()


class KnownTargets:
    """The last forecast target set the SLA manager gave, kept across restarts.

    Args:
        store: where the set is saved whenever it changes; None keeps it in
            memory only. A stored set is the starting set.
    """

    def __init__(self, store: EtlStateStore | None = None) -> None:
        self._store = store
        self.selectors: tuple[Selector, ...] = ()
        self._saved: tuple[Selector, ...] | None = None
        if store is None:
            return
        try:
            found = store.forecast_targets()
        except StoreUnavailable as exc:
            log.warning("starting with no saved forecast targets: %s", exc)
            return
        if found is not None:
            self.selectors = self._saved = tuple(found)
            log.info("%d saved forecast targets loaded", len(found))

    def update(self, selectors: Sequence[Selector]) -> None:
        """The set is now ``selectors``; saved when it differs from the saved one."""
        self.selectors = tuple(selectors)
        if self._store is None or self.selectors == self._saved:
            return
        try:
            self._store.save_forecast_targets(self.selectors)
        except StoreUnavailable as exc:
            log.warning("forecast targets not saved (retried next cycle): %s", exc)
            return
        self._saved = self.selectors
