"""A private MariaDB that a test may stop and start (outage tests)."""

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.prometheus import free_port


class PrivateMariaDb:
    """One ``mariadbd`` on a free loopback port with its own data directory."""

    def __init__(self) -> None:
        # Under /tmp with short names: mysql must traverse it, sockets <= 107 bytes.
        self.folder = Path(tempfile.mkdtemp(prefix="mdb-", dir="/tmp"))
        self.folder.chmod(0o755)
        self.port = free_port()
        self._config = self.folder / "my.cnf"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``monitoring`` database."""
        return f"mysql+pymysql://monitoring:monitoring@127.0.0.1:{self.port}/monitoring"

    def install(self) -> None:
        """Initialise the data directory, start, and create the user and database."""
        self._config.write_text(f"""[mysqld]
user = mysql
datadir = {self.folder}/data
socket = {self.folder}/s.sock
pid-file = {self.folder}/m.pid
log-error = {self.folder}/m.log
port = {self.port}
bind-address = 127.0.0.1
skip-name-resolve
innodb_flush_log_at_trx_commit = 2
[client]
socket = {self.folder}/s.sock
""")
        shutil.chown(self.folder, "mysql", "mysql")
        subprocess.run(
            [
                "mariadb-install-db",
                f"--defaults-file={self._config}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
        )
        self.start()
        self._sql(
            "CREATE DATABASE monitoring; "
            "CREATE USER 'monitoring'@'127.0.0.1' IDENTIFIED BY 'monitoring'; "
            "GRANT ALL ON monitoring.* TO 'monitoring'@'127.0.0.1';"
        )

    def _sql(self, statements: str) -> None:
        subprocess.run(
            [
                "mariadb",
                f"--defaults-file={self._config}",
                "--user=root",
                "-e",
                statements,
            ],
            check=True,
            capture_output=True,
        )

    def start(self, timeout: float = 60) -> None:
        """Start the server and wait until it answers."""
        self._process = subprocess.Popen(
            ["mariadbd", f"--defaults-file={self._config}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ping = subprocess.run(
                [
                    "mariadb-admin",
                    f"--defaults-file={self._config}",
                    "--user=root",
                    "ping",
                ],
                capture_output=True,
            )
            if ping.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"private mariadb not ready in {timeout}s")

    def stop(self) -> None:
        """Shut the server down (connections are refused until ``start``)."""
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=60)
            self._process = None

    def remove(self) -> None:
        """Stop and delete everything."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def private_mariadb() -> Iterator[PrivateMariaDb]:
    """A fresh private server, removed afterwards."""
    server = PrivateMariaDb()
    try:
        server.install()
        yield server
    finally:
        server.remove()
