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
  operation does not widen it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from resolvers.context import Context


def reaches(audience: str, signed_in: bool) -> bool:
    return audience == "everyone" or (audience == "signed-in" and signed_in)


def hides_suggestions(context: object) -> bool:
    if not isinstance(context, Context):
        return True
    return not reaches(context.settings.suggestions, context.viewer is not None)


class SchemaVisibility(SchemaExtension):
    """Validates the document itself, with introspection and hints as the viewer may have
    them (Strawberry then skips its own validation: the errors are already set)."""

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        context: Context = ctx.context
        document = ctx.graphql_document
        if document is not None and ctx.pre_execution_errors is None:
            rules = (*ctx.validation_rules, MaybeNullValidationRule, OneOfInputValidationRule)
            if not reaches(context.settings.introspection, context.viewer is not None):
                rules = (*rules, NoSchemaIntrospectionCustomRule)
            ctx.pre_execution_errors = validate(
                ctx.schema._schema, document, rules, hide_suggestions=hides_suggestions(context)
            )
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
