"""The `patternfly` format: lightspeed-stack's `/v1/streaming_query` frames, byte for byte."""

from __future__ import annotations

from formatters.lightspeed_01 import Lightspeed01Formatter


class PatternflyFormatter(Lightspeed01Formatter):
    """lightspeed-stack's SSE dialect as PatternFly chatbot frontends read it (0.1.3's bytes)."""

    name = "patternfly"
    aliases = ("lightspeed",)
    description = "lightspeed-stack /v1/streaming_query frames (PatternFly chatbot)"
