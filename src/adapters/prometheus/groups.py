"""Groups of series one query covers: one metric name and how it is analysed."""

from collections.abc import Sequence

from adapters.prometheus.promql import any_of, names_selector
from monitoring_core.selectors import Selector
from monitoring_core.series import SeriesInfo, SeriesKey, ValueKind

Group = tuple[str, ValueKind, list[SeriesInfo]]


def common_labels(members: Sequence[SeriesInfo]) -> list[tuple[str, str]]:
    """The label pairs every member has."""
    common = set(members[0].key.labels)
    for info in members[1:]:
        common &= set(info.key.labels)
    return sorted(common)


MAX_NARROWING_VALUES = 1000
"""Above this many values of the narrowing label, a query is not narrowed."""


def narrowed(
    selector: Selector, members: Sequence[SeriesInfo], label: str | None
) -> Selector:
    """``selector`` plus ``label=~"v1|v2"`` when the members hold several values
    of ``label``: a sharded worker reads its share of a metric, not all of it
    (ADR 0055). Unchanged without a label, or with one value (then it is
    already among the shared labels) or very many."""
    if label is None:
        return selector
    values = sorted(
        {next((v for k, v in m.key.labels if k == label), "") for m in members}
    )
    if not 2 <= len(values) <= MAX_NARROWING_VALUES:
        return selector
    return Selector((*selector.matchers, any_of(label, values)))


def group_selector(
    name: str, members: Sequence[SeriesInfo], narrow_label: str | None = None
) -> Selector:
    """Name plus every label pair the members share: narrow, yet covers them all."""
    return narrowed(
        names_selector([name], common_labels(members)), members, narrow_label
    )


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


def plain_query(batch: list[Group], narrow_label: str | None = None) -> str:
    """The latest sample of every series of a batch, as stored."""
    members = [m for _, _, group in batch for m in group]
    selector = names_selector(
        sorted({name for name, _, _ in batch}), common_labels(members)
    )
    return narrowed(selector, members, narrow_label).to_promql()
