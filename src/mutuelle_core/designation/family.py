"""The insured member's family as it stands on the day of death: the facts a capital is allocated on.

:class:`FamilyAtDeath` records facts, not rules: who the spouse is and in which situation (married,
separated by judgment, divorced), the PACS partner, the cohabitant, the children (alive, predeceased,
conceived but not yet born) with their own descendants (recursively, for representation), the parents
still alive, the heirs with their inheritance shares, and the persons who renounce or who died first.
:func:`~mutuelle_core.designation.allocation.allocate_capital` applies the clause to these facts.

**The library does not compute successions.** The heirs and their inheritance shares (``Heir.share``,
an exact fraction of the estate) come from the notary's deed (acte de notoriété / dévolution
successorale); the library only checks that they total exactly 1 and applies them to the capital.

Persons are identified by a stable ``person_id``; the same person may appear in several roles (a spouse
is usually an heir too) as long as the name is the same everywhere.

>>> from mutuelle_core.values.identity import PersonName
>>> from mutuelle_core.designation.family import Child, ChildStatus, FamilyAtDeath
>>> paul = Child("c1", PersonName("durand", "paul"), ChildStatus.PREDECEASED,
...              descendants=(Child("g1", PersonName("durand", "lou")),))
>>> family = FamilyAtDeath(children=(paul, Child("c2", PersonName("durand", "eva"))), renouncing={"c2"})
>>> family.is_predeceased(paul), family.can_receive("c2"), family.can_receive("g1")
(True, False, True)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from decimal import Decimal
from fractions import Fraction

import attrs

from mutuelle_core.errors import ErrorCollector, error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.identity import PersonName

__all__ = [
    "DUPLICATE_PERSON",
    "HEIR_SHARES_NOT_ONE",
    "HEIR_SHARE_INVALID",
    "PERSON_CONFLICT",
    "SPOUSE_AND_PARTNER",
    "UNBORN_WITH_DESCENDANTS",
    "Child",
    "ChildStatus",
    "FamilyAtDeath",
    "Heir",
    "Person",
    "Spouse",
    "SpouseStatus",
]

SPOUSE_AND_PARTNER = error_code(
    "designation.spouse_and_partner",
    "Un assuré marié et non séparé de corps ne peut pas être lié par un PACS : "
    "vérifiez la situation familiale au jour du décès.",
)
UNBORN_WITH_DESCENDANTS = error_code(
    "designation.unborn_with_descendants", "Un enfant à naître ne peut pas avoir de descendants."
)
HEIR_SHARE_INVALID = error_code(
    "designation.heir_share_invalid", "La part successorale « {share} » doit être comprise entre 0 et 1."
)
HEIR_SHARES_NOT_ONE = error_code(
    "designation.heir_shares_not_one",
    "Les parts successorales des héritiers totalisent {total} au lieu de 1.",
)
PERSON_CONFLICT = error_code(
    "designation.person_conflict",
    "L'identifiant {person_id} désigne des personnes de noms différents.",
)
DUPLICATE_PERSON = error_code("designation.duplicate_person", "La personne {person_id} figure deux fois.")


class SpouseStatus(enum.StrEnum):
    """The marriage's situation on the day of death."""

    MARRIED = "married"
    SEPARATED_BY_JUDGMENT = "separated_by_judgment"
    """Séparation de corps pronounced by a court: still married, but excluded by the standard clause."""
    DIVORCED = "divorced"

    @property
    def label(self) -> str:
        """French label."""
        return _SPOUSE_LABELS[self]


_SPOUSE_LABELS = {
    SpouseStatus.MARRIED: message("Marié(e)"),
    SpouseStatus.SEPARATED_BY_JUDGMENT: message("Séparé(e) de corps judiciairement"),
    SpouseStatus.DIVORCED: message("Divorcé(e)"),
}


class ChildStatus(enum.StrEnum):
    """A child's situation on the day of death."""

    ALIVE = "alive"
    PREDECEASED = "predeceased"
    """Died before the insured member: represented by its own descendants."""
    CONCEIVED = "conceived"
    """Conceived but not yet born (« enfant à naître »): entitled if born alive and viable."""

    @property
    def label(self) -> str:
        """French label."""
        return _CHILD_LABELS[self]


_CHILD_LABELS = {
    ChildStatus.ALIVE: message("Vivant"),
    ChildStatus.PREDECEASED: message("Prédécédé"),
    ChildStatus.CONCEIVED: message("À naître"),
}


@attrs.frozen
class Person:
    """A person of the family: a stable identifier and the person's names."""

    person_id: str
    name: PersonName


@attrs.frozen
class Spouse:
    """The insured member's spouse (or former spouse), with the marriage's situation."""

    person_id: str
    name: PersonName
    status: SpouseStatus = SpouseStatus.MARRIED


def _children_tuple(values: Iterable[Child]) -> tuple[Child, ...]:
    return tuple(values)


@attrs.frozen
class Child:
    """A child, with its own descendants (children of the child, recursively) for representation.

    The descendants only matter when the child died first: they then share its share equally by
    stirpes (each of them, or its own descendants if it died first too).
    """

    person_id: str
    name: PersonName
    status: ChildStatus = ChildStatus.ALIVE
    descendants: tuple[Child, ...] = attrs.field(default=(), converter=_children_tuple, kw_only=True)


