"""Python-literal renderings of tool values, as lightspeed-stack shows them."""

from __future__ import annotations

from typing import Any

from formatters.events import ContentItem, ImageContent, TextContent, content_text


def arguments_repr(arguments: dict[str, Any] | str) -> str:
    """Render tool arguments as `str()` of llama-stack-client 0.2's ToolCall.arguments."""
    return str(client_arguments(arguments))


def client_arguments(arguments: dict[str, Any] | str) -> dict[str, Any] | str:
    """Return tool arguments as llama-stack-client 0.2's ToolCall.arguments holds them.

    The client's types turn integers into floats at the top level and one level down (inside a
    dict or list value); a string stays as it is.
    """
    if isinstance(arguments, str):
        return arguments
    return {key: _coerce_nested(value) for key, value in arguments.items()}


def metadata_repr(metadata: dict[str, Any]) -> str:
    """Render shield metadata as `str()` of the client's dict (top-level integers become floats)."""
    return repr({key: _coerce(value) for key, value in metadata.items()})


def content_repr(content: str | list[ContentItem]) -> str:
    """Render tool-result content as `str()` of the llama-stack-client 0.2 content objects."""
    if isinstance(content, str):
        return content
    return "[" + ", ".join(_item_repr(item) for item in content) + "]"


def interleaved_text(content: str | list[ContentItem]) -> str:
    """Render tool-result content as llama-stack-client's `interleaved_content_as_str` does."""
    return content_text(content)


def knowledge_search_summary(content: str | list[ContentItem]) -> str:
    """Return the first line of a knowledge_search result's first text item ("" if none)."""
    if isinstance(content, str) or not isinstance(content[0], TextContent):
        return ""
    text = content[0].text
    newline = text.find("\n")
    return text[:newline] if newline > 0 else text


def _coerce(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _coerce_nested(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _coerce(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_coerce(item) for item in value]
    return _coerce(value)


def _item_repr(item: ContentItem) -> str:
    if isinstance(item, TextContent):
        return f"TextContentItem(text={item.text!r}, type='text')"
    return _image_repr(item)


def _image_repr(item: ImageContent) -> str:
    url = f"ImageContentItemImageURL(uri={item.url!r})" if item.url is not None else "None"
    image = f"ImageContentItemImage(data={item.data!r}, url={url})"
    return f"ImageContentItem(image={image}, type='image')"
