"""Exceptions a user can cause and fix; anything else is a bug and surfaces as a traceback."""

from __future__ import annotations

import math


class RootsError(Exception):
    """A problem with the user's input or configuration, reported as one line (exit code 2)."""


class RecipeError(RootsError):
    """A recipe (or language file) that cannot be used as written; names the file and the key."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        super().__init__(f"{file}: {key}: {problem}")


class OptionError(ValueError):
    """An option value of the right type but outside its range; the loader adds file and key."""

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


def require_positive(owner: object, *fields: str) -> None:
    """Raise OptionError for the first of `fields` of `owner` that is not > 0."""
    for name in fields:
        value = getattr(owner, name)
        if not (value > 0 and math.isfinite(value)):
            raise OptionError(name, f"must be a finite number greater than 0, got {value!r}")


class LedgerImbalance(RootsError):
    """Documents went missing or were counted twice between reading and writing."""
