"""Errors the core raises and the adapters translate their library errors into."""


class MonitoringError(Exception):
    """Base class of every error the domain knows about."""


class InvalidSelector(MonitoringError, ValueError):
    """A series selector that is not valid PromQL selector syntax."""


class InvalidDuration(MonitoringError, ValueError):
    """A duration such as ``1h`` or ``10m`` that cannot be parsed."""


class SourceUnavailable(MonitoringError):
    """The metric source (Prometheus) could not be reached or answered an error."""


class PublishError(MonitoringError):
    """Results could not be handed to the result bus."""


class StoreUnavailable(MonitoringError):
    """The result store (the database) could not be reached or refused a write."""


class InvalidSla(MonitoringError, ValueError):
    """An SLA definition with wrong fields; ``fields`` maps each to its reason."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__(
            "; ".join(f"{field}: {reason}" for field, reason in self.fields.items())
        )


class SlaNotFound(MonitoringError, LookupError):
    """No SLA of that name is stored."""


class VersionConflict(MonitoringError):
    """The stored SLA changed since the version the caller based its change on."""


class SlaManagerUnavailable(MonitoringError):
    """The SLA manager could not be reached or refused the call."""
