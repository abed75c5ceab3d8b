"""A dependant debited from the member's account needs a SEPA mandate, on every adapter.

Françoise is forced to the base by her employer (no journey, hence no RIB and no mandate); her base goes
through payroll, but a child she adds is debited from her account (seed 002). Adding one must carry
her bank details and sign the mandate in the same command, or be refused and change nothing.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from pathlib import Path

import attrs
import pytest

from mutuelle_adapters.files.sepa import NAMESPACE, SepaDirectDebitFiles
from mutuelle_core.affiliation import follow_up as fu
from mutuelle_core.affiliation import invitations as inv
from mutuelle_core.affiliation import management as mg
from mutuelle_core.affiliation.journey import BeneficiaryForm
from mutuelle_core.contracts.contract import ProductLevel
from mutuelle_core.cotisations.billing import bill, set_tariff
from mutuelle_core.cotisations.collection import collect_direct_debits
from mutuelle_core.cotisations.cycle import collection_dates
from mutuelle_core.cotisations.records import ContractTariff
from mutuelle_core.cotisations.regularisation import regularise
from mutuelle_core.cotisations.rules import CollectionChannel, CotisationRules
from mutuelle_core.cotisations.seed002 import seed_002_grid, seed_002_lines
from mutuelle_core.cotisations.tariff import PersonCategory, TariffGrid
from mutuelle_core.errors import DomainError
from mutuelle_core.families import use_cases as fam
from mutuelle_core.families.beneficiaries import CoveredBeneficiary
from mutuelle_core.services import InsurerProfile, Services
from mutuelle_core.values.bank import BankAccount
from mutuelle_core.values.dates import DateRange, Month
from tests.affiliation_fixtures import (
    BANK,
    CONTACT,
    HOUSEHOLD_TWINS,
    PERSONAL,
    TWINS,
    set_up_psc,
    spouse_form,
)
from tests.conftest import Backend

D = dt.date
ACCOUNT = BankAccount.parse("FR14 2004 1010 0505 0001 3M02 606", holder="Françoise Lœuillet")
HUGO = BeneficiaryForm(
    kind="child", civility="M", birth_name="Lœuillet", first_names="Hugo", birth_date="14/03/2016"
)
START = D(2026, 6, 1)


def forced(backend: Backend, tariff: ContractTariff | None = None) -> tuple[Services, str, str]:
    """Françoise, forced to the base of MENJ2026 (no mandate); optionally the contract's tariff."""
    svc = backend.services()
    actor = set_up_psc(svc)
    if tariff is not None:
        set_tariff(svc, tariff)
    form = inv.InvitationForm(
        civility="MME", birth_name="Lœuillet", first_names="Françoise", email="francoise@example.fr"
    )
    aff = inv.invite_employee(svc, actor, "MENJ2026", "A1", form)
    fu.force_base_affiliation(svc, actor, aff.affiliation_id)
    return svc, actor, aff.affiliation_id


def seed_tariff(**rules: object) -> ContractTariff:
    return ContractTariff(seed_002_grid(), CotisationRules.psc(evin_reference_group="A1", **rules))


def affiliated_with_mandate(backend: Backend) -> tuple[Services, str]:
    """Benoît, affiliated through the journey with his RIB: his SEPA mandate is signed and active."""
    svc = backend.services()
    actor = set_up_psc(svc)
    set_tariff(svc, seed_tariff())
    form = mg.CompleteAffiliationForm(
        regime="general",
        household=HOUSEHOLD_TWINS,
        level=1,
        personal=PERSONAL,
        beneficiaries=(spouse_form(), *TWINS),
        contact=CONTACT,
        bank=BANK,
    )
    aff_id = mg.complete_affiliation(svc, actor, "MENJ2026", "A1", form).affiliation_id
    mg.accept_affiliation(svc, aff_id)
    return svc, aff_id


def snapshot(backend: Backend, aff_id: str) -> tuple[object, ...]:
    """Everything the command may change."""
    with backend.uow() as uow:
        aff = uow.affiliations.get(aff_id)
        return (
            aff.version,
            aff.covered,
            len(aff.history),
            uow.mandates.active_for([aff_id]),
            sorted(d.kind for d in uow.documents.list_for_owner(aff_id)),
            len(uow.outbox.pending(backend.clock.now(), 1000)),
        )


def add(svc: Services, aff_id: str, form: BeneficiaryForm = HUGO, **extra: object) -> CoveredBeneficiary:
    return fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=form, start=START, **extra))  # type: ignore[arg-type]


@pytest.mark.parametrize("with_tariff", [True, False], ids=["tariff", "contract-price-grid"])
def test_refused_without_bank_details_and_nothing_changes(backend: Backend, with_tariff: bool) -> None:
    svc, actor, aff_id = forced(backend, seed_tariff() if with_tariff else None)
    before = snapshot(backend, aff_id)
    for actor_id in (None, actor):  # member space, then employer space
        with pytest.raises(DomainError) as exc:
            fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=HUGO, start=START), actor_id=actor_id)
        error = exc.value
        assert (error.code, error.field) == ("beneficiary.mandate_required", "account")
        assert "6.00 € par mois" in error.message() and "mandat de prélèvement SEPA" in error.message()
        assert "(Child, 6.00 € a month)" in error.message("en")
        assert snapshot(backend, aff_id) == before


