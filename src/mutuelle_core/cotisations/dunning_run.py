"""The daily pré-contentieux job: :func:`run_dunning` opens and moves the dunning of every unpaid due.

For each payer with a due unpaid on ``today`` (or with a dunning still running), payers in order, a
hundred per transaction:

1. a due still unpaid ``notice_after_days`` (10) days after its due date gets its dunning, under the
   regime the contract's rules name (``employer_dunning`` for what the employer pays or deducts from
   pay, ``member_dunning`` for what a member pays directly);
2. every running dunning is moved to ``today`` (:func:`~mutuelle_core.cotisations.dunning.dunning_step`):
   the **mise en demeure** goes out (a letter stored as a document and, when an address is known, an
   e-mail: to the employer for the employer's dues, to the member otherwise), then the suspension,
   then the right to terminate (or exclude) open on their legal dates;
3. a dunning whose due is now paid in full is settled (the cover resumes the next day).

Running the job twice for the same day changes nothing the second time (each step is dated and
applied once); skipping days is harmless, since each step is recorded on its own legal date.
Termination itself stays a decision (:func:`~mutuelle_core.cotisations.dunning.terminate`).
"""

from __future__ import annotations

import datetime as dt

import attrs

from mutuelle_core.affiliation.affiliation import Affiliation
from mutuelle_core.affiliation.documents import make_document
from mutuelle_core.affiliation.notifications import recipient_of
from mutuelle_core.contracts.contract import CollectiveContract
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.cotisations.account_records import PayerKey, StoredDunning
from mutuelle_core.cotisations.accounts import sync_dunnings
from mutuelle_core.cotisations.dunning import (
    DUNNING_POLICIES,
    DunningPolicy,
    DunningState,
    DunningStatus,
    dunning_step,
)
from mutuelle_core.cotisations.payments import Ledger
from mutuelle_core.cotisations.rules import Payer
from mutuelle_core.errors import error_code
from mutuelle_core.ports import OutgoingMessage, UnitOfWork
from mutuelle_core.services import Services
from mutuelle_core.values.identity import Email

__all__ = ["DUNNING_BATCH_INVALID", "PAYERS_PER_TRANSACTION", "DunningReport", "run_dunning"]

_SHORTEST_NOTICE = min(p.notice_after_days for p in DUNNING_POLICIES.values())


@attrs.frozen(kw_only=True)
class DunningReport:
    """What a run of the job did on a day (counts of changes made by this run)."""

    day: dt.date
    payers: int = 0
    opened: int = 0
    notices: int = 0
    suspended: int = 0
    terminable: int = 0
    excludable: int = 0
    settled: int = 0


class _Lookups:
    """What the job reads once per run (contracts, their employers and dunning regimes) and once per
    payer (the affiliations its dues belong to). Contracts and tariffs changed while the job runs are
    seen by the next run."""

    def __init__(self) -> None:
        self.contracts: dict[str, CollectiveContract] = {}
        self.employers: dict[str, Employer] = {}
        self.policies: dict[tuple[Payer, str], DunningPolicy] = {}
        self.affiliations: dict[str, Affiliation] = {}

    def contract(self, uow: UnitOfWork, number: str) -> CollectiveContract:
        if number not in self.contracts:
            self.contracts[number] = uow.contracts.get(number)
        return self.contracts[number]

    def employer(self, uow: UnitOfWork, employer_id: str) -> Employer:
        if employer_id not in self.employers:
            self.employers[employer_id] = uow.employers.get(employer_id)
        return self.employers[employer_id]

    def policy(self, uow: UnitOfWork, key: PayerKey, contract_number: str) -> DunningPolicy:
        found = self.policies.get((key.payer, contract_number))
        if found is None:
            rules = uow.tariffs.get(contract_number).rules
            regime = rules.employer_dunning if key.payer is Payer.EMPLOYER else rules.member_dunning
            found = self.policies[(key.payer, contract_number)] = DUNNING_POLICIES[regime]
        return found

    def affiliation(self, uow: UnitOfWork, due_id: str) -> Affiliation:
        """The affiliation of a member's due (kept for the payer being processed)."""
        affiliation_id = due_id.partition("/")[2]
        if affiliation_id not in self.affiliations:
            self.affiliations[affiliation_id] = uow.affiliations.get(affiliation_id)
        return self.affiliations[affiliation_id]

    def contract_of(self, uow: UnitOfWork, key: PayerKey, due_id: str) -> str:
        if key.payer is Payer.EMPLOYER:
            return key.payer_id
        return self.affiliation(uow, due_id).contract_number


