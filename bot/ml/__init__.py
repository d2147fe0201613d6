"""The ML steps behind `mlbot validate|train|evaluate|drift|model-card`.

Pure parts (contracts, metrics, slices, drift verdicts) work on plain data;
adapters wrap pandas files, MLflow, DVC and Evidently. Heavy libraries are
imported inside functions so `mlbot --help` stays light.
"""
