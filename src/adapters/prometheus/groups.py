"""Groups of series one query covers: one metric name and how it is analysed."""

from collections.abc import Sequence

from adapters.prometheus.promql import names_selector
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesInfo, SeriesKey, ValueKind

Group = tuple[str, ValueKind, list[SeriesInfo]]


def common_labels(members: Sequence[SeriesInfo]) -> list[tuple[str, str]]:
    """The label pairs every member has."""
    common = set(members[0].key.labels)
    for info in members[1:]:
        common &= set(info.key.labels)
    return sorted(common)


def group_selector(name: str, members: Sequence[SeriesInfo]) -> Selector:
    """Name plus every label pair the members share: narrow, yet covers them all."""
    return names_selector([name], common_labels(members))


def native_group(
    kind: ValueKind, members: Sequence[SeriesInfo], natives: set[SeriesKey]
) -> bool:
    """Native histograms analysed as rates: every member is one (ADR 0016)."""
    return kind is ValueKind.PER_SECOND_RATE and all(m.key in natives for m in members)


def unanalysed(batches: list[list[Group]], natives: set[SeriesKey]) -> set[SeriesKey]:
    """The native histograms that no query analyses: those not typed histogram."""
    analysed = {
        m.key
        for batch in batches
        for _, kind, members in batch
        if native_group(kind, members, natives)
        for m in members
    }
    wanted = {m.key for batch in batches for _, _, members in batch for m in members}
    return (natives & wanted) - analysed


def plain_query(batch: list[Group]) -> str:
    """The latest sample of every series of a batch, as stored."""
    members = [m for _, _, group in batch for m in group]
    return names_selector(
        sorted({name for name, _, _ in batch}), common_labels(members)
    ).to_promql()
