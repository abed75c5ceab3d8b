"""Electronic signature evidence: who signed which documents when, with each document's SHA-256.

The signature itself is performed by the :class:`~mutuelle_core.ports.SignatureService` port (a local
adapter records the evidence; a qualified provider can replace it); the domain keeps the evidence.

>>> import datetime as dt
>>> from mutuelle_core.signature import SignatureEvidence, SignedDocument
>>> ev = SignatureEvidence(signer="aff-1", signed_at=dt.datetime(2026, 5, 4, tzinfo=dt.UTC), provider="local",
...     documents=(SignedDocument(document_id="d1", kind="bia", sha256="ab" * 32),))
>>> ev.covers("bia"), ev.covers("sepa_mandate")
(True, False)
"""

from __future__ import annotations

import datetime as dt

import attrs

__all__ = ["SignatureEvidence", "SignedDocument"]


@attrs.frozen
class SignedDocument:
    """A document covered by a signature, identified by its id and SHA-256."""

    document_id: str
    kind: str
    sha256: str


@attrs.frozen(kw_only=True)
class SignatureEvidence:
    """Proof of an electronic signature."""

    signer: str
    signed_at: dt.datetime
    provider: str
    documents: tuple[SignedDocument, ...]

    def covers(self, kind: str) -> bool:
        """True when a document of that kind was signed."""
        return any(d.kind == kind for d in self.documents)
