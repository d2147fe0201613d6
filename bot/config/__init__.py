"""A model repository's own configuration: `.github/mlbot.yml`."""
