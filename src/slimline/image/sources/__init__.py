"""Image sources: one module per kind of image, chosen by prefix or detected from the path.

``open_image("docker-archive:app.tar:app:1.2")``, ``open_image("oci:layout", platform="linux/arm64")``,
``open_image("dir:rootfs")`` or just ``open_image("app.tar")``. See base.py for the registry.
"""

from slimline.image.sources.base import (
    MAX_JSON_BYTES,
    HistoryEntry,
    Image,
    ImageConfig,
    ImageError,
    ImageSource,
    LayerRef,
    open_image,
    source_modules,
    source_prefixes,
)

__all__ = [
    "MAX_JSON_BYTES",
    "HistoryEntry",
    "Image",
    "ImageConfig",
    "ImageError",
    "ImageSource",
    "LayerRef",
    "open_image",
    "source_modules",
    "source_prefixes",
]
