"""The webhook bot's runtime: settings, the HTTP app, the durable queue and its workers.

`create_app(settings, router, github_factory)` in `bot.server.app` builds it;
`mlbot serve` runs it under uvicorn.
"""
