"""Hypothesis entry point: registers the strategies of :mod:`mutuelle_core.testing` for ``st.from_type``.

The strategies are registered as ``st.deferred`` so that this module imports nothing heavy: Hypothesis
loads it while it initialises itself, possibly in the middle of ``import mutuelle_core.testing``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _hypothesis_setup_hook() -> None:
    """Register ``NIR``, ``BankAccount``, ``Siren``, ``Siret``, ``Email``, ``Money``... for ``st.from_type``."""
    from hypothesis import strategies as st

    from mutuelle_core.values.bank import BankAccount
    from mutuelle_core.values.company import Siren, Siret
    from mutuelle_core.values.identity import Email, PersonName
    from mutuelle_core.values.money import Money
    from mutuelle_core.values.nir import NIR
    from mutuelle_core.values.organisme import OrganismeCode

    def lazy(name: str, parse: Callable[[Any], Any] | None = None) -> Any:
        def build() -> Any:
            from mutuelle_core import testing

            strategy = getattr(testing, name)()
            return strategy.map(parse) if parse is not None else strategy

        return st.deferred(build)

    st.register_type_strategy(NIR, lazy("nirs", NIR.parse))
    st.register_type_strategy(BankAccount, lazy("french_ibans", BankAccount.parse))
    st.register_type_strategy(Siren, lazy("sirens", Siren.parse))
    st.register_type_strategy(Siret, lazy("sirets", Siret.parse))
    st.register_type_strategy(Email, lazy("emails", Email.parse))
    st.register_type_strategy(Money, lazy("money"))
    st.register_type_strategy(PersonName, lazy("person_names"))
    st.register_type_strategy(OrganismeCode, lazy("organisme_codes", OrganismeCode.parse))
