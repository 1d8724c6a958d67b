"""agent-stream-gateway: an aiohttp service streaming llama-stack agent turns as SSE."""
