"""Loaders for API tokens: a token by id, for its own user only (`rules.TOKEN`)."""

from __future__ import annotations

from sqlalchemy import ColumnElement
from sqlmodel import col

from app.models import ApiToken
from loaders.base import RowByIdLoader
from permissions import rules


class ApiTokenByIdLoader(RowByIdLoader[ApiToken]):
    model = ApiToken

    def visible(self) -> ColumnElement[bool]:
        return rules.TOKEN.clause(self.scope, col(ApiToken.user_id))
