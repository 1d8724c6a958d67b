"""The adapters' texts for upstream failures: each once, in the words of whoever says it."""

from __future__ import annotations

import inspect

from llama_stack_client import _streaming

from service.upstream.texts import STREAM_ERROR


def test_a_responses_error_line_without_message_says_what_llama_stack_client_says() -> None:
    assert f'message = "{STREAM_ERROR}"' in inspect.getsource(_streaming)
