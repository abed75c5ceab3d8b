"""Time-driven jobs of the affiliation slice, each an explicit use case taking ``today``.

* flag *à relancer*: no action for the contract's ``reminder_after_days`` (8) since the invitation,
  the last action or the last reminder;
* expire links after the contract's ``invitation_validity_months`` (1 month);
* enrol automatically in the base cover after ``auto_enrol_delay_days`` (21 days on PSC contracts);
* end dispenses whose end date is past: the employee is invited again.

Each is idempotent: running the jobs twice for the same day changes nothing more, because every
change moves the file to a state the same job no longer picks.
"""

from __future__ import annotations

import datetime as dt

import attrs

from mutuelle_core.affiliation.follow_up import enrol_base
from mutuelle_core.affiliation.invitations import send_invitation
from mutuelle_core.affiliation.transitions import Action, AffiliationStatus
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.services import Services

__all__ = ["JobReport", "run_affiliation_jobs"]

S = AffiliationStatus


@attrs.frozen
class JobReport:
    """How many files each job changed."""

    flagged_to_remind: int = 0
    links_expired: int = 0
    auto_enrolled: int = 0
    dispenses_ended: int = 0


def _end_of(today: dt.date) -> dt.datetime:
    return dt.datetime.combine(today, dt.time(23, 59, 59), tzinfo=dt.UTC)


def run_affiliation_jobs(svc: Services, today: dt.date) -> JobReport:
    """Run the four jobs for ``today`` in one transaction."""
    moment = _end_of(today)
    flagged = expired = enrolled = ended = 0
    with svc.uow() as uow:
        contracts: dict[str, CollectiveContract] = {}
        candidates = uow.affiliations.list_in_status(
            {S.INVITED, S.IN_PROGRESS, S.TO_REMIND, S.LINK_EXPIRED, S.DISPENSED}
        )
        for aff in candidates:
            contract = contracts.get(aff.contract_number) or uow.contracts.get(aff.contract_number)
            contracts[contract.number] = contract
            settings = contract.settings
            delay = settings.auto_enrol_delay_days
            if (
                delay is not None
                and aff.allows(Action.AUTO_ENROL)
                and aff.invited_at.date() + dt.timedelta(days=delay) <= today
                and contract.base_product(aff.group_code, max(contract.effective_date, today)) is not None
            ):
                enrol_base(svc, uow, aff, contract, "system", automatic=True)
                enrolled += 1
                continue
            if aff.status is S.DISPENSED:
                if aff.dispense and aff.dispense.end_date and aff.dispense.end_date < today:
                    token = svc.tokens.new_token()
                    updated = uow.affiliations.update(
                        aff.end_dispense(token, settings.invitation_validity_months, moment)
                    )
                    send_invitation(
                        svc, uow, updated, uow.employers.get(contract.employer_id), token, reinvitation=True
                    )
                    ended += 1
                continue
            if aff.allows(Action.EXPIRE_LINK) and aff.link is not None and aff.link.expires_at <= moment:
                uow.affiliations.update(aff.expire_link(moment))
                expired += 1
                continue
            if (
                aff.allows(Action.FLAG_REMINDER)
                and aff.last_activity_at + dt.timedelta(days=settings.reminder_after_days) <= moment
            ):
                uow.affiliations.update(aff.flag_reminder(moment, settings.reminder_after_days))
                flagged += 1
        uow.commit()
    return JobReport(flagged, expired, enrolled, ended)
