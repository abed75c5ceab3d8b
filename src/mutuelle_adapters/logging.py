"""A logging filter that masks personal data which slipped into a log line.

Value objects already mask themselves in their ``repr`` and domain errors carry masked parameters, but a
log line can still receive a raw string: an address read from a CSV file, a server's reply quoting the
recipient, an exception message. :class:`PersonalDataFilter` is the last line of defence: it formats
each record's message, masks what looks like a NIR, an IBAN, an e-mail address or a French phone
number, and stores the result back in the record (so every handler sees the masked text). Formatted
tracebacks and stack traces are masked the same way.

The patterns prefer masking too much to too little: a 15-character number shaped like a NIR is masked
even when its key is wrong (a mistyped NIR is still personal data).

>>> from mutuelle_adapters.logging import mask_personal_data
>>> mask_personal_data("NIR 2 85 05 2A 006 084 36, IBAN FR76 3000 6000 0112 3456 7890 189")
'NIR 2************36, IBAN FR*********************0189'
>>> mask_personal_data("écrire à jeanne.martin@example.fr ou appeler le 06 12 34 56 78")
'écrire à j***@example.fr ou appeler le ********78'
>>> mask_personal_data("+33 (0)6 12 34 56 78, commande 2026-05-01, SIRET 73282932000074")
'+33*******78, commande 2026-05-01, SIRET 73282932000074'
"""

from __future__ import annotations

import logging
import re
from typing import Final

from mutuelle_core.masking import mask_email, mask_phone, mask_tail

__all__ = ["PersonalDataFilter", "install", "mask_personal_data"]

# Separators people and Babel put inside numbers: space, no-break space, narrow no-break space.
_SPACE = "[ \u00a0\u202f]"
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"

# The local part leaves out the characters that delimit values in log lines (= ' " ` / ? | { }), so
# ``email=jeanne@example.fr`` becomes ``email=j***@example.fr``, not ``e***@example.fr``.
_EMAIL: Final = re.compile(r"[\w.!#$%&*+^~-]+@[\w-]+(?:\.[\w-]+)+")

# Country code, check digits, then the BBAN either compact (11 to 30 characters) or in groups of four
# separated by one space, the last group possibly shorter.
_IBAN: Final = re.compile(
    _NOT_ALNUM_BEFORE
    + r"[A-Z]{2}[0-9]{2}(?:"
    + r"[A-Z0-9]{11,30}"
    + rf"|(?:{_SPACE}[A-Z0-9]{{4}}){{2,7}}(?:{_SPACE}[A-Z0-9]{{1,3}})?"
    + r")"
    + _NOT_ALNUM_AFTER,
    re.IGNORECASE,
)

# Sex (1, 2, or 3, 4, 7, 8 for temporary numbers), year, month, department (2A / 2B in Corsica),
# commune, order number, key: 15 characters, spaced like the card (1 85 05 78 006 084 36) or not.
_NIR: Final = re.compile(
    _NOT_ALNUM_BEFORE
    + rf"[1-478]{_SPACE}?[0-9]{{2}}{_SPACE}?[0-9]{{2}}{_SPACE}?(?:[0-9]{{2}}|2[AB])"
    + rf"{_SPACE}?[0-9]{{3}}{_SPACE}?[0-9]{{3}}{_SPACE}?[0-9]{{2}}"
    + _NOT_ALNUM_AFTER,
    re.IGNORECASE,
)

# 0X XX XX XX XX, +33 X XX XX XX XX, 0033 ..., +33 (0)X ...; separators (space, dot, hyphen) must be
# the same throughout, so that a date such as 01.05.2026 is not mistaken for a number.
_PHONE: Final = re.compile(
    r"(?<![0-9A-Za-z+])"
    + rf"(?:(?:\+|00)33(?:{_SPACE}|[.-])?(?:\(0\)(?:{_SPACE}|[.-])?)?|0)[1-9]"
    + r"(?P<sep>[ \u00a0\u202f.-]?)[0-9]{2}(?:(?P=sep)[0-9]{2}){3}"
    + r"(?![0-9])"
)

_SEPARATORS: Final = re.compile(r"[\s.()-]")


def _compact(text: str) -> str:
    return _SEPARATORS.sub("", text)


def _mask_iban(match: re.Match[str]) -> str:
    return mask_tail(_compact(match.group()).upper(), keep_head=2, keep_tail=4)


def _mask_nir(match: re.Match[str]) -> str:
    return mask_tail(_compact(match.group()).upper(), keep_head=1, keep_tail=2)


def _mask_phone(match: re.Match[str]) -> str:
    number = _compact(match.group())
    if number.startswith("00"):
        number = "+" + number[2:]
    if number.startswith("+330"):  # +33 (0)6 ...: the trunk zero is not dialled from abroad
        number = "+33" + number[4:]
    return mask_phone(number)


def _mask_email(match: re.Match[str]) -> str:
    return mask_email(match.group())


def mask_personal_data(text: str) -> str:
    """Mask e-mail addresses, IBANs, NIRs and French phone numbers in free text.

    The masking style is :mod:`mutuelle_core.masking`'s: ``j***@example.fr``,
    ``FR*********************0189``, ``1************36`` (sex and key kept), ``+33*******78``.
    Masking is idempotent: masking a masked text changes nothing.

    >>> mask_personal_data("jeanne@example.fr: 185057800608436")
    'j***@example.fr: 1************36'
    """
    text = _EMAIL.sub(_mask_email, text)
    text = _IBAN.sub(_mask_iban, text)
    text = _NIR.sub(_mask_nir, text)
    return _PHONE.sub(_mask_phone, text)


class PersonalDataFilter(logging.Filter):
    """Masks personal data in log records; never drops a record.

    The record's final message (``record.getMessage()``) is masked and stored back as ``record.msg``
    with no ``args``, so every handler and formatter downstream sees the masked text. A record whose
    message does not format is left alone (the handler reports the formatting error as usual). The
    traceback of ``exc_info`` is formatted and masked into ``record.exc_text``, which formatters use as
    is, and ``stack_info`` is masked too.

    >>> import logging
    >>> record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("jeanne@example.fr",), None)
    >>> PersonalDataFilter().filter(record), record.getMessage()
    (True, 'to j***@example.fr')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; always keep it."""
        try:
            message = record.getMessage()
        except Exception:  # a badly formatted call: let the handler report it unchanged
            return True
        masked = mask_personal_data(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> PersonalDataFilter:
    """Attach a :class:`PersonalDataFilter` to a logger (the root logger by default) and its handlers.

    A logger's own filters only see records logged on that very logger, not those propagated from its
    children; a handler's filters see every record it emits. So the filter goes on both the logger and
    each handler it has now. Handlers added later need ``handler.addFilter(...)`` with the returned
    filter. Installing twice does not add a second filter.

    >>> import logging
    >>> log = logging.getLogger("doctest.install")
    >>> install(log) is install(log)
    True
    """
    target = logger if logger is not None else logging.getLogger()
    existing = next((f for f in target.filters if isinstance(f, PersonalDataFilter)), None)
    data_filter = existing or PersonalDataFilter()
    if existing is None:
        target.addFilter(data_filter)
    for handler in target.handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(data_filter)
    return data_filter
