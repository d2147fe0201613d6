"""Policies: the rules a promotion, rollback or drift alert is judged by."""
