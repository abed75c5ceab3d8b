"""The SQL schema as SQLAlchemy Core tables: what the repositories read and write.

The schema is *created* only by the Alembic migrations in ``migrations/`` (``mutuelle db upgrade``); a
test compares these tables with the migrated schema so that the two cannot drift apart.

Conventions: money in integer cents (SQLite stores NUMERIC as REAL), instants as timezone-aware
``DateTime`` (normalised to UTC on read), every aggregate root has an integer ``version`` for optimistic
concurrency, JSON columns hold settings-like values serialised by the core's cattrs converter.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

__all__ = [
    "affiliation_history",
    "affiliations",
    "assured_groups",
    "auth_challenges",
    "billing_runs",
    "contract_tariffs",
    "contracts",
    "correspondent_scopes",
    "correspondents",
    "cotisation_lines",
    "designations",
    "documents",
    "dunning_cases",
    "employer_dues",
    "employers",
    "imputations",
    "mandates",
    "metadata",
    "outbox",
    "payer_accounts",
    "payments",
    "products",
    "reference_counters",
    "regularisation_lines",
    "regularisation_runs",
    "schedule_lines",
    "sepa_collections",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

Instant = DateTime(timezone=True)

employers = Table(
    "employers",
    metadata,
    Column("employer_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("siren", String(9)),
    Column("siret", String(14)),
    Column("address", JSON),
    Column("email", String(254)),
    Column("version", Integer, nullable=False),
)

contracts = Table(
    "contracts",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("employer_id", String(64), ForeignKey("employers.employer_id"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("regime", String(20), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("end_date", Date),
    Column("settings", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)

assured_groups = Table(
    "assured_groups",
    metadata,
    Column(
        "contract_number", String(20), ForeignKey("contracts.number", ondelete="CASCADE"), primary_key=True
    ),
    Column("code", String(10), primary_key=True),
    Column("category", String(1), nullable=False),
    Column("label", String(100), nullable=False),
    Column("population", String(100)),
    Column("position", Integer, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("contract_number", String(20), primary_key=True),
    Column("code", String(40), primary_key=True),
    Column("label", String(200), nullable=False),
    Column("level", Integer, nullable=False),
    Column("group_code", String(10), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("radiation_date", Date),
    Column("position", Integer, nullable=False),
    ForeignKeyConstraint(
        ["contract_number", "group_code"],
        ["assured_groups.contract_number", "assured_groups.code"],
        ondelete="CASCADE",
    ),
)

correspondents = Table(
    "correspondents",
    metadata,
    Column("correspondent_id", String(64), primary_key=True),
    Column("employer_id", String(64), ForeignKey("employers.employer_id"), nullable=False, index=True),
    Column("login", String(64), nullable=False),
    Column("login_key", String(64), nullable=False, unique=True),
    Column("birth_name", String(100), nullable=False),
    Column("first_names", String(100), nullable=False),
    Column("usage_name", String(100)),
    Column("email", String(254), nullable=False),
    Column("mobile", String(20)),
    Column("phone", String(20)),
    Column("fax", String(20)),
    Column("notification_email", String(254)),
    Column("role", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("activation_token_hash", String(64), unique=True),
    Column("activation_expires_at", Instant),
    Column("password_hash", String(200)),
    Column("created_by", String(64)),
    Column("version", Integer, nullable=False),
)

correspondent_scopes = Table(
    "correspondent_scopes",
    metadata,
    Column(
        "correspondent_id",
        String(64),
        ForeignKey("correspondents.correspondent_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("contract_number", String(20), ForeignKey("contracts.number"), primary_key=True, index=True),
    Column("populations", JSON, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("message_id", String(64), primary_key=True),
    Column("template", String(100), nullable=False),
    Column("recipient", String(254), nullable=False),
    # subject and body_text are NULL while the message waits to be rendered from template, locale and
    # context (bulk invitations): the outbox adapter renders such a row when it reads it.
    Column("subject", String(300)),
    Column("body_text", Text),
    Column("body_html", Text),
    Column("created_at", Instant, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Instant),
    Column("sent_at", Instant),
    Column("last_error", String(500)),
    Column("locale", String(10)),
    Column("context", JSON),
    Index("ix_outbox_pending", "sent_at", "next_attempt_at", "created_at"),
)

documents = Table(
    "documents",
    metadata,
    Column("document_id", String(64), primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("owner", String(64), nullable=False, index=True),
    Column("filename", String(200), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", Instant, nullable=False),
)

affiliations = Table(
    "affiliations",
    metadata,
    Column("affiliation_id", String(64), primary_key=True),
    Column("contract_number", String(20), ForeignKey("contracts.number"), nullable=False),
    Column("group_code", String(10), nullable=False),
    Column("status", String(30), nullable=False),
    Column("civility", String(5), nullable=False),
    Column("birth_name", String(100), nullable=False),
    Column("first_names", String(100), nullable=False),
    Column("usage_name", String(100)),
    Column("email", String(254)),
    Column("person_key", String(500), nullable=False),
    Column("invited_at", Instant, nullable=False),
    Column("last_activity_at", Instant, nullable=False),
    Column("employment_start", Date),
    Column("dispense_email", String(254)),
    Column("link_token_hash", String(64), unique=True),
    Column("link_expires_at", Instant),
    Column("reminders", Integer, nullable=False),
    Column("journey", JSON, nullable=False),
    Column("enrolment", String(30)),
    Column("effective_date", Date),
    Column("product_level", Integer),
    Column("adhesion_number", String(20), unique=True),
    Column("control_reasons", JSON, nullable=False),
    Column("dispense", JSON),
    Column("signature", JSON),
    Column("covered", JSON, nullable=False),
    Column("departure", JSON),
    Column("continuation", JSON),
    Column("version", Integer, nullable=False),
    Column("changed_at", Instant, nullable=False),
    Index("ix_affiliations_contract_status", "contract_number", "status"),
    Index("ix_affiliations_contract_person", "contract_number", "person_key"),
    Index("ix_affiliations_status", "status"),
    Index("ix_affiliations_changed_at", "changed_at"),
)

affiliation_history = Table(
    "affiliation_history",
    metadata,
    Column(
        "affiliation_id",
        String(64),
        ForeignKey("affiliations.affiliation_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True),
    Column("at", Instant, nullable=False),
    Column("action", String(30), nullable=False),
    Column("from_status", String(30)),
    Column("to_status", String(30), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("detail", String(500)),
)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("kind", String(50), primary_key=True),
    Column("value", Integer, nullable=False),
)

designations = Table(
    "designations",
    metadata,
    Column("designation_id", String(64), primary_key=True),
    Column(
        "affiliation_id", String(64), ForeignKey("affiliations.affiliation_id"), nullable=False, index=True
    ),
    Column("member_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("clause", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("replaces_id", String(64)),
    Column("signed_by", String(64)),
    Column("signed_at", Instant),
    Column("signed_document_sha256", String(64)),
    Column("signed_document_id", String(64)),
    Column("signature_provider", String(50)),
    Column("in_force_at", Instant),
    Column("superseded_at", Instant),
    Column("superseded_by", String(64)),
    Column("acceptances", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    # At most one designation in force per affiliation: two first designations signed concurrently
    # cannot both come into force (the second commit fails and is reported as a concurrency conflict).
    Index(
        "uq_designations_in_force",
        "affiliation_id",
        unique=True,
        sqlite_where=text("status = 'in_force'"),
        postgresql_where=text("status = 'in_force'"),
    ),
)

auth_challenges = Table(
    "auth_challenges",
    metadata,
    Column("challenge_id", String(64), primary_key=True),
    Column("subject", String(64), nullable=False),
    Column("purpose", String(50), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("salt", String(100), nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("expires_at", Instant, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", Instant),
    Column("version", Integer, nullable=False),
    Index("ix_auth_challenges_subject_created", "subject", "created_at"),
)

contract_tariffs = Table(
    "contract_tariffs",
    metadata,
    Column("contract_number", String(20), ForeignKey("contracts.number"), primary_key=True),
    Column("grid", JSON, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)

billing_runs = Table(
    "billing_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("month", String(7), nullable=False),
    Column("status", String(20), nullable=False),
    Column("started_at", Instant, nullable=False),
    Column("finished_at", Instant),
    Column("cursor", String(64)),
    Column("affiliations", Integer, nullable=False),
    Column("billed", Integer, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_billing_runs_month_started", "month", "started_at"),
)

# The primary key is the line's natural key: billing the same month twice cannot add a line (the
# constraint is the billing run's last line of defence) and it serves the "already billed?" lookups.
# No foreign key to affiliations: it would cost a lookup per inserted row on PostgreSQL.
cotisation_lines = Table(
    "cotisation_lines",
    metadata,
    Column("affiliation_id", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("product", Integer, nullable=False),
    Column("payer", String(10), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("contract_number", String(20), nullable=False),
    Column("member_id", String(64), nullable=False),
    Column("category", String(20), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("affiliation_id", "month", "person_id", "product", "payer", "channel"),
    Index("ix_cotisation_lines_month_contract", "month", "contract_number"),
)

schedule_lines = Table(
    "schedule_lines",
    metadata,
    Column("affiliation_id", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("payer", String(10), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("contract_number", String(20), nullable=False),
    Column("payer_id", String(64), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    # what the payer's imputations pay of it: kept by the accounts adapter with the imputations
    Column("paid_cents", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("affiliation_id", "month", "payer"),
    # the dues not paid in full, by due date: the dunning job's arrears read these only, not the
    # whole history (a paid due leaves the index)
    Index(
        "ix_schedule_lines_open_due",
        "due_date",
        "payer",
        sqlite_where=text("amount_cents > paid_cents"),
        postgresql_where=text("amount_cents > paid_cents"),
    ),
)

# A member's dues are its schedule lines: this index serves the ledger of one payer.
Index("ix_schedule_lines_payer", schedule_lines.c.payer_id, schedule_lines.c.payer)

# An employer's due: one row per contract and month, added to by each batch of the billing run.
employer_dues = Table(
    "employer_dues",
    metadata,
    Column("contract_number", String(20), nullable=False),
    Column("month", String(7), nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("paid_cents", BigInteger, nullable=False, server_default=text("0")),
    PrimaryKeyConstraint("contract_number", "month"),
    Index("ix_employer_dues_due_date", "due_date"),
)

regularisation_runs = Table(
    "regularisation_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("month", String(7), nullable=False),
    Column("status", String(20), nullable=False),
    Column("since", Instant, nullable=False),
    Column("started_at", Instant, nullable=False),
    Column("finished_at", Instant),
    Column("cursor", String(64)),
    Column("affiliations", Integer, nullable=False),
    Column("regularised", Integer, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("added_cents", BigInteger, nullable=False),
    Column("credited_cents", BigInteger, nullable=False),
    Column("credit_notes", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_regularisation_runs_month_started", "month", "started_at"),
    Index("ix_regularisation_runs_started", "started_at"),
)

regularisation_lines = Table(
    "regularisation_lines",
    metadata,
    Column("affiliation_id", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("person_id", String(64), nullable=False),
    Column("product", Integer, nullable=False),
    Column("payer", String(10), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("billed_in", String(7), nullable=False),
    Column("contract_number", String(20), nullable=False),
    Column("member_id", String(64), nullable=False),
    Column("category", String(20), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    PrimaryKeyConstraint("affiliation_id", "month", "person_id", "product", "payer", "channel", "run_id"),
    Index("ix_regularisation_lines_billed_in_contract", "billed_in", "contract_number"),
)

mandates = Table(
    "mandates",
    metadata,
    Column("rum", String(35), primary_key=True),
    Column("affiliation_id", String(64), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)

# One row per payer with a recorded payment: the version guards the ledger's concurrent writes.
payer_accounts = Table(
    "payer_accounts",
    metadata,
    Column("payer", String(10), nullable=False),
    Column("payer_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("payer", "payer_id"),
)

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(64), primary_key=True),
    Column("payer", String(10), nullable=False),
    Column("payer_id", String(64), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("due_id", String(100)),
    Column("rejected_on", Date),
    Column("reject_reason", String(10)),
    Index("ix_payments_payer", "payer", "payer_id"),
)

# The due is (month, affiliation_id), affiliation_id '' for an employer's monthly due.
imputations = Table(
    "imputations",
    metadata,
    Column("payment_id", String(64), nullable=False),
    Column("payer", String(10), nullable=False),
    Column("payer_id", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("affiliation_id", String(64), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("imputed_on", Date, nullable=False),
    PrimaryKeyConstraint("payment_id", "month", "affiliation_id"),
    Index("ix_imputations_due", "payer", "payer_id", "month", "affiliation_id"),
)

dunning_cases = Table(
    "dunning_cases",
    metadata,
    Column("payer", String(10), nullable=False),
    Column("payer_id", String(64), nullable=False),
    Column("due_id", String(100), nullable=False),
    Column("contract_number", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("payer", "payer_id", "due_id"),
    Index("ix_dunning_cases_status", "status"),
)

sepa_collections = Table(
    "sepa_collections",
    metadata,
    Column("collection_id", String(35), primary_key=True),
    Column("collection_date", Date, nullable=False),
    Column("created_at", Instant, nullable=False),
    Column("filename", String(255), nullable=False),
    Column("transactions", Integer, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
)
