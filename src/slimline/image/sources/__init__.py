"""Image sources: one module per kind of image, chosen by prefix or detected from the path.

``open_image("docker-archive:app.tar:app:1.2")``, ``open_image("oci:layout", platform="linux/arm64")``,
``open_image("registry:127.0.0.1:5000/app:1")``, ``open_image("dir:rootfs")``, or just
``open_image("app.tar")`` or ``open_image("app:1.2")`` (an image in the local engine). See base.py
for the registry of sources.
"""

from slimline.image.sources.base import (
    MAX_JSON_BYTES,
    HistoryEntry,
    Image,
    ImageConfig,
    ImageError,
    ImageSource,
    LayerRef,
    NoSuchImage,
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
    "NoSuchImage",
    "open_image",
    "source_modules",
    "source_prefixes",
]
