"""Exceptions a user can cause and fix; anything else is a bug and surfaces as a traceback."""

from __future__ import annotations


class RootsError(Exception):
    """A problem with the user's input or configuration, reported as one line (exit code 2)."""


class RecipeError(RootsError):
    """A recipe (or language file) that cannot be used as written; names the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}")


class LedgerImbalance(RootsError):
    """Documents went missing or were counted twice between reading and writing."""
