"""The logging filter masks NIRs, IBANs, e-mail addresses and French phone numbers in log records."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutuelle_adapters.logging import PersonalDataFilter, install, mask_personal_data


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # NIR: 15 characters, compact or spaced like the card, Corsica's 2A / 2B
        ("185057800608436", "1************36"),
        ("1 85 05 78 006 084 36", "1************36"),
        ("2 85 05 2A 006 084 36", "2************36"),
        ("285052b00608436", "2************36"),
        ("NIR=1\u00a085\u00a005\u00a078\u00a0006\u00a0084\u00a036.", "NIR=1************36."),
        # IBAN: France and elsewhere, compact or in groups of four, any case
        ("FR7630006000011234567890189", "FR*********************0189"),
        ("FR76 3000 6000 0112 3456 7890 189", "FR*********************0189"),
        ("fr76 3000 6000 0112 3456 7890 189", "FR*********************0189"),
        ("DE89 3704 0044 0532 0130 00", "DE****************3000"),
        ("GB82WEST12345698765432", "GB****************5432"),
        ("BE68 5390 0754 7034", "BE**********7034"),
        # e-mail
        ("jeanne.martin@example.fr", "j***@example.fr"),
        ("<marc+mutuelle@mail.example.com>", "<m***@mail.example.com>"),
        ("écrivez à élodie@exemple.fr.", "écrivez à é***@exemple.fr."),
        ("to='jeanne@example.fr' email=marc@example.fr", "to='j***@example.fr' email=m***@example.fr"),
        (
            "https://x.example/invite?email=jeanne@example.fr",
            "https://x.example/invite?email=j***@example.fr",
        ),
        # French phone numbers
        ("0612345678", "********78"),
        ("06 12 34 56 78", "********78"),
        ("06.12.34.56.78", "********78"),
        ("01-42-68-53-00", "********00"),
        ("+33612345678", "+33*******78"),
        ("+33 6 12 34 56 78", "+33*******78"),
        ("0033 6 12 34 56 78", "+33*******78"),
        ("+33 (0)6 12 34 56 78", "+33*******78"),
        ("tél. : 09 70 80 90 00 (non surtaxé)", "tél. : ********00 (non surtaxé)"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "SIRET 73282932000074",  # 14 digits
        "SIREN 732 829 320",
        "1234567890123456",  # 16 digits
        "date 01.05.2026, échéance 2026-05-01, 01/05/2026",
        "montant 1\u202f234,50\u00a0€",
        "contrat CT-2026-000123, adhésion M0000001, RUM-2024/000123",
        "uuid 8c1d6f1e-3b7a-4c52-9d1e-2f0a7b6c5d4e",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "07/05 : 3 messages, 12 échecs",
        "tracking 061234567890",  # 12 digits: not a phone number
    ],
)
def test_other_data_is_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


_PIECES = st.sampled_from(
    [
        "1 85 05 78 006 084 36",
        "2A",
        "FR76 3000 6000 0112 3456 7890 189",
        "jeanne@example.fr",
        "06 12 34 56 78",
        "+33612345678",
        "bonjour",
        "2026-05-01",
        "1 234,50 €",
        "0189",
        "@",
        "FR",
    ]
)


@given(st.lists(st.tuples(_PIECES, st.sampled_from([" ", ", ", "\n", ": ", "="])), max_size=8))
def test_masking_is_idempotent(parts: list[tuple[str, str]]) -> None:
    text = "".join(piece + sep for piece, sep in parts)
    once = mask_personal_data(text)
    assert mask_personal_data(once) == once
    assert "jeanne@" not in once
    assert "3000 6000" not in once
    assert "12 34 56" not in once


# --- the filter on log records ----------------------------------------------------------------------


def _record(msg: object, args: object = None, **kwargs: object) -> logging.LogRecord:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, None)  # type: ignore[arg-type]
    for key, value in kwargs.items():
        setattr(record, key, value)
    return record


def test_the_final_message_is_masked_and_args_are_dropped() -> None:
    record = _record("invitation sent to %s (IBAN %s)", ("jeanne@example.fr", "FR7630006000011234567890189"))
    assert PersonalDataFilter().filter(record) is True
    assert record.msg == "invitation sent to j***@example.fr (IBAN FR*********************0189)"
    assert record.args is None
    assert record.getMessage() == record.msg


def test_mapping_arguments_are_formatted_then_masked() -> None:
    record = _record("%(who)s: %(phone)s", ({"who": "marc@example.fr", "phone": "0612345678"},))
    PersonalDataFilter().filter(record)
    assert record.getMessage() == "m***@example.fr: ********78"


def test_a_record_without_personal_data_is_untouched() -> None:
    args = ("msg-000001", 3)
    record = _record("message %s sent after %d attempts", args)
    PersonalDataFilter().filter(record)
    assert record.msg == "message %s sent after %d attempts"
    assert record.args == args


def test_a_non_string_message_is_masked_too() -> None:
    record = _record(ValueError("bad address jeanne@example.fr"))
    PersonalDataFilter().filter(record)
    assert record.getMessage() == "bad address j***@example.fr"


def test_a_badly_formatted_record_is_kept_as_is() -> None:
    record = _record("%s and %s", ("jeanne@example.fr",))
    assert PersonalDataFilter().filter(record) is True
    assert record.msg == "%s and %s"


def test_tracebacks_and_stacks_are_masked() -> None:
    try:
        raise ValueError("NIR 1 85 05 78 006 084 36 refusé pour jeanne@example.fr")
    except ValueError:
        record = _record("échec", exc_info=sys.exc_info(), stack_info="Stack: jeanne@example.fr")
    PersonalDataFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "Traceback" in text
    assert "ValueError: NIR 1************36 refusé pour j***@example.fr" in text
    assert "Stack: j***@example.fr" in text
    assert "jeanne@example.fr" not in text


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    log = logging.getLogger("tests.logging_filter")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    yield log, stream
    log.removeHandler(handler)
    for f in list(log.filters):
        log.removeFilter(f)
    log.propagate = True


def test_install_masks_records_of_the_logger_and_of_its_children(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    data_filter = install(log)
    assert install(log) is data_filter
    assert log.filters == [data_filter]
    assert log.handlers[0].filters == [data_filter]

    log.info("affiliation of %s", "jeanne@example.fr")
    log.getChild("relay").warning("call %s", "+33 6 12 34 56 78")
    assert stream.getvalue().splitlines() == ["affiliation of j***@example.fr", "call +33*******78"]


def test_install_defaults_to_the_root_logger() -> None:
    root = logging.getLogger()
    data_filter = install()
    try:
        assert data_filter in root.filters
    finally:
        root.removeFilter(data_filter)
        for handler in root.handlers:
            handler.removeFilter(data_filter)
