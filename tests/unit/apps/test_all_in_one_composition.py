"""``monitoring run`` composes the service containers and swaps only the transport."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from dependency_injector import providers
from falcon import testing

from apps.run.config import load_run_config
from apps.run.containers import AllInOneContainer
from tests.support.factories import KEY, window_stats

BUILDERS = (
    providers.Singleton,
    providers.Factory,
    providers.Callable,
    providers.Resource,
)


def test_the_all_in_one_container_builds_no_use_case_itself() -> None:
    built = {
        p.provides
        for p in AllInOneContainer.cls_providers.values()
        if isinstance(p, BUILDERS)
    }
    modules = {getattr(b, "__module__", "") for b in built}
    assert modules  # it does build the shared transport: bus, feed, store
    assert not {m for m in modules if m.startswith("monitoring_core.services")}
    assert not {m for m in modules if m.startswith(("apps.etl", "apps.storage"))}
    assert "adapters.rest.api" not in modules and "adapters.grpc.service" not in modules


@pytest.fixture
def container(tmp_path: Path) -> Iterator[AllInOneContainer]:
    config = load_run_config(
        {
            "MONITORING_DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
            "MONITORING_GRPC_PORT": "0",
        }
    )
    built = AllInOneContainer(config=config)
    built.init_resources()
    yield built
    built.shutdown_resources()


def test_results_the_etl_publishes_reach_the_rest_api_through_the_bus(
    container: AllInOneContainer,
) -> None:
    container.etl.cycle()  # built from the ETL container, with the bus swapped in
    container.etl.publisher().publish([window_stats()])
    assert container.storage.ingest().step() == 1
    client = testing.TestClient(container.api.app())
    answer = client.simulate_get("/v1/series")
    assert answer.status_code == 200 and KEY.name in answer.text
    # One /metrics for the whole process: the storage's metrics are in the API's.
    assert "monitoring_storage_batch_size" in client.simulate_get("/metrics").text


def test_one_process_opens_no_kafka_topic_and_no_extra_port(
    container: AllInOneContainer,
) -> None:
    assert container.etl.publisher() is container.bus()
    assert container.storage.feed() is container.feed()
    assert container.etl.topic() is None and container.storage.prepared() is None
    assert container.etl.metrics_server() is None and container.sla.metrics() is None
    assert container.sla.server().port > 0  # gRPC is still served


def test_the_services_share_one_store_source_and_registry(
    container: AllInOneContainer,
) -> None:
    assert container.sla.forecasts() is container.store()
    assert container.storage.store() is container.store()
    assert container.api.store() is container.store()
    assert container.sla.source() is container.etl.source()
    assert container.etl.registry() is container.registry()
