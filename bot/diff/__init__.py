"""Metric diffs: candidate against a baseline, as JSON (dvc-compatible) or Markdown."""
