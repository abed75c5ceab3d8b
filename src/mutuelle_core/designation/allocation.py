"""Allocation of a death capital among the beneficiaries, exact to the cent and explained.

:func:`allocate_capital` applies a clause (standard or particular) to the family's situation on the
day of death (:class:`~mutuelle_core.designation.family.FamilyAtDeath`) and returns a
:class:`CapitalAllocation`: one line per person and rule, with the amount, the exact fraction of the
capital it stands for, a stable rule code and a French explanation for the letter to the family.

How the amounts are computed:

1. Each rule gives each person an **exact** fraction of the capital (``fractions.Fraction``): no
   rounding happens while the clause is applied, however deep the representation goes.
2. The capital is then split once among the persons in proportion to their exact fractions with the
   largest-remainder method (:func:`~mutuelle_core.values.money.allocate`), over a **canonical order**,
   the persons sorted by ``person_id`` (the estate last): each person's amount is within one cent of
   its exact share, the amounts add up to the capital to the cent, and a cent left over by a tie goes
   to the smaller ``person_id``, never to whoever was entered first.
3. A person who receives under several rules (a beneficiary of rank 1 who also receives a lapsed share)
   has that amount split among its lines the same way, the lines sorted by rule code.

Rule codes (stable, for scripts and letter templates):

=====================================  ==================================================================
``standard.spouse``                     spouse not separated by judgment
``standard.pacs_partner``               partner bound by a PACS
``standard.children``                   child, in equal shares with the other children living or represented
``standard.children.unborn``            child conceived but not born at the death (paid if born viable)
``standard.children.represented``       descendant of a predeceased child, sharing its share by stirpes
``standard.parents``                    father or mother, in equal shares
``standard.parents.survivor``           the only parent who survives (or accepts), for the parents' share
``heirs``                               heir, in proportion to the inheritance share
``estate``                              nobody can receive: the capital falls into the estate (L132-11)
``particular.rank1``, ``...rank2``...   named beneficiary of that rank, for its percentage
``particular.lapsed_pro_rata``          share of a lapsed beneficiary of the rank, pro rata
=====================================  ==================================================================

A line that the standard clause gives inside a particular designation carries a ``via``:
``particular.lapsed_standard`` (a beneficiary's share lapsed and the designation sends it to the standard
clause) or ``particular.no_beneficiary`` (nobody of any rank can receive).

>>> from mutuelle_core.values.identity import PersonName
>>> from mutuelle_core.values.money import Money
>>> from mutuelle_core.designation.clauses import StandardClause
>>> from mutuelle_core.designation.family import Child, FamilyAtDeath
>>> kids = [Child(f"c{i}", PersonName("martin", n)) for i, n in enumerate(["léa", "tom", "zoé"], 1)]
>>> result = allocate_capital(StandardClause(), Money.of("100000"), FamilyAtDeath(children=kids))
>>> [(line.person_id, str(line.amount), line.rule) for line in result.lines]
[('c1', '33333.34', 'standard.children'), ('c2', '33333.33', 'standard.children'), ('c3', '33333.33', 'standard.children')]
>>> result.total
Money('100000.00')
>>> print(result.lines[0].explanation)
Clause standard : à défaut de conjoint et de partenaire de PACS, enfant de l'assuré, les enfants vivants ou représentés se partageant le capital par parts égales (1/3 du capital).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction

import attrs

from mutuelle_core.designation.clauses import (
    Clause,
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    StandardClause,
)
from mutuelle_core.designation.designation import UNSIGNED, Designation, DesignationStatus
from mutuelle_core.designation.family import Child, ChildStatus, FamilyAtDeath, SpouseStatus
from mutuelle_core.errors import error_code
from mutuelle_core.i18n import message, render
from mutuelle_core.values.identity import PersonName
from mutuelle_core.values.money import Money, allocate

__all__ = [
    "ALLOCATION_TOTAL_MISMATCH",
    "NEGATIVE_AMOUNT",
    "SUPERSEDED",
    "VIA_LAPSED_STANDARD",
    "VIA_NO_BENEFICIARY",
    "AllocationLine",
    "CapitalAllocation",
    "ExplanationPart",
    "allocate_capital",
    "share_text",
]

NEGATIVE_AMOUNT = error_code(
    "designation.negative_amount", "Un capital ou une part négatifs ne peuvent pas être répartis."
)
ALLOCATION_TOTAL_MISMATCH = error_code(
    "designation.allocation_total_mismatch",
    "La répartition totalise {total} au lieu du capital de {capital}.",
)
SUPERSEDED = error_code(
    "designation.superseded",
    "Cette désignation a été remplacée : le capital se répartit selon la désignation en vigueur au jour "
    "du décès.",
)

# -- explanations ---------------------------------------------------------------------------------

_SPOUSE = message("Clause standard : conjoint non séparé de corps judiciairement ({share} du capital).")
_PARTNER = message("Clause standard : partenaire lié par un PACS ({share} du capital).")
_CHILD = message(
    "Clause standard : à défaut de conjoint et de partenaire de PACS, enfant de l'assuré, les enfants "
    "vivants ou représentés se partageant le capital par parts égales ({share} du capital)."
)
_CHILD_UNBORN = message(
    "Clause standard : à défaut de conjoint et de partenaire de PACS, enfant à naître de l'assuré, à "
    "parts égales avec les autres enfants vivants ou représentés ({share} du capital)."
)
_REPRESENTED = message(
    "Clause standard : à défaut de conjoint et de partenaire de PACS, descendant de {represented}, "
    "décédé avant l'assuré, dont la part est partagée par parts égales entre ses descendants qui le "
    "représentent ({share} du capital)."
)
_UNBORN_NOTE = message("Cette part est versée sous réserve que l'enfant naisse vivant et viable.")
_PARENTS = message(
    "Clause standard : à défaut de conjoint, de partenaire de PACS et d'enfant, père ou mère de "
    "l'assuré, par parts égales ({share} du capital)."
)
_PARENT_SURVIVOR = message(
    "Clause standard : à défaut de conjoint, de partenaire de PACS et d'enfant, seul parent survivant "
    "ou acceptant, pour la totalité de la part des parents ({share} du capital)."
)
_HEIR = message(
    "Clause standard : à défaut de conjoint, de partenaire de PACS, d'enfant et de parent, héritier de "
    "l'assuré pour sa part successorale de {inheritance} ({share} du capital)."
)
_ESTATE = message(
    "Aucun bénéficiaire ne peut recevoir cette part : elle revient à la succession de l'assuré "
    "(article L132-11 du Code des assurances) ({share} du capital)."
)
_RANK = message(
    "Désignation particulière : bénéficiaire du rang {rank} pour {percent} % ({share} du capital)."
)
_PRO_RATA = message(
    "Désignation particulière : part de {lapsed} ({percent} %), décédé avant l'assuré ou renonçant, répartie entre "
    "les autres bénéficiaires du rang {rank} au prorata de leurs parts ({share} du capital)."
)
_VIA_LAPSED = message(
    "Part de {lapsed} ({percent} %), décédé avant l'assuré ou renonçant, que la désignation particulière attribue "
    "selon la clause standard."
)
_VIA_NO_BENEFICIARY = message(
    "Aucun bénéficiaire de la désignation particulière ne peut recevoir le capital : la clause "
    "standard s'applique."
)

VIA_LAPSED_STANDARD = "particular.lapsed_standard"
"""``via`` of a line the standard clause gives from a particular beneficiary's lapsed share."""
VIA_NO_BENEFICIARY = "particular.no_beneficiary"
"""``via`` of a line the standard clause gives because no named beneficiary of any rank can receive."""

