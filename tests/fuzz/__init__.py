"""Schemathesis' GraphQL fuzzing of a live server (`make fuzz`, part of `make test`)."""
