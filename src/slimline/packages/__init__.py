"""Installed packages of an image: one cataloger module per package database."""

from slimline.packages.base import Cataloger, OSRelease, Package, catalogers, wanted_by

__all__ = ["Cataloger", "OSRelease", "Package", "catalogers", "wanted_by"]
