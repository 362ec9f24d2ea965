"""The ETL's view of the SLA set: which series the SLA manager needs forecast."""

from collections.abc import Sequence

from adapters.grpc.client import SlaClient
from monitoring_core.selectors import Selector


class SlaForecastTargets:
    """A ``ForecastTargets`` callable asking the SLA manager over gRPC.

    Failures raise ``SlaManagerUnavailable``; the ETL cycle then keeps using the
    last answer, so an SLA manager outage does not stop forecasting.
    """

    def __init__(self, client: SlaClient) -> None:
        self._client = client

    def __call__(self) -> Sequence[Selector]:
        """The selectors of every objective of every SLA."""
        return self._client.forecast_targets()
