"""SEPA direct debit mandates and the instructions collected under them (DOMAIN.md §7).

A :class:`Mandate` is the debtor's authorisation, named by its RUM (référence unique du mandat). It is
an immutable value: :meth:`~Mandate.record_collection`, :meth:`~Mandate.amend_account` and
:meth:`~Mandate.revoke` return a new mandate.

* The first collection of a recurrent mandate is ``FRST``, the next ones ``RCUR``; the last one may
  be sent as ``FNAL``; a one-off mandate is collected once, ``OOFF``.
* A change of IBAN keeps the mandate and its RUM (an *amendment*). The next collection carries the
  amendment indicator and the original debtor account; when the new account is in another bank
  (SMNDA, *same mandate, new debtor agent*) that collection is ``FRST`` again.
* A mandate not used for 36 months lapses (SEPA Core rulebook): a new one must be signed.

A :class:`DirectDebitInstruction` is one collection as it goes into a SEPA file (pain.008): it
checks the amount (positive, at most 999 999 999,99 €), the identifiers and texts (SEPA character
set, lengths), the dates (signature before collection; pre-notification
:data:`~mutuelle_core.cotisations.schedule.PRENOTIFICATION_DAYS` days before collection) and that a
change of bank is collected as ``FRST``. :func:`sepa_text` transliterates names and texts to the
SEPA character set.

>>> import datetime as dt
>>> from mutuelle_core.cotisations.mandates import Mandate, SequenceType
>>> from mutuelle_core.values.bank import BankAccount, MandateReference
>>> from mutuelle_core.values.money import Money
>>> mandate = Mandate(rum=MandateReference("MUT-2026-000042"), debtor_name="Anaïs Lefèvre",
...     account=BankAccount.parse("FR76 3000 6000 0112 3456 7890 189"), signed_on=dt.date(2026, 1, 10))
>>> mandate.next_sequence_type()
<SequenceType.FRST: 'FRST'>
>>> debit = mandate.instruction(end_to_end_id="MUT-2026-02-000042", amount=Money("36.00"),
...     collection_date=dt.date(2026, 2, 5), notified_on=dt.date(2026, 1, 12),
...     remittance_info="Cotisation février 2026")
>>> debit.sequence_type.value, debit.debtor_name, debit.remittance_info
('FRST', 'Anais Lefevre', 'Cotisation fevrier 2026')
>>> mandate = mandate.record_collection(dt.date(2026, 2, 5))
>>> mandate.next_sequence_type()
<SequenceType.RCUR: 'RCUR'>
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from typing import Final

import attrs
from schwifty import IBAN

from mutuelle_core.cotisations.schedule import PRENOTIFICATION_DAYS, prenotification_deadline
from mutuelle_core.errors import error_code
from mutuelle_core.i18n import message
from mutuelle_core.values.bank import BankAccount, MandateReference
from mutuelle_core.values.money import Money

__all__ = [
    "DIRECT_DEBIT_AMOUNT_NOT_POSITIVE",
    "DIRECT_DEBIT_AMOUNT_TOO_LARGE",
    "DIRECT_DEBIT_BEFORE_SIGNATURE",
    "DIRECT_DEBIT_COLLECTION_TOO_EARLY",
    "DIRECT_DEBIT_INVALID_ID",
    "DIRECT_DEBIT_NEW_BANK_NOT_FIRST",
    "DIRECT_DEBIT_TEXT_EMPTY",
    "DIRECT_DEBIT_TEXT_TOO_LONG",
    "MANDATE_DATE_BEFORE_SIGNATURE",
    "MANDATE_DORMANCY_MONTHS",
    "MANDATE_LAPSED",
    "MANDATE_NOT_ACTIVE",
    "MANDATE_SAME_ACCOUNT",
    "MAX_AMOUNT",
    "NAME_MAX_LENGTH",
    "REMITTANCE_MAX_LENGTH",
    "AccountAmendment",
    "AmendmentInfo",
    "DirectDebitInstruction",
    "Mandate",
    "MandateStatus",
    "SequenceType",
    "is_sepa_identifier",
    "same_bank",
    "sepa_text",
]

NAME_MAX_LENGTH: Final = 70
"""Longest debtor or creditor name in a SEPA message (AT-14, AT-03)."""
REMITTANCE_MAX_LENGTH: Final = 140
"""Longest unstructured remittance information (AT-22)."""
ID_MAX_LENGTH: Final = 35
"""Longest end-to-end identifier (AT-10) or mandate reference (AT-01)."""
MAX_AMOUNT: Final = Money("999999999.99")
"""The largest amount of one SEPA direct debit (EPC implementation guidelines)."""
MANDATE_DORMANCY_MONTHS: Final = 36
"""A mandate not used for this many months lapses (SEPA Core rulebook)."""

MANDATE_NOT_ACTIVE = error_code(
    "mandate.not_active",
    "Le mandat {rum} n'est plus utilisable ({status}) : aucun prélèvement ni modification n'est possible.",
)
MANDATE_LAPSED = error_code(
    "mandate.lapsed",
    "Le mandat {rum} n'a pas servi depuis plus de {months} mois (dernier usage le {since}) : il est caduc, "
    "faites signer un nouveau mandat.",
)
MANDATE_SAME_ACCOUNT = error_code(
    "mandate.same_account", "Le nouveau compte {iban} est déjà celui du mandat {rum}."
)
MANDATE_DATE_BEFORE_SIGNATURE = error_code(
    "mandate.date_before_signature",
    "La date du {date} précède la signature du mandat {rum} (le {signed_on}).",
)
DIRECT_DEBIT_AMOUNT_NOT_POSITIVE = error_code(
    "direct_debit.amount_not_positive",
    "Le montant d'un prélèvement doit être strictement positif ({amount}).",
)
DIRECT_DEBIT_AMOUNT_TOO_LARGE = error_code(
    "direct_debit.amount_too_large",
    "Le montant d'un prélèvement SEPA ne peut pas dépasser {max} ({amount}).",
)
DIRECT_DEBIT_INVALID_ID = error_code(
    "direct_debit.invalid_id",
    "L'identifiant « {value} » doit compter 1 à {max} caractères du jeu SEPA (lettres sans accent, "
    "chiffres, espace et / - ? : ( ) . , ' +), sans / au début ni à la fin ni //.",
)
DIRECT_DEBIT_TEXT_EMPTY = error_code(
    "direct_debit.text_empty", "Ce texte est vide une fois converti au jeu de caractères SEPA."
)
DIRECT_DEBIT_TEXT_TOO_LONG = error_code(
    "direct_debit.text_too_long",
    "Ce texte dépasse {max} caractères une fois converti au jeu de caractères SEPA ({length}).",
)
DIRECT_DEBIT_BEFORE_SIGNATURE = error_code(
    "direct_debit.before_signature",
    "Le prélèvement du {collection} précède la signature du mandat (le {signed_on}).",
)
DIRECT_DEBIT_COLLECTION_TOO_EARLY = error_code(
    "direct_debit.collection_too_early",
    "Le prélèvement ne peut pas être présenté le {collection} : pré-notifié le {notified_on}, il doit "
    "l'être au moins {days} jours avant, soit le {earliest} au plus tôt.",
)
DIRECT_DEBIT_NEW_BANK_NOT_FIRST = error_code(
    "direct_debit.new_bank_not_first",
    "Le compte du mandat a changé de banque : le prélèvement suivant doit être de type FRST ({sequence}).",
)


class SequenceType(enum.Enum):
    """The sequence type of a collection (pain.008 ``SeqTp``)."""

    FRST = "FRST"
    """The first collection of a recurrent mandate (or the first after a change of bank)."""
    RCUR = "RCUR"
    """A following collection of a recurrent mandate."""
    FNAL = "FNAL"
    """The last collection of a recurrent mandate."""
    OOFF = "OOFF"
    """The only collection of a one-off mandate."""


class MandateStatus(enum.Enum):
    """Whether a mandate may still be collected."""

    ACTIVE = "active"
    """Usable."""
    REVOKED = "revoked"
    """Revoked by the debtor or the creditor."""
    COMPLETED = "completed"
    """Its final (``FNAL``) or only (``OOFF``) collection was made."""

    @property
    def label(self) -> str:
        """The French label."""
        return _STATUS_LABELS[self]


_STATUS_LABELS = {
    MandateStatus.ACTIVE: message("Actif"),
    MandateStatus.REVOKED: message("Révoqué"),
    MandateStatus.COMPLETED: message("Terminé"),
}

# ---------------------------------------------------------------------------------------------------
# The SEPA character set (EPC217-08 basic Latin): a-z A-Z 0-9 / - ? : ( ) . , ' + space

_SEPA_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/-?:().,'+ ")
# Letters that do not decompose into a base letter plus accents.
_SPECIAL: Final = str.maketrans(
    {
        "œ": "oe",
        "Œ": "OE",
        "æ": "ae",
        "Æ": "AE",
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
        "Ð": "D",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
        "&": "+",
        "_": "-",
        "€": "EUR",
        "°": "o",
    }
)
_SPACES: Final = re.compile(r" {2,}")


def sepa_text(text: str, max_length: int | None = None) -> str:
    """Transliterate ``text`` to the SEPA character set: accents removed, ligatures spelt out, any other
    character replaced by a space, spaces collapsed; cut to ``max_length`` when given.

    >>> sepa_text("Hélène d’Œttingen-Müller & Fils")
    "Helene d'OEttingen-Muller + Fils"
    >>> sepa_text("Zoë «Ça» Noël_2", 12)
    'Zoe Ca Noel-'
    """
    decomposed = unicodedata.normalize("NFKD", str(text).translate(_SPECIAL))
    kept = []
    for char in decomposed:
        if char in _SEPA_CHARS:
            kept.append(char)
        elif not unicodedata.combining(char):
            kept.append(" ")
    result = _SPACES.sub(" ", "".join(kept)).strip()
    if max_length is not None:
        result = result[:max_length].rstrip()
    return result


def is_sepa_identifier(value: str, max_length: int = ID_MAX_LENGTH) -> bool:
    """True for an identifier SEPA accepts: 1 to ``max_length`` characters of the SEPA set, without
    ``/`` at either end nor ``//``.

    >>> is_sepa_identifier("MUT-2026/0001"), is_sepa_identifier("/X"), is_sepa_identifier("é")
    (True, False, False)
    """
    return (
        isinstance(value, str)
        and 1 <= len(value) <= max_length
        and all(c in _SEPA_CHARS for c in value)
        and not value.startswith("/")
        and not value.endswith("/")
        and "//" not in value
    )


def _bank_id(account: BankAccount) -> tuple[str, str]:
    bank_code = IBAN(account.iban, allow_invalid=True).bank_code
    return account.country, bank_code or account.iban[4:8]


def same_bank(first: BankAccount, second: BankAccount) -> bool:
    """True when both accounts are held by the same bank (same country and national bank code).

    >>> a = BankAccount.parse("FR7630006000011234567890189")
    >>> b = BankAccount.parse("FR7630006000019876543210173")
    >>> c = BankAccount.parse("FR1420041010050500013M02606")
    >>> same_bank(a, b), same_bank(a, c)
    (True, False)
    """
    return _bank_id(first) == _bank_id(second)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    for candidate in range(day.day, 27, -1):
        try:
            return dt.date(year, month + 1, candidate)
        except ValueError:
            continue
    return dt.date(year, month + 1, min(day.day, 28))


# ---------------------------------------------------------------------------------------------------
# Mandates


@attrs.frozen(kw_only=True)
class AmendmentInfo:
    """What a collection says about a change of the mandate's account since the previous collection.

    Attributes:
        original_account: the account of the previous collection.
        other_bank: the new account is in another bank (SMNDA): the collection is ``FRST`` and the
            file carries ``SMNDA`` instead of the original account.
    """

    original_account: BankAccount
    other_bank: bool


@attrs.frozen(kw_only=True)
class AccountAmendment:
    """One change of the mandate's account, for the mandate's history.

    Attributes:
        on: the day of the change.
        old_account: the account before.
        new_account: the account after.
        other_bank: the new account is in another bank.
    """

    on: dt.date
    old_account: BankAccount
    new_account: BankAccount
    other_bank: bool

    @property
    def old_iban_masked(self) -> str:
        """The old IBAN, masked but for its country and last 4 characters."""
        return self.old_account.masked

    @property
    def new_iban(self) -> str:
        """The new IBAN."""
        return self.new_account.iban


def _debtor_name(value: str) -> str:
    name = " ".join(str(value).split())
    if not sepa_text(name):
        raise DIRECT_DEBIT_TEXT_EMPTY("debtor_name")
    if len(name) > NAME_MAX_LENGTH:
        raise DIRECT_DEBIT_TEXT_TOO_LONG("debtor_name", max=NAME_MAX_LENGTH, length=len(name))
    return name


def _rum(value: MandateReference | str) -> MandateReference:
    return value if isinstance(value, MandateReference) else MandateReference.parse(value)


def _account(value: BankAccount | str) -> BankAccount:
    return value if isinstance(value, BankAccount) else BankAccount.parse(value)


@attrs.frozen(kw_only=True)
class Mandate:
    """A SEPA direct debit mandate (Core scheme), an immutable value.

    Attributes:
        rum: the mandate reference, unchanged for the mandate's life (a ``str`` is parsed).
        debtor_name: the debtor's name as signed (spaces collapsed, at most 70 characters).
        account: the account currently debited (an IBAN ``str`` is parsed).
        signed_on: the signature date.
        recurrent: ``False`` for a one-off mandate (a single ``OOFF`` collection).
        sequence: the sequence type of the next collection (``FRST`` until one is made, ``RCUR`` then).
        amendments: the history of account changes, oldest first.
        pending_amendment: what the next collection must carry about account changes since the last
            collection, or ``None``.
        last_collection: the day of the last collection, or ``None``.
        revoked_on: the day the mandate was revoked, or ``None``.
        completed_on: the day of its final or one-off collection, or ``None``.
    """

    rum: MandateReference = attrs.field(converter=_rum)
    debtor_name: str = attrs.field(converter=_debtor_name)
    account: BankAccount = attrs.field(converter=_account)
    signed_on: dt.date
    recurrent: bool = True
    sequence: SequenceType = attrs.field()
    amendments: tuple[AccountAmendment, ...] = ()
    pending_amendment: AmendmentInfo | None = None
    last_collection: dt.date | None = None
    revoked_on: dt.date | None = None
    completed_on: dt.date | None = None

    @sequence.default
    def _first_sequence(self) -> SequenceType:
        return SequenceType.FRST if self.recurrent else SequenceType.OOFF

    @property
    def status(self) -> MandateStatus:
        """Active, revoked or completed."""
        if self.revoked_on is not None:
            return MandateStatus.REVOKED
        if self.completed_on is not None:
            return MandateStatus.COMPLETED
        return MandateStatus.ACTIVE

    def lapses_on(self) -> dt.date:
        """The day the mandate lapses if it is not used before: 36 months after its last use."""
        return _add_months(self.last_collection or self.signed_on, MANDATE_DORMANCY_MONTHS)

    def is_lapsed(self, on: dt.date) -> bool:
        """True when the mandate has not been used for 36 months on ``on``."""
        return on >= self.lapses_on()

    def next_sequence_type(self, *, final: bool = False) -> SequenceType:
        """The sequence type of the next collection: ``FRST``, then ``RCUR``; ``FNAL`` when ``final``
        (unless that collection must be ``FRST``); ``OOFF`` for a one-off mandate.

        Raises:
            DomainError: ``mandate.not_active`` for a revoked or completed mandate.
        """
        self._check_active()
        if final and self.sequence is SequenceType.RCUR:
            return SequenceType.FNAL
        return self.sequence

    def record_collection(self, on: dt.date, *, final: bool = False) -> Mandate:
        """The mandate after a collection on ``on`` (sent in a file): ``RCUR`` next, the pending
        amendment delivered; completed after a final or one-off collection.

        Raises:
            DomainError: ``mandate.not_active``, ``mandate.date_before_signature``.
        """
        sequence = self.next_sequence_type(final=final)
        self._check_not_before_signature(on)
        done = sequence in {SequenceType.FNAL, SequenceType.OOFF} or (final and self.recurrent)
        return attrs.evolve(
            self,
            sequence=SequenceType.RCUR if self.recurrent else SequenceType.OOFF,
            pending_amendment=None,
            last_collection=on,
            completed_on=on if done else None,
        )

    def amend_account(self, new_account: BankAccount | str, on: dt.date) -> Mandate:
        """The mandate debiting ``new_account`` from ``on``: same RUM, the change recorded.

        Once the mandate has been collected, the next collection carries the amendment indicator and
        the account of the last collection; if the new account is in another bank, that collection is
        ``FRST`` again (SMNDA). Before any collection the account is simply replaced (still recorded).

        Raises:
            DomainError: ``mandate.not_active``, ``mandate.date_before_signature``,
                ``mandate.same_account``; a bank account error for an invalid IBAN.
        """
        self._check_active()
        self._check_not_before_signature(on)
        account = _account(new_account)
        if account.iban == self.account.iban:
            raise MANDATE_SAME_ACCOUNT("new_account", iban=account.masked, rum=str(self.rum))
        history = (
            *self.amendments,
            AccountAmendment(
                on=on,
                old_account=self.account,
                new_account=account,
                other_bank=not same_bank(self.account, account),
            ),
        )
        if self.last_collection is None:
            return attrs.evolve(self, account=account, amendments=history)
        original = (
            self.pending_amendment.original_account if self.pending_amendment is not None else self.account
        )
        if original.iban == account.iban:  # back to the account of the last collection
            pending = None
            other_bank = False
        else:
            other_bank = not same_bank(original, account)
            pending = AmendmentInfo(original_account=original, other_bank=other_bank)
        sequence = self.sequence
        if self.recurrent:
            sequence = SequenceType.FRST if other_bank else SequenceType.RCUR
        return attrs.evolve(
            self, account=account, amendments=history, pending_amendment=pending, sequence=sequence
        )

    def revoke(self, on: dt.date) -> Mandate:
        """The mandate revoked on ``on``: no collection after that.

        Raises:
            DomainError: ``mandate.not_active`` when already revoked or completed,
                ``mandate.date_before_signature``.
        """
        self._check_active()
        self._check_not_before_signature(on)
        return attrs.evolve(self, revoked_on=on)

    def instruction(
        self,
        *,
        end_to_end_id: str,
        amount: Money,
        collection_date: dt.date,
        notified_on: dt.date,
        remittance_info: str,
        final: bool = False,
        prenotification_days: int = PRENOTIFICATION_DAYS,
    ) -> DirectDebitInstruction:
        """The instruction for the next collection under this mandate (call :meth:`record_collection`
        once it is sent).

        Raises:
            DomainError: ``mandate.not_active``, ``mandate.lapsed``, and the instruction's errors.
        """
        sequence = self.next_sequence_type(final=final)
        if self.is_lapsed(collection_date):
            raise MANDATE_LAPSED(
                "collection_date",
                rum=str(self.rum),
                months=MANDATE_DORMANCY_MONTHS,
                since=self.last_collection or self.signed_on,
            )
        return DirectDebitInstruction(
            end_to_end_id=end_to_end_id,
            rum=self.rum,
            mandate_signed_on=self.signed_on,
            sequence_type=sequence,
            amount=amount,
            debtor_name=self.debtor_name,
            account=self.account,
            collection_date=collection_date,
            notified_on=notified_on,
            remittance_info=remittance_info,
            amendment=self.pending_amendment,
            prenotification_days=prenotification_days,
        )

    def _check_active(self) -> None:
        status = self.status
        if status is not MandateStatus.ACTIVE:
            raise MANDATE_NOT_ACTIVE(None, rum=str(self.rum), status=status.label)

    def _check_not_before_signature(self, on: dt.date) -> None:
        if on < self.signed_on:
            raise MANDATE_DATE_BEFORE_SIGNATURE("on", date=on, rum=str(self.rum), signed_on=self.signed_on)


# ---------------------------------------------------------------------------------------------------
# Instructions


def _identifier(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not is_sepa_identifier(value):
        shown = value[:40] if isinstance(value, str) else "?"
        raise DIRECT_DEBIT_INVALID_ID(attribute.name, value=shown, max=ID_MAX_LENGTH)


def _amount(instance: object, attribute: attrs.Attribute[Money], value: Money) -> None:
    if not value.is_positive:
        raise DIRECT_DEBIT_AMOUNT_NOT_POSITIVE(attribute.name, amount=str(value))
    if value > MAX_AMOUNT:
        raise DIRECT_DEBIT_AMOUNT_TOO_LARGE(attribute.name, amount=str(value), max=str(MAX_AMOUNT))


def _sepa_name(value: str) -> str:
    text = sepa_text(value)
    if not text:
        raise DIRECT_DEBIT_TEXT_EMPTY("debtor_name")
    if len(text) > NAME_MAX_LENGTH:
        raise DIRECT_DEBIT_TEXT_TOO_LONG("debtor_name", max=NAME_MAX_LENGTH, length=len(text))
    return text


def _sepa_remittance(value: str) -> str:
    text = sepa_text(value)
    if not text:
        raise DIRECT_DEBIT_TEXT_EMPTY("remittance_info")
    if len(text) > REMITTANCE_MAX_LENGTH:
        raise DIRECT_DEBIT_TEXT_TOO_LONG("remittance_info", max=REMITTANCE_MAX_LENGTH, length=len(text))
    return text


@attrs.frozen(kw_only=True)
class DirectDebitInstruction:
    """One collection, as a SEPA direct debit file carries it; invalid instructions cannot be built.

    Texts are transliterated to the SEPA character set on construction (:func:`sepa_text`).

    Attributes:
        end_to_end_id: the creditor's unique reference of this collection (AT-10), 1 to 35 SEPA
            characters, returned by the bank with any reject.
        rum: the mandate reference (a ``str`` is parsed).
        mandate_signed_on: the mandate's signature date.
        sequence_type: ``FRST``, ``RCUR``, ``FNAL`` or ``OOFF``.
        amount: the amount, positive, at most 999 999 999,99 €.
        debtor_name: the debtor's name (at most 70 characters once transliterated).
        account: the debtor's account (an IBAN ``str`` is parsed; SEPA countries only).
        collection_date: the requested collection date.
        notified_on: the day the debtor was pre-notified (the schedule document or the notice).
        remittance_info: what the debtor's statement shows (at most 140 characters).
        amendment: the account change since the previous collection, or ``None``.
        prenotification_days: the agreed pre-notification delay (14 days unless agreed shorter).

    Raises:
        DomainError: ``direct_debit.invalid_id`` (``end_to_end_id``), ``rum.*`` (``rum``),
            ``direct_debit.amount_not_positive`` / ``direct_debit.amount_too_large`` (``amount``),
            ``direct_debit.text_empty`` / ``direct_debit.text_too_long``, ``iban.*`` (``account``),
            ``direct_debit.before_signature`` / ``direct_debit.collection_too_early``
            (``collection_date``), ``direct_debit.new_bank_not_first`` (``sequence_type``).
    """

    end_to_end_id: str = attrs.field(validator=_identifier)
    rum: MandateReference = attrs.field(converter=_rum)
    mandate_signed_on: dt.date
    sequence_type: SequenceType
    amount: Money = attrs.field(validator=_amount)
    debtor_name: str = attrs.field(converter=_sepa_name)
    account: BankAccount = attrs.field(converter=_account)
    collection_date: dt.date
    notified_on: dt.date
    remittance_info: str = attrs.field(converter=_sepa_remittance)
    amendment: AmendmentInfo | None = None
    prenotification_days: int = PRENOTIFICATION_DAYS

    def __attrs_post_init__(self) -> None:
        if self.collection_date < self.mandate_signed_on:
            raise DIRECT_DEBIT_BEFORE_SIGNATURE(
                "collection_date", collection=self.collection_date, signed_on=self.mandate_signed_on
            )
        if self.notified_on > prenotification_deadline(self.collection_date, self.prenotification_days):
            raise DIRECT_DEBIT_COLLECTION_TOO_EARLY(
                "collection_date",
                collection=self.collection_date,
                notified_on=self.notified_on,
                days=self.prenotification_days,
                earliest=self.earliest_collection,
            )
        if (
            self.amendment is not None
            and self.amendment.other_bank
            and self.sequence_type not in {SequenceType.FRST, SequenceType.OOFF}
        ):
            raise DIRECT_DEBIT_NEW_BANK_NOT_FIRST("sequence_type", sequence=self.sequence_type.value)

    @property
    def earliest_collection(self) -> dt.date:
        """The first day this collection may be made given its pre-notification."""
        return self.notified_on + dt.timedelta(days=self.prenotification_days)