_Param = str | int | Decimal


@attrs.frozen
class ExplanationPart:
    """One sentence of a line's explanation: a French message template and its parameters."""

    template: str
    params: tuple[tuple[str, _Param], ...] = ()

    def render(self, locale: str = "fr") -> str:
        """The sentence in ``locale`` (French by default)."""
        return render(self.template, dict(self.params), locale)


def _part(template: str, **params: _Param) -> ExplanationPart:
    return ExplanationPart(template, tuple(sorted(params.items())))


def share_text(share: Fraction) -> str:
    """A fraction of the capital for people: ``1/6``, and ``100 %`` for the whole.

    >>> share_text(Fraction(1, 6)), share_text(Fraction(1))
    ('1/6', '100 %')
    """
    return "100 %" if share == 1 else f"{share.numerator}/{share.denominator}"


@attrs.frozen
class AllocationLine:
    """What one person receives under one rule.

    Attributes:
        person_id: the person (``None`` for the estate of the insured).
        name: the person's names (``None`` for the estate).
        amount: the amount, exact to the cent.
        rule: the stable rule code (see the module documentation).
        fraction: the exact fraction of the capital this line stands for (``amount`` is this fraction of the
            capital, rounded by the largest-remainder method).
        via: ``particular.lapsed_standard`` or ``particular.no_beneficiary`` when a particular
            designation sent this share to the standard clause, else ``None``.
        parts: the sentences of the explanation.
    """

    person_id: str | None
    name: PersonName | None
    amount: Money
    rule: str
    fraction: Fraction
    via: str | None = None
    parts: tuple[ExplanationPart, ...] = attrs.field(default=(), repr=False)

    def explain(self, locale: str = "fr") -> str:
        """Why this person receives this amount, in ``locale`` (for the letter to the family)."""
        return " ".join(p.render(locale) for p in self.parts)

    @property
    def explanation(self) -> str:
        """The explanation in French."""
        return self.explain()


