"""Accounts: departments (the org tree, districts included), users, roles and API keys."""
