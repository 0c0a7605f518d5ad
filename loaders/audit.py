"""Loaders for the audit trail: an event by id, for those who may read the trail
(`rules.AUDIT_TRAIL`)."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from app.models import AuditEvent
from loaders.base import RowByIdLoader
from permissions import rules


class AuditEventByIdLoader(RowByIdLoader[AuditEvent]):
    model = AuditEvent

    def visible(self) -> ColumnElement[bool]:
        return rules.AUDIT_TRAIL.clause(self.scope)
