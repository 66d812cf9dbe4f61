"""One connection to the container engine, through the Docker SDK."""

from __future__ import annotations

from typing import Any

from slimline.engine.errors import EngineUnavailable

# Long builds stream progress, but a single step (an apt install, a compile) can be silent for
# minutes; reads must not time out in between.
READ_TIMEOUT_SECONDS = 3600


def connect(timeout: int = READ_TIMEOUT_SECONDS) -> Any:
    """A connected ``docker.DockerClient`` configured from the environment (``DOCKER_HOST``...).

    Raises :class:`EngineUnavailable` with one line when nothing answers.
    """
    import docker
    import docker.errors
    import requests

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineUnavailable(f"no container engine answers: {reason}") from exc
    return client
