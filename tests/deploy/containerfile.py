"""A small reader of the Containerfile and .containerignore, enough for static checks."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Instruction:
    """One instruction: its keyword (upper case) and its arguments as written."""

    keyword: str
    args: str

    def exec_form(self) -> list[str]:
        """The arguments of a CMD/ENTRYPOINT/RUN in JSON (exec) form."""
        args: list[str] = json.loads(self.args)
        return args


@dataclass
class Stage:
    """One build stage, from its FROM to the next."""

    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.args):
                key, _, value = pair.partition("=")
                values[key] = value
        return values


def instructions(path: Path) -> list[Instruction]:
    """Parse the file: comments dropped, backslash continuations joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, args = line.partition(" ")
            result.append(Instruction(keyword.upper(), args.strip()))
    return result


def stages(path: Path) -> list[Stage]:
    """Split into stages, with each FROM's image resolved through the ARGs before it."""
    args: dict[str, str] = {}
    found: list[Stage] = []
    for instruction in instructions(path):
        if instruction.keyword == "FROM":
            image, _, name = instruction.args.partition(" AS ")
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
            found.append(Stage(image.strip(), name.strip() or None))
        elif not found and instruction.keyword == "ARG":
            key, _, default = instruction.args.partition("=")
            args[key] = default
        elif found:
            found[-1].instructions.append(instruction)
    return found


def ignore_patterns(path: Path) -> list[str]:
    """The patterns of a .containerignore/.dockerignore."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def excluded(relative: str, patterns: list[str]) -> bool:
    """Whether the build context leaves out this path (or a folder above it)."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatchcase(
                prefix.rsplit("/", 1)[-1], pattern[3:]
            ):
                return True
    return False
