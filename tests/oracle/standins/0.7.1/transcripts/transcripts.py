"""Stand-in for lightspeed-stack 0.7.1's transcripts package (not in its wheel).

utils/query.py imports these three; they run only with transcript collection enabled, which
the oracle's configuration leaves off.
"""

from typing import Any


def _disabled(*_args: Any, **_kwargs: Any) -> Any:
    raise NotImplementedError("transcript collection is off in the oracle's configuration")


create_transcript = create_transcript_metadata = store_transcript = _disabled
