"""Incidents: Alertmanager alerts become one incident issue per model and stage.

- `alerts`: the Alertmanager webhook (payload version 4) and the per-alert jobs it becomes;
- `issue`: the incident issue, found, opened, updated and reopened from GitHub alone;
- `freeze`: whether promotions of a model into a stage are frozen (an open incident);
- `auto_rollback`: the policy's automatic rollback;
- `timeline`: what happened, posted when the issue closes.
"""
