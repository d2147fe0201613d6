"""Supply-chain evidence: Trivy scan gating and cosign signatures."""
