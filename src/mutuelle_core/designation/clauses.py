"""Beneficiary clauses of a provident death capital: the standard clause or a particular designation.

The member space (seed 004, « Paramétrer ou modifier ma désignation de bénéficiaire ») offers exactly
two choices, and so does this module:

* :class:`StandardClause`, the contract's pre-established order: the spouse not separated by judgment
  or the PACS partner; failing that the children born or to be born, living or represented, in equal
  shares; failing that the parents equally, or the survivor for all; failing that the heirs in
  proportion to their inheritance shares.
* :class:`ParticularClause`, named beneficiaries (:class:`NamedBeneficiary`) with percentages that total
  exactly 100 % in each rank, optional subsequent ranks that apply « à défaut » (when nobody of the
  previous rank can receive), and a :class:`LapseRule` saying where the share of a beneficiary who died
  first or renounces goes.

**Free-text clauses are refused** and no type can hold one. A free text (« mes enfants, à défaut mon
frère, sauf ... ») cannot be checked when it is written (do the shares total 100 %? is every
beneficiary identifiable, as article L132-8 of the Code des assurances requires?) and cannot be paid
without a person reading and interpreting it, with the litigation risk that goes with it. The online
journey therefore offers only the two structured forms above; a designation by will, by notarial deed
or in free text received on paper is handled by the back office outside this library.
:func:`refuse_free_text` gives adapters the error to return when they receive one.

>>> from decimal import Decimal
>>> import datetime as dt
>>> from mutuelle_core.values.identity import PersonName
>>> from mutuelle_core.designation.clauses import (
...     LapseRule, NamedBeneficiary, ParticularClause, Rank, Relationship)
>>> def b(pid, first, share):
...     return NamedBeneficiary(pid, PersonName("martin", first), Relationship.CHILD,
...                             dt.date(2001, 2, 3), share=share)
>>> clause = ParticularClause(
...     ranks=(Rank((b("p1", "léa", "50"), b("p2", "tom", "30"), b("p3", "zoé", "20"))),),
...     lapse_rule=LapseRule.PRO_RATA)
>>> [str(x.share) for x in clause.ranks[0].beneficiaries]
['50', '30', '20']
>>> ParticularClause(ranks=(Rank((b("p1", "léa", "50"), b("p2", "tom", "40"))),),
...                  lapse_rule=LapseRule.PRO_RATA)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.ValidationFailed: [validation.failed] La saisie comporte 1 erreur(s).
  - [designation.shares_not_100] (ranks[0]) Les parts du rang 1 totalisent 90 % au lieu de 100 %.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import NoReturn

import attrs

from mutuelle_core.errors import ErrorCollector, error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.identity import PersonName, PostalAddress

__all__ = [
    "DUPLICATE_BENEFICIARY",
    "EMPTY_RANK",
    "FREE_TEXT_REFUSED",
    "HUNDRED",
    "NO_RANK",
    "SHARES_NOT_100",
    "SHARE_INVALID",
    "Clause",
    "LapseRule",
    "NamedBeneficiary",
    "ParticularClause",
    "Rank",
    "Relationship",
    "StandardClause",
    "parse_share",
    "refuse_free_text",
]

HUNDRED = Decimal(100)
"""The total, in percent, of the shares of every rank."""

SHARES_NOT_100 = error_code(
    "designation.shares_not_100", "Les parts du rang {rank} totalisent {total} % au lieu de 100 %."
)
SHARE_INVALID = error_code(
    "designation.share_invalid",
    "La part « {share} » doit être un pourcentage supérieur à 0 et au plus égal à 100, "
    "avec au plus deux décimales.",
)
NO_RANK = error_code("designation.no_rank", "Une désignation particulière nomme au moins un bénéficiaire.")
EMPTY_RANK = error_code("designation.empty_rank", "Le rang {rank} ne nomme aucun bénéficiaire.")
DUPLICATE_BENEFICIARY = error_code(
    "designation.duplicate_beneficiary",
    "La personne {person_id} est nommée plusieurs fois dans la désignation.",
)
FREE_TEXT_REFUSED = error_code(
    "designation.free_text_refused",
    "Une clause bénéficiaire en texte libre n'est pas acceptée en ligne : choisissez la désignation "
    "standard ou une désignation particulière (bénéficiaires nommés et pourcentages).",
)

_CENT_PERCENT = Decimal("0.01")


class Relationship(enum.StrEnum):
    """A named beneficiary's relationship to the insured member (a closed list: no free text)."""

    SPOUSE = "spouse"
    PACS_PARTNER = "pacs_partner"
    COHABITANT = "cohabitant"
    CHILD = "child"
    GRANDCHILD = "grandchild"
    PARENT = "parent"
    SIBLING = "sibling"
    NEPHEW_NIECE = "nephew_niece"
    OTHER_RELATIVE = "other_relative"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The French label, as printed in the clause (``enfant``, ``partenaire de PACS``...)."""
        return _RELATIONSHIP_LABELS[self]


_RELATIONSHIP_LABELS = {
    Relationship.SPOUSE: message("conjoint"),
    Relationship.PACS_PARTNER: message("partenaire de PACS"),
    Relationship.COHABITANT: message("concubin"),
    Relationship.CHILD: message("enfant"),
    Relationship.GRANDCHILD: message("petit-enfant"),
    Relationship.PARENT: message("père ou mère"),
    Relationship.SIBLING: message("frère ou sœur"),
    Relationship.NEPHEW_NIECE: message("neveu ou nièce"),
    Relationship.OTHER_RELATIVE: message("autre membre de la famille"),
    Relationship.OTHER: message("autre personne"),
}


class LapseRule(enum.StrEnum):
    """Where the share of a named beneficiary who died first or renounces goes.

    The rule only concerns a *partial* lapse: when nobody of a rank can receive, the next rank applies
    (« à défaut »), and after the last rank the standard clause, whatever the rule.
    """

    PRO_RATA = "pro_rata"
    """Shared among the other beneficiaries of the same rank in proportion to their shares."""
    STANDARD_CLAUSE = "standard_clause"
    """Paid according to the contract's standard clause."""

    @property
    def label(self) -> str:
        """French label."""
        return _LAPSE_LABELS[self]


