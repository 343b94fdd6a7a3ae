"""Shared UI pieces used by several pages."""
