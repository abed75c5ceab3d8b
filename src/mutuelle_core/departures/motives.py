"""Departure motives: the DSN codes of S21.G00.62.002 and whether each opens portability (DOMAIN.md §4).

An employee leaves the collective cover with a **departure motive**, the code the employer declares in
the DSN (block S21.G00.62 "Fin du contrat", rubric .002 "Motif de la rupture du contrat"). The motive
decides whether the former employee keeps the cover free of charge under **portability**
(article L911-8 of the Code de la sécurité sociale): portability is due when the employment contract
ends "other than for faute lourde" and the end **opens unemployment insurance benefits**.

This module is the reviewed table of those codes (:data:`MOTIVE_TABLE`, printed in the documentation by
:func:`motive_table_markdown`). Each motive has its French DSN label and a :class:`PortabilityRule`:
granted, or refused with its reason (faute lourde, no unemployment benefits, death of the employee).

The table is a **default by motive**. Portability still requires the former employee to prove, at the
start and during the period, that benefits are paid (L911-8 4°): a granted motive is not a guarantee,
and a refused one may be overridden by management when benefits are actually paid (a *démission
légitime*, a *prise d'acte* requalified as a dismissal). Codes are the three-digit values of the DSN
nomenclature (cahier technique NEODeS); the labels follow it, with straight apostrophes.

Sources: L911-8 CSS (portability, faute lourde exclusion); the Unédic *règlement d'assurance chômage*
(involuntary loss of employment; resignation and voluntary retirement open no benefits); DSN cahier
technique, S21.G00.62.002.

>>> from mutuelle_core.departures.motives import DepartureMotive, PortabilityRule
>>> motive = DepartureMotive.parse("088")
>>> motive.name, motive.label
('FAUTE_LOURDE_DISMISSAL', 'Licenciement pour faute lourde')
>>> motive.portability is PortabilityRule.REFUSED_FAUTE_LOURDE, motive.opens_portability
(True, False)
>>> DepartureMotive.parse("087").opens_portability      # faute grave: only faute lourde excludes it
True
>>> DepartureMotive.parse("066").opens_maintien          # death: maintien for the dependants instead
True
>>> DepartureMotive.parse("000")
Traceback (most recent call last):
...
mutuelle_core.errors.DomainError: [departure.unknown_motive] (motive) Motif de départ inconnu : « 000 » (attendu : un motif de rupture DSN S21.G00.62.002 à 3 chiffres, par exemple 059).
"""

from __future__ import annotations

import enum

import attrs

from mutuelle_core.errors import error_code
from mutuelle_core.i18n import message, translate

__all__ = [
    "DEPARTURE_UNKNOWN_MOTIVE",
    "MOTIVE_TABLE",
    "DepartureMotive",
    "MotiveRow",
    "PortabilityRule",
    "motive_table_markdown",
]

DEPARTURE_UNKNOWN_MOTIVE = error_code(
    "departure.unknown_motive",
    "Motif de départ inconnu : « {code} » (attendu : un motif de rupture DSN S21.G00.62.002 à 3 chiffres, "
    "par exemple 059).",
)


class PortabilityRule(enum.Enum):
    """Whether a departure motive opens portability (L911-8 CSS) and, when not, why.

    >>> PortabilityRule.GRANTED.granted, PortabilityRule.REFUSED_DEATH.granted
    (True, False)
    >>> PortabilityRule.REFUSED_FAUTE_LOURDE.label
    'Pas de portabilité : faute lourde'
    """

    GRANTED = "granted"
    """The end of the contract opens unemployment benefits: portability is due (on proof of benefits)."""
    REFUSED_FAUTE_LOURDE = "refused_faute_lourde"
    """Dismissal or early end for faute lourde: excluded by L911-8 itself."""
    REFUSED_NO_UNEMPLOYMENT_BENEFITS = "refused_no_unemployment_benefits"
    """The departure opens no unemployment benefits (resignation, voluntary retirement...)."""
    REFUSED_DEATH = "refused_death"
    """The employee died: no portability; the dependants are offered maintien (loi 89-1009 art. 4)."""

    @property
    def granted(self) -> bool:
        """True when portability is opened by the motive."""
        return self is PortabilityRule.GRANTED

    @property
    def label(self) -> str:
        """The French label (translate it with :func:`mutuelle_core.i18n.translate`)."""
        return _RULE_LABELS[self]


