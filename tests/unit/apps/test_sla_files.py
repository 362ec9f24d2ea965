"""SLA files are read strictly: every problem is one line naming its document."""

import io
import sys
from pathlib import Path

import pytest

from apps.sla.sla_files import InputError, read_slas

GOOD = """\
name: web-tier
objectives:
  - selector: 'node_load1{job="node"}'
    hi: 4
    target: 0.99
    window: 1h
"""
OTHER = GOOD.replace("web-tier", "db-tier")


def refusal(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "slas.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as caught:
        read_slas(str(path))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith((f"{path}: ", f"{path} ")), "names the file"
    return message.removeprefix(f"{path}").removeprefix(":").removeprefix(" ")


def test_a_misspelt_objective_key_is_refused_with_its_path_and_a_suggestion(
    tmp_path: Path,
) -> None:
    text = OTHER + "---\n" + GOOD + "    typo_slcie: 5m\n"
    assert refusal(tmp_path, text) == (
        'documents[1] (name "web-tier"): objectives[0].typo_slcie: unknown key; '
        'did you mean "slice"?'
    )


def test_a_misspelt_document_key_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    assert refusal(tmp_path, GOOD + "descriptoin: web servers\n") == (
        'documents[0] (name "web-tier"): descriptoin: unknown key; '
        'did you mean "description"?'
    )


def test_an_unknown_key_without_a_close_match_lists_the_known_keys(
    tmp_path: Path,
) -> None:
    assert refusal(tmp_path, GOOD + "    owner: sre\n") == (
        'documents[0] (name "web-tier"): objectives[0].owner: unknown key; '
        "the keys are selector, lo, hi, target, window, slice, allow_pending"
    )


def test_a_key_written_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    assert refusal(tmp_path, GOOD + "    window: 12h\n") == (
        'is not valid YAML in documents[0], line 7, column 5: key "window" is '
        "written twice"
    )


def test_a_merged_mapping_may_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(
        "name: web-tier\nobjectives:\n"
        "  - &load {selector: node_load1, hi: 4, target: 0.9, window: 1h}\n"
        "  - {<<: *load, window: 3h}\n"
    )
    (document,) = read_slas(str(path))
    assert [o.window for o in document.sla.objectives] == ["1h", "3h"]


def test_a_file_that_is_not_utf8_is_refused_with_the_line(tmp_path: Path) -> None:
    content = GOOD.encode().replace(b"web-tier", b"caf\xe9")
    assert refusal(tmp_path, content) == (
        "is not UTF-8 text: byte 0xe9 on line 1 cannot be decoded; "
        "save the file as UTF-8"
    )


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "slas.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert [d.sla.name for d in read_slas(str(path))] == ["web-tier"]


def test_a_yaml_syntax_error_names_its_document_and_line(tmp_path: Path) -> None:
    assert refusal(tmp_path, GOOD + "---\nname: [oops\n") == (
        "is not valid YAML in documents[1], line 9, column 1: "
        "expected ',' or ']', but got '<stream end>'"
    )


def test_a_control_character_is_refused_with_its_line(tmp_path: Path) -> None:
    assert refusal(tmp_path, GOOD + "description: \x07\n") == (
        "is not valid YAML: line 7 holds the character #x0007, "
        "which YAML does not allow"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(
            "- a\n",
            "documents[0]: expected a mapping with name and objectives, not a list",
            id="list",
        ),
        pytest.param(
            GOOD + "---\njust text\n",
            "documents[1]: expected a mapping with name and objectives, not a str",
            id="scalar",
        ),
    ],
)
def test_a_document_that_is_not_a_mapping_is_refused(
    tmp_path: Path, text: str, says: str
) -> None:
    assert refusal(tmp_path, text) == says


@pytest.mark.parametrize("text", ["", "\n# only a comment\n", "---\n---\n"])
def test_a_file_without_any_sla_is_refused(tmp_path: Path, text: str) -> None:
    assert refusal(tmp_path, text) == "holds no SLA"


def test_the_same_name_twice_is_refused_naming_both_documents(
    tmp_path: Path,
) -> None:
    text = GOOD + "---\n" + OTHER + "---\n" + GOOD.replace("0.99", "0.9")
    assert refusal(tmp_path, text) == (
        'documents[0] and documents[2] both define the SLA "web-tier"; '
        "define each SLA once per file"
    )


@pytest.mark.parametrize(
    ("line", "says"),
    [
        pytest.param(
            "    allow_pending: 'no'\n",
            "objectives[0].allow_pending must be true or false, not 'no'",
            id="allow-pending-text",
        ),
        pytest.param(
            "    slice: [1m]\n",
            "objectives[0].slice must be text such as 12h, not ['1m']",
            id="slice-list",
        ),
        pytest.param(
            "    lo: yes\n",
            "objectives[0].lo must be a number, not True",
            id="bound-boolean",
        ),
    ],
)
def test_a_value_of_the_wrong_type_names_its_path(
    tmp_path: Path, line: str, says: str
) -> None:
    assert refusal(tmp_path, GOOD + line) == f'documents[0] (name "web-tier"): {says}'


def test_a_document_without_a_name_is_named_by_its_index(tmp_path: Path) -> None:
    text = GOOD + "---\nobjectives: []\n"
    assert refusal(tmp_path, text) == "documents[1]: name must be text, not None"


def test_every_document_of_a_good_file_is_read_with_its_label(
    tmp_path: Path,
) -> None:
    path = tmp_path / "slas.yaml"
    path.write_text(GOOD + "---\n" + OTHER + "---\n")
    documents = read_slas(str(path))
    assert [d.label for d in documents] == [
        'documents[0] (name "web-tier")',
        'documents[1] (name "db-tier")',
    ]
    objective = documents[1].sla.objectives[0]
    assert (objective.selector, objective.hi, objective.slice) == (
        'node_load1{job="node"}',
        4.0,
        "1m",
    )
    assert not objective.HasField("lo") and objective.allow_pending is False


def test_a_name_or_key_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    text = GOOD.replace("name: web-tier", 'name: "web\\ntier"') + '"a\\nb": 1\n'
    assert refusal(tmp_path, text) == (
        'documents[0] (name "web\\ntier"): "a\\nb": unknown key; '
        "the keys are name, description, objectives, alerting"
    )


def test_a_long_wrong_value_is_cut_short(tmp_path: Path) -> None:
    many = "[" + ", ".join(["0.99"] * 40) + "]"
    text = GOOD.replace("target: 0.99", f"target: {many}")
    assert refusal(tmp_path, text) == (
        'documents[0] (name "web-tier"): objectives[0].target must be a number, '
        f"not {repr([0.99] * 40)[:57]}..."
    )


def test_standard_input_is_read_as_bytes_and_named_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = GOOD.encode().replace(b"web-tier", b"caf\xe9")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    with pytest.raises(InputError) as caught:
        read_slas("-")
    assert str(caught.value) == (
        "standard input is not UTF-8 text: byte 0xe9 on line 1 cannot be decoded; "
        "save the file as UTF-8"
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GOOD.encode())))
    assert [d.sla.name for d in read_slas("-")] == ["web-tier"]
