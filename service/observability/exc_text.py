"""Describe a failure without the host and port its exception's text may carry."""

from __future__ import annotations

import errno
import os


def root_cause(exc: BaseException) -> BaseException:
    """Follow the chain of causes (explicit, else implicit) down to the first failure."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        following = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        if following is None:
            break
        exc = following
    return exc


def safe_description(exc: BaseException) -> str:
    """Name the root cause by type and errno text, never by its message (it names addresses)."""
    cause = root_cause(exc)
    name = type(cause).__name__
    code = cause.errno if isinstance(cause, OSError) else None
    if code is not None and code in errno.errorcode:
        return f"{name}: {os.strerror(code)}"
    return name
