"""The pure domain: customers, contacts, cases, agents and the events between them.

Only the standard library is imported here (an import-linter contract checks it)."""
