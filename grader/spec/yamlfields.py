"""YAML with line numbers: a safe loader whose mappings remember the line of each key,
duplicate keys refused, and typed field access whose errors name file, line and key."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError
from .model import ID_RE


class Map(dict[str, Any]):
    """A mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[str, int]


class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


def _construct_map(loader: Loader, node: yaml.MappingNode) -> Map:
    loader.flatten_mapping(node)
    out = Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise SpecError(f"keys must be strings, got {key!r}", node.start_mark.name, line)
        if key in out:
            raise SpecError(f"duplicate key {key!r}", node.start_mark.name, line, key)
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_timestamp(loader: Loader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as e:
        line = node.start_mark.line + 1
        raise SpecError(
            f"{node.value!r} is not a valid date ({e})", node.start_mark.name, line
        ) from None


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def read_yaml(path: Path) -> Map:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError(f"cannot read: {e}", str(path)) from None
    try:
        data = yaml.load(text, Loader=Loader)
    except SpecError as e:
        raise SpecError(e.message, str(path), e.line, e.key) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(f"invalid YAML: {e.problem or e.context}", str(path), line) from None
    except yaml.YAMLError as e:
        raise SpecError(f"invalid YAML: {e}", str(path)) from None
    if not isinstance(data, Map):
        raise SpecError("expected a mapping at the top level", str(path), 1)
    return data


class Fields:
    """Typed access to one YAML mapping, with errors that name file, line and key."""

    def __init__(self, data: Any, path: Path, prefix: str = "", line: int = 1) -> None:
        if not isinstance(data, Map):
            raise SpecError(f"{prefix or 'value'}: expected a mapping", str(path), line)
        self.data, self.path, self.prefix = data, path, prefix

    def fail(self, key: str, message: str) -> SpecError:
        line = self.data.key_lines.get(key, self.data.line)
        return SpecError(f"{self.prefix}{key}: {message}", str(self.path), line, self.prefix + key)

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.fail(key, f"unknown field (allowed: {', '.join(allowed)})")

    def get(self, key: str, types: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.data or self.data[key] is None:
            if default is None:
                raise SpecError(
                    f"{self.prefix}{key}: required field is missing",
                    str(self.path),
                    self.data.line,
                    self.prefix + key,
                )
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (
            types if isinstance(types, tuple) else (types,)
        ):
            raise self.fail(key, f"expected {_type_names(types)}, got {value!r}")
        if not isinstance(value, types):
            raise self.fail(key, f"expected {_type_names(types)}, got {type(value).__name__}")
        return value

    def ident(self, key: str) -> str:
        value: str = self.get(key, str)
        if not ID_RE.match(value):
            raise self.fail(
                key, f"{value!r} is not a valid id (up to 56 lowercase letters, digits, - and _)"
            )
        return value

    def number(self, key: str, default: float | None, *, positive: bool = False) -> float:
        """A finite non-negative number; ``default=None`` makes the field required."""
        try:
            value = float(self.get(key, (int, float), default))
        except OverflowError:
            value = math.inf
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise self.fail(key, f"expected a {'positive' if positive else 'non-negative'} number")
        return value

    def line_of(self, key: str) -> int:
        return self.data.key_lines.get(key, self.data.line)


def _type_names(types: type | tuple[type, ...]) -> str:
    names = {
        "str": "text",
        "int": "an integer",
        "float": "a number",
        "list": "a list",
        "Map": "a mapping",
    }
    ts = types if isinstance(types, tuple) else (types,)
    return " or ".join(names.get(t.__name__, t.__name__) for t in ts)