@attrs.frozen
class CapitalAllocation:
    """The capital's split among the beneficiaries; the amounts add up to the capital to the cent.

    Attributes:
        capital: the capital allocated.
        clause_kind: ``"standard"`` or ``"particular"``.
        lines: one line per person and rule, persons sorted by ``person_id`` (the estate last).

    Raises:
        DomainError: ``designation.allocation_total_mismatch``, ``designation.negative_amount``.
    """

    capital: Money
    clause_kind: str
    lines: tuple[AllocationLine, ...]

    def __attrs_post_init__(self) -> None:
        if any(line.amount.is_negative for line in self.lines):
            raise NEGATIVE_AMOUNT("lines")
        if self.total != self.capital:
            raise ALLOCATION_TOTAL_MISMATCH("lines", total=str(self.total), capital=str(self.capital))

    @property
    def total(self) -> Money:
        """The sum of the lines (always the capital)."""
        return Money.total(line.amount for line in self.lines)

    def by_person(self) -> Mapping[str | None, Money]:
        """The amount each person receives, all rules together (``None``: the estate)."""
        totals: dict[str | None, Money] = {}
        for line in self.lines:
            totals[line.person_id] = totals.get(line.person_id, Money.zero()) + line.amount
        return totals

    def amount_for(self, person_id: str | None) -> Money:
        """What a person receives in all (zero for a person who receives nothing)."""
        return self.by_person().get(person_id, Money.zero())

    def letter_lines(self, locale: str = "fr") -> tuple[str, ...]:
        """One sentence per line for the letter: name, amount and explanation.

        >>> from mutuelle_core.designation.family import FamilyAtDeath
        >>> result = allocate_capital(StandardClause(), Money.of("1000"), FamilyAtDeath())
        >>> result.letter_lines()[0].startswith("Succession de l'assuré : 1")
        True
        """
        estate = render(_ESTATE_NAME, {}, locale)
        number_locale = "fr_FR" if locale.startswith("fr") else "en_GB"
        return tuple(
            f"{line.name.display if line.name is not None else estate} : "
            f"{line.amount.format(number_locale)}. {line.explain(locale)}"
            for line in self.lines
        )


_ESTATE_NAME = message("Succession de l'assuré")


@attrs.frozen
class _Share:
    person_id: str | None
    name: PersonName | None
    rule: str
    fraction: Fraction
    via: str | None
    parts: tuple[ExplanationPart, ...]


# -- the standard clause --------------------------------------------------------------------------


def _branch_takes(child: Child, family: FamilyAtDeath) -> bool:
    """Whether a child's branch receives: the child itself, or its representing descendants."""
    if family.is_predeceased(child):
        return any(_branch_takes(d, family) for d in child.descendants)
    return not family.renounces(child.person_id)


