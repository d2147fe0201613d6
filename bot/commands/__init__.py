"""Chat-ops commands: one grammar scanner, one module per command."""
