"""The local signature adapter: records who signed, when, and the SHA-256 of each document.

It implements :class:`mutuelle_core.ports.SignatureService` for portals that collect the signature
themselves (a click-to-sign with the member authenticated): the evidence it returns is what the domain
stores. A qualified provider (eIDAS) can replace it behind the same port.

>>> import datetime as dt
>>> from mutuelle_core.affiliation.documents import make_document
>>> at = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC)
>>> doc = make_document(document_id="d1", kind="bia", owner="aff-1", filename="bia.txt", text="BIA", at=at)
>>> LocalSignatureService().sign(signer="aff-1", documents=[doc], at=at).documents[0].sha256 == doc.sha256
True
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from mutuelle_core.errors import error_code
from mutuelle_core.ports import Document
from mutuelle_core.signature import SignatureEvidence, SignedDocument

__all__ = ["LocalSignatureService"]

DOCUMENT_ALTERED = error_code(
    "signature.document_altered",
    "Le document {document_id} ne correspond pas à son empreinte : signature refusée.",
)
NOTHING_TO_SIGN = error_code("signature.no_document", "Aucun document à signer.")


class LocalSignatureService:
    """Signs by recording the evidence; refuses a document whose content no longer matches its SHA-256."""

    provider = "local"

    def sign(self, *, signer: str, documents: Sequence[Document], at: dt.datetime) -> SignatureEvidence:
        """Evidence that ``signer`` signed ``documents`` at ``at``."""
        if not documents:
            raise NOTHING_TO_SIGN(None)
        signed = []
        for doc in documents:
            if hashlib.sha256(doc.content).hexdigest() != doc.sha256:
                raise DOCUMENT_ALTERED(None, document_id=doc.document_id)
            signed.append(SignedDocument(document_id=doc.document_id, kind=doc.kind, sha256=doc.sha256))
        return SignatureEvidence(signer=signer, signed_at=at, provider=self.provider, documents=tuple(signed))