def _to_fraction(value: Fraction | Decimal | int | str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, Fraction | Decimal | int | str):
        raise TypeError(f"an inheritance share is a Fraction, a Decimal, an int or a str, not {type(value)}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise HEIR_SHARE_INVALID("share", share=str(value))
    try:
        share = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise HEIR_SHARE_INVALID("share", share=str(value)[:20]) from None
    if not 0 < share <= 1:
        raise HEIR_SHARE_INVALID("share", share=str(value)[:20])
    return share


@attrs.frozen
class Heir:
    """An heir and its inheritance share, an exact fraction of the estate (from the notary's deed).

    ``share`` accepts a ``Fraction``, a ``Decimal``, an ``int`` or a string such as ``"1/3"``; it is
    kept as an exact ``Fraction`` so that three heirs of one third each total exactly 1.

    >>> from mutuelle_core.values.identity import PersonName
    >>> Heir("h1", PersonName("roy", "luc"), "1/3").share
    Fraction(1, 3)
    """

    person_id: str
    name: PersonName
    share: Fraction = attrs.field(converter=_to_fraction)


def _persons_tuple(values: Iterable[Person]) -> tuple[Person, ...]:
    return tuple(values)


def _heirs_tuple(values: Iterable[Heir]) -> tuple[Heir, ...]:
    return tuple(values)


def _ids(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _walk(children: tuple[Child, ...], path: str) -> Iterator[tuple[str, Child]]:
    for index, child in enumerate(children):
        here = f"{path}[{index}]"
        yield here, child
        yield from _walk(child.descendants, f"{here}.descendants")


@attrs.frozen(kw_only=True)
class FamilyAtDeath:
    """The facts of the insured member's family on the day of death.

    Attributes:
        spouse: the spouse or former spouse, with the marriage's situation.
        pacs_partner: the partner bound by a PACS.
        cohabitant: the cohabitant (concubin): **not** a beneficiary of the standard clause, recorded
            so that the explanation can be complete; name them in a particular designation instead.
        children: the insured member's children, each with its status and descendants.
        parents: the father and mother still alive on the day of death.
        heirs: the heirs and their inheritance shares (from the notary; they total exactly 1).
        renouncing: the persons who renounce the capital (treated as if absent: their share goes to
            the others of their level; a renouncing child is not represented).
        predeceased: the persons who died before the insured member (a child may also be marked
            predeceased through its own status: either way counts, for every clause).

    Raises:
        ValidationFailed: ``designation.spouse_and_partner`` (a married spouse, neither separated nor
            divorced nor predeceased, and a PACS partner: art. 515-2 of the Code civil forbids it and
            the clause could not choose), ``designation.unborn_with_descendants``,
            ``designation.heir_shares_not_one``, ``designation.duplicate_person``,
            ``designation.person_conflict``.
    """

    spouse: Spouse | None = None
    pacs_partner: Person | None = None
    cohabitant: Person | None = None
    children: tuple[Child, ...] = attrs.field(default=(), converter=_children_tuple)
    parents: tuple[Person, ...] = attrs.field(default=(), converter=_persons_tuple)
    heirs: tuple[Heir, ...] = attrs.field(default=(), converter=_heirs_tuple)
    renouncing: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)
    predeceased: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)
    _dead: frozenset[str] = attrs.field(init=False, eq=False, repr=False, default=frozenset())

    def __attrs_post_init__(self) -> None:
        dead = {c.person_id for _, c in _walk(self.children, "") if c.status is ChildStatus.PREDECEASED}
        object.__setattr__(self, "_dead", self.predeceased | dead)
        errors = ErrorCollector()
        if (
            self.spouse is not None
            and self.spouse.status is SpouseStatus.MARRIED
            and self.spouse.person_id not in self.predeceased
            and self.pacs_partner is not None
        ):
            errors.add(SPOUSE_AND_PARTNER(), field="pacs_partner")
        names: dict[str, PersonName] = {}

        def register(person_id: str, name: PersonName, field: str) -> None:
            known = names.setdefault(person_id, name)
            if known != name:
                errors.add(PERSON_CONFLICT(person_id=person_id), field=field)

        if self.spouse is not None:
            register(self.spouse.person_id, self.spouse.name, "spouse")
        if self.pacs_partner is not None:
            register(self.pacs_partner.person_id, self.pacs_partner.name, "pacs_partner")
        if self.cohabitant is not None:
            register(self.cohabitant.person_id, self.cohabitant.name, "cohabitant")
        groups: list[tuple[str, list[tuple[str, str, PersonName]]]] = [
            ("children", [(p, c.person_id, c.name) for p, c in _walk(self.children, "children")]),
            ("parents", [(f"parents[{i}]", p.person_id, p.name) for i, p in enumerate(self.parents)]),
            ("heirs", [(f"heirs[{i}]", h.person_id, h.name) for i, h in enumerate(self.heirs)]),
        ]
        for _group, members in groups:
            seen: set[str] = set()
            for field, person_id, name in members:
                if person_id in seen:
                    errors.add(DUPLICATE_PERSON(person_id=person_id), field=field)
                seen.add(person_id)
                register(person_id, name, field)
        for field, child in _walk(self.children, "children"):
            if child.status is ChildStatus.CONCEIVED and child.descendants:
                errors.add(UNBORN_WITH_DESCENDANTS(), field=field)
        if self.heirs:
            total = sum((h.share for h in self.heirs), Fraction(0))
            if total != 1:
                errors.add(HEIR_SHARES_NOT_ONE(total=str(total)), field="heirs")
        errors.raise_if_any()

    def is_predeceased(self, person: str | Child) -> bool:
        """Whether a person died before the insured member: listed in :attr:`predeceased`, or a child
        (anywhere among the descendants) whose status is ``PREDECEASED``."""
        person_id = person.person_id if isinstance(person, Child) else person
        return person_id in self._dead

    def renounces(self, person_id: str) -> bool:
        """Whether the person renounces the capital."""
        return person_id in self.renouncing

    def can_receive(self, person_id: str) -> bool:
        """Whether the person may receive: neither predeceased nor renouncing."""
        return person_id not in self._dead and person_id not in self.renouncing
