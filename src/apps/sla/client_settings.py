"""How a client reaches the SLA manager: ``MONITORING_SLA_*`` variables.

Shared by the ``monitoring sla`` CLI and the ETL (which asks for the SLA set).
"""

from pathlib import Path

import attrs

from adapters.grpc.client import SlaClient
from apps.env import Env

DEFAULT_ADDRESS = "127.0.0.1:50051"
ADDRESS_PATTERN = r"\S+:\d+"
"""``host:port`` (a name, an IPv4 address or a bracketed IPv6 one, then a port)."""
TOKEN_PATTERN = r"[\x21-\x7e]{0,512}"
"""Printable ASCII without spaces: a bearer token as it goes in metadata."""


@attrs.frozen(kw_only=True)
class SlaClientSettings:
    """Address, credentials and TLS of the SLA manager, validated."""

    address: str
    token: str | None = attrs.field(repr=False, default=None)
    ca_file: Path | None = None
    tls: bool = False
    server_name: str | None = None

    def client(self, timeout_seconds: float = 30.0) -> SlaClient:
        """A client with these settings."""
        return SlaClient(
            self.address,
            token=self.token,
            ca_file=self.ca_file,
            tls=self.tls,
            server_name=self.server_name,
            timeout_seconds=timeout_seconds,
        )


def read_sla_client_settings(env: Env, default_address: str) -> SlaClientSettings:
    """Read the variables; problems are collected in ``env.errors``."""
    address = env.text(
        "MONITORING_SLA_ADDRESS", default_address, f"({ADDRESS_PATTERN})?", "host:port"
    )
    token = env.text(
        "MONITORING_SLA_TOKEN", "", TOKEN_PATTERN, "printable ASCII without spaces"
    )
    ca = env.text("MONITORING_SLA_TLS_CA", "")
    if ca and not Path(ca).is_file():
        env.errors.append(f"MONITORING_SLA_TLS_CA={ca!r}: no such file")
    return SlaClientSettings(
        address=address,
        token=token or None,
        ca_file=Path(ca) if ca else None,
        tls=env.flag("MONITORING_SLA_TLS", False),
        server_name=env.text("MONITORING_SLA_TLS_SERVER_NAME", "") or None,
    )