def _branch(
    child: Child,
    portion: Fraction,
    represented: Child | None,
    family: FamilyAtDeath,
    prefix: tuple[ExplanationPart, ...],
    via: str | None,
    out: list[_Share],
) -> None:
    if family.is_predeceased(child):
        takers = [d for d in child.descendants if _branch_takes(d, family)]
        for descendant in takers:
            _branch(descendant, portion / len(takers), child, family, prefix, via, out)
        return
    unborn = child.status is ChildStatus.CONCEIVED
    if represented is not None:
        rule = "standard.children.represented"
        main = _part(_REPRESENTED, represented=represented.name.display, share=share_text(portion))
    elif unborn:
        rule, main = "standard.children.unborn", _part(_CHILD_UNBORN, share=share_text(portion))
    else:
        rule, main = "standard.children", _part(_CHILD, share=share_text(portion))
    note = (_part(_UNBORN_NOTE),) if unborn else ()
    out.append(_Share(child.person_id, child.name, rule, portion, via, (*prefix, main, *note)))


def _standard(
    family: FamilyAtDeath, portion: Fraction, via: str | None, prefix: tuple[ExplanationPart, ...]
) -> list[_Share]:
    """The standard clause applied to ``portion`` of the capital (exact fractions summing to it)."""

    def share(
        person_id: str | None,
        name: PersonName | None,
        rule: str,
        fraction: Fraction,
        part: str,
        **params: _Param,
    ) -> _Share:
        main = _part(part, share=share_text(fraction), **params)
        return _Share(person_id, name, rule, fraction, via, (*prefix, main))

    spouse = family.spouse
    if spouse is not None and spouse.status is SpouseStatus.MARRIED and family.can_receive(spouse.person_id):
        return [share(spouse.person_id, spouse.name, "standard.spouse", portion, _SPOUSE)]
    partner = family.pacs_partner
    if partner is not None and family.can_receive(partner.person_id):
        return [share(partner.person_id, partner.name, "standard.pacs_partner", portion, _PARTNER)]

    branches = [c for c in family.children if _branch_takes(c, family)]
    if branches:
        out: list[_Share] = []
        for child in branches:
            _branch(child, portion / len(branches), None, family, prefix, via, out)
        return out

    parents = [p for p in family.parents if family.can_receive(p.person_id)]
    if len(parents) == 1:
        only = parents[0]
        return [share(only.person_id, only.name, "standard.parents.survivor", portion, _PARENT_SURVIVOR)]
    if parents:
        each = portion / len(parents)
        return [share(p.person_id, p.name, "standard.parents", each, _PARENTS) for p in parents]

    heirs = [h for h in family.heirs if family.can_receive(h.person_id)]
    if heirs:
        weight = sum((h.share for h in heirs), Fraction(0))
        return [
            share(
                h.person_id,
                h.name,
                "heirs",
                portion * h.share / weight,
                _HEIR,
                inheritance=share_text(h.share),
            )
            for h in heirs
        ]
    return [share(None, None, "estate", portion, _ESTATE)]


# -- the particular designation -------------------------------------------------------------------


def _lapsed_names(lapsed: list[NamedBeneficiary]) -> str:
    return ", ".join(b.name.display for b in sorted(lapsed, key=lambda b: b.person_id))


def _particular(clause: ParticularClause, family: FamilyAtDeath) -> list[_Share]:
    for index, rank in enumerate(clause.ranks):
        number = index + 1
        takers = [b for b in rank.beneficiaries if family.can_receive(b.person_id)]
        if not takers:
            continue  # nobody of this rank: « à défaut », the next rank
        lapsed = [b for b in rank.beneficiaries if not family.can_receive(b.person_id)]
        out = [
            _Share(
                b.person_id,
                b.name,
                f"particular.rank{number}",
                Fraction(b.share) / 100,
                None,
                (_part(_RANK, rank=number, percent=b.share, share=share_text(Fraction(b.share) / 100)),),
            )
            for b in takers
        ]
        if not lapsed:
            return out
        lapsed_portion = sum((Fraction(b.share) for b in lapsed), Fraction(0)) / 100
        names = _lapsed_names(lapsed)
        lapsed_percent = sum((b.share for b in lapsed), Decimal(0))
        if clause.lapse_rule is LapseRule.PRO_RATA:
            taken = sum((Fraction(b.share) for b in takers), Fraction(0))
            for b in takers:
                extra = lapsed_portion * Fraction(b.share) / taken
                text = _part(
                    _PRO_RATA, lapsed=names, percent=lapsed_percent, rank=number, share=share_text(extra)
                )
                out.append(_Share(b.person_id, b.name, "particular.lapsed_pro_rata", extra, None, (text,)))
        else:
            via_text = _part(_VIA_LAPSED, lapsed=names, percent=lapsed_percent)
            out.extend(_standard(family, lapsed_portion, VIA_LAPSED_STANDARD, (via_text,)))
        return out
    return _standard(family, Fraction(1), VIA_NO_BENEFICIARY, (_part(_VIA_NO_BENEFICIARY),))


