"""Request and response bodies of the routes, validated with pydantic."""
