"""The GraphQL API: types, queries and mutations, one module per domain."""
