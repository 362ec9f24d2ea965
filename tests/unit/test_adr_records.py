"""The ADR record keeps its form: sections, one index row each, links back."""

import re
from pathlib import Path

import pytest

ADR = Path(__file__).resolve().parents[2] / "ADR"
RECORDS = sorted(ADR.glob("[0-9][0-9][0-9][0-9]-*.md"))
SECTIONS = ["## Context", "## Considered options", "## Decision", "## Consequences"]
LATER = re.compile(r"(?:amended|superseded) by (.*)$", re.IGNORECASE)


def status(record: Path) -> str:
    [line] = [s for s in record.read_text().splitlines() if s.startswith("- Status:")]
    return line


def test_there_are_records_and_each_number_is_used_once() -> None:
    numbers = [r.name[:4] for r in RECORDS]
    assert len(numbers) >= 30
    assert len(numbers) == len(set(numbers))


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.name[:4])
def test_each_record_has_status_date_and_the_four_sections_in_order(
    record: Path,
) -> None:
    lines = record.read_text().splitlines()
    assert lines[0].startswith(f"# {int(record.name[:4])}. ")
    assert status(record).startswith("- Status: ")
    assert any(re.match(r"- Date: \d{4}-\d{2}-\d{2}", s) for s in lines[:6])
    positions = [lines.index(h) for h in SECTIONS if h in lines]
    assert len(positions) == len(SECTIONS), f"{record.name} lacks a section"
    assert positions == sorted(positions)


def test_the_index_lists_every_record_and_only_them() -> None:
    index = (ADR / "README.md").read_text()
    linked = re.findall(r"^\| \[(\d{4})\]\(([^)]+)\)", index, re.MULTILINE)
    assert sorted(linked) == [(r.name[:4], r.name) for r in RECORDS]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.name[:4])
def test_a_later_decision_is_a_record_that_links_back(record: Path) -> None:
    found = LATER.search(status(record))
    later = re.findall(r"\[(\d{4})\]\(([^)]+)\)", found.group(1)) if found else []
    for number, name in later:
        assert (ADR / name).exists() and name.startswith(number)
        assert record.name in (ADR / name).read_text(), f"{name} must link back"
