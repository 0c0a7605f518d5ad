"""Compiled queries kept across requests: dashboards repeat their operations, and building a
query's statements (every rule's clause, page, count and nested list as SQLAlchemy objects,
then SQLAlchemy's cache key over them) costs about as much as running them on SQLite.

Invariants:
- a kept query is exactly what building it again would give: its key holds everything
  `compiled.run.compile_query` reads (the database's dialect; the operation's text, name and
  variables; the viewer's scope but for `now`, `AccessScope.timeless`), and the one value a
  built statement takes from the time, the rules' `NOW_PARAM`, is passed at every run
  (`compiled.run.execute`), so a query kept at 10:00 reads an assignment that expired at
  10:01 as expired at 10:02;
- nothing of the answer is kept: rows are read again at every request;
- only a successful build is kept: an operation the compiler refuses is decided again at each
  request, by building it;
- bounded: an LRU of at most `STATEMENT_CACHE_SIZE` queries that together select at most
  `STATEMENT_CACHE_FIELDS` fields (a kept query holds about 10 KiB per selected field: the
  README's dashboard selects 32 and holds about 300 KiB; a key holds at most
  `MAX_KEY_LENGTH` characters and the scope), one cache per app, so per worker; an operation
  whose text and variables hold more than `MAX_KEY_LENGTH` characters, or that alone selects
  more than the field budget, is built for its request only.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from compiled.run import Query
from permissions.policy import AccessScope

# About 20 MiB per worker: 64 dashboards like the README's.
STATEMENT_CACHE_FIELDS = 2_048
# However small the queries: keys of at most 5 MiB of text.
STATEMENT_CACHE_SIZE = 256
# The README's dashboard is under 1,000 characters: a key of 20,000 (text plus variables)
# holds any real dashboard, and the keys of a full cache stay within a few megabytes.
MAX_KEY_LENGTH = 20_000

Key = tuple[str, AccessScope, str, str | None, str]


def cache_key(
    dialect: str,
    scope: AccessScope,
    text: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Key | None:
    """The key of a query, or None when it is not kept (too long, odd variables)."""
    try:
        values = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    if len(text) + len(values) > MAX_KEY_LENGTH:
        return None
    return (dialect, scope.timeless(), text, operation_name, values)


class StatementCache:
    def __init__(
        self, budget: int = STATEMENT_CACHE_FIELDS, size: int = STATEMENT_CACHE_SIZE
    ) -> None:
        self.budget, self.size = budget, size
        self.weight = 0
        self._queries: OrderedDict[Key, Query] = OrderedDict()

    def __len__(self) -> int:
        return len(self._queries)

    def get(self, key: Key) -> Query | None:
        query = self._queries.get(key)
        if query is not None:
            self._queries.move_to_end(key)
        return query

    def put(self, key: Key, query: Query) -> None:
        if query.weight > self.budget:
            return
        old = self._queries.pop(key, None)
        self.weight += query.weight - (old.weight if old is not None else 0)
        self._queries[key] = query
        while self.weight > self.budget or len(self._queries) > self.size:
            _, evicted = self._queries.popitem(last=False)
            self.weight -= evicted.weight
