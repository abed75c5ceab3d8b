"""Beneficiary designation of a provident death capital (DOMAIN.md §6, seed 004).

* :mod:`~mutuelle_core.designation.clauses`: the standard clause or a particular designation (named
  beneficiaries by rank, percentages totalling 100 %, the rule for lapsed shares); no free text.
* :mod:`~mutuelle_core.designation.designation`: the :class:`Designation` aggregate (draft, signed,
  in force, superseded), the signed clause document, acceptance and irrevocability (L132-9), the review
  reminder after a family change.
* :mod:`~mutuelle_core.designation.family`: the family's situation on the day of death.
* :mod:`~mutuelle_core.designation.allocation`: :func:`allocate_capital`, exact to the cent and explained.
* :mod:`~mutuelle_core.designation.use_cases` (imported on its own, it works through the ports): the
  member space (summary, full view after a second authentication, drafting, signature), the employer's
  and the back office's views, acceptances, the reminder after a family change.

>>> from mutuelle_core.designation import FamilyAtDeath, Spouse, StandardClause, allocate_capital
>>> from mutuelle_core.values.identity import PersonName
>>> from mutuelle_core.values.money import Money
>>> family = FamilyAtDeath(spouse=Spouse("s1", PersonName("martin", "anne")))
>>> result = allocate_capital(StandardClause(), Money.of("50000"), family)
>>> [(line.person_id, str(line.amount), line.rule) for line in result.lines]
[('s1', '50000.00', 'standard.spouse')]
"""

from mutuelle_core.designation.allocation import (
    AllocationLine,
    CapitalAllocation,
    ExplanationPart,
    allocate_capital,
)
from mutuelle_core.designation.clauses import (
    Clause,
    LapseRule,
    NamedBeneficiary,
    ParticularClause,
    Rank,
    Relationship,
    StandardClause,
    refuse_free_text,
)
from mutuelle_core.designation.designation import (
    Acceptance,
    BeneficiaryAccepted,
    Designation,
    DesignationDrafted,
    DesignationPutInForce,
    DesignationReviewReminder,
    DesignationSigned,
    DesignationStatus,
    DesignationSuperseded,
    FamilyChange,
    FamilySituationChanged,
    SignatureEvidence,
    clause_document_sha256,
    current_designation,
    render_clause_text,
    replace_designation,
)
from mutuelle_core.designation.family import (
    Child,
    ChildStatus,
    FamilyAtDeath,
    Heir,
    Person,
    Spouse,
    SpouseStatus,
)

__all__ = [
    "Acceptance",
    "AllocationLine",
    "BeneficiaryAccepted",
    "CapitalAllocation",
    "Child",
    "ChildStatus",
    "Clause",
    "Designation",
    "DesignationDrafted",
    "DesignationPutInForce",
    "DesignationReviewReminder",
    "DesignationSigned",
    "DesignationStatus",
    "DesignationSuperseded",
    "ExplanationPart",
    "FamilyAtDeath",
    "FamilyChange",
    "FamilySituationChanged",
    "Heir",
    "LapseRule",
    "NamedBeneficiary",
    "ParticularClause",
    "Person",
    "Rank",
    "Relationship",
    "SignatureEvidence",
    "Spouse",
    "SpouseStatus",
    "StandardClause",
    "allocate_capital",
    "clause_document_sha256",
    "current_designation",
    "refuse_free_text",
    "render_clause_text",
    "replace_designation",
]
