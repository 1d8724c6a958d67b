"""The HTTP layer: the app, its routes, middlewares, auth, CORS, OpenAPI, errors."""
