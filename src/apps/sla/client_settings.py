"""How ``monitoring sla`` reaches the SLA manager: ``MONITORING_SLA_*`` variables.

They are parsed in :mod:`apps.settings`, because the ETL reads them too
(ADR 0023); this module names them for the client CLI.
"""

from apps.settings import ADDRESS_PATTERN, SlaClientSettings, read_sla_client_settings
from apps.settings import DEFAULT_SLA_ADDRESS as DEFAULT_ADDRESS

__all__ = [
    "ADDRESS_PATTERN",
    "DEFAULT_ADDRESS",
    "SlaClientSettings",
    "read_sla_client_settings",
]
