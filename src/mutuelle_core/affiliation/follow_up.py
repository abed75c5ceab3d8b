"""The employer's follow-up of affiliations (seed 000 "Suivi de la saisie", seed 003 "Mes salarié(e)s").

The list with each file's status, filters by status, and the actions: consult, remind one, remind all
who may be reminded, close the file, remove from follow-up, force affiliation to the base cover. Every
function checks the correspondent's scope (contract and population of the group).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation, HistoryEntry
from mutuelle_core.affiliation.invitations import send_invitation
from mutuelle_core.affiliation.notifications import affiliated_message, reminder_message
from mutuelle_core.affiliation.transitions import Action, AffiliationStatus, FollowUpFilter
from mutuelle_core.contracts.access import EmployerScope, denied
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.errors import error_code
from mutuelle_core.masking import mask_email
from mutuelle_core.ports import UnitOfWork
from mutuelle_core.services import Services

__all__ = [
    "FollowUpLine",
    "close_file",
    "consult",
    "effective_date_for",
    "follow_up",
    "follow_up_rows",
    "force_base_affiliation",
    "remind",
    "remind_all",
    "remove_from_follow_up",
]

NO_BASE_PRODUCT = error_code(
    "affiliation.no_base_product", "Le groupe {group} n'a pas de produit de base en vigueur le {on}."
)
NO_EMAIL = error_code(
    "affiliation.no_email", "Ce salarié n'a pas d'adresse e-mail : la relance lui sera envoyée par courrier."
)


@attrs.frozen(kw_only=True)
class FollowUpLine:
    """A line of the follow-up table."""

    affiliation_id: str
    contract_number: str
    group_code: str
    civility: str
    birth_name: str
    first_names: str
    email: str | None = attrs.field(repr=lambda e: "None" if e is None else mask_email(e))
    status: AffiliationStatus
    invited_on: dt.date
    last_activity_on: dt.date
    reminders: int
    adhesion_number: str | None
    actions: tuple[Action, ...]

    @classmethod
    def of(cls, aff: Affiliation) -> FollowUpLine:
        """The line of an affiliation."""
        return cls(
            affiliation_id=aff.affiliation_id,
            contract_number=aff.contract_number,
            group_code=aff.group_code,
            civility=aff.civility.label,
            birth_name=aff.name.birth_name,
            first_names=aff.name.first_names,
            email=None if aff.email is None else str(aff.email),
            status=aff.status,
            invited_on=aff.invited_at.date(),
            last_activity_on=aff.last_activity_at.date(),
            reminders=aff.reminders,
            adhesion_number=aff.adhesion_number,
            actions=tuple(
                a
                for a in (Action.CONSULT, Action.REMIND, Action.CLOSE, Action.REMOVE, Action.FORCE_BASE)
                if aff.allows(a)
            ),
        )


def _load(
    uow: UnitOfWork, scope: EmployerScope, affiliation_id: str
) -> tuple[Affiliation, CollectiveContract]:
    aff = uow.affiliations.find(affiliation_id)
    if aff is None:
        raise denied(f"dossier {affiliation_id}")
    contract, _ = scope.group(uow, aff.contract_number, aff.group_code)
    return aff, contract


def follow_up(
    svc: Services,
    actor_id: str,
    contract_number: str,
    *,
    status_filter: FollowUpFilter | None = None,
    include_removed: bool = False,
) -> list[FollowUpLine]:
    """The follow-up list of a contract, limited to the groups the correspondent may see."""
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        contract = scope.contract(uow, contract_number)
        groups = {g.code for g in scope.visible_groups(contract)}
        statuses = status_filter.statuses if status_filter else None
        lines = [
            FollowUpLine.of(a)
            for a in uow.affiliations.list_for_contract(contract.number, statuses)
            if a.group_code in groups and (include_removed or a.status is not AffiliationStatus.REMOVED)
        ]
    return lines


def follow_up_rows(lines: Sequence[FollowUpLine]) -> list[list[str]]:
    """The table as rows for the CSV export (header first, French)."""
    rows = [
        [
            "Contrat",
            "Groupe",
            "Civilité",
            "Nom",
            "Prénom",
            "Adresse e-mail",
            "Inscription",
            "Invité le",
            "Dernière action",
            "Relances",
            "N° d'adhésion",
        ]
    ]
    for x in lines:
        rows.append(
            [
                x.contract_number,
                x.group_code,
                x.civility,
                x.birth_name,
                x.first_names,
                x.email or "",
                x.status.label,
                f"{x.invited_on:%d/%m/%Y}",
                f"{x.last_activity_on:%d/%m/%Y}",
                str(x.reminders),
                x.adhesion_number or "",
            ]
        )
    return rows


def consult(
    svc: Services, actor_id: str, affiliation_id: str
) -> tuple[FollowUpLine, tuple[HistoryEntry, ...]]:
    """The file's line and its dated history (allowed in every state)."""
    with svc.uow() as uow:
        aff, _ = _load(uow, EmployerScope.load(uow, actor_id), affiliation_id)
        return FollowUpLine.of(aff), aff.history


