"""Secrets named in elt.toml (`*_env` keys): the environment first, then dlt's secrets of the same name.
A missing or malformed one is a configuration error: retrying cannot help. Text that may quote one (a
driver's error, the start of an HTTP answer) goes through `redact` before anyone sees it."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import dlt

from elt.config import Source
from elt.errors import ConfigError


def secret(name: str, source: Source) -> str:
    value = os.environ.get(name) or dlt.secrets.get(name)
    if not value:
        raise ConfigError(f"source {source.name}: the secret {name} is not set",
                          hint=f"export {name}=... or add {name} = \"...\" to .dlt/secrets.toml")
    return str(value)


def redact(source: Source, text: str) -> str:
    """`text` with the values of the source's secrets (and the password of a DSN among them) masked."""
    auth = source.options.get("auth") or {}
    names = [value for key, value in (*source.options.items(), *auth.items()) if key.endswith("_env")]
    for value in filter(None, (os.environ.get(name) or dlt.secrets.get(name) for name in names)):
        value = str(value)
        password = urlsplit(value).password if "://" in value else None
        for hidden in filter(None, (value, password)):
            text = text.replace(hidden, "***")
    return text
