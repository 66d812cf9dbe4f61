"""slimline: make container images small and safe, and prove it by measurement."""

__version__ = "0.1.0"
