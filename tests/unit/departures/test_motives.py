"""The reviewed table of DSN departure motives (S21.G00.62.002) and its portability rules."""

from __future__ import annotations

import pytest

from mutuelle_core.departures.motives import (
    MOTIVE_TABLE,
    DepartureMotive,
    MotiveRow,
    PortabilityRule,
    motive_table_markdown,
)
from mutuelle_core.errors import DomainError, registered_codes
from mutuelle_core.serialization import structure, unstructure

GRANTED = PortabilityRule.GRANTED
NO_BENEFITS = PortabilityRule.REFUSED_NO_UNEMPLOYMENT_BENEFITS
FAUTE_LOURDE = PortabilityRule.REFUSED_FAUTE_LOURDE
DEATH = PortabilityRule.REFUSED_DEATH

# The golden mapping: changing one line is a reviewed decision (see each row's note).
EXPECTED = {
    "011": GRANTED,
    "012": GRANTED,
    "014": GRANTED,
    "015": GRANTED,
    "020": GRANTED,
    "025": GRANTED,
    "026": GRANTED,
    "031": GRANTED,
    "032": GRANTED,
    "034": GRANTED,
    "035": NO_BENEFITS,
    "036": GRANTED,
    "037": NO_BENEFITS,
    "038": NO_BENEFITS,
    "039": NO_BENEFITS,
    "043": GRANTED,
    "058": NO_BENEFITS,
    "059": NO_BENEFITS,
    "065": GRANTED,
    "066": DEATH,
    "081": GRANTED,
    "082": GRANTED,
    "083": GRANTED,
    "087": GRANTED,
    "088": FAUTE_LOURDE,
    "089": GRANTED,
    "091": GRANTED,
    "092": GRANTED,
    "093": GRANTED,
    "095": GRANTED,
    "096": FAUTE_LOURDE,
    "098": GRANTED,
    "999": NO_BENEFITS,
}

# DOMAIN.md §4 lists these; every one must be in the table.
DOMAIN_CODES = [
    "011",
    "012",
    "014",
    "015",
    "020",
    "025",
    "026",
    "031",
    "032",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "043",
    "058",
    "059",
    "065",
    "066",
    "081",
    "087",
    "088",
    "091",
    "092",
    "096",
]


def test_the_table_matches_the_reviewed_mapping() -> None:
    assert {row.code: row.portability for row in MOTIVE_TABLE} == EXPECTED


def test_every_domain_code_is_in_the_table() -> None:
    codes = {m.code for m in DepartureMotive}
    assert set(DOMAIN_CODES) <= codes


def test_one_row_per_motive_in_code_order() -> None:
    assert [row.motive for row in MOTIVE_TABLE] == list(DepartureMotive)
    codes = [row.code for row in MOTIVE_TABLE]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 3 and code.isdigit() for code in codes)


@pytest.mark.parametrize("motive", list(DepartureMotive), ids=lambda m: m.code)
def test_each_motive_has_a_french_label_a_rule_and_a_note(motive: DepartureMotive) -> None:
    row = motive.row
    assert isinstance(row, MotiveRow)
    assert row.motive is motive and row.code == motive.code == motive.value
    assert motive.label and motive.label[0].isupper()
    assert motive.note, "every rule is explained"
    assert motive.opens_portability is motive.portability.granted


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("088", FAUTE_LOURDE),
        ("096", FAUTE_LOURDE),
        ("059", NO_BENEFITS),
        ("039", NO_BENEFITS),
        ("066", DEATH),
    ],
)
def test_the_refusals_named_by_the_issue(code: str, rule: PortabilityRule) -> None:
    motive = DepartureMotive.parse(code)
    assert motive.portability is rule
    assert not motive.opens_portability


def test_reasoned_choices() -> None:
    assert DepartureMotive.parse("087").opens_portability  # faute grave: only faute lourde excludes
    assert DepartureMotive.parse("095").opens_portability
    assert DepartureMotive.parse("034").opens_portability  # trial ended by the employer
    assert not DepartureMotive.parse("035").opens_portability  # trial ended by the employee
    assert DepartureMotive.parse("065").opens_portability  # employer's death
    assert not DepartureMotive.parse("038").opens_portability  # mise à la retraite: a pension
    assert not DepartureMotive.parse("058").opens_portability  # prise d'acte: refused by default
    assert (
        DepartureMotive.TRIAL_END_BY_EMPLOYER.label == "Fin de période d'essai à l'initiative de l'employeur"
    )
    assert DepartureMotive.TRIAL_END_BY_EMPLOYEE.label == "Fin de période d'essai à l'initiative du salarié"


def test_only_the_employees_death_opens_maintien() -> None:
    assert [m.code for m in DepartureMotive if m.opens_maintien] == ["066"]


@pytest.mark.parametrize(
    ("text", "motive"),
    [
        ("059", DepartureMotive.RESIGNATION),
        (" 088 ", DepartureMotive.FAUTE_LOURDE_DISMISSAL),
        ("59", DepartureMotive.RESIGNATION),
        ("11", DepartureMotive.LIQUIDATION_DISMISSAL),
        ("999", DepartureMotive.NO_UNEMPLOYMENT_INSURANCE_IMPACT),
        (DepartureMotive.EMPLOYEE_DEATH, DepartureMotive.EMPLOYEE_DEATH),
    ],
)
def test_parse(text: str | DepartureMotive, motive: DepartureMotive) -> None:
    assert DepartureMotive.parse(text) is motive


@pytest.mark.parametrize("text", ["", "000", "013", "0059", "abc", "LICENCIEMENT", "998", "-59", "5 9"])
def test_parse_refuses_unknown_codes(text: str) -> None:
    with pytest.raises(DomainError) as info:
        DepartureMotive.parse(text)
    assert info.value.code == "departure.unknown_motive"
    assert info.value.field == "motive"
    assert "Motif de départ inconnu" in info.value.message()


def test_parse_truncates_the_echoed_value() -> None:
    with pytest.raises(DomainError) as info:
        DepartureMotive.parse("x" * 500)
    assert len(str(info.value.params["code"])) == 20


def test_motives_travel_as_their_dsn_code() -> None:
    assert unstructure(DepartureMotive.RESIGNATION) == "059"
    assert structure("088", DepartureMotive) is DepartureMotive.FAUTE_LOURDE_DISMISSAL
    assert DepartureMotive("066") is DepartureMotive.EMPLOYEE_DEATH


def test_rule_labels_are_french() -> None:
    assert PortabilityRule.GRANTED.label == "Portabilité ouverte"
    assert all(rule.label.startswith(("Portabilité", "Pas de portabilité")) for rule in PortabilityRule)


def test_markdown_table_lists_every_motive_once() -> None:
    lines = motive_table_markdown().splitlines()
    assert lines[0].startswith("| code |")
    body = lines[2:]
    assert len(body) == len(MOTIVE_TABLE)
    for line, row in zip(body, MOTIVE_TABLE, strict=True):
        assert line.startswith(f"| {row.code} | {row.label} | {row.portability.label} |")


def test_error_code_is_registered_in_french() -> None:
    assert registered_codes()["departure.unknown_motive"].template.startswith("Motif de départ inconnu")
