"""SLA definitions: a named set of range objectives, and their validation.

An SLA arrives as a *draft* (what a client or a YAML file said, unchecked) and is
turned into an :class:`Sla` by :func:`validate_sla`, which reports every wrong
field at once so that nothing partial is ever stored.
"""

import math
import re
from collections.abc import Sequence
from datetime import datetime

import attrs

from monitoring_core.alerting import AlertingPolicy
from monitoring_core.durations import format_duration, parse_duration
from monitoring_core.errors import (
    InvalidDuration,
    InvalidSelector,
    InvalidSla,
    SlaNotFound,
    VersionConflict,
)
from monitoring_core.selectors import MatchOp, Selector, parse_selector
from monitoring_core.slo import AllowedRange, ObjectiveKind

NAME_PATTERN = re.compile(r"[a-z0-9]([a-z0-9._-]*[a-z0-9])?")
"""Like a Kubernetes object name: lower case, digits, ``.``, ``_`` and ``-``."""


@attrs.frozen(kw_only=True)
class SlaLimits:
    """Bounds on what one SLA may hold, so one request cannot exhaust the server.

    Attributes:
        max_objectives: objectives per SLA (100: the minute refresh of 100
            objectives costs less than Prometheus handing over their raw 12 h
            samples, bench/sla_violations.py, ADR 0046).
        max_name_length: characters in an SLA name.
        max_selector_length: characters in one selector.
        max_description_length: characters in the free-text description.
        min_slice_seconds, max_slice_seconds: allowed slice lengths.
        max_window_seconds: the longest compliance window.
        max_slices_per_window: ``window / slice`` at most (work per evaluation).
    """

    max_objectives: int = 100
    max_name_length: int = 63
    max_selector_length: int = 1024
    max_description_length: int = 1024
    min_slice_seconds: int = 10
    max_slice_seconds: int = 3600
    max_window_seconds: int = 35 * 86400
    max_slices_per_window: int = 50_400


@attrs.frozen(kw_only=True)
class ObjectiveDraft:
    """One objective as given, unchecked; durations as text such as ``12h``."""

    selector: str
    lo: float | None = None
    hi: float | None = None
    target: float = math.nan
    window: str = ""
    slice: str = "1m"
    allow_pending: bool = False


@attrs.frozen(kw_only=True)
class AlertingDraft:
    """An SLA's alerting settings as given, unchecked (ADR 0049).

    None and empty text stand for the defaults of :class:`AlertingPolicy`;
    ``predicted_breach_for`` may be ``0`` (fire at once).
    """

    predicted_breach_probability: float | None = None
    predicted_breach_for: str = ""
    predicted_breach_horizon: str = ""


@attrs.frozen(kw_only=True)
class SlaDraft:
    """An SLA as given, unchecked."""

    name: str
    objectives: tuple[ObjectiveDraft, ...]
    description: str = ""
    alerting: AlertingDraft = attrs.field(factory=AlertingDraft)


@attrs.frozen(kw_only=True)
class Objective:
    """A range objective over every series one selector matches.

    Attributes:
        selector: a metric name plus exact (``=``) label matchers.
        allowed: the allowed range; a value on a bound is good.
        target: the share of good slices required, in (0, 1).
        window_seconds: the rolling compliance window.
        slice_seconds: the slice length; divides the window.
        allow_pending: whether the selector may match no series yet.
    """

    selector: Selector
    allowed: AllowedRange
    target: float
    window_seconds: int
    slice_seconds: int = 60
    allow_pending: bool = False

    @property
    def kind(self) -> ObjectiveKind:
        """What the SLO maths judges the series by: here the allowed range."""
        return self.allowed

    def describe(self) -> str:
        """One line, e.g. ``node_load1{instance="a"} in [0, 4] 99 % over 12h``."""
        lo = "-inf" if self.allowed.lo is None else f"{self.allowed.lo:g}"
        hi = "+inf" if self.allowed.hi is None else f"{self.allowed.hi:g}"
        return (
            f"{self.selector.to_promql()} in [{lo}, {hi}] "
            f"{self.target:.4%} over {format_duration(self.window_seconds)}"
        )


