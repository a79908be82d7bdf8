"""Reading one table of a TOML document with messages that name the file and the dotted key path."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from elt.errors import ConfigError, Location

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TomlTable:
    """Reads one table of the TOML document, remembering the dotted key path for messages."""

    def __init__(self, path: Path, data: dict[str, Any], prefix: str) -> None:
        self.path, self.data, self.prefix = path, data, prefix

    def error(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        dotted = ".".join(filter(None, (self.prefix, key)))  # key "": the table itself
        return ConfigError(message, where=Location(self.path, key=dotted), hint=hint)

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                raise self.error(key, "unknown key", hint=f"valid keys here: {', '.join(allowed)}")

    def get(self, key: str, kind: type, default: Any = ..., choices: tuple | None = None) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.error(key, "missing required key", hint="add it to the file")
            return default
        value = self.data[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise self.error(key, f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
        if choices is not None and value not in choices:
            raise self.error(key, f"{value!r} is not supported", hint=f"valid values: {', '.join(choices)}")
        return value

    def identifier(self, key: str, default: Any = ...) -> str:
        value = self.get(key, str, default)
        check_identifier(value, self.path, f"{self.prefix}.{key}" if self.prefix else key)
        return value

    def check_key(self, key: str) -> str:
        """A key that becomes a name in SQL (a target, source or table) must be a plain identifier."""
        return check_identifier(key, self.path, f"{self.prefix}.{key}" if self.prefix else key)

    def table(self, key: str) -> "TomlTable":
        return TomlTable(self.path, self.get(key, dict, {}), f"{self.prefix}.{key}" if self.prefix else key)


def check_identifier(value: str, path: Path | str, key: str) -> str:
    """Names end up in SQL; only plain identifiers are accepted, so no SQL is built from unchecked strings."""
    if not IDENTIFIER.match(value):
        raise ConfigError(
            f"{value!r} is not a valid identifier",
            where=Location(path, key=key),
            hint="use letters, digits and underscores, not starting with a digit",
        )
    return value
