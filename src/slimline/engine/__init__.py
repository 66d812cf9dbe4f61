"""Building and running images on a container engine, through the Docker SDK.

``verify_fix`` serves ``slimline fix --build``: build the original and the fixed Dockerfile,
run both under the same probe, and compare behaviour and size. The parts (``build_image``,
``run_command``, ``probe_service``, ``observe``) are for other commands that need an engine.
"""

from slimline.engine.build import Builder, BuiltImage, build_image, measure, remove_image
from slimline.engine.client import connect
from slimline.engine.compare import Behaviour, differences, observe
from slimline.engine.errors import (
    BuildFailed,
    EngineError,
    EngineUnavailable,
    ProbeFailed,
    ProbeTimeout,
)
from slimline.engine.probes import CommandProbe, HttpProbe, Probe, parse_probe, probe_from_options
from slimline.engine.run import (
    HttpResponse,
    RunResult,
    ServiceResult,
    free_port,
    probe_service,
    run_command,
)
from slimline.engine.verify import BuildComparison, verify_fix

__all__ = [
    "Behaviour",
    "BuildComparison",
    "BuildFailed",
    "Builder",
    "BuiltImage",
    "CommandProbe",
    "EngineError",
    "EngineUnavailable",
    "HttpProbe",
    "HttpResponse",
    "Probe",
    "ProbeFailed",
    "ProbeTimeout",
    "RunResult",
    "ServiceResult",
    "build_image",
    "connect",
    "differences",
    "free_port",
    "measure",
    "observe",
    "parse_probe",
    "probe_from_options",
    "probe_service",
    "remove_image",
    "run_command",
    "verify_fix",
]