_LAPSE_LABELS = {
    LapseRule.PRO_RATA: message("Répartie entre les autres bénéficiaires du même rang"),
    LapseRule.STANDARD_CLAUSE: message("Attribuée selon la clause standard"),
}


def _to_percent(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"a share is a Decimal, an int or a str percentage, not {type(value).__name__}")
    try:
        share = Decimal(value.strip().replace(",", ".")) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise SHARE_INVALID("share", share=str(value)[:20]) from None
    if (
        not share.is_finite()
        or share <= 0
        or share > HUNDRED
        or share.quantize(_CENT_PERCENT, rounding=ROUND_DOWN) != share
    ):
        raise SHARE_INVALID("share", share=str(value)[:20])
    return share


def parse_share(value: Decimal | int | str) -> Decimal:
    """A share as :class:`NamedBeneficiary` accepts it: ``0 < share <= 100``, at most two decimals.

    For forms that check the shares of a rank before the beneficiaries can be built.

    >>> parse_share("33,33"), parse_share(50)
    (Decimal('33.33'), Decimal('50'))

    Raises:
        DomainError: ``designation.share_invalid``.
    """
    return _to_percent(value)


@attrs.frozen
class NamedBeneficiary:
    """A person named in a particular designation, with the percentage of the capital of its rank.

    Attributes:
        person_id: a stable identifier of the person (the one :class:`~.family.FamilyAtDeath` uses).
        name: the person's names.
        relationship: the relationship to the insured member.
        birth_date: the birth date, to identify the person (L132-8).
        address: the postal address, if known (helps the insurer find the beneficiary).
        share: the percentage of the capital, ``0 < share <= 100`` with at most two decimals
            (``Decimal``, ``int`` or a string such as ``"33,33"``; ``float`` is refused).

    Raises:
        DomainError: ``designation.share_invalid``.

    >>> import datetime as dt
    >>> from mutuelle_core.values.identity import PersonName
    >>> NamedBeneficiary("p1", PersonName("dupont", "anne"), Relationship.SIBLING,
    ...                  dt.date(1980, 1, 1), share="33,33").share
    Decimal('33.33')
    """

    person_id: str
    name: PersonName
    relationship: Relationship
    birth_date: dt.date
    address: PostalAddress | None = attrs.field(default=None, kw_only=True)
    share: Decimal = attrs.field(converter=_to_percent, kw_only=True)


def _beneficiaries_tuple(values: Iterable[NamedBeneficiary]) -> tuple[NamedBeneficiary, ...]:
    return tuple(values)


@attrs.frozen
class Rank:
    """The beneficiaries of one rank, whose shares must total 100 % (checked by :class:`ParticularClause`)."""

    beneficiaries: tuple[NamedBeneficiary, ...] = attrs.field(converter=_beneficiaries_tuple)

    @property
    def total(self) -> Decimal:
        """The sum of the shares, in percent."""
        return sum((b.share for b in self.beneficiaries), Decimal(0))


