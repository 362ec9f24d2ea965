"""The in-memory metric source passes the SampleSource contract."""

import pytest

from adapters.in_memory.metric_source import InMemoryMetricSource
from monitoring_core.ports import SampleSource
from tests.contracts.sample_source_contract import SampleSourceContract
from tests.support import dataset


class TestInMemorySampleSource(SampleSourceContract):
    @pytest.fixture
    def sample_source(self) -> SampleSource:
        fake = InMemoryMetricSource()
        for key, (kind, samples) in dataset.build().items():
            fake.add(key, samples, kind)
        return fake
