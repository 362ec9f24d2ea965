"""A private, real Kafka broker (KRaft) from the cached jars, for outage tests."""

import base64
import contextlib
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from confluent_kafka.admin import AdminClient

from tests.support.servers import ROOT

JARS = Path(
    os.environ.get("MONITORING_KAFKA_JARS", "/var/cache/monitoring/kafka-4.1.1")
)


def _properties(folder: Path, port: int, controller: int) -> Path:
    path = folder / "server.properties"
    path.write_text(f"""process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.bootstrap.servers=127.0.0.1:{controller}
log.dirs={folder / "data"}
num.partitions=2
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
""")
    return path


def _java(*args: str) -> list[str]:
    log4j = ROOT / "scripts" / "kafka" / "log4j2.yaml"
    return [
        "java",
        "-Xmx384m",
        f"-Dlog4j2.configurationFile={log4j}",
        f"-Dkafka.logs.dir={args[0]}",
        "-cp",
        f"{JARS}/*",
        *args[1:],
    ]


@contextlib.contextmanager
def private_kafka(folder: Path, port: int, controller: int) -> Iterator[str]:
    """Format and start a one-node broker on loopback; stop it on exit."""
    props = _properties(folder, port, controller)
    cluster = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    subprocess.run(
        _java(
            str(folder),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            # One form: a random id may start with "-" (1 in 64), which
            # "-t ID" would take for an option.
            f"--cluster-id={cluster}",
            "-c",
            str(props),
        ),
        check=True,
        capture_output=True,
    )
    log = (folder / "kafka.log").open("w")
    process = subprocess.Popen(
        _java(str(folder), "kafka.Kafka", str(props)),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    bootstrap = f"127.0.0.1:{port}"
    try:
        _wait_ready(bootstrap, process)
        yield bootstrap
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def _wait_ready(bootstrap: str, process: subprocess.Popen[bytes]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kafka exited with {process.returncode}")
        with contextlib.suppress(Exception):
            if admin.list_topics(timeout=2).brokers:
                return
        time.sleep(0.5)
    raise RuntimeError(f"kafka at {bootstrap} not ready in 90s")