def test_accepted_with_bank_details_mandate_signed_and_the_child_collected(
    backend: Backend, tmp_path: Path
) -> None:
    svc, _actor, aff_id = forced(backend, seed_tariff())
    new = fam.NewBeneficiary(form=HUGO, start=START, account=ACCOUNT)
    assert ACCOUNT.iban not in repr(new) and ACCOUNT.masked in repr(new)
    hugo = fam.add_beneficiary(svc, aff_id, new)
    with backend.uow() as uow:
        stored = uow.mandates.active_for([aff_id])[aff_id]
        aff = uow.affiliations.get(aff_id)
        [document] = [d for d in uow.documents.list_for_owner(aff_id) if d.kind == "sepa_mandate"]
    mandate = stored.mandate
    assert str(mandate.rum).startswith("RUM-MENJ2026-")
    assert (mandate.account.iban, mandate.debtor_name) == (ACCOUNT.iban, "Françoise Lœuillet")
    assert mandate.signed_on == backend.clock.today()
    text = document.content.decode()
    assert f"(RUM) : {mandate.rum}" in text and ACCOUNT.formatted in text
    assert [b.beneficiary_id for b in aff.covered] == [hugo.beneficiary_id]
    assert aff.history[-1].detail == f"{hugo.beneficiary_id}: mandat SEPA {mandate.rum}"
    assert aff.history[-1].actor == "employee"

    bill(svc, Month(2026, 6))
    report = collect_direct_debits(
        svc,
        D(2026, 6, 5),
        SepaDirectDebitFiles(
            tmp_path / "sepa",
            creditor=InsurerProfile(),
            creditor_account=BankAccount.parse("FR7630004000010001234567830"),
        ),
    )
    assert report.debits == 1
    root = ET.fromstring(Path(report.published[0]).read_bytes())
    ns = {"p": NAMESPACE}
    [tx] = list(root.iter(f"{{{NAMESPACE}}}DrctDbtTxInf"))
    assert tx.findtext("p:InstdAmt", namespaces=ns) == "6.00"  # the child's base, seed 002
    assert tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=ns) == ACCOUNT.iban
    assert tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=ns) == str(mandate.rum)


def test_the_employer_space_signs_with_the_account_as_for_a_complete_affiliation(backend: Backend) -> None:
    svc, actor, aff_id = forced(backend)  # no tariff yet: the contract's own price grid (child 6 €)
    no_holder = BankAccount.parse(ACCOUNT.iban)  # the member's name is then the debtor's and the holder's
    fam.add_beneficiary(
        svc, aff_id, fam.NewBeneficiary(form=HUGO, start=START, account=no_holder), actor_id=actor
    )
    with backend.uow() as uow:
        aff = uow.affiliations.get(aff_id)
        mandate = uow.mandates.active_for([aff_id])[aff_id].mandate
        [document] = [d for d in uow.documents.list_for_owner(aff_id) if d.kind == "sepa_mandate"]
    assert aff.history[-1].actor == actor
    assert aff.history[-1].detail is not None and f"mandat SEPA {mandate.rum}" in aff.history[-1].detail
    assert mandate.debtor_name == aff.name.display
    assert f"Titulaire du compte : {aff.name.display}\n" in document.content.decode()


def test_no_mandate_asked_when_one_is_active_and_a_new_iban_amends_it(backend: Backend) -> None:
    svc, aff_id = affiliated_with_mandate(backend)
    with backend.uow() as uow:
        signed = uow.mandates.active_for([aff_id])[aff_id].mandate
    add(svc, aff_id)  # no bank details: the mandate signed at affiliation collects the child
    same = attrs.evolve(HUGO, first_names="Léa", birth_date="02/02/2018")
    add(svc, aff_id, same, account=BankAccount.parse(BANK.iban, holder=BANK.holder))  # same account: nothing
    with backend.uow() as uow:
        assert uow.mandates.active_for([aff_id])[aff_id].mandate == signed
    other = attrs.evolve(HUGO, first_names="Noé", birth_date="03/03/2019")
    add(svc, aff_id, other, account=ACCOUNT)  # another account: the mandate is amended, same RUM
    with backend.uow() as uow:
        amended = uow.mandates.active_for([aff_id])[aff_id].mandate
        assert len(uow.affiliations.get(aff_id).covered) == 6
    assert amended.rum == signed.rum and amended.account.iban == ACCOUNT.iban
    assert [a.old_account.iban for a in amended.amendments] == [signed.account.iban]


def test_no_mandate_asked_when_the_contract_collects_members_otherwise(backend: Backend) -> None:
    svc, _actor, aff_id = forced(backend, seed_tariff(member_channel=CollectionChannel.CHEQUE))
    add(svc, aff_id)
    with backend.uow() as uow:
        assert uow.mandates.active_for([aff_id]) == {}
        assert len(uow.affiliations.get(aff_id).covered) == 1