def _remind_one(
    svc: Services, uow: UnitOfWork, aff: Affiliation, contract: CollectiveContract, actor: str
) -> Affiliation:
    token = svc.tokens.new_token()
    updated = uow.affiliations.update(
        aff.remind(token, contract.settings.invitation_validity_months, svc.clock.now(), actor)
    )
    employer = uow.employers.get(contract.employer_id)
    message = reminder_message(updated, employer, svc.links.affiliation(token))
    if message is not None:
        uow.outbox.add(message)
    else:
        send_invitation(svc, uow, updated, employer, token)
    return updated


def remind(svc: Services, actor_id: str, affiliation_id: str) -> FollowUpLine:
    """Remind one employee: a new link by e-mail (or letter)."""
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        aff, contract = _load(uow, scope, affiliation_id)
        updated = _remind_one(svc, uow, aff, contract, actor_id)
        uow.commit()
    return FollowUpLine.of(updated)


def remind_all(svc: Services, actor_id: str, contract_number: str) -> int:
    """Remind every employee of the contract who may be reminded (in the visible groups)."""
    with svc.uow() as uow:
        scope = EmployerScope.load(uow, actor_id)
        contract = scope.contract(uow, contract_number)
        groups = {g.code for g in scope.visible_groups(contract)}
        count = 0
        for aff in uow.affiliations.list_for_contract(contract.number):
            if aff.group_code in groups and aff.allows(Action.REMIND):
                _remind_one(svc, uow, aff, contract, actor_id)
                count += 1
        uow.commit()
    return count


def close_file(svc: Services, actor_id: str, affiliation_id: str) -> FollowUpLine:
    """Close the file (clôturer le dossier)."""
    with svc.uow() as uow:
        aff, _ = _load(uow, EmployerScope.load(uow, actor_id), affiliation_id)
        updated = uow.affiliations.update(aff.close(svc.clock.now(), actor_id))
        uow.commit()
    return FollowUpLine.of(updated)


def remove_from_follow_up(svc: Services, actor_id: str, affiliation_id: str) -> FollowUpLine:
    """Remove the file from the follow-up (retirer le suivi)."""
    with svc.uow() as uow:
        aff, _ = _load(uow, EmployerScope.load(uow, actor_id), affiliation_id)
        updated = uow.affiliations.update(aff.remove(svc.clock.now(), actor_id))
        uow.commit()
    return FollowUpLine.of(updated)


def effective_date_for(aff: Affiliation, contract: CollectiveContract, today: dt.date) -> dt.date:
    """Cover starts on the latest of the contract's effective date and the employment start.

    Without an employment start, the invitation date stands for it (the cover is compulsory from hiring;
    ``today`` is not used so that a late signature does not leave a gap).
    """
    del today
    start = aff.employment_start or aff.invited_at.date()
    return max(contract.effective_date, start)


def enrol_base(
    svc: Services,
    uow: UnitOfWork,
    aff: Affiliation,
    contract: CollectiveContract,
    actor: str,
    *,
    automatic: bool,
) -> Affiliation:
    """Enrol in the base cover (shared by the employer's action and the automatic job)."""
    today = svc.clock.today()
    effective = effective_date_for(aff, contract, today)
    base = contract.base_product(aff.group_code, effective)
    if base is None:
        raise NO_BASE_PRODUCT("group_code", group=aff.group_code, on=effective)
    number = uow.references.next_reference("adhesion", "M")
    updated = uow.affiliations.update(
        aff.force_base(
            adhesion_number=number,
            effective_date=effective,
            now=svc.clock.now(),
            actor=actor,
            automatic=automatic,
        )
    )
    message = affiliated_message(updated, base.label)
    if message is not None:
        uow.outbox.add(message)
    return updated


def force_base_affiliation(svc: Services, actor_id: str, affiliation_id: str) -> FollowUpLine:
    """Force the employee's affiliation to the base cover (no option, no dependant)."""
    with svc.uow() as uow:
        aff, contract = _load(uow, EmployerScope.load(uow, actor_id), affiliation_id)
        updated = enrol_base(svc, uow, aff, contract, actor_id, automatic=False)
        uow.commit()
    return FollowUpLine.of(updated)
