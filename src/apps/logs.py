"""Log set-up: JSON lines for services, plain lines for a person at a terminal."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON, keeping the fields passed through ``extra``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single JSON line."""
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for noisy in ("urllib3", "sktime", "statsmodels", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class HumanFormatter(logging.Formatter):
    """``17:02:03 warning  etl_cycle: message``: one line, like the rest of a demo."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one short line (a traceback, if any, below it)."""
        clock = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        name = record.name.rsplit(".", 1)[-1]
        line = f"{clock} {record.levelname.lower():<8} {name}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def use_human_format() -> None:
    """Switch to plain lines, and hide the schema migrations' progress.

    ``monitoring run`` prints a banner and progress for a person; Alembic's
    "Running upgrade" lines are noise there (its warnings still show).
    """
    for handler in logging.getLogger().handlers:
        handler.setFormatter(HumanFormatter())
    logging.getLogger("alembic").setLevel(logging.WARNING)
