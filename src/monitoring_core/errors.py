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
