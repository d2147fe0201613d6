"""The GitHub adapter: every call mlbot makes to GitHub goes through `bot.github.client`."""
