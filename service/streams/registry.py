"""Formatter registry: formatter classes found through the entry-point group, by name or alias."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

import structlog

from formatters.base import ENTRY_POINT_GROUP, ENTRY_POINT_GROUP_V1, Formatter
from formatters.v1 import adapt

log = structlog.get_logger(__name__)

BUILTIN_DISTRIBUTION = "agent-stream-gateway"
DEFAULT_FORMAT = "patternfly"


class UnknownFormat(LookupError):
    """No installed formatter has that name or alias."""


@dataclass(frozen=True, slots=True)
class FormatInfo:
    """What `GET /v1/formats` says about one format."""

    name: str
    aliases: tuple[str, ...]
    media_type: str
    description: str


class FormatterRegistry:
    """Installed formatters, looked up by name or alias; built-ins win over plugins."""

    def __init__(self, formatters: Iterable[type[Formatter]] = ()) -> None:
        self._by_name: dict[str, type[Formatter]] = {}
        self._lookup: dict[str, type[Formatter]] = {}
        for formatter in formatters:
            self.add(formatter)

    def add(self, formatter: type[Formatter], *, origin: str = "") -> bool:
        """Register a formatter unless one of its names is taken; say so in the log if it is."""
        names = (formatter.name, *formatter.aliases)
        taken = [name for name in names if name in self._lookup]
        if taken:
            log.warning(
                "formatter refused: name already registered",
                formatter=formatter.name,
                plugin=origin or formatter.__module__,
                names=taken,
            )
            return False
        self._by_name[formatter.name] = formatter
        for name in names:
            self._lookup[name] = formatter
        return True

    def get(self, name: str) -> type[Formatter]:
        """Return the formatter with that name or alias, or raise UnknownFormat."""
        try:
            return self._lookup[name]
        except KeyError:
            raise UnknownFormat(name) from None

    def names(self) -> list[str]:
        """Return the canonical names of the installed formats."""
        return list(self._by_name)

    def describe(self) -> list[FormatInfo]:
        """Return a description of every installed format."""
        return [
            FormatInfo(f.name, tuple(f.aliases), f.media_type, f.description)
            for f in self._by_name.values()
        ]


def load_registry(
    group: str = ENTRY_POINT_GROUP, v1_group: str = ENTRY_POINT_GROUP_V1
) -> FormatterRegistry:
    """Load every formatter registered under `group`, then `v1_group`'s through the v1 adapter.

    Broken plugins are logged and skipped; each v1 plugin warns (DeprecationWarning) by name.
    """
    found = [(ep, False) for ep in entry_points(group=group)]
    found += [(ep, True) for ep in entry_points(group=v1_group)]
    found.sort(key=lambda point: not _is_builtin(point[0]))
    registry = FormatterRegistry()
    for entry_point, v1 in found:
        formatter = _load(entry_point)
        if formatter is not None:
            origin = _origin(entry_point)
            registry.add(adapt(formatter, origin) if v1 else formatter, origin=origin)
    return registry


def _load(entry_point: EntryPoint) -> type[Formatter] | None:
    origin = _origin(entry_point)
    try:
        loaded = entry_point.load()
    except Exception as exc:  # a plugin may raise anything on import
        log.error(
            "formatter plugin failed to load, skipped",
            entry_point=entry_point.name,
            plugin=origin,
            error=f"{type(exc).__name__}: {exc}",
            hint=f"fix or uninstall it: pip uninstall {origin}",
        )
        return None
    if not (isinstance(loaded, type) and issubclass(loaded, Formatter)) or not getattr(
        loaded, "name", ""
    ):
        log.error(
            "formatter plugin is not a Formatter subclass with a name, skipped",
            entry_point=entry_point.name,
            plugin=origin,
        )
        return None
    return loaded


def _origin(entry_point: EntryPoint) -> str:
    return entry_point.dist.name if entry_point.dist is not None else entry_point.value


def _is_builtin(entry_point: EntryPoint) -> bool:
    return entry_point.dist is not None and entry_point.dist.name == BUILTIN_DISTRIBUTION
