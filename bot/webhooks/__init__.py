"""GitHub webhooks: signature check, typed payloads, and routing to handlers.

Pure of I/O: the server (`bot.server`) stores deliveries and runs the
handlers this package routes to.
"""
