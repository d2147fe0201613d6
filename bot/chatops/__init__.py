"""Chat-ops and GitOps flows: commands, metric comments, drift issues, retraining PRs."""
