"""Log formats: JSON lines for services, plain lines for ``monitoring run``."""

import io
import json
import logging
from collections.abc import Iterator

import pytest

from apps.logs import configure_logging, use_human_format


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """Where the handler writes (set up in the test: pytest swaps sys.stderr
    between set-up and call); the root logger restored afterwards."""
    out = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("alembic").level)
    yield out
    root.handlers[:], root.level = saved[0], saved[1]
    logging.getLogger("alembic").setLevel(saved[2])


def _configure(out: io.StringIO) -> None:
    configure_logging("INFO")
    for handler in logging.getLogger().handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(out)


def test_services_log_json_lines(stream: io.StringIO) -> None:
    _configure(stream)
    logging.getLogger("apps.sla.main").info("listening on %s", "127.0.0.1:1")
    [line] = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "info",
        "apps.sla.main",
        "listening on 127.0.0.1:1",
    )


def test_the_human_format_is_plain_and_hides_migration_progress(
    stream: io.StringIO,
) -> None:
    _configure(stream)
    use_human_format()
    logging.getLogger("alembic.runtime.migration").info("Running upgrade -> 0001")
    logging.getLogger("alembic.runtime.migration").warning("a real problem")
    logging.getLogger("apps.run.main").warning("the REST API listens on 0.0.0.0:1")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(" warning  migration: a real problem")
    assert lines[1].endswith(" warning  main: the REST API listens on 0.0.0.0:1")
    assert not any(line.startswith("{") for line in lines)


def test_alembic_plugin_set_up_is_never_logged(stream: io.StringIO) -> None:
    _configure(stream)
    logging.getLogger("alembic.runtime.plugins").info("setup plugin x")
    assert stream.getvalue() == ""
