"""The live rule file: the rules of every SLA, rewritten whenever one changes.

With ``MONITORING_RULES_FILE`` set, the SLA manager (alone or in ``monitoring
run``) writes the rules of every stored SLA there at start and after every
change, through the same path as ``monitoring sla rules`` (``rule_file_text``:
the SLAs' own alerting settings, unreachable conditions reported, the text read
back), atomically (a temporary file renamed over it). With
``MONITORING_PROMETHEUS_RELOAD_URL`` set too, it then asks Prometheus to reload.
A Prometheus that refuses the new file gets the previous one back, so a broken
file never stays where Prometheus reads it. Without the settings nothing is
written and no Prometheus is touched. See ADR 0048 and docs/alerting.md.
"""

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from adapters.prometheus.reload import PrometheusReloader, ReloadFailed
from apps.sla.config import SlaManagerConfig
from apps.sla.rules_cli import (
    DEFAULT_SLA_URL,
    rule_file_text,
    write_atomically,
)
from apps.sla.sla_files import InputError
from monitoring_core.errors import MonitoringError
from monitoring_core.ports import SlaRepository
from monitoring_core.services.sla_definitions import SlaDefinitions
from monitoring_core.sla import Sla

log = logging.getLogger(__name__)

POLL_SECONDS = 10.0
"""How often the SLAs are read again even without a change seen in this
process (another SLA manager on the same database, a reload to retry)."""
EMPTY_RULES = "# No rules: written by the SLA manager (docs/alerting.md).\ngroups: []\n"
"""What a refused file is replaced by when there was no file before."""


class Reloader(Protocol):
    """Something that makes Prometheus read its rule files again."""

    def reload(self) -> None:
        """Reload once; raises ReloadFailed."""
        ...


def stale_after_seconds(refresh_seconds: int) -> int:
    """``SLAManagerStale``'s delay: 5 minutes, or three refreshes if longer."""
    return max(300, 3 * refresh_seconds)


class RuleFileSync:
    """Keeps one rule file, and the Prometheus that loads it, up to date.

    Args:
        slas: every stored SLA (``SlaDefinitions.list_slas``).
        path: the rule file.
        reloader: asks Prometheus to reload; None writes the file only.
        stale_after_seconds: ``SLAManagerStale``'s delay.
        sla_url: the link in each alert, ``{sla}`` for the name.
    """

    def __init__(
        self,
        slas: Callable[[], Sequence[Sla]],
        path: Path,
        reloader: Reloader | None,
        stale_after_seconds: int,
        sla_url: str = DEFAULT_SLA_URL,
    ) -> None:
        self.path = path
        self._slas = slas
        self._reloader = reloader
        self._stale_after = stale_after_seconds
        self._sla_url = sla_url
        self._seen: tuple[tuple[str, int, datetime | None], ...] | None = None
        self._previous: str | None = None
        """The file's content before our last write (None: there was none)."""
        self._current: str | None = None
        """What our last write put there."""
        self._refused: str | None = None
        """A text Prometheus refused: not written again until the SLAs change."""
        self._reload_pending = reloader is not None  # once at start
        self._trouble: str | None = None
        self._warned: set[str] = set()
        self.writes = 0
        self.reloads = 0

    def sync(self) -> None:
        """Read the SLAs; write and reload if anything changed; log, never raise."""
        try:
            slas = self._slas()
        except MonitoringError as exc:
            self._report(f"cannot read the SLAs ({exc}); {self.path} is left as is")
            return
        seen = tuple((s.name, s.version, s.updated_at) for s in slas)
        if seen != self._seen:
            try:
                text = rule_file_text(
                    slas, self._stale_after, self._sla_url, self._warn
                )
            except InputError as exc:  # a generator bug: keep the last good file
                self._report(f"the generated rules are malformed ({exc}); not written")
                return
            if text != self._refused and not self._write(text, len(slas)):
                return
            self._seen = seen
        if self._reload_pending and self._reloader is not None:
            self._reload(self._reloader)
        elif self._trouble and not self._reload_pending and self._current is not None:
            self._recovered()

    def _warn(self, text: str) -> None:
        if text not in self._warned:  # once per condition, not once per change
            self._warned.add(text)
            log.warning("rules: %s", text)

    def _read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _write(self, text: str, count: int) -> bool:
        previous = self._read()
        if previous == text:  # already there (a restart): reload all the same
            self._current = text
            return True
        try:
            write_atomically(self.path, text)
        except OSError as exc:
            self._report(
                f"cannot write {self.path}: {exc.strerror}; Prometheus keeps the "
                f"rules it has; retried every {POLL_SECONDS:g} s"
            )
            return False
        self._previous, self._current = previous, text
        self._reload_pending = self._reloader is not None
        self.writes += 1
        log.info("rules of %d SLAs written to %s", count, self.path)
        return True

    def _reload(self, reloader: Reloader) -> None:
        try:
            reloader.reload()
        except ReloadFailed as exc:
            if exc.rejected and self._current is not None:
                self._restore(exc)
            elif exc.rejected:
                self._report(
                    f"Prometheus refuses its files even with the previous rules "
                    f"back in {self.path} ({exc}): look for the fault in its other "
                    f"files; the reload is retried every {POLL_SECONDS:g} s"
                )
            else:
                self._report(
                    f"Prometheus was not reloaded: {exc}; {self.path} holds the "
                    f"new rules, the reload is retried every {POLL_SECONDS:g} s"
                )
            return
        self._reload_pending = False
        self.reloads += 1
        log.info("Prometheus reloaded the rules of %s", self.path)
        if self._current is not None:  # not after a restore: the SLAs' rules
            self._refused = None  # are not loaded, and may be tried again
            if self._trouble is not None:
                self._recovered()

    def _restore(self, exc: ReloadFailed) -> None:
        """Put the previous file back: Prometheus refused the new one."""
        self._refused, self._current = self._current, None
        restored = self._previous if self._previous is not None else EMPTY_RULES
        try:
            write_atomically(self.path, restored)
        except OSError as error:
            self._report(
                f"Prometheus refused the new rules ({exc}) and {self.path} could "
                f"not be restored: {error.strerror}"
            )
            return
        self._report(
            f"Prometheus refused the new rules ({exc}); {self.path} holds the "
            "previous ones again; tried again when an SLA changes"
        )

    def _report(self, text: str) -> None:
        """Log a problem once, until it changes or goes away."""
        if text != self._trouble:
            log.error("rules: %s", text)
            self._trouble = text

    def _recovered(self) -> None:
        log.info("rules: %s is up to date again", self.path)
        self._trouble = None


