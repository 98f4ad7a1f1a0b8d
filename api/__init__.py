"""HTTP API: the Litestar app factory, controllers per resource, guards and schemas."""
