"""A progress bar on stderr while the layers of a large image stream past."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from slimline.image.sources.base import ImageSource, LayerRef


class LayerProgress:
    """One bar over the layers; the description shows the bytes read in the current one."""

    def __init__(self, image: ImageSource) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._count = len(image.layers)
        self._progress = Progress(
            TextColumn("reading layers"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self._task: Any = None

    def __enter__(self) -> LayerProgress:
        self._progress.start()
        self._task = self._progress.add_task("", total=self._count)
        return self

    def update(self, layer: LayerRef, done: int) -> None:
        self._progress.update(
            self._task,
            completed=layer.index,
            description=f"layer {layer.index + 1}: {done / 1e6:.0f} MB",
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()