def test_a_free_dependant_needs_no_mandate_the_engine_decides_by_rank(backend: Backend) -> None:
    svc, _actor, aff_id = forced(backend, seed_tariff(free_from_child_rank=3))
    with backend.uow() as uow:  # two children already covered (set up on the aggregate directly)
        aff = uow.affiliations.get(aff_id)
        organisme = uow.contracts.get("MENJ2026").settings.default_organisme_code
        for i, born in enumerate(["14/03/2012", "02/02/2014"]):
            form = attrs.evolve(HUGO, first_names=["Anne", "Paul"][i], birth_date=born)
            child = CoveredBeneficiary(
                beneficiary_id=f"older-{i}", details=form.validate(organisme), period=DateRange(START, None)
            )
            aff = aff.add_beneficiary(child, backend.clock.now(), "test")
        uow.affiliations.update(aff)
        uow.commit()
    youngest = attrs.evolve(HUGO, first_names="Zoé", birth_date="01/04/2026")
    add(svc, aff_id, youngest)  # the third child is free: no mandate needed
    eldest = attrs.evolve(HUGO, first_names="Jean", birth_date="01/01/2010")
    with pytest.raises(DomainError) as exc:  # born first, he is child 1: a free child moves to rank 3
        add(svc, aff_id, eldest)
    assert exc.value.code == "beneficiary.mandate_required"


def test_a_free_category_needs_no_mandate(backend: Backend) -> None:
    lines = [
        attrs.evolve(line, price=attrs.evolve(line.price, value=0))
        if line.category is PersonCategory.CHILD
        else line
        for line in seed_002_lines()
    ]
    svc, _actor, aff_id = forced(
        backend, ContractTariff(TariffGrid("MENJ2026", lines), CotisationRules.psc())
    )
    add(svc, aff_id)
    with backend.uow() as uow:
        assert uow.mandates.active_for([aff_id]) == {}


def test_when_the_engine_cannot_price_the_grid_list_price_decides(backend: Backend) -> None:
    # no price for the agent's base: billing cannot price the household, the child's list price is 6 €
    lines = [
        line
        for line in seed_002_lines()
        if not (line.category is PersonCategory.INSURED and line.product is ProductLevel.BASE)
    ]
    svc, _actor, aff_id = forced(
        backend, ContractTariff(TariffGrid("MENJ2026", lines), CotisationRules.psc())
    )
    with pytest.raises(DomainError) as exc:
        add(svc, aff_id)
    assert exc.value.code == "beneficiary.mandate_required" and "6.00 €" in exc.value.message()


def test_a_lapsed_mandate_does_not_count_a_new_one_is_signed(backend: Backend) -> None:
    svc, aff_id = affiliated_with_mandate(backend)
    with backend.uow() as uow:
        signed = uow.mandates.active_for([aff_id])[aff_id].mandate
    backend.clock.set(dt.datetime.combine(signed.lapses_on(), dt.time(9), tzinfo=dt.UTC))  # 36 months unused
    start = D(signed.lapses_on().year, signed.lapses_on().month, 1) + dt.timedelta(days=31)
    start = start.replace(day=1)
    with pytest.raises(DomainError) as exc:
        fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=HUGO, start=start))
    assert exc.value.code == "beneficiary.mandate_required"
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=HUGO, start=start, account=ACCOUNT))
    with backend.uow() as uow:
        renewed = uow.mandates.active_for([aff_id])[aff_id].mandate
        old = uow.mandates.find(str(signed.rum))
    assert renewed.rum != signed.rum and renewed.account.iban == ACCOUNT.iban
    assert old is not None and old.mandate.status.value == "revoked"


def test_a_dependant_added_after_the_month_was_billed_is_collected_with_that_month(
    backend: Backend, tmp_path: Path
) -> None:
    """Françoise's base goes through payroll: June's bill debits her nothing. Her child, added after
    June was billed with cover from her first day, is billed by June's regularisation (May and June)
    and collected on June's collection date under the mandate she signed."""
    svc, _actor, aff_id = forced(backend, seed_tariff())
    bill(svc, Month(2026, 5))
    backend.clock.set(dt.datetime(2026, 5, 20, 8, tzinfo=dt.UTC))
    bill(svc, Month(2026, 6))
    assert collection_dates(svc, Month(2026, 6)) == []
    with backend.uow() as uow:
        first_day = uow.affiliations.get(aff_id).effective_date
    assert first_day is not None
    fam.add_beneficiary(svc, aff_id, fam.NewBeneficiary(form=HUGO, start=first_day, account=ACCOUNT))
    report = regularise(svc, Month(2026, 6))
    assert report.added_cents > 0
    [date] = collection_dates(svc, Month(2026, 6))
    files = SepaDirectDebitFiles(
        tmp_path, creditor=InsurerProfile(), creditor_account=BankAccount.parse("FR7630004000010001234567830")
    )
    collected = collect_direct_debits(svc, date, files)
    assert (collected.debits, collected.amount.to_cents()) == (1, report.added_cents)
