"""The one config loader: an INI file plus ``CI_HEALTH_*`` environment overrides.

Lookup order for a value ``[section] key``:

1. the environment variable ``CI_HEALTH_<SECTION>_<KEY>`` (upper case),
   and for the database URL also the short alias ``CI_HEALTH_DB``;
2. the INI file: ``$CI_HEALTH_CONFIG``, else ``etc/ci-health.conf`` in the
   working directory, else ``/etc/ci-health/ci-health.conf`` if present;
3. the default given by the caller.

Every key is documented in ``etc/ci-health.conf.sample``.
"""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

DEFAULT_DB_URL = "sqlite:///ci-health.db"
_SEARCH_PATHS = (Path("etc/ci-health.conf"), Path("/etc/ci-health/ci-health.conf"))
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_ALIASES = {("database", "url"): "CI_HEALTH_DB", ("database", "read_url"): "CI_HEALTH_READ_DB"}


class ConfigError(ValueError):
    """A config value that cannot be used; the message names where it came from."""


@dataclass
class Config:
    parser: configparser.ConfigParser = field(default_factory=configparser.ConfigParser)
    environ: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None

    def _lookup(self, section: str, key: str) -> tuple[str | None, str]:
        alias = _ALIASES.get((section, key))
        for name in (alias, f"CI_HEALTH_{section}_{key}".upper()):
            if name and self.environ.get(name) not in (None, ""):
                return self.environ[name], f"environment variable {name}"
        if self.parser.has_option(section, key):
            return self.parser.get(section, key), f"[{section}] {key} in {self.path}"
        return None, f"[{section}] {key}"

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        value, _ = self._lookup(section, key)
        return default if value is None else value

    def get_int(self, section: str, key: str, default: int) -> int:
        value, where = self._lookup(section, key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise ConfigError(f"{where}: expected an integer, got {value!r}") from None

    def get_float(self, section: str, key: str, default: float) -> float:
        value, where = self._lookup(section, key)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None

    def get_bool(self, section: str, key: str, default: bool) -> bool:
        value, where = self._lookup(section, key)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")

    @property
    def db_url(self) -> str:
        return self.get("database", "url", DEFAULT_DB_URL) or DEFAULT_DB_URL

    @property
    def read_urls(self) -> list[str]:
        """``[database] read_url``: the replicas the API reads from (comma-separated);
        empty: it reads from ``url``."""
        value = self.get("database", "read_url", "") or ""
        return [u.strip() for u in value.split(",") if u.strip()]


def load_config(path: str | os.PathLike | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Read the config file (if any) and bind the environment overrides."""
    environ = dict(os.environ if environ is None else environ)
    candidate: Path | None = None
    if path is not None:
        candidate = Path(path)
        if not candidate.is_file():
            raise ConfigError(f"config file {candidate} does not exist")
    elif environ.get("CI_HEALTH_CONFIG"):
        candidate = Path(environ["CI_HEALTH_CONFIG"])
        if not candidate.is_file():
            raise ConfigError(f"CI_HEALTH_CONFIG names {candidate}, which does not exist")
    else:
        candidate = next((p for p in _SEARCH_PATHS if p.is_file()), None)
    parser = configparser.ConfigParser(interpolation=None)
    if candidate is not None:
        try:
            parser.read(candidate, encoding="utf-8")
        except configparser.Error as exc:
            first_line = str(exc).splitlines()[0]
            raise ConfigError(f"config file {candidate}: {first_line}") from None
    return Config(parser=parser, environ=environ, path=candidate)
