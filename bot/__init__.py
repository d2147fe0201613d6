"""mlbot: GitOps for machine-learning models on GitHub."""

__version__ = "0.1.0"
