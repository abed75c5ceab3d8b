"""Masking of personal data for ``repr``, logs and error messages.

Personal data (NIR, IBAN, e-mail, phone) never appears in clear outside the value that holds it:
value objects use these helpers in their ``repr``, errors carry masked parameters, and the adapters'
logging filter (:mod:`mutuelle_adapters.logging`) masks what slips into a log line.

>>> from mutuelle_core.masking import mask_email, mask_phone, mask_tail
>>> mask_email("jeanne.martin@example.fr")
'j***@example.fr'
>>> mask_phone("+33612345678")
'+33*******78'
>>> mask_tail("FR7630006000011234567890189", keep_head=2, keep_tail=4)
'FR*********************0189'
"""

from __future__ import annotations

__all__ = ["MASK", "mask_email", "mask_phone", "mask_tail"]

MASK = "*"


def mask_tail(text: str, *, keep_head: int = 0, keep_tail: int = 4) -> str:
    """Keep ``keep_head`` first and ``keep_tail`` last characters, mask the rest."""
    if len(text) <= keep_head + keep_tail:
        return MASK * len(text)
    hidden = len(text) - keep_head - keep_tail
    return text[:keep_head] + MASK * hidden + (text[-keep_tail:] if keep_tail else "")


def mask_email(address: str) -> str:
    """Keep the first character of the local part and the domain: ``j***@example.fr``."""
    local, sep, domain = address.partition("@")
    if not sep:
        return mask_tail(address, keep_head=1, keep_tail=0)
    return f"{local[:1]}***@{domain}"


def mask_phone(number: str) -> str:
    """Keep the country prefix (``+33``) and the last two digits."""
    head = 3 if number.startswith("+") else 0
    return mask_tail(number, keep_head=head, keep_tail=2)
