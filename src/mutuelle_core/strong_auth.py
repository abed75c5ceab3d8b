"""Strong (two-factor) authentication: the proof a sensitive screen or command asks for.

The member space already knows who the member is (login and password: the portal's business). Some
information is more sensitive than the rest: the beneficiary designation of a provident contract is
shown only « après une double authentification » (seed 004). The
:class:`~mutuelle_core.ports.StrongAuthentication` port sends a one-time code to the member
(``start``) and, when the member types it back (``confirm``), returns a :class:`StrongAuthProof`: who
confirmed, for what purpose, when. Use cases then call :func:`require_fresh_proof`: the proof must be
the member's, for that purpose, and recent (5 minutes by default).

The proof is a plain value: the portal keeps the one ``confirm`` returned in its server-side session
and passes it to the use case; the core cannot tell it from a forged one, exactly as it trusts the
portal for the member's identity.

The error codes of the port are declared here, so that every adapter (e-mail, SMS, authenticator
app) raises the same ones.

>>> import datetime as dt
>>> at = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
>>> proof = StrongAuthProof(subject="aff-1", purpose=VIEW_DESIGNATION, confirmed_at=at)
>>> require_fresh_proof(proof, subject="aff-1", purpose=VIEW_DESIGNATION, now=at + dt.timedelta(minutes=4))
>>> require_fresh_proof(proof, subject="aff-1", purpose=VIEW_DESIGNATION,
...                     now=at + dt.timedelta(minutes=6))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mutuelle_core.errors.AccessDenied: [strong_auth.proof_too_old] (proof) Votre confirmation d'identité ...
"""

from __future__ import annotations

import datetime as dt

import attrs

from mutuelle_core.errors import AccessDenied, NotFound, error_code
from mutuelle_core.i18n import message

__all__ = [
    "ALREADY_USED",
    "CODE_EXPIRED",
    "NO_EMAIL",
    "PROOF_MAX_AGE",
    "PROOF_REQUIRED",
    "PROOF_TOO_OLD",
    "SIGN_DESIGNATION",
    "TOO_MANY_ATTEMPTS",
    "TOO_MANY_REQUESTS",
    "UNKNOWN_CHALLENGE",
    "VIEW_DESIGNATION",
    "WRONG_CODE",
    "StrongAuthProof",
    "purpose_label",
    "require_fresh_proof",
]

VIEW_DESIGNATION = "view_designation"
"""Purpose: see the content of one's beneficiary designation (seed 004)."""
SIGN_DESIGNATION = "sign_designation"
"""Purpose: sign a new beneficiary designation (the one-time code authenticates the signer)."""

PROOF_MAX_AGE = dt.timedelta(minutes=5)
"""How long a proof stays fresh by default."""

WRONG_CODE = error_code("strong_auth.wrong_code", "Code incorrect : il vous reste {remaining} essai(s).")
CODE_EXPIRED = error_code("strong_auth.code_expired", "Ce code a expiré : demandez un nouveau code.")
TOO_MANY_ATTEMPTS = error_code(
    "strong_auth.too_many_attempts",
    "Trop d'essais incorrects : ce code n'est plus valable, demandez un nouveau code.",
)
ALREADY_USED = error_code(
    "strong_auth.already_used", "Ce code a déjà été utilisé : demandez un nouveau code."
)
UNKNOWN_CHALLENGE = error_code(
    "strong_auth.unknown_challenge",
    "Cette demande de code est inconnue : demandez un nouveau code.",
    NotFound,
)
TOO_MANY_REQUESTS = error_code(
    "strong_auth.too_many_requests",
    "Trop de codes demandés : réessayez dans {minutes} minute(s).",
)
NO_EMAIL = error_code(
    "strong_auth.no_email",
    "Aucune adresse e-mail n'est connue pour vous envoyer un code : contactez votre mutuelle.",
)
PROOF_REQUIRED = error_code(
    "strong_auth.required",
    "Pour des raisons de confidentialité, confirmez votre identité avec le code à usage unique "
    "qui vous est envoyé.",
    AccessDenied,
)
PROOF_TOO_OLD = error_code(
    "strong_auth.proof_too_old",
    "Votre confirmation d'identité date de plus de {minutes} minutes : demandez un nouveau code.",
    AccessDenied,
)

_PURPOSE_LABELS = {
    VIEW_DESIGNATION: message("consulter votre désignation de bénéficiaires"),
    SIGN_DESIGNATION: message("signer votre désignation de bénéficiaires"),
}
_ANY_PURPOSE = message("confirmer une opération de votre espace personnel")

# A proof confirmed slightly "in the future" comes from a clock a little ahead: tolerated up to this.
_CLOCK_SKEW = dt.timedelta(seconds=30)


def purpose_label(purpose: str) -> str:
    """What the member is about to do, in French, for the message that carries the code.

    >>> purpose_label(VIEW_DESIGNATION)
    'consulter votre désignation de bénéficiaires'
    """
    return _PURPOSE_LABELS.get(purpose, _ANY_PURPOSE)


@attrs.frozen(kw_only=True)
class StrongAuthProof:
    """A confirmed one-time code: ``subject`` proved, at ``confirmed_at``, that it wants ``purpose``.

    Attributes:
        subject: who confirmed (in the member space, the affiliation id, as everywhere else there).
        purpose: what for (:data:`VIEW_DESIGNATION`, :data:`SIGN_DESIGNATION`...).
        confirmed_at: when the code was confirmed.
    """

    subject: str
    purpose: str
    confirmed_at: dt.datetime


def require_fresh_proof(
    proof: StrongAuthProof | None,
    *,
    subject: str,
    purpose: str,
    now: dt.datetime,
    max_age: dt.timedelta = PROOF_MAX_AGE,
) -> None:
    """Refuse unless ``proof`` is ``subject``'s, for ``purpose``, confirmed within ``max_age`` of ``now``.

    Raises:
        AccessDenied: ``strong_auth.required`` (no proof, or someone else's, or for another purpose),
            ``strong_auth.proof_too_old``.
    """
    if proof is None or proof.subject != subject or proof.purpose != purpose:
        raise PROOF_REQUIRED("proof")
    if proof.confirmed_at > now + _CLOCK_SKEW:
        raise PROOF_REQUIRED("proof")
    if now - proof.confirmed_at > max_age:
        raise PROOF_TOO_OLD("proof", minutes=int(max_age.total_seconds() // 60))