class NotifyingSlaRepository(SlaRepository):
    """An SLA repository that tells listeners after every change it stores."""

    def __init__(self, inner: SlaRepository) -> None:
        self._inner = inner
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each stored change (in the caller's thread)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def get(self, name: str) -> Sla | None:
        """See ``SlaRepository``."""
        return self._inner.get(name)

    def all(self) -> list[Sla]:
        """See ``SlaRepository``."""
        return self._inner.all()

    def put(self, sla: Sla, expected_version: int | None) -> tuple[Sla, bool]:
        """See ``SlaRepository``."""
        stored, changed = self._inner.put(sla, expected_version)
        if changed:
            self._changed()
        return stored, changed

    def delete(self, name: str, expected_version: int | None) -> None:
        """See ``SlaRepository``."""
        self._inner.delete(name, expected_version)
        self._changed()


class RuleFileSyncer:
    """Runs a :class:`RuleFileSync` at once, on every wake-up, and every poll."""

    def __init__(self, sync: RuleFileSync, poll_seconds: float = POLL_SECONDS) -> None:
        self.sync = sync
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sla-rules", daemon=True)
        self._broken = False

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def wake(self) -> None:
        """Sync soon (an SLA changed)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop and wait for the sync under way (up to 35 s: one reload)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=35)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._sync_once()
            self._wake.wait(self._poll)

    def _sync_once(self) -> None:
        try:
            self.sync.sync()
        except Exception:  # a bug must not end the thread; one traceback only
            if not self._broken:
                log.exception("rule file sync crashed; retrying every poll")
            self._broken = True
        else:
            self._broken = False


def rule_file_syncer(
    definitions: SlaDefinitions,
    repository: NotifyingSlaRepository,
    config: SlaManagerConfig,
    _schema: None = None,
) -> Iterator[RuleFileSyncer | None]:
    """Keep ``MONITORING_RULES_FILE`` up to date until shutdown; None if unset.

    ``_schema`` orders the start after the schema's migration.
    """
    if config.rules_file is None:
        yield None
        return
    reloader = (
        None
        if config.prometheus_reload_url is None
        else PrometheusReloader(
            config.prometheus_reload_url, config.prometheus_timeout_seconds
        )
    )
    sync = RuleFileSync(
        definitions.list_slas,
        config.rules_file,
        reloader,
        stale_after_seconds(config.refresh_seconds),
    )
    syncer = RuleFileSyncer(sync)
    repository.subscribe(syncer.wake)
    syncer.start()
    try:
        yield syncer
    finally:
        syncer.stop()
