"""Referenced-document metadata inside knowledge_search tool results."""

from __future__ import annotations

import ast
import re

from formatters.events import Document

_METADATA = re.compile(r"\nMetadata: (\{.+})\n")
_MAX_METADATA_CHARS = 65536


def documents_in_text(text: str) -> list[Document]:
    """Return the documents named by `Metadata: {...}` lines (docs_url, title and document_id)."""
    documents = []
    for match in _METADATA.finditer(text):
        literal = match.group(1)
        if len(literal) > _MAX_METADATA_CHARS:
            continue
        try:
            metadata = ast.literal_eval(literal)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        if not isinstance(metadata, dict) or "document_id" not in metadata:
            continue
        url, title = metadata.get("docs_url"), metadata.get("title")
        if isinstance(url, str) and isinstance(title, str):
            documents.append(
                Document(url=url, title=title, document_id=str(metadata["document_id"]))
            )
    return documents
