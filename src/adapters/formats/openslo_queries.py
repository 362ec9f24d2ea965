"""The ratio SLI of an SLO document read back into a selector and its range.

Only the per-slice queries that :mod:`adapters.formats.openslo` writes are read
(whitespace aside): any other PromQL is refused, since the SLA manager judges a
selector's raw samples and cannot run an arbitrary query.
"""

import math
import re

import attrs

from adapters.formats.openslo import OpenSloError, total_query
from adapters.formats.openslo_fields import Fields
from monitoring_core.durations import format_duration, parse_duration
from monitoring_core.errors import InvalidDuration

_SIDE = (
    r"\((?P<f{n}>max|min)_over_time\((?P<s{n}>.+?)\[(?P<d{n}>[0-9a-z]+)\] offset 1ms\)"
    r" (?P<o{n}><=|>=) bool (?P<v{n}>[^\s()]+)\)"
)
_GOOD = re.compile(f"{_SIDE.format(n=1)}(?: \\* {_SIDE.format(n=2)})?")
_FORM = (
    "(max_over_time(SELECTOR[SLICE] offset 1ms) <= bool HI) * "
    "(min_over_time(SELECTOR[SLICE] offset 1ms) >= bool LO), either side alone for "
    "a one-sided range"
)


@attrs.frozen(kw_only=True)
class ReadQueries:
    """What an SLI's queries say: selector, slice length and range."""

    selector: str
    step: str
    lo: float | None
    hi: float | None


class SliQueries:
    """The SLI documents of a file, by name, and which SLOs used them."""

    def __init__(self, slis: dict[str, Fields]) -> None:
        self._slis = slis
        self._used: set[str] = set()

    def ratio(self, spec: Fields) -> Fields:
        """The ``ratioMetric`` of an SLO's inline indicator or its indicatorRef."""
        if "indicator" in spec.data and "indicatorRef" in spec.data:
            raise spec.error("indicatorRef", "give indicator or indicatorRef, not both")
        if "indicator" in spec.data:
            indicator = spec.child("indicator")
            indicator.only("metadata", "spec")
            indicator.child("metadata").only("name")
            inline = indicator.child("spec")
            inline.only("ratioMetric")
            return inline.child("ratioMetric")
        name = spec.text("indicatorRef")
        if name not in self._slis:
            raise spec.error("indicatorRef", "no SLI document of that name")
        self._used.add(name)
        return self._slis[name].child("ratioMetric")

    def check_all_used(self) -> None:
        """Refuse an SLI no SLO uses: no SLA would keep it."""
        for name, spec in self._slis.items():
            if name not in self._used:
                raise OpenSloError(f"{spec.label}: no SLO uses this SLI")


def _query(ratio: Fields, side: str) -> str:
    source = ratio.child(side).child("metricSource")
    ratio.child(side).only("metricSource")
    source.only("type", "spec")
    if source.text("type") != "Prometheus":
        raise source.error("type", "only Prometheus")
    spec = source.child("spec")
    spec.only("query")
    return " ".join(spec.text("query").split())


def _bound(good: Fields, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise good.error("query", f"the bound {text!r} is not a finite number")
    return value


def _sides(good: Fields, match: re.Match[str]) -> tuple[str, str, dict[str, float]]:
    """Selector, slice and bounds of a good query; refuses a mixed-up one."""
    bounds: dict[str, float] = {}
    seen = {(match["s1"], match["d1"])}
    for n in ("1", "2"):
        if match[f"f{n}"] is None:
            continue
        seen.add((match[f"s{n}"], match[f"d{n}"]))
        pair = (match[f"f{n}"], match[f"o{n}"])
        side = {("max", "<="): "hi", ("min", ">="): "lo"}.get(pair)
        if side is None or side in bounds:
            raise good.error("query", f"not a query this reads; expected {_FORM}")
        bounds[side] = _bound(good, match[f"v{n}"])
    if len(seen) != 1:
        raise good.error("query", "both sides must use the same selector and slice")
    return match["s1"], match["d1"], bounds


def read_queries(spec: Fields, queries: SliQueries, slice_seconds: int) -> ReadQueries:
    """Selector, slice and range of an SLO's SLI; the slice must be the SLO's.

    Raises:
        OpenSloError: naming the query that is not of the written form.
    """
    ratio = queries.ratio(spec)
    ratio.only("counter", "good", "total")
    if ratio.data.get("counter", False) is not False:
        raise ratio.error("counter", "must be false: the events are slices")
    good_text, total_text = _query(ratio, "good"), _query(ratio, "total")
    good = ratio.child("good").child("metricSource").child("spec")
    found = _GOOD.fullmatch(good_text)
    if not found:
        raise good.error("query", f"not a query this reads; expected {_FORM}")
    selector, step, bounds = _sides(good, found)
    total = ratio.child("total").child("metricSource").child("spec")
    if total_text != total_query(selector, step):
        raise total.error(
            "query", f"expected {total_query(selector, step)} (slices with a sample)"
        )
    try:
        seconds = parse_duration(step)
    except InvalidDuration as exc:
        raise good.error("query", str(exc)) from None
    if seconds != slice_seconds:
        raise good.error(
            "query",
            f"judges {step} slices but timeSliceWindow is "
            f"{format_duration(slice_seconds)}",
        )
    return ReadQueries(
        selector=selector, step=step, lo=bounds.get("lo"), hi=bounds.get("hi")
    )