def _notice(
    svc: Services,
    uow: UnitOfWork,
    key: PayerKey,
    stored: StoredDunning,
    ledger: Ledger,
    lookups: _Lookups,
) -> None:
    """The mise en demeure: a letter (document) and, when an address is known, an e-mail."""
    state = stored.state
    contract = lookups.contract(uow, stored.contract_number)
    employer = lookups.employer(uow, contract.employer_id)
    to: Email | None
    if key.payer is Payer.EMPLOYER:
        name, to = employer.name, employer.email
    else:
        aff = lookups.affiliation(uow, state.due_id)
        name, to = aff.name.display, recipient_of(aff)
    outstanding = ledger.outstanding(state.due_id)
    context = {
        "name": name,
        "contract": contract.number,
        "due": state.due_id[:7],
        "due_date": state.due_date.isoformat(),
        "amount": str(outstanding),
        "insurer": svc.insurer.name,
        "suspended_from": None if state.suspended_from is None else state.suspended_from.isoformat(),
        "terminable_from": None if state.terminable_from is None else state.terminable_from.isoformat(),
        "excludable_from": None if state.excludable_from is None else state.excludable_from.isoformat(),
        "regime": state.policy.regime.value,
    }
    lines = [
        f"{svc.insurer.name}",
        f"{svc.insurer.address}",
        "",
        f"À l'attention de : {name}",
        f"Objet : mise en demeure — cotisations impayées du contrat {contract.number}",
        "",
        f"La cotisation de {state.due_id[:7]}, échue le {state.due_date.strftime('%d/%m/%Y')}, reste impayée "
        f"pour un montant de {outstanding.format()}.",
    ]
    if state.suspended_from is not None:
        lines.append(
            f"À défaut de paiement, la garantie sera suspendue à compter du "
            f"{state.suspended_from.strftime('%d/%m/%Y')} ({state.policy.regime.value})."
        )
    if state.terminable_from is not None:
        lines.append(
            f"Le contrat pourra être résilié à compter du {state.terminable_from.strftime('%d/%m/%Y')}."
        )
    if state.excludable_from is not None:
        lines.append(
            f"L'adhésion pourra être résiliée (exclusion) à compter du {state.excludable_from.strftime('%d/%m/%Y')}."
        )
    lines.append("La garantie reprend effet le lendemain du paiement intégral des sommes dues.")
    now = svc.clock.now()
    uow.documents.put(
        make_document(
            document_id=svc.ids.new_id(),
            kind="mise_en_demeure",
            owner=str(key),
            filename=f"mise-en-demeure-{state.due_id.replace('/', '-')}.txt",
            at=now,
            text="\n".join(lines) + "\n",
        )
    )
    if to is not None:
        uow.outbox.add(OutgoingMessage(template="dunning_notice", to=to, context=context))


def _run_payer(
    svc: Services, uow: UnitOfWork, key: PayerKey, today: dt.date, report: dict[str, int], lookups: _Lookups
) -> None:
    lookups.affiliations.clear()
    stored_ledger = uow.accounts.ledger(key)
    ledger = stored_ledger.ledger
    for changed in sync_dunnings(uow, key, ledger, today):
        if changed.state.status is DunningStatus.SETTLED:
            report["settled"] += 1
    existing = {s.state.due_id: s for s in uow.dunning.for_payer(key)}
    for due in ledger.open_dues():
        if due.due_id in existing or due.due_date + dt.timedelta(days=_SHORTEST_NOTICE) > today:
            continue
        contract_number = lookups.contract_of(uow, key, due.due_id)
        policy = lookups.policy(uow, key, contract_number)
        if policy.notice_from(due.due_date) > today:
            continue
        # opened and moved to today before it is stored: one write (version 0 is stored as new)
        state = DunningState.open(key.payer_id, due.due_id, due.due_date, policy)
        existing[due.due_id] = StoredDunning(key.payer, state, contract_number)
        report["opened"] += 1
    for stored in existing.values():
        before = stored.state
        if before.status in {DunningStatus.SETTLED, DunningStatus.TERMINATED, DunningStatus.EXCLUDED}:
            continue
        after = dunning_step(before, today)
        if after == before and stored.version > 0:
            continue
        moved = uow.dunning.put(attrs.evolve(stored, state=after))
        for entry in after.history[len(before.history) :]:
            if entry.to_status is DunningStatus.NOTICE_SENT:
                report["notices"] += 1
                _notice(svc, uow, key, moved, ledger, lookups)
            elif entry.to_status is DunningStatus.SUSPENDED:
                report["suspended"] += 1
            elif entry.to_status is DunningStatus.TERMINABLE:
                report["terminable"] += 1
            elif entry.to_status is DunningStatus.EXCLUDABLE:
                report["excludable"] += 1


DUNNING_BATCH_INVALID = error_code(
    "dunning.batch_invalid",
    "Le nombre de payeurs par transaction doit être un entier positif (reçu : {size}).",
)

PAYERS_PER_TRANSACTION = 100
"""Payers moved in one transaction by :func:`run_dunning` unless told (a commit per payer cost more than
the payer's own work on PostgreSQL)."""


def run_dunning(
    svc: Services, today: dt.date, *, payers_per_transaction: int = PAYERS_PER_TRANSACTION
) -> DunningReport:
    """Open, move and settle the dunnings of every payer on ``today`` (see the module docstring);
    idempotent for a given day.

    Payers are taken in order, ``payers_per_transaction`` per transaction: an error stops the job
    and rolls back the payers of its transaction only; running the job again for the day finishes
    the work (each step is applied once).

    Raises:
        DomainError: ``dunning.batch_invalid`` for ``payers_per_transaction`` below 1.
    """
    if payers_per_transaction < 1:
        raise DUNNING_BATCH_INVALID("payers_per_transaction", size=payers_per_transaction)
    with svc.uow() as uow:
        keys = set(uow.accounts.in_arrears(today - dt.timedelta(days=_SHORTEST_NOTICE)))
        keys.update(uow.dunning.open_payers())
    ordered = sorted(keys, key=lambda k: (k.payer.value, k.payer_id))
    lookups = _Lookups()
    report = dict.fromkeys(("opened", "notices", "suspended", "terminable", "excludable", "settled"), 0)
    for start in range(0, len(ordered), payers_per_transaction):
        counts = dict.fromkeys(report, 0)  # counted once committed
        with svc.uow() as uow:
            for key in ordered[start : start + payers_per_transaction]:
                _run_payer(svc, uow, key, today, counts, lookups)
            uow.commit()
        for name, count in counts.items():
            report[name] += count
    return DunningReport(day=today, payers=len(ordered), **report)
