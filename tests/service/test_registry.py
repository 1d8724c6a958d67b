"""Formatter registry: entry points, aliases, broken and clashing plugins."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from structlog.testing import capture_logs

from formatters.base import ENTRY_POINT_GROUP, Formatter, Frame, FrameValue
from formatters.events import Event
from formatters.patternfly import PatternflyFormatter
from service.streams import registry as registry_module
from service.streams.registry import FormatterRegistry, UnknownFormat, load_registry


class FakeEntryPoint:
    def __init__(self, name: str, target: object, dist: str) -> None:
        self.name, self.value, self.dist = name, f"{dist}:{name}", SimpleNamespace(name=dist)
        self._target = target

    def load(self) -> object:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


class Shouty(Formatter):
    name = "shouty"
    aliases = ("loud",)
    description = "upper-case text"

    def format(self, event: Event) -> list[FrameValue]:
        return [Frame(event.type.upper())]


class Impostor(Shouty):
    name = "patternfly-impostor"
    aliases = ("lightspeed",)


def with_entry_points(monkeypatch: pytest.MonkeyPatch, *points: FakeEntryPoint) -> None:
    monkeypatch.setattr(
        registry_module,
        "entry_points",
        lambda group: list(points) if group == ENTRY_POINT_GROUP else [],
    )


def test_lookup_by_name_and_alias() -> None:
    registry = FormatterRegistry([PatternflyFormatter, Shouty])
    assert registry.get("lightspeed") is PatternflyFormatter
    assert registry.get("loud") is Shouty
    assert registry.names() == ["patternfly", "shouty"]
    with pytest.raises(UnknownFormat):
        registry.get("nope")


def test_a_plugin_that_raises_on_import_is_logged_and_skipped(monkeypatch) -> None:
    with_entry_points(
        monkeypatch,
        FakeEntryPoint("broken", ImportError("No module named 'numpy'"), "broken-plugin"),
        FakeEntryPoint("shouty", Shouty, "shouty-plugin"),
    )
    with capture_logs() as logs:
        registry = load_registry()
    assert registry.names() == ["shouty"]
    (entry,) = logs
    assert entry["event"] == "formatter plugin failed to load, skipped"
    assert entry["plugin"] == "broken-plugin"
    assert entry["error"] == "ImportError: No module named 'numpy'"
    assert entry["hint"] == "fix or uninstall it: pip uninstall broken-plugin"


def test_a_plugin_that_is_not_a_formatter_is_skipped(monkeypatch) -> None:
    with_entry_points(monkeypatch, FakeEntryPoint("odd", object(), "odd-plugin"))
    with capture_logs() as logs:
        assert load_registry().names() == []
    assert logs[0]["event"] == "formatter plugin is not a Formatter subclass with a name, skipped"


def test_builtins_win_a_name_clash_whatever_the_order(monkeypatch) -> None:
    with_entry_points(
        monkeypatch,
        FakeEntryPoint("impostor", Impostor, "impostor-plugin"),
        FakeEntryPoint("patternfly", PatternflyFormatter, "agent-stream-gateway"),
    )
    with capture_logs() as logs:
        registry = load_registry()
    assert registry.names() == ["patternfly"]
    assert registry.get("lightspeed") is PatternflyFormatter
    assert logs == [
        {
            "event": "formatter refused: name already registered",
            "formatter": "patternfly-impostor",
            "plugin": "impostor-plugin",
            "names": ["lightspeed"],
            "log_level": "warning",
        }
    ]


def test_the_installed_distribution_registers_patternfly() -> None:
    assert load_registry().get("patternfly") is PatternflyFormatter