@attrs.frozen(kw_only=True)
class Sla:
    """A stored SLA.

    Attributes:
        name: unique, DNS-label-like.
        objectives: at least one; no two alike.
        description: free text.
        alerting: how its generated rules alert on predictions (ADR 0049).
        version: increases on every change; 0 before it is first stored.
        updated_at: when the stored version was written.
    """

    name: str
    objectives: tuple[Objective, ...]
    description: str = ""
    alerting: AlertingPolicy = attrs.field(factory=AlertingPolicy)
    version: int = 0
    updated_at: datetime | None = None

    def same_definition(self, other: "Sla") -> bool:
        """Whether both define the same thing, whatever their versions."""
        return (self.name, self.objectives, self.description, self.alerting) == (
            other.name,
            other.objectives,
            other.description,
            other.alerting,
        )


def _check_name(draft: SlaDraft, limits: SlaLimits, errors: dict[str, str]) -> None:
    if len(draft.name) > limits.max_name_length:
        errors["name"] = f"longer than {limits.max_name_length} characters"
    elif not NAME_PATTERN.fullmatch(draft.name):
        errors["name"] = (
            "must be lower-case letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    if len(draft.description) > limits.max_description_length:
        errors["description"] = (
            f"longer than {limits.max_description_length} characters"
        )


def _selector(text: str, limits: SlaLimits) -> Selector:
    if len(text) > limits.max_selector_length:
        raise InvalidSelector(f"longer than {limits.max_selector_length} characters")
    selector = parse_selector(text)
    if selector.metric_name is None:
        raise InvalidSelector(f"{text!r} must name a metric, e.g. node_load1{{...}}")
    inexact = [m for m in selector.matchers if m.op is not MatchOp.EQ]
    if inexact:
        raise InvalidSelector(
            f"only exact label matchers (=) are allowed, not {inexact[0].to_promql()}"
        )
    # Canonical order (name, then labels sorted): the same selector written
    # another way is the same definition, so re-applying it changes nothing.
    name, *labels = sorted(selector.matchers, key=lambda m: m.label != "__name__")
    return Selector((name, *sorted(labels, key=lambda m: (m.label, m.value))))


def _range(draft: ObjectiveDraft, errors: dict[str, str], at: str) -> AllowedRange:
    for side in ("lo", "hi"):
        value = getattr(draft, side)
        if value is not None and not math.isfinite(value):
            errors[f"{at}.{side}"] = f"must be a finite number, not {value}"
    if draft.lo is None and draft.hi is None:
        errors[f"{at}.lo"] = "give lo, hi or both: an objective needs a bound"
    elif draft.lo is not None and draft.hi is not None and draft.lo > draft.hi:
        errors[f"{at}.lo"] = f"lo ({draft.lo:g}) is above hi ({draft.hi:g})"
    return AllowedRange(lo=draft.lo, hi=draft.hi)


def _durations(
    draft: ObjectiveDraft, limits: SlaLimits, errors: dict[str, str], at: str
) -> tuple[int, int]:
    window = slice_ = 0
    try:
        window = parse_duration(draft.window)
        if window > limits.max_window_seconds:
            errors[f"{at}.window"] = (
                f"longer than {format_duration(limits.max_window_seconds)}"
            )
    except InvalidDuration as exc:
        errors[f"{at}.window"] = str(exc)
    try:
        slice_ = parse_duration(draft.slice)
        if not limits.min_slice_seconds <= slice_ <= limits.max_slice_seconds:
            errors[f"{at}.slice"] = (
                f"must be between {format_duration(limits.min_slice_seconds)} "
                f"and {format_duration(limits.max_slice_seconds)}"
            )
    except InvalidDuration as exc:
        errors[f"{at}.slice"] = str(exc)
    if window and slice_ and f"{at}.window" not in errors:
        if window % slice_:
            errors[f"{at}.window"] = (
                f"{draft.window} is not a whole number of {draft.slice} slices"
            )
        elif window // slice_ > limits.max_slices_per_window:
            errors[f"{at}.slice"] = (
                f"{draft.window} holds more than {limits.max_slices_per_window} "
                f"slices of {draft.slice}; use longer slices"
            )
    return window, slice_


def _objective(
    draft: ObjectiveDraft, limits: SlaLimits, errors: dict[str, str], at: str
) -> Objective | None:
    before = len(errors)
    selector = None
    try:
        selector = _selector(draft.selector, limits)
    except InvalidSelector as exc:
        errors[f"{at}.selector"] = str(exc)
    allowed = _range(draft, errors, at)
    if not (math.isfinite(draft.target) and 0.0 < draft.target < 1.0):
        errors[f"{at}.target"] = f"must be strictly between 0 and 1, not {draft.target}"
    window, slice_ = _durations(draft, limits, errors, at)
    if selector is None or len(errors) > before:
        return None
    return Objective(
        selector=selector,
        allowed=allowed,
        target=draft.target,
        window_seconds=window,
        slice_seconds=slice_,
        allow_pending=draft.allow_pending,
    )


def _objectives(
    drafts: Sequence[ObjectiveDraft], limits: SlaLimits, errors: dict[str, str]
) -> list[Objective]:
    if not drafts:
        errors["objectives"] = "an SLA needs at least one objective"
    elif len(drafts) > limits.max_objectives:
        errors["objectives"] = (
            f"{len(drafts)} objectives; at most {limits.max_objectives} are allowed"
        )
        return []
    objectives: list[Objective] = []
    seen: dict[tuple[object, ...], int] = {}
    for index, draft in enumerate(drafts):
        at = f"objectives[{index}]"
        objective = _objective(draft, limits, errors, at)
        if objective is None:
            continue
        same = (
            frozenset(objective.selector.matchers),
            objective.allowed,
            objective.window_seconds,
            objective.slice_seconds,
        )
        if same in seen:
            errors[at] = f"duplicates objectives[{seen[same]}]"
        seen.setdefault(same, index)
        objectives.append(objective)
    return objectives


def _alerting(draft: AlertingDraft, errors: dict[str, str]) -> AlertingPolicy:
    default = AlertingPolicy()
    at = "alerting.predicted_breach"
    probability = draft.predicted_breach_probability
    if probability is None:
        probability = default.predicted_breach_probability
    elif not (math.isfinite(probability) and 0.0 < probability < 1.0):
        errors[f"{at}.probability"] = (
            f"must be strictly between 0 and 1, not {probability}"
        )
        probability = default.predicted_breach_probability
    seconds = {}
    for key, text, fallback in (
        ("for", draft.predicted_breach_for, default.predicted_breach_for_seconds),
        (
            "horizon",
            draft.predicted_breach_horizon,
            default.predicted_breach_horizon_seconds,
        ),
    ):
        seconds[key] = fallback
        if not text:
            continue
        if key == "for" and text.strip() in ("0", "0s"):
            seconds[key] = 0
            continue
        try:
            seconds[key] = parse_duration(text)
        except InvalidDuration as exc:
            errors[f"{at}.{key}"] = str(exc)
    return AlertingPolicy(
        predicted_breach_probability=probability,
        predicted_breach_for_seconds=seconds["for"],
        predicted_breach_horizon_seconds=seconds["horizon"],
    )


def validate_sla(draft: SlaDraft, limits: SlaLimits | None = None) -> Sla:
    """Check a draft completely and build the SLA it describes.

    Two objectives are duplicates when they select the same series with the same
    range, window and slice (a different target alone does not make a new one).

    Raises:
        InvalidSla: listing every wrong field, e.g. ``objectives[0].hi``.
    """
    limits = limits or SlaLimits()
    errors: dict[str, str] = {}
    _check_name(draft, limits, errors)
    objectives = _objectives(draft.objectives, limits, errors)
    alerting = _alerting(draft.alerting, errors)
    if errors:
        raise InvalidSla(errors)
    return Sla(
        name=draft.name,
        objectives=tuple(objectives),
        description=draft.description,
        alerting=alerting,
    )


def next_version(
    stored: Sla | None, sla: Sla, expected_version: int | None, now: datetime
) -> tuple[Sla, bool]:
    """What a repository should store for ``put`` (one rule for every adapter).

    Returns:
        The SLA to store with its new version, and whether anything changed;
        an identical definition keeps the stored version and time.

    Raises:
        VersionConflict: the stored version is not ``expected_version``
            (0 meaning "must not exist yet"; None skips the check).
    """
    current = stored.version if stored else 0
    if expected_version is not None and expected_version != current:
        raise VersionConflict(
            f"SLA {sla.name!r} is at version {current}, not {expected_version}; "
            "get it again and re-apply your change"
        )
    if stored is not None and stored.same_definition(sla):
        return stored, False
    return attrs.evolve(sla, version=current + 1, updated_at=now), True


def deletable(stored: Sla | None, name: str, expected_version: int | None) -> Sla:
    """The stored SLA a repository may delete (one rule for every adapter).

    Raises:
        SlaNotFound: there is no SLA of that name.
        VersionConflict: the stored version is not ``expected_version``.
    """
    if stored is None:
        raise SlaNotFound(f"there is no SLA named {name!r}")
    if expected_version is not None and expected_version != stored.version:
        raise VersionConflict(
            f"SLA {name!r} is at version {stored.version}, not {expected_version}"
        )
    return stored
