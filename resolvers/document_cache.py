"""Parsed and validated documents, cached across requests (dashboards repeat theirs).

Invariants: both caches are bounded LRUs (`DOCUMENT_CACHE_SIZE` documents), keyed by the
document's text (parsing) and by the schema, document and rules (validation), so a cached
answer is exactly what parsing or validating again would give; nothing about the viewer or
the variables is cached, and the cost limit (`resolvers.complexity`) runs on every request.
A document that does not parse is not cached: Strawberry parses it again and reports the
syntax error like any other (Strawberry's `ParserCache` would raise it from the extension
hook, where it loses the API's error code).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress

from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

DOCUMENT_CACHE_SIZE = 256


class DocumentParserCache(ParserCache):
    def __init__(self) -> None:
        super().__init__(maxsize=DOCUMENT_CACHE_SIZE)

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        # Left unparsed on a syntax error: Strawberry's own parse raises it again, in the
        # API's error shape.
        with suppress(GraphQLError):
            ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
        yield


def document_caches() -> list[Callable[[], SchemaExtension]]:
    """The schema's extensions for both caches (Strawberry makes them once per request)."""
    return [DocumentParserCache, lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE)]
