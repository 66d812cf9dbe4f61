"""Reading container images: layers, file trees and where their bytes go."""

from slimline.image.filetree import FileRecord, LayerTree, MergedTree, ShadowedCopy, merge_layers
from slimline.image.layers import (
    Compression,
    EntryKind,
    LayerEntry,
    LayerError,
    detect_compression,
    normalize_path,
    read_layer,
)
from slimline.image.waste import InefficientPath, WasteReport, analyze_waste, dive_efficiency

__all__ = [
    "Compression",
    "EntryKind",
    "FileRecord",
    "InefficientPath",
    "LayerEntry",
    "LayerError",
    "LayerTree",
    "MergedTree",
    "ShadowedCopy",
    "WasteReport",
    "analyze_waste",
    "detect_compression",
    "dive_efficiency",
    "merge_layers",
    "normalize_path",
    "read_layer",
]