_RULE_LABELS = {
    PortabilityRule.GRANTED: message("Portabilité ouverte"),
    PortabilityRule.REFUSED_FAUTE_LOURDE: message("Pas de portabilité : faute lourde"),
    PortabilityRule.REFUSED_NO_UNEMPLOYMENT_BENEFITS: message(
        "Pas de portabilité : le départ n'ouvre pas droit à l'assurance chômage"
    ),
    PortabilityRule.REFUSED_DEATH: message(
        "Pas de portabilité : décès du salarié (maintien des ayants droit)"
    ),
}


class DepartureMotive(enum.Enum):
    """A departure motive: its value is the DSN code of S21.G00.62.002 (``"059"``).

    Stored and exchanged as its code (the enum's value), so that ``DepartureMotive("059")`` and cattrs
    round-trip it; :meth:`parse` is the validating entry point for outside input.

    Attributes (properties): ``code``, ``label`` (French), ``portability`` (a :class:`PortabilityRule`),
    ``note`` (why the rule was chosen), ``opens_portability``, ``opens_maintien``.
    """

    LIQUIDATION_DISMISSAL = "011"
    CLOSURE_DISMISSAL = "012"
    ECONOMIC_DISMISSAL = "014"
    END_OF_SITE_DISMISSAL = "015"
    OTHER_DISMISSAL = "020"
    OTHER_ECONOMIC_END = "025"
    CSP_ECONOMIC_END = "026"
    END_OF_FIXED_TERM = "031"
    END_OF_TEMPORARY_ASSIGNMENT = "032"
    TRIAL_END_BY_EMPLOYER = "034"
    TRIAL_END_BY_EMPLOYEE = "035"
    EARLY_END_BY_EMPLOYER = "036"
    EARLY_END_BY_EMPLOYEE = "037"
    RETIREMENT_BY_EMPLOYER = "038"
    VOLUNTARY_RETIREMENT = "039"
    RUPTURE_CONVENTIONNELLE = "043"
    PRISE_D_ACTE = "058"
    RESIGNATION = "059"
    EMPLOYER_DEATH = "065"
    EMPLOYEE_DEATH = "066"
    END_OF_APPRENTICESHIP = "081"
    JUDICIAL_TERMINATION = "082"
    FORCE_MAJEURE = "083"
    FAUTE_GRAVE_DISMISSAL = "087"
    FAUTE_LOURDE_DISMISSAL = "088"
    FORCE_MAJEURE_DISMISSAL = "089"
    UNFITNESS_NON_OCCUPATIONAL_DISMISSAL = "091"
    UNFITNESS_OCCUPATIONAL_DISMISSAL = "092"
    ADMINISTRATIVE_DECISION_DISMISSAL = "093"
    EARLY_END_FAUTE_GRAVE = "095"
    EARLY_END_FAUTE_LOURDE = "096"
    CHILD_WITHDRAWAL = "098"
    NO_UNEMPLOYMENT_INSURANCE_IMPACT = "999"

    @classmethod
    def parse(cls, code: str | DepartureMotive) -> DepartureMotive:
        """Read a DSN motive code (``"059"``); a member is returned as is.

        Surrounding spaces are ignored and a code that lost its leading zeros in a spreadsheet
        (``"59"``) is padded back to three digits.

        Raises:
            DomainError: ``departure.unknown_motive`` (field ``motive``) for a code not in the table.

        >>> DepartureMotive.parse(" 59 ") is DepartureMotive.RESIGNATION
        True
        """
        if isinstance(code, DepartureMotive):
            return code
        text = str(code).strip()
        if text.isdigit() and len(text) < 3:
            text = text.zfill(3)
        try:
            return cls(text)
        except ValueError:
            raise DEPARTURE_UNKNOWN_MOTIVE("motive", code=text[:20]) from None

    @property
    def code(self) -> str:
        """The three-digit DSN code."""
        return str(self.value)

    @property
    def row(self) -> MotiveRow:
        """The reviewed table row of this motive."""
        return _ROWS[self]

    @property
    def label(self) -> str:
        """The French DSN label."""
        return self.row.label

    @property
    def portability(self) -> PortabilityRule:
        """Whether the motive opens portability, and why not when it does not."""
        return self.row.portability

    @property
    def note(self) -> str:
        """The reasoning behind the rule (English, for reviewers and the documentation)."""
        return self.row.note

    @property
    def opens_portability(self) -> bool:
        """True when the motive opens portability (L911-8 CSS)."""
        return self.row.portability.granted

    @property
    def opens_maintien(self) -> bool:
        """True for the employee's death (066): the dependants are offered maintien (loi 89-1009 art. 4)."""
        return self is DepartureMotive.EMPLOYEE_DEATH


