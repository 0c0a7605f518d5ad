"""Who may see the schema: introspection and "Did you mean …?" hints, per `Settings`.

`Settings.introspection` and `Settings.suggestions` each name an audience: "signed-in" (the
default: a request with a valid token, so partner analysts keep GraphiQL), "everyone" or
"nobody".

Invariants:
- outside the audience, `__schema` and `__type` are refused at validation
  (GRAPHQL_VALIDATION_FAILED) and nothing runs; `__typename` stays allowed (clients need it);
- outside the audience, no error message names a field, argument, type or enum value the
  caller did not write: validation runs with graphql-core's `hide_suggestions`, and so does
  the coercion of variables (`HintAwareExecutionContext`);
- the audience is decided from the request's viewer before validation; a `login` inside the
  operation does not widen it;
- a document's text that passed validation with the same rules and hint setting is not
  validated again (`VALID_DOCUMENTS`, a bounded LRU of keys); a failure is never kept.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any

from graphql import ASTValidationRule, GraphQLError, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext

from resolvers.context import Context
from resolvers.document_cache import DOCUMENT_CACHE_SIZE, MAX_CACHED_LENGTH


def reaches(audience: str, signed_in: bool) -> bool:
    return audience == "everyone" or (audience == "signed-in" and signed_in)


def hides_suggestions(context: object) -> bool:
    if not isinstance(context, Context):
        return True
    return not reaches(context.settings.suggestions, context.viewer is not None)


class ValidDocuments:
    """Which documents passed validation, and with which rules: a bounded LRU of keys (the
    document's text, the rules, whether hints were hidden), never of errors, so a document
    that failed is validated again and reports its errors afresh."""

    def __init__(self, size: int = DOCUMENT_CACHE_SIZE) -> None:
        self.size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        if key in self._keys:
            self._keys.move_to_end(key)
            return True
        return False

    def add(self, key: Hashable) -> None:
        self._keys[key] = None
        self._keys.move_to_end(key)
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)


# The schema is one per process, and so is what passed its validation.
VALID_DOCUMENTS = ValidDocuments()


def validated(
    ctx: ExecutionContext, rules: tuple[type[ASTValidationRule], ...], hide: bool
) -> list[GraphQLError]:
    """graphql-core's `validate` of the request's document, skipped for a text that already
    passed with the same rules (validation reads only the schema, the document, the rules
    and `hide`: the text is parsed to the same document every time)."""
    document = ctx.graphql_document
    assert document is not None
    text = ctx.query
    key = (text, rules, hide) if text is not None and len(text) <= MAX_CACHED_LENGTH else None
    if key is not None and key in VALID_DOCUMENTS:
        return []
    errors = validate(ctx.schema._schema, document, rules, hide_suggestions=hide)
    if key is not None and not errors:
        VALID_DOCUMENTS.add(key)
    return errors


class SchemaVisibility(SchemaExtension):
    """Validates the document itself, with introspection and hints as the viewer may have
    them (Strawberry then skips its own validation: the errors are already set)."""

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        context: Context = ctx.context
        if ctx.graphql_document is not None and ctx.pre_execution_errors is None:
            rules = (*ctx.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule)
            if not reaches(context.settings.introspection, context.viewer is not None):
                rules = (*rules, NoSchemaIntrospectionCustomRule)
            ctx.pre_execution_errors = validated(ctx, rules, hides_suggestions(context))
        yield


class HintAwareExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Coerces variables without hints for a caller outside `Settings.suggestions`."""

    @classmethod
    def build(
        cls,
        schema: Any,
        document: Any,
        root_value: Any = None,
        context_value: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        kwargs["hide_suggestions"] = hides_suggestions(context_value)
        return super().build(schema, document, root_value, context_value, *args, **kwargs)
