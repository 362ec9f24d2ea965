"""Where each service command's settings come from, for its ``--help``.

The variables listed are the ones the command's own loader reads: it is run on
an empty, recording environment when (and only when) the help is printed, so
the list follows the code instead of a copy kept beside it.
"""

import argparse
import contextlib
import importlib
from collections.abc import Iterator, Mapping

import attrs

from apps.env import ConfigError
from apps.settings import DEFAULT_SLA_ADDRESS, LOG_LEVEL, SLA_ADDRESS

SHARED = "Shared by the services that read Prometheus or the database"


class _Recorder(Mapping[str, str]):
    """An environment that answers defaults (or ``given``) and records names."""

    def __init__(self, given: Mapping[str, str]) -> None:
        self._given = given
        self.names: list[str] = []

    def get(self, key: str, default: object = None) -> str:
        if key not in self.names:
            self.names.append(key)
        return self._given.get(key, "" if default is None else str(default))

    def __getitem__(self, key: str) -> str:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@attrs.frozen
class ServiceSettings:
    """A command's configuration loader and its README tables.

    Attributes:
        loader: ``module:function`` taking an environment mapping.
        tables: titles of the README "Configuration" tables that describe it.
        given: values that make the loader read its conditional variables.
    """

    loader: str
    tables: tuple[str, ...]
    given: Mapping[str, str] = attrs.field(factory=dict)

    def variables(self) -> list[str]:
        """Every ``MONITORING_*`` variable the loader reads, in reading order."""
        module, function = self.loader.split(":")
        recorder = _Recorder(self.given)
        # On a ConfigError the names read so far are still the right ones.
        with contextlib.suppress(ConfigError):
            getattr(importlib.import_module(module), function)(recorder)
        return [*recorder.names, LOG_LEVEL]

    def describe(self) -> str:
        """The help's closing paragraph."""
        quoted = [f'"{t}"' for t in self.tables]
        tables = " and ".join(
            [", ".join(quoted[:-1]), quoted[-1]] if quoted[1:] else quoted
        )
        return (
            "Configuration: MONITORING_* environment variables, described with "
            f'their defaults in README.md, section "Configuration", tables '
            f"{tables}. This command reads: {', '.join(self.variables())}."
        )


SERVICES = {
    "etl": ServiceSettings(
        "apps.etl.config:load_etl_config",
        (SHARED, "ETL", "SLA client"),
        {SLA_ADDRESS: DEFAULT_SLA_ADDRESS},
    ),
    "storage": ServiceSettings(
        "apps.storage.config:load_storage_config", (SHARED, "Storage")
    ),
    "api": ServiceSettings(
        "apps.api.config:load_api_config",
        (SHARED, "REST API", "ETL", "SLA client"),
        {SLA_ADDRESS: DEFAULT_SLA_ADDRESS},
    ),
    "sla-manager": ServiceSettings(
        "apps.sla.config:load_sla_manager_config", (SHARED, "SLA manager")
    ),
    "run": ServiceSettings(
        "apps.run.config:load_run_config",
        (SHARED, "ETL", "Storage", "REST API", "SLA manager", "SLA client"),
    ),
}
"""Each service command and where its settings come from."""


class ServiceParser(argparse.ArgumentParser):
    """An ArgumentParser whose help ends with the settings its command reads."""

    settings: ServiceSettings | None = None

    def format_help(self) -> str:
        """The usual help; a service's configuration paragraph is added lazily."""
        if self.settings is not None and self.epilog is None:
            self.epilog = self.settings.describe()
        return super().format_help()
