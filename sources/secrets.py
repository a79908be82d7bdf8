"""Secrets named in elt.toml (`*_env` keys): the environment first, then dlt's secrets of the same name.
A missing or malformed one is a configuration error: retrying cannot help."""
from __future__ import annotations

import os

import dlt

from elt.config import Source
from elt.errors import ConfigError


def secret(name: str, source: Source) -> str:
    value = os.environ.get(name) or dlt.secrets.get(name)
    if not value:
        raise ConfigError(f"source {source.name}: the secret {name} is not set",
                          hint=f"export {name}=... or add {name} = \"...\" to .dlt/secrets.toml")
    return str(value)
