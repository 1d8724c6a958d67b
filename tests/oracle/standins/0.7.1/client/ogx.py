"""Stand-in for lightspeed-stack 0.7.1's client/ogx.py (not in its wheel): the OGX client holder.

Service mode only (a remote OGX at `ogx.url`), as lightspeed-core/lightspeed-stack's
`src/client.py` (branch feature/upgrade-ogx-to-1.2.x) builds it; no library mode, no Azure.
"""

import json
from typing import Any, Optional

from ogx_client import AsyncOgxClient

from models.config import OgxConfiguration
from utils.types import Singleton


def read_provider_data(client: AsyncOgxClient) -> dict[str, Any]:
    """The provider data a service client sends in its X-OGX-Provider-Data header."""
    raw = client.api_client.default_headers.get("X-OGX-Provider-Data")
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


class AsyncOgxClientHolder(metaclass=Singleton):
    """Container for an initialised AsyncOgxClient."""

    _lsc: Optional[AsyncOgxClient] = None

    @property
    def is_library_client(self) -> bool:
        """Never: the stand-in speaks to a remote OGX only."""
        return False

    async def load(self, ogx_config: OgxConfiguration) -> None:
        """Create the service client for the configured URL."""
        if self._lsc is not None:
            return
        api_key = ogx_config.api_key.get_secret_value() if ogx_config.api_key else None
        base_url = str(ogx_config.url).rstrip("/") if ogx_config.url else None
        self._lsc = AsyncOgxClient(base_url=base_url, api_key=api_key, timeout=ogx_config.timeout)

    def set_client(self, client: AsyncOgxClient) -> None:
        """Use this client (the oracle's)."""
        self._lsc = client

    def get_client(self) -> AsyncOgxClient:
        """The client; `load` first."""
        if not self._lsc:
            raise RuntimeError("AsyncOgxClient has not been initialised. Ensure 'load(..)' has been called.")
        return self._lsc

    async def get_azure_base_url(self) -> Optional[str]:
        """No Azure provider."""
        return None

    async def update_azure_token(self) -> AsyncOgxClient:
        """No Azure provider: the same client."""
        return self.get_client()
