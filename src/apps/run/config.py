"""Settings of ``monitoring run``: the four services' own, read from one environment."""

from collections.abc import Callable, Mapping
from typing import TypeVar

import attrs

from apps.api.config import ApiConfig, load_api_config
from apps.env import ConfigError
from apps.etl.config import EtlConfig, load_etl_config
from apps.sla.config import SlaManagerConfig, load_sla_manager_config
from apps.storage.config import StorageConfig, load_storage_config

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class RunConfig:
    """The same settings as the separate services (same variables, same defaults).

    Kafka settings are read but unused: results travel on an in-process bus.
    """

    etl: EtlConfig
    storage: StorageConfig
    api: ApiConfig
    sla: SlaManagerConfig
    progress_cycles: int = 2


def load_run_config(environ: Mapping[str, str] | None = None) -> RunConfig:
    """Read every service's settings; raises ConfigError naming every bad one."""
    problems: list[str] = []

    def load(loader: Callable[[Mapping[str, str] | None], T]) -> T | None:
        try:
            return loader(environ)
        except ConfigError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
            return None

    etl = load(load_etl_config)
    storage = load(load_storage_config)
    api = load(load_api_config)
    sla = load(load_sla_manager_config)
    if etl is None or storage is None or api is None or sla is None:
        raise ConfigError(problems)
    return RunConfig(etl=etl, storage=storage, api=api, sla=sla)