@attrs.frozen
class MotiveRow:
    """One row of the reviewed motive table.

    Attributes:
        motive: the motive.
        label: its French DSN label.
        portability: the portability rule of the motive.
        note: why the rule was chosen (empty when obvious).
    """

    motive: DepartureMotive
    label: str
    portability: PortabilityRule
    note: str = ""

    @property
    def code(self) -> str:
        """The three-digit DSN code."""
        return self.motive.code


_M = DepartureMotive
_GRANTED = PortabilityRule.GRANTED
_NO_BENEFITS = PortabilityRule.REFUSED_NO_UNEMPLOYMENT_BENEFITS
_FAUTE_LOURDE = PortabilityRule.REFUSED_FAUTE_LOURDE

_DISMISSAL = "A dismissal: involuntary loss of employment, unemployment benefits open."

MOTIVE_TABLE: tuple[MotiveRow, ...] = (
    MotiveRow(
        _M.LIQUIDATION_DISMISSAL,
        message("Licenciement suite à liquidation judiciaire ou à redressement judiciaire"),
        _GRANTED,
        _DISMISSAL,
    ),
    MotiveRow(
        _M.CLOSURE_DISMISSAL,
        message("Licenciement suite à fermeture définitive de l'établissement"),
        _GRANTED,
        _DISMISSAL,
    ),
    MotiveRow(_M.ECONOMIC_DISMISSAL, message("Licenciement pour motif économique"), _GRANTED, _DISMISSAL),
    MotiveRow(_M.END_OF_SITE_DISMISSAL, message("Licenciement pour fin de chantier"), _GRANTED, _DISMISSAL),
    MotiveRow(_M.OTHER_DISMISSAL, message("Licenciement pour autre motif"), _GRANTED, _DISMISSAL),
    MotiveRow(
        _M.OTHER_ECONOMIC_END,
        message("Autre fin de contrat pour motif économique"),
        _GRANTED,
        "Economic termination: involuntary, unemployment benefits open.",
    ),
    MotiveRow(
        _M.CSP_ECONOMIC_END,
        message(
            "Rupture pour motif économique dans le cadre d'un contrat de sécurisation professionnelle (CSP)"
        ),
        _GRANTED,
        "The CSP allowance (ASP) is paid by the unemployment insurance: CSP members keep portability.",
    ),
    MotiveRow(
        _M.END_OF_FIXED_TERM,
        message("Fin de contrat à durée déterminée ou fin d'accueil occasionnel"),
        _GRANTED,
        "End of a fixed-term contract: involuntary, unemployment benefits open.",
    ),
    MotiveRow(
        _M.END_OF_TEMPORARY_ASSIGNMENT,
        message("Fin de mission d'intérim"),
        _GRANTED,
        "End of temporary work: involuntary, unemployment benefits open.",
    ),
    MotiveRow(
        _M.TRIAL_END_BY_EMPLOYER,
        message("Fin de période d'essai à l'initiative de l'employeur"),
        _GRANTED,
        "Label per the DSN nomenclature (034 = employer's initiative). The employer ends the contract: "
        "involuntary, benefits open when the former employee has enough affiliation, which the proof of "
        "benefits settles.",
    ),
    MotiveRow(
        _M.TRIAL_END_BY_EMPLOYEE,
        message("Fin de période d'essai à l'initiative du salarié"),
        _NO_BENEFITS,
        "Label per the DSN nomenclature (035 = employee's initiative). Treated as a resignation by the "
        "unemployment insurance: no benefits, no portability (exceptions, such as a trial ended within "
        "65 days after a previous involuntary loss, are handled by management on proof of benefits).",
    ),
    MotiveRow(
        _M.EARLY_END_BY_EMPLOYER,
        message(
            "Rupture anticipée d'un CDD, d'un contrat d'apprentissage ou d'un contrat de mission "
            "à l'initiative de l'employeur"
        ),
        _GRANTED,
        "Early end by the employer: involuntary, unemployment benefits open.",
    ),
    MotiveRow(
        _M.EARLY_END_BY_EMPLOYEE,
        message(
            "Rupture anticipée d'un CDD, d'un contrat d'apprentissage ou d'un contrat de mission "
            "à l'initiative du salarié"
        ),
        _NO_BENEFITS,
        "Early end by the employee: treated as a resignation, no unemployment benefits.",
    ),
    MotiveRow(
        _M.RETIREMENT_BY_EMPLOYER,
        message("Mise à la retraite par l'employeur"),
        _NO_BENEFITS,
        "Debatable: the employer ends the contract, but mise à la retraite is only possible once the "
        "employee is entitled to a full-rate pension (L1237-5 Code du travail: 70, or 67 with consent), "
        "an age at which unemployment benefits are not paid. The departure opens a pension, not "
        "benefits: refused by default; a requalified dismissal is reported with its own motive.",
    ),
    MotiveRow(
        _M.VOLUNTARY_RETIREMENT,
        message("Départ à la retraite à l'initiative du salarié"),
        _NO_BENEFITS,
        "Voluntary retirement: a pension, no unemployment benefits (DOMAIN.md §4).",
    ),
    MotiveRow(
        _M.RUPTURE_CONVENTIONNELLE,
        message("Rupture conventionnelle"),
        _GRANTED,
        "Rupture conventionnelle (L1237-11 Code du travail): unemployment benefits open.",
    ),
    MotiveRow(
        _M.PRISE_D_ACTE,
        message("Prise d'acte de la rupture de contrat de travail"),
        _NO_BENEFITS,
        "Debatable: a prise d'acte has the effects of a resignation unless the labour court requalifies "
        "it as a dismissal, and no benefits are paid before that ruling. Refused by default; when the "
        "ruling requalifies it, management opens portability on proof of benefits.",
    ),
    MotiveRow(
        _M.RESIGNATION,
        message("Démission"),
        _NO_BENEFITS,
        "Resignation opens no unemployment benefits (DOMAIN.md §4). A démission légitime or one for a "
        "retraining project may open them: management overrides on proof of benefits.",
    ),
    MotiveRow(
        _M.EMPLOYER_DEATH,
        message("Décès de l'employeur ou internement / conduit à un licenciement autre motif"),
        _GRANTED,
        "The employer's death ends the contract as a dismissal would: involuntary, benefits open.",
    ),
    MotiveRow(
        _M.EMPLOYEE_DEATH,
        message("Décès du salarié / rupture force majeure"),
        PortabilityRule.REFUSED_DEATH,
        "The employee's death: no portability; the people covered through the employee are offered "
        "maintien (loi 89-1009 art. 4). The DSN label also names force majeure, which now has its own "
        "code (083): 066 is treated as the death.",
    ),
    MotiveRow(
        _M.END_OF_APPRENTICESHIP,
        message("Fin de contrat d'apprentissage"),
        _GRANTED,
        "The end of a fixed-term apprenticeship is like the end of a CDD: benefits open.",
    ),
    MotiveRow(
        _M.JUDICIAL_TERMINATION,
        message("Résiliation judiciaire du contrat de travail"),
        _GRANTED,
        "Pronounced against the employer, it has the effects of an unfair dismissal: benefits open.",
    ),
    MotiveRow(
        _M.FORCE_MAJEURE,
        message("Rupture de contrat de travail ou d'un contrat de mission pour force majeure"),
        _GRANTED,
        "Force majeure: involuntary loss of employment, benefits open.",
    ),
    MotiveRow(
        _M.FAUTE_GRAVE_DISMISSAL,
        message("Licenciement pour faute grave"),
        _GRANTED,
        "Only faute lourde excludes portability (L911-8): a faute grave dismissal keeps it.",
    ),
    MotiveRow(
        _M.FAUTE_LOURDE_DISMISSAL,
        message("Licenciement pour faute lourde"),
        _FAUTE_LOURDE,
        "Excluded by L911-8 CSS.",
    ),
    MotiveRow(
        _M.FORCE_MAJEURE_DISMISSAL,
        message("Licenciement pour force majeure"),
        _GRANTED,
        _DISMISSAL,
    ),
    MotiveRow(
        _M.UNFITNESS_NON_OCCUPATIONAL_DISMISSAL,
        message("Licenciement pour inaptitude physique d'origine non professionnelle"),
        _GRANTED,
        _DISMISSAL,
    ),
    MotiveRow(
        _M.UNFITNESS_OCCUPATIONAL_DISMISSAL,
        message("Licenciement pour inaptitude physique d'origine professionnelle"),
        _GRANTED,
        _DISMISSAL,
    ),
    MotiveRow(
        _M.ADMINISTRATIVE_DECISION_DISMISSAL,
        message("Licenciement suite à décision d'une autorité administrative"),
        _GRANTED,
        _DISMISSAL,
    ),
    MotiveRow(
        _M.EARLY_END_FAUTE_GRAVE,
        message("Rupture anticipée du contrat de travail ou d'un contrat de mission pour faute grave"),
        _GRANTED,
        "Faute grave, not lourde: portability kept (L911-8).",
    ),
    MotiveRow(
        _M.EARLY_END_FAUTE_LOURDE,
        message("Rupture anticipée du contrat de travail ou d'un contrat de mission pour faute lourde"),
        _FAUTE_LOURDE,
        "Excluded by L911-8 CSS.",
    ),
    MotiveRow(
        _M.CHILD_WITHDRAWAL,
        message("Retrait d'enfant"),
        _GRANTED,
        "For assistants maternels and familiaux, the withdrawal of the child ends the contract at the "
        "employer's initiative, as a dismissal does: benefits open.",
    ),
    MotiveRow(
        _M.NO_UNEMPLOYMENT_INSURANCE_IMPACT,
        message(
            "Fin de relation avec l'employeur (autres que contrat de travail) pour les cas ne portant "
            "aucun impact sur l'assurance chômage"
        ),
        _NO_BENEFITS,
        "By its DSN definition the end has no effect on unemployment insurance: no benefits.",
    ),
)
"""The reviewed table, in code order: one row per :class:`DepartureMotive`."""

_ROWS: dict[DepartureMotive, MotiveRow] = {row.motive: row for row in MOTIVE_TABLE}


def motive_table_markdown(locale: str = "fr") -> str:
    """The table as Markdown, for the documentation (labels in ``locale``; notes stay in English).

    >>> print(motive_table_markdown().splitlines()[2])
    | 011 | Licenciement suite à liquidation judiciaire ou à redressement judiciaire | Portabilité ouverte | A dismissal: involuntary loss of employment, unemployment benefits open. |
    """
    lines = ["| code | label | portability | note |", "|---|---|---|---|"]
    for row in MOTIVE_TABLE:
        lines.append(
            f"| {row.code} | {translate(row.label, locale)} | {translate(row.portability.label, locale)} "
            f"| {row.note} |"
        )
    return "\n".join(lines)