def _ranks_tuple(values: Iterable[Rank]) -> tuple[Rank, ...]:
    return tuple(values)


@attrs.frozen
class StandardClause:
    """The contract's standard clause (« désignation standard »).

    In order, each level applying only when nobody of the previous one can receive:

    1. the spouse not separated by judgment, or the partner bound by a PACS;
    2. the children, born or to be born, living or represented, in equal shares (a predeceased child's
       share goes to its own descendants, by stirpes);
    3. the father and mother in equal shares, or the survivor of them for all;
    4. the heirs, in proportion to their inheritance shares.

    It has no parameters: it is the same for every member of the contract.

    >>> StandardClause().kind
    'standard'
    """

    @property
    def kind(self) -> str:
        """``"standard"``."""
        return "standard"

    def named_person_ids(self) -> frozenset[str]:
        """Nobody is named in the standard clause."""
        return frozenset()


@attrs.frozen
class ParticularClause:
    """A particular designation: named beneficiaries by rank, and the rule for lapsed shares.

    Rank 1 receives the capital. Rank 2, when given, receives it only if nobody of rank 1 can (all died
    first or renounced), and so on; after the last rank the standard clause applies. Within a rank whose
    beneficiaries partly lapse, :attr:`lapse_rule` says where their shares go.

    Attributes:
        ranks: the ranks, first one first; each rank's shares total exactly 100 %.
        lapse_rule: what happens to the share of a beneficiary who died first or renounces.

    Raises:
        ValidationFailed: with every problem, each naming its field (``ranks``, ``ranks[1]``,
            ``ranks[0].beneficiaries[2]``): ``designation.no_rank``, ``designation.empty_rank``,
            ``designation.shares_not_100``, ``designation.duplicate_beneficiary``.
    """

    ranks: tuple[Rank, ...] = attrs.field(converter=_ranks_tuple)
    lapse_rule: LapseRule

    def __attrs_post_init__(self) -> None:
        errors = ErrorCollector()
        if not self.ranks:
            errors.add(NO_RANK(), field="ranks")
        seen: set[str] = set()
        for index, rank in enumerate(self.ranks):
            number = index + 1
            if not rank.beneficiaries:
                errors.add(EMPTY_RANK(rank=number), field=f"ranks[{index}]")
                continue
            if rank.total != HUNDRED:
                errors.add(SHARES_NOT_100(rank=number, total=rank.total), field=f"ranks[{index}]")
            for position, beneficiary in enumerate(rank.beneficiaries):
                if beneficiary.person_id in seen:
                    errors.add(
                        DUPLICATE_BENEFICIARY(person_id=beneficiary.person_id),
                        field=f"ranks[{index}].beneficiaries[{position}]",
                    )
                seen.add(beneficiary.person_id)
        errors.raise_if_any()

    @property
    def kind(self) -> str:
        """``"particular"``."""
        return "particular"

    def named_person_ids(self) -> frozenset[str]:
        """Every person named, whatever the rank."""
        return frozenset(b.person_id for rank in self.ranks for b in rank.beneficiaries)

    def position_of(self, person_id: str) -> tuple[int, Decimal] | None:
        """The rank number (1 for the first) and share of a named person, or ``None``.

        >>> import datetime as dt
        >>> from mutuelle_core.values.identity import PersonName
        >>> ben = NamedBeneficiary("p1", PersonName("roy", "ana"), Relationship.OTHER,
        ...                        dt.date(1990, 1, 1), share=100)
        >>> clause = ParticularClause(ranks=(Rank((ben,)),), lapse_rule=LapseRule.PRO_RATA)
        >>> clause.position_of("p1"), clause.position_of("p9")
        ((1, Decimal('100')), None)
        """
        for index, rank in enumerate(self.ranks):
            for beneficiary in rank.beneficiaries:
                if beneficiary.person_id == person_id:
                    return index + 1, beneficiary.share
        return None


Clause = StandardClause | ParticularClause
"""A beneficiary clause: standard or particular (there is no free-text clause)."""


def refuse_free_text(text: str) -> NoReturn:
    """Refuse a free-text beneficiary clause (``designation.free_text_refused``).

    For adapters receiving a clause written by hand (a form field, an imported file): the online
    designation is standard or particular only; see the module documentation for the reasons. The
    text itself is not echoed in the error (it is personal data).

    >>> refuse_free_text("mes enfants par parts égales")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mutuelle_core.errors.DomainError: [designation.free_text_refused] (clause) Une clause ...
    """
    del text
    raise FREE_TEXT_REFUSED("clause")