# -- entry point ----------------------------------------------------------------------------------


def _clause_of(designation: Designation | Clause) -> Clause:
    if isinstance(designation, StandardClause | ParticularClause):
        return designation
    if designation.status is DesignationStatus.DRAFT:
        raise UNSIGNED("designation")
    if designation.status is DesignationStatus.SUPERSEDED:
        raise SUPERSEDED("designation")
    return designation.clause


def _person_order(person_id: str | None) -> tuple[bool, str]:
    return (person_id is None, person_id or "")


def allocate_capital(
    designation: Designation | Clause, capital: Money, family_at_death: FamilyAtDeath
) -> CapitalAllocation:
    """Split ``capital`` among the beneficiaries that ``designation`` gives on ``family_at_death``.

    Args:
        designation: the designation in force at the death (signed or in force), or a clause; with no
            designation at all, pass :class:`~mutuelle_core.designation.clauses.StandardClause`.
        capital: the death capital (not negative).
        family_at_death: the facts on the day of death.

    Returns:
        The allocation: lines sorted by person, amounts adding up exactly to ``capital``, each explained.

    Raises:
        TransitionNotAllowed: ``designation.unsigned`` for a draft designation.
        DomainError: ``designation.superseded`` for a designation that was replaced,
            ``designation.negative_amount`` for a negative capital.

    The standard clause, level by level (each applies only when nobody of the previous one receives):

    * the spouse if married (not separated by judgment, not divorced), else the PACS partner;
    * the children's branches in equal shares: a living or conceived child, or the descendants of a
      predeceased child sharing its share equally by stirpes (recursively); a renouncing child takes
      nothing and is not represented, its share accrues to the other branches;
    * the parents still alive and accepting, in equal shares (the survivor for all);
    * the heirs in proportion to their inheritance shares, renouncing heirs' shares accruing pro rata;
    * failing everyone, the estate (article L132-11 of the Code des assurances).

    A particular designation gives each beneficiary of the first rank with anyone able to receive its
    percentage; the shares of that rank's lapsed beneficiaries (predeceased or renouncing: named
    beneficiaries are not represented) go to the others of the rank pro rata or to the standard clause,
    as the designation says. A rank where nobody can receive passes to the next, and after the last
    rank the standard clause applies to the whole capital.
    """
    clause = _clause_of(designation)
    if capital.is_negative:
        raise NEGATIVE_AMOUNT("capital")
    if isinstance(clause, StandardClause):
        shares = _standard(family_at_death, Fraction(1), None, ())
    else:
        shares = _particular(clause, family_at_death)
    assert sum((s.fraction for s in shares), Fraction(0)) == 1
    assert len({(s.person_id, s.rule, s.via) for s in shares}) == len(shares)

    persons = sorted({s.person_id for s in shares}, key=_person_order)
    by_person = {
        p: sorted((s for s in shares if s.person_id == p), key=lambda s: (s.rule, s.via or ""))
        for p in persons
    }
    person_amounts = allocate(
        capital, [sum((s.fraction for s in by_person[p]), Fraction(0)) for p in persons]
    )
    lines: list[AllocationLine] = []
    for person, amount in zip(persons, person_amounts, strict=True):
        own = by_person[person]
        for s, line_amount in zip(own, allocate(amount, [s.fraction for s in own]), strict=True):
            lines.append(AllocationLine(s.person_id, s.name, line_amount, s.rule, s.fraction, s.via, s.parts))
    return CapitalAllocation(capital, clause.kind, tuple(lines))
