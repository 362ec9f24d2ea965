"""Settings every test shares: state kept away from the user's own.

The ETL keeps its pending forecasts and cycle markers under the XDG state folder
by default (ADR 0047). The processes the tests start must not read or leave
state in the home folder of whoever runs them, nor carry it from one test run
into the next, so the whole session gets a private, empty state folder; child
processes inherit it through the environment.
"""

import os
import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def private_state_home() -> Iterator[str]:
    """A fresh ``XDG_STATE_HOME`` for the session, removed afterwards."""
    before = os.environ.get("XDG_STATE_HOME")
    with tempfile.TemporaryDirectory(prefix="monitoring-test-state-") as folder:
        os.environ["XDG_STATE_HOME"] = folder
        try:
            yield folder
        finally:
            if before is None:
                os.environ.pop("XDG_STATE_HOME", None)
            else:
                os.environ["XDG_STATE_HOME"] = before
