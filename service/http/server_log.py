"""aiohttp's server logger, with the malformed requests clients send logged at info, not error."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp.http import HttpProcessingError
from aiohttp.log import server_logger


class ServerLogger(logging.LoggerAdapter[logging.Logger]):
    """`aiohttp.server` as the protocol logs to it (`handler_args={"logger": ...}`).

    aiohttp answers a request its parser refuses (a bad method, an oversized line or header,
    bad chunking) itself, and logs it with `logger.exception`: at error, with a traceback. That
    is the client's fault, not the service's: one info line, naming the error, instead.
    """

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """Log a refused malformed request at info; anything else as aiohttp would."""
        if not self._refused(logging.INFO, kwargs.get("exc_info")):
            super().exception(msg, *args, **kwargs)

    def debug(self, msg: object, *args: Any, **kwargs: Any) -> None:
        """Keep aiohttp's debug line for a first request's bad method, without its traceback."""
        if not self._refused(logging.DEBUG, kwargs.get("exc_info")):
            super().debug(msg, *args, **kwargs)

    def _refused(self, level: int, error: object) -> bool:
        if not isinstance(error, HttpProcessingError):
            return False
        self.log(
            level,
            "malformed request refused by the HTTP parser: %s (HTTP %s)",
            type(error).__name__,
            error.code,
        )
        return True


def server_log() -> ServerLogger:
    """Return the logger to hand aiohttp's request handler."""
    return ServerLogger(server_logger)
