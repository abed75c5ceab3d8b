"""Correspondents: the employer's people who use the employer space (seed 000, "Mon compte").

A correspondent is principal or secondary. The principal creates secondary correspondents attached to
some of its contracts, optionally filtered by population (``titulaire``, ``assistant familial``); the new
correspondent receives an e-mail with a link to set a password. The link's token is unguessable, stored
only as its SHA-256 hash, valid 24 hours and usable once.

>>> import datetime as dt
>>> from mutuelle_core.contracts.correspondent import AccessScope, ContractAccess
>>> scope = AccessScope.of(ContractAccess("M1000304", populations=frozenset({"titulaire"})))
>>> scope.allows_contract("M1000304"), scope.allows_contract("M9")
(True, False)
>>> scope.allows_population("M1000304", "titulaire"), scope.allows_population("M1000304", None)
(True, False)
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re

import attrs

from mutuelle_core.errors import error_code
from mutuelle_core.events import DomainEvent
from mutuelle_core.i18n import message
from mutuelle_core.values.identity import Email, PersonName, Phone

__all__ = [
    "ACTIVATION_VALIDITY",
    "AccessScope",
    "ActivationToken",
    "ContractAccess",
    "Correspondent",
    "CorrespondentRole",
    "CorrespondentStatus",
    "hash_password",
    "hash_token",
    "verify_password",
]

ACTIVATION_VALIDITY = dt.timedelta(hours=24)
"""How long the link sent to a new correspondent stays valid."""

LOGIN_INVALID = error_code(
    "correspondent.invalid_login",
    "L'identifiant doit comporter 3 à 64 caractères : lettres, chiffres, point, tiret, tiret bas ou @.",
)
SCOPE_EMPTY = error_code("correspondent.no_contract", "Sélectionnez au moins un contrat.")
TOKEN_INVALID = error_code(
    "correspondent.activation_invalid", "Ce lien d'activation n'est pas valide ou a déjà été utilisé."
)
TOKEN_EXPIRED = error_code(
    "correspondent.activation_expired", "Ce lien d'activation a expiré : demandez-en un nouveau."
)
PASSWORD_WEAK = error_code(
    "correspondent.password_weak",
    "Le mot de passe doit comporter au moins 12 caractères dont une lettre et un chiffre.",
)
DUPLICATE_LOGIN = error_code("correspondent.duplicate_login", "L'identifiant {login} est déjà utilisé.")
CORRESPONDENT_DELETED = error_code("correspondent.deleted", "Ce compte correspondant a été supprimé.")
CORRESPONDENT_INACTIVE = error_code(
    "correspondent.inactive", "Ce compte correspondant n'est pas encore activé."
)

_LOGIN = re.compile(r"[A-Za-z0-9._@-]{3,64}")


class CorrespondentRole(enum.Enum):
    """Principal (manages the employer's correspondents) or secondary."""

    PRINCIPAL = "principal"
    SECONDARY = "secondary"


class CorrespondentStatus(enum.Enum):
    """Whether the account can be used (the seed's "Activé ?" column)."""

    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    DELETED = "deleted"

    @property
    def label(self) -> str:
        """French label."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    CorrespondentStatus.PENDING_ACTIVATION: message("En attente d'activation"),
    CorrespondentStatus.ACTIVE: message("Activé"),
    CorrespondentStatus.DELETED: message("Supprimé"),
}


@attrs.frozen
class ContractAccess:
    """Access to one contract, to all its populations or only to some."""

    contract_number: str
    populations: frozenset[str] = frozenset()
    """Empty: every population of the contract."""


@attrs.frozen
class AccessScope:
    """The contracts (and populations) a correspondent may read and act on."""

    grants: tuple[ContractAccess, ...]

    @classmethod
    def of(cls, *grants: ContractAccess) -> AccessScope:
        """A scope from grants, sorted by contract number (one grant per contract)."""
        merged: dict[str, ContractAccess] = {}
        for g in grants:
            merged[g.contract_number] = g
        return cls(tuple(merged[k] for k in sorted(merged)))

    @property
    def contract_numbers(self) -> tuple[str, ...]:
        """The contracts in scope."""
        return tuple(g.contract_number for g in self.grants)

    def grant(self, contract_number: str) -> ContractAccess | None:
        """The grant for a contract, or ``None`` when the contract is outside the scope."""
        for g in self.grants:
            if g.contract_number == contract_number:
                return g
        return None

    def allows_contract(self, contract_number: str) -> bool:
        """True when the contract is in scope (for at least one population)."""
        return self.grant(contract_number) is not None

    def allows_population(self, contract_number: str, population: str | None) -> bool:
        """True when a group of that population (``None``: no population) of the contract is in scope."""
        grant = self.grant(contract_number)
        if grant is None:
            return False
        return not grant.populations or (population is not None and population in grant.populations)

    def covers(self, other: AccessScope) -> bool:
        """True when everything ``other`` allows, this scope allows too."""
        for g in other.grants:
            mine = self.grant(g.contract_number)
            if mine is None:
                return False
            if mine.populations and (not g.populations or not g.populations <= mine.populations):
                return False
        return True


def hash_token(token: str) -> str:
    """The SHA-256 of a secret token, as stored (tokens are long random strings: no salt is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str, salt: str) -> str:
    """An scrypt hash of a password, ``scrypt$<salt>$<hex>`` (the salt comes from the token port)."""
    digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against :func:`hash_password`'s output, in constant time."""
    scheme, _, rest = stored.partition("$")
    salt, _, _hex = rest.partition("$")
    if scheme != "scrypt" or not salt:
        return False
    return hmac.compare_digest(hash_password(password, salt), stored)


@attrs.frozen
class ActivationToken:
    """A pending password-setting link: only the hash of its token is kept."""

    token_hash: str
    expires_at: dt.datetime


@attrs.frozen(kw_only=True)
class CorrespondentCreated(DomainEvent):
    """A correspondent account was created (and its activation link must be sent)."""

    correspondent_id: str
    employer_id: str
    created_by: str | None


@attrs.frozen(kw_only=True)
class CorrespondentActivated(DomainEvent):
    """A correspondent set a password through its link."""

    correspondent_id: str


@attrs.frozen(kw_only=True)
class CorrespondentContactChanged(DomainEvent):
    """A correspondent changed its e-mail or phone numbers."""

    correspondent_id: str


@attrs.frozen(kw_only=True)
class CorrespondentDeleted(DomainEvent):
    """A correspondent deleted its account."""

    correspondent_id: str


def _check_login(_inst: object, _attr: object, value: str) -> None:
    if not _LOGIN.fullmatch(value):
        raise LOGIN_INVALID("login")


def _check_scope(_inst: object, _attr: object, value: AccessScope) -> None:
    if not value.grants:
        raise SCOPE_EMPTY("contracts")


@attrs.frozen(kw_only=True)
class Correspondent:
    """A correspondent account (aggregate). Personal data is masked in ``repr``."""

    correspondent_id: str
    employer_id: str
    login: str = attrs.field(validator=_check_login)
    name: PersonName
    email: Email
    role: CorrespondentRole
    scope: AccessScope = attrs.field(validator=_check_scope)
    mobile: Phone | None = None
    phone: Phone | None = None
    fax: Phone | None = None
    notification_email: Email | None = None
    status: CorrespondentStatus = CorrespondentStatus.PENDING_ACTIVATION
    activation: ActivationToken | None = attrs.field(default=None, repr=False)
    password_hash: str | None = attrs.field(default=None, repr=False)
    created_by: str | None = None
    version: int = 0
    pending_events: tuple[DomainEvent, ...] = attrs.field(default=(), eq=False, repr=False)

    @classmethod
    def register(
        cls,
        *,
        correspondent_id: str,
        employer_id: str,
        login: str,
        name: PersonName,
        email: Email,
        role: CorrespondentRole,
        scope: AccessScope,
        token: str,
        now: dt.datetime,
        created_by: str | None = None,
    ) -> Correspondent:
        """A new account waiting for its password; ``token`` is the secret put in the e-mailed link."""
        return cls(
            correspondent_id=correspondent_id,
            employer_id=employer_id,
            login=login,
            name=name,
            email=email,
            role=role,
            scope=scope,
            activation=ActivationToken(hash_token(token), now + ACTIVATION_VALIDITY),
            created_by=created_by,
            pending_events=(
                CorrespondentCreated(
                    occurred_at=now,
                    correspondent_id=correspondent_id,
                    employer_id=employer_id,
                    created_by=created_by,
                ),
            ),
        )

    @property
    def is_principal(self) -> bool:
        """True for the employer's principal correspondent."""
        return self.role is CorrespondentRole.PRINCIPAL

    @property
    def can_act(self) -> bool:
        """True when the account is activated and not deleted."""
        return self.status is CorrespondentStatus.ACTIVE

    def activate(self, token: str, password: str, *, salt: str, now: dt.datetime) -> Correspondent:
        """Set the password through the link: the token must match, be unexpired and unused."""
        if self.status is CorrespondentStatus.DELETED:
            raise CORRESPONDENT_DELETED("token")
        activation = self.activation
        if activation is None or not hmac.compare_digest(activation.token_hash, hash_token(token)):
            raise TOKEN_INVALID("token")
        if now >= activation.expires_at:
            raise TOKEN_EXPIRED("token")
        if (
            len(password) < 12
            or not any(c.isalpha() for c in password)
            or not any(c.isdigit() for c in password)
        ):
            raise PASSWORD_WEAK("password")
        return attrs.evolve(
            self,
            status=CorrespondentStatus.ACTIVE,
            activation=None,
            password_hash=hash_password(password, salt),
            pending_events=(
                *self.pending_events,
                CorrespondentActivated(occurred_at=now, correspondent_id=self.correspondent_id),
            ),
        )

    def renew_activation(self, token: str, *, now: dt.datetime) -> Correspondent:
        """Replace the activation link (the previous one stops working)."""
        if self.status is CorrespondentStatus.DELETED:
            raise CORRESPONDENT_DELETED("correspondent")
        return attrs.evolve(self, activation=ActivationToken(hash_token(token), now + ACTIVATION_VALIDITY))

    def change_contact(
        self,
        *,
        email: Email,
        mobile: Phone | None,
        phone: Phone | None,
        fax: Phone | None,
        notification_email: Email | None,
        now: dt.datetime,
    ) -> Correspondent:
        """Replace the contact details ("Modifier mes coordonnées")."""
        if self.status is CorrespondentStatus.DELETED:
            raise CORRESPONDENT_DELETED("correspondent")
        return attrs.evolve(
            self,
            email=email,
            mobile=mobile,
            phone=phone,
            fax=fax,
            notification_email=notification_email,
            pending_events=(
                *self.pending_events,
                CorrespondentContactChanged(occurred_at=now, correspondent_id=self.correspondent_id),
            ),
        )

    def delete(self, *, now: dt.datetime) -> Correspondent:
        """Close the account ("Supprimer mon compte"): it can no longer log in nor act."""
        if self.status is CorrespondentStatus.DELETED:
            raise CORRESPONDENT_DELETED("correspondent")
        return attrs.evolve(
            self,
            status=CorrespondentStatus.DELETED,
            activation=None,
            password_hash=None,
            pending_events=(
                *self.pending_events,
                CorrespondentDeleted(occurred_at=now, correspondent_id=self.correspondent_id),
            ),
        )

    def check_password(self, password: str) -> bool:
        """True when ``password`` is this active account's password."""
        return (
            self.can_act and self.password_hash is not None and verify_password(password, self.password_hash)
        )
