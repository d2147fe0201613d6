"""The simulator's Python control API: what tests do on GitHub's side, one mixin per family.

Each mixin changes the world and announces what changed, as GitHub would; the REST
handlers in `bot.simulator.rest` call the same methods, so a change made through the
API and one made by a test look alike.
"""
