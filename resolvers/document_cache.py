"""Parsed documents, cached across requests (dashboards repeat theirs).

Invariants: the cache is a bounded LRU (`DOCUMENT_CACHE_SIZE` documents of at most
`MAX_CACHED_LENGTH` characters, so it holds at most a few megabytes whatever clients send; a
longer document is parsed for its request only) keyed by the document's text, so a cached
document is exactly what parsing again would give; nothing about the viewer or the
variables is cached. Validation is kept only as "this text passed with these rules"
(`resolvers.visibility.VALID_DOCUMENTS`: the rules depend on the viewer, so they are part of
the key), and the cost limit (`resolvers.complexity`) runs on every request.
A document that does not parse is not cached: Strawberry parses it again and reports the
syntax error like any other (Strawberry's `ParserCache` would raise it from the extension
hook, where it loses the API's error code).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress

from graphql import GraphQLError
from strawberry.extensions import ParserCache

DOCUMENT_CACHE_SIZE = 256
# The README's dashboard is under 1,000 characters; a generated one rarely passes 10,000.
MAX_CACHED_LENGTH = 20_000


class DocumentParserCache(ParserCache):
    def __init__(self) -> None:
        super().__init__(maxsize=DOCUMENT_CACHE_SIZE)

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        # Left unparsed on a syntax error or a long document: Strawberry's own parse runs
        # (and reports the error in the API's shape).
        if ctx.query is not None and len(ctx.query) <= MAX_CACHED_LENGTH:
            with suppress(GraphQLError):
                ctx.graphql_document = self.cached_parse_document(ctx.query, **ctx.parse_options)
        yield
