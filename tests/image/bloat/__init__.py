"""The in-layer bloat and risk detectors."""
