"""Placeholder until filled in by SIM-DATA."""

from starlette.routing import Route


def routes() -> list[Route]:
    return []
