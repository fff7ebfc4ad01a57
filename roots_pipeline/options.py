"""Typed options from YAML: dataclasses built from mappings, every key and type checked.

Recipes, stage options and language files all go through `build_options`, so an unknown key or a
value of the wrong type is reported the same way everywhere: a RecipeError naming file and key.
An option declared with `option(default, help)` carries its one-line help beside its default, so a
command that exposes it (`roots dedup`) builds its flag from the field and restates neither.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Union

import yaml

from roots_pipeline.errors import OptionError, RecipeError


class StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain value (line {key_node.start_mark.line + 1})",
                    key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice (line {key_node.start_mark.line + 1})",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


T = typing.TypeVar("T")


def option(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    """Return a dataclass field with its default, its one-line help and any fixed choices."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


def described_options(cls: type) -> list[tuple[dataclasses.Field, Any]]:
    """Return the fields of `cls` declared with `option()`, each with its resolved type hint."""
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if "help" in f.metadata]


def build_options(cls: type[T], values: Any, file: str, where: str) -> T:
    """Build a dataclass from a mapping, checking every key and value type against its fields."""
    values = check_type(values, dict, file, where)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    kwargs = {}
    for key, value in values.items():
        if key not in fields:
            raise RecipeError(file, f"{where}.{key}",
                              f"unknown key (expected one of {', '.join(sorted(fields))})")
        kwargs[key] = _coerce(value, hints[key], file, f"{where}.{key}")
    for name, field in fields.items():
        if (name not in kwargs and field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING):
            raise RecipeError(file, f"{where}.{name}", "missing")
    try:
        return cls(**kwargs)
    except OptionError as exc:
        raise RecipeError(file, f"{where}.{exc.field}", exc.problem) from exc


def _coerce(value: Any, hint: Any, file: str, key: str) -> Any:
    """Check a YAML value against a field type (str, int, float, bool, tuple[str, ...], X | None)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        args = typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        items = [value] if isinstance(value, str) else check_type(value, list, file, key)
        return tuple(check_type(v, args[0], file, f"{key}[{i}]") for i, v in enumerate(items))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return check_type(value, hint, file, key)


_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               list: "a list", dict: "a mapping"}


def check_type(value: Any, expected: type, file: str, key: str) -> Any:
    """Return value if it has the expected YAML type, else raise a RecipeError naming the key."""
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        raise RecipeError(file, key, f"must be {_TYPE_NAMES.get(expected, expected.__name__)}, "
                                     f"got {type(value).__name__} {value!r}"[:200])
    return value
