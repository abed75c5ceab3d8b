"""The messages the contracts slice sends (rendered by the e-mail adapter from French templates)."""

from __future__ import annotations

from mutuelle_core.contracts.correspondent import Correspondent
from mutuelle_core.contracts.employer import Employer
from mutuelle_core.ports import OutgoingMessage

__all__ = ["activation_message"]


def activation_message(correspondent: Correspondent, employer: Employer, link: str) -> OutgoingMessage:
    """The e-mail with the link a new correspondent opens to set its password."""
    activation = correspondent.activation
    assert activation is not None
    return OutgoingMessage(
        template="correspondent_activation",
        to=correspondent.email,
        context={
            "first_name": correspondent.name.first_names,
            "login": correspondent.login,
            "employer": employer.name,
            "link": link,
            "expires_at": activation.expires_at.isoformat(),
        },
    )
