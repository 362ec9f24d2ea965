"""Duration arguments of ``monitoring sla``, checked before they are sent.

A window or horizon is judged in whole slices of each objective (ADR 0020): one
that is not a whole number of every objective's slices is refused here rather
than rounded by the server and shown as something else than was asked.
"""

import math
from collections.abc import Sequence

from adapters.grpc.generated import sla_manager_pb2 as pb
from apps.sla.sla_files import InputError
from monitoring_core.durations import format_duration, parse_duration
from monitoring_core.errors import InvalidDuration


def duration_argument(flag: str, text: str) -> int:
    """Seconds of the positive duration given to ``flag`` (``--horizon 10m``).

    Raises:
        InputError: not a duration, or not positive.
    """
    cleaned = text.strip()
    try:
        seconds = parse_duration(cleaned.removeprefix("-"))
    except InvalidDuration as exc:
        raise InputError(f"{flag} {text}: {exc}") from None
    if cleaned.startswith("-"):
        raise InputError(f"{flag} {text}: {flag.lstrip('-')} must be positive")
    return seconds


def window_arguments(text: str) -> list[tuple[str, int]]:
    """The comma-separated ``--window`` list: each window as given and in seconds.

    Raises:
        InputError: an empty list, or an item that is not a positive duration.
    """
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise InputError(f"--window {text!r}: give at least one window, e.g. 1h,3h")
    return [(part, duration_argument("--window", part)) for part in parts]


def check_whole_slices(
    flag: str, given: Sequence[tuple[str, int]], sla: pb.Sla
) -> None:
    """Refuse a duration that is not a whole number of every objective's slices.

    Raises:
        InputError: naming the first objective whose slices do not fit, and the
            smallest step that fits them all.
    """
    slices = [parse_duration(o.slice or "1m") for o in sla.objectives]
    for text, seconds in given:
        for index, size in enumerate(slices):
            if seconds % size:
                step = format_duration(math.lcm(*slices))
                raise InputError(
                    f"{flag} {text}: objectives[{index}] of {sla.name} is judged in "
                    f"{format_duration(size)} slices; give a whole number of every "
                    f"objective's slices (a multiple of {step})"
                )
