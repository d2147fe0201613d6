"""Who may approve, and which approvals count: CODEOWNERS and the approval rules."""
