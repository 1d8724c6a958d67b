"""Python-literal renderings of tool values, as lightspeed-stack shows them."""

from __future__ import annotations

from typing import Any

from formatters.events import ContentItem, ImageContent, TextContent


def client_value_repr(value: dict[str, Any] | str) -> str:
    """Render a value as `str()` of its llama-stack-client 0.2 object (top-level ints: floats)."""
    if isinstance(value, str):
        return value
    return repr({key: _coerce(item) for key, item in value.items()})


def content_repr(content: str | list[ContentItem]) -> str:
    """Render tool-result content as `str()` of the llama-stack-client 0.2 content objects."""
    if isinstance(content, str):
        return content
    return "[" + ", ".join(_item_repr(item) for item in content) + "]"


def _coerce(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _item_repr(item: ContentItem) -> str:
    if isinstance(item, TextContent):
        return f"TextContentItem(text={item.text!r}, type='text')"
    return _image_repr(item)


def _image_repr(item: ImageContent) -> str:
    url = f"ImageContentItemImageURL(uri={item.url!r})" if item.url is not None else "None"
    image = f"ImageContentItemImage(data={item.data!r}, url={url})"
    return f"ImageContentItem(image={image}, type='image')"
