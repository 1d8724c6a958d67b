"""Request and response bodies of the routes, validated with pydantic."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


def checked(model: type[BaseModel], body: dict[str, Any]) -> dict[str, Any]:
    """Return an assembled answer as `model` has it, key by key (a mismatch raises)."""
    return model.model_validate(body).model_dump(mode="json", exclude_unset=True)
