"""The compiled read path: a query over the compilable set answered by one SQL statement per
root field that builds the JSON itself (the approach of Hasura and PostGraphile).

Layers: `plan` (the operation as collected fields, from graphql-core), `json_sql` (JSON in
each database's SQL), `parts` (a selection as SQL cells and how to shape them), `connections`
(pages, cursors, counts), `nodes` (the compilable fields of each type), `roots`, `run`. It
builds on `app/`, `permissions/` and the statement builders of `loaders/` (the same rows, in
the same order, under the same rules' clauses); `resolvers.compiled_reads` hooks it in.
"""
