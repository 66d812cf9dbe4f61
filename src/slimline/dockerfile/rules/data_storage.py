"""data-storage: no state stored in the image: data directories declared as volumes, no
databases or uploads baked into layers.

The service tables and the walk over the final image's instructions defined here are shared
with the modular-design and attack-surface rules.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from slimline.dockerfile.base_images import parse_image_ref
from slimline.dockerfile.context import CheckContext, RunStep
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.pkgmgr import PackageOp, package_name
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.shell import Command, Word, basename, instruction_scripts, parse_script
from slimline.dockerfile.stages import substitute
from slimline.findings import Finding, Practice, Severity

# ---------------------------------------------------------------------------------------------
# Shared helpers: packages, the final image's instructions, paths

OS_MANAGERS = frozenset({"apt", "apk", "dnf", "zypper"})


# Per-file results several rules share, computed once: the context is not changed after it is
# built, and weak keys let each entry go with its context.
_MEMO: weakref.WeakKeyDictionary[CheckContext, dict[str, Any]] = weakref.WeakKeyDictionary()


def _memo(ctx: CheckContext) -> dict[str, Any]:
    memo = _MEMO.get(ctx)
    if memo is None:
        memo = _MEMO[ctx] = {}
    return memo


@dataclass(frozen=True, slots=True)
class Installed:
    """One package named in an install command of the final image."""

    run: RunStep
    op: PackageOp
    word: Word
    name: str


def os_installs(ctx: CheckContext, managers: frozenset[str] = OS_MANAGERS) -> list[Installed]:
    """Packages installed by the final image's RUN steps (literal names only)."""
    memo = _memo(ctx)
    if "installs" not in memo:
        memo["installs"] = list(_installs(ctx))
    installs: list[Installed] = memo["installs"]
    return [i for i in installs if i.op.manager in managers]


def _installs(ctx: CheckContext) -> Iterator[Installed]:
    for run in ctx.final_runs():
        for op in run.ops:
            if op.action != "install":
                continue
            for word in op.packages:
                if word.dynamic or not word.text or word.text.startswith(("-", "/", ".")):
                    continue
                yield Installed(run, op, word, package_name(op.manager, word.text))


def chain_instructions(ctx: CheckContext) -> Iterator[Instruction]:
    """The instructions whose effect is in the final image, in build order."""
    for stage in ctx.target_chain:
        yield from stage.instructions


@dataclass(slots=True)
class Place:
    """An instruction of the final image with the ENV/ARG values and WORKDIR in effect."""

    instruction: Instruction
    env: dict[str, str]
    workdir: str


def chain_places(ctx: CheckContext) -> list[Place]:
    """Every instruction of the final image with its environment and working directory."""
    memo = _memo(ctx)
    if "places" not in memo:
        memo["places"] = _chain_places(ctx)
    places: list[Place] = memo["places"]
    return places


def run_of(ctx: CheckContext, instruction: Instruction) -> RunStep | None:
    """The RUN step of a RUN instruction."""
    memo = _memo(ctx)
    if "runs" not in memo:
        memo["runs"] = {id(r.instruction): r for r in ctx.runs}
    runs: dict[int, RunStep] = memo["runs"]
    return runs.get(id(instruction))


def _chain_places(ctx: CheckContext) -> list[Place]:
    # One pass; the env dict is shared between instructions until an ENV or ARG changes it.
    out: list[Place] = []
    env: dict[str, str] = {}
    workdir = "/"
    for stage in ctx.target_chain:
        for ins in stage.instructions:
            out.append(Place(ins, env, workdir))
            kw = ins.keyword
            if kw == "ENV" and len(ins.values) % 2 == 0:
                env = dict(env)
                for k, v in zip(ins.values[::2], ins.values[1::2], strict=True):
                    env[k] = _unquote(v)
            elif kw == "ARG":
                env = dict(env)
                for word in ins.values:
                    name, eq, value = word.partition("=")
                    if eq:  # without a default the value comes from --build-arg: unknown
                        env.setdefault(name, _unquote(value))
            elif kw == "WORKDIR" and ins.values:
                target = expand(ins.values[0], env)
                workdir = resolve(workdir, target) if target else ""
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in ("'", '"'):
        return value[1:-1]
    return value


def expand(text: str, env: dict[str, str]) -> str | None:
    """``text`` with ``$VAR`` references replaced; None when one has no known value."""
    if "$" not in text:
        return text
    out, resolved = substitute(text, env)
    return out if resolved and "$" not in out else None


def resolve(cwd: str, path: str) -> str:
    """``path`` made absolute against ``cwd``; "" when it is relative to an unknown directory
    (``cwd`` is "" after a WORKDIR whose variables have no known value)."""
    if not path.startswith("/") and not cwd:
        return ""
    return posixpath.normpath(posixpath.join(cwd, path))


def covers(volume: str, path: str) -> bool:
    """Whether a VOLUME at ``volume`` holds ``path`` (or the other way round: a volume on a
    subdirectory of a data directory shows the author thought about it). An unknown path ("")
    counts as covered, so that nothing is reported about it."""
    if volume == "/" or not path:
        return True
    return path == volume or path.startswith(volume + "/") or volume.startswith(path + "/")


def volumes(places: list[Place]) -> list[tuple[Instruction, str]]:
    """The VOLUME paths the final image declares, normalised."""
    out: list[tuple[Instruction, str]] = []
    for place in places:
        ins = place.instruction
        if ins.keyword != "VOLUME":
            continue
        for value in ins.values:
            path = expand(value.strip(), place.env)
            if path and path.startswith("/"):
                out.append((ins, posixpath.normpath(path)))
    return out


@dataclass(frozen=True, slots=True)
class BaseImage:
    repository: str  # lower-case, without registry: "postgres", "bitnami/postgresql"
    tag: str  # lower-case, "" when absent

    @property
    def name(self) -> str:
        """The last path component: "bitnami/postgresql" -> "postgresql"."""
        return self.repository.rsplit("/", 1)[-1]


def base_image(ctx: CheckContext) -> BaseImage | None:
    """The external image the final image is built on; None for scratch or an unresolved ARG."""
    memo = _memo(ctx)
    if "base" not in memo:
        memo["base"] = _base_image(ctx)
    base: BaseImage | None = memo["base"]
    return base


def _base_image(ctx: CheckContext) -> BaseImage | None:
    root = ctx.target_chain[0]
    if root.is_scratch or not root.resolved or "$" in root.base_resolved:
        return None
    try:
        ref = parse_image_ref(root.base_resolved)
    except ValueError:
        return None
    return BaseImage(ref.repository.lower(), (ref.tag or "").lower())


def inner_scripts(command: Command) -> list[Command]:
    """Commands of ``su [-] user -c "..."`` and ``runuser -c`` strings, which the shell model
    leaves as plain arguments."""
    if command.program not in ("su", "runuser"):
        return []
    words = command.unwrapped()
    for i, w in enumerate(words[1:-1], start=1):
        if w.text in ("-c", "--command") or (
            w.text.startswith("-") and not w.text.startswith("--") and w.text.endswith("c")
        ):
            inner = words[i + 1]
            base = inner.start + (1 if inner.raw[:1] in ("'", '"') else 0)
            return parse_script(inner.text, _shifted(command.script.to_source, base), 2).commands
    return []


def _shifted(outer: Callable[[int], int], base: int) -> Callable[[int], int]:
    return lambda k: outer(base + k)


def _fixed(offset: int) -> Callable[[int], int]:
    return lambda _k: offset


def run_commands(run: RunStep) -> list[Command]:
    """A RUN's commands, ``su -c`` strings included."""
    out: list[Command] = []
    for c in run.commands:
        out.append(c)
        if c.program in ("su", "runuser"):
            out += inner_scripts(c)
    return out


def backgrounded(command: Command) -> bool:
    """Whether the command is sent to the background with ``&`` (looking past redirections)."""
    text = command.script.text
    i = command.end
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            nxt = text[i + 1] if i + 1 < n else ""
            prev = text[i - 1] if i > 0 else ""
            if nxt == "&":
                return False
            if prev == ">" or nxt == ">":
                i += 1
                continue
            return True
        if ch in ";\n|)":
            return False
        if ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                return False
            i = end
        i += 1
    return False


@dataclass(slots=True)
class StartScript:
    """What the final image runs when it starts: an ENTRYPOINT or CMD, or the body of a
    script they run when the Dockerfile writes it (``COPY <<EOF /start.sh``)."""

    instruction: Instruction
    commands: list[Command]
    script_path: str | None = None  # set for a script body


def start_scripts(ctx: CheckContext) -> list[StartScript]:
    """The last ENTRYPOINT and CMD of the final image, parsed, plus the bodies of scripts they
    run that the Dockerfile itself writes with a heredoc."""
    memo = _memo(ctx)
    if "start" not in memo:
        memo["start"] = _start_scripts(ctx, chain_places(ctx))
    scripts: list[StartScript] = memo["start"]
    return scripts


def _start_scripts(ctx: CheckContext, places: list[Place]) -> list[StartScript]:
    last: dict[str, Place] = {}
    for place in places:
        if place.instruction.keyword in ("ENTRYPOINT", "CMD"):
            last[place.instruction.keyword] = place
    out: list[StartScript] = []
    programs: list[tuple[str, Place]] = []
    for kw in ("ENTRYPOINT", "CMD"):
        found = last.get(kw)
        if found is None:
            continue
        place = found
        commands = [c for s in instruction_scripts(place.instruction) for c in s.commands]
        out.append(StartScript(place.instruction, commands))
        for c in commands:
            words = c.unwrapped()
            if words and not words[0].dynamic:
                target = words[0].text
                if (
                    target in ("sh", "bash", "/bin/sh", "/bin/bash")
                    and len(words) > 1
                    and not words[1].text.startswith("-")
                ):
                    target = words[1].text
                programs.append((resolve(place.workdir, target), place))
    wanted = {p for p, _ in programs if p}
    if wanted:
        out += written_scripts(ctx, places, wanted)
    return out


def written_scripts(
    ctx: CheckContext, places: list[Place], wanted: set[str]
) -> Iterator[StartScript]:
    """Shell scripts written to one of the ``wanted`` paths whose body is in the Dockerfile:
    ``COPY <<EOF /path`` and ``RUN cat > /path <<EOF``."""
    for place in places:
        ins = place.instruction
        if ins.keyword == "COPY" and ins.heredocs and len(ins.values) >= 2:
            dest = expand(ins.values[-1], place.env)
            if not dest:
                continue
            for doc in ins.heredocs:
                path = resolve(place.workdir, dest)
                if dest.endswith("/"):
                    path = resolve(path, doc.name)
                if path not in wanted:
                    continue
                start = doc.span.offset
                to_source = _fixed(start) if doc.chomp else _shifted(lambda k: k, start)
                script = parse_script(doc.text, to_source)
                yield StartScript(ins, script.commands, path)
        elif ins.keyword == "RUN" and ins.heredocs:
            run = run_of(ctx, ins)
            if run is not None:
                for c in run.commands:
                    if c.heredoc is None or c.program not in ("cat", "tee"):
                        continue
                    targets = [t for op, t in c.redirects if op in (">", ">>")]
                    if c.program == "tee":
                        targets += [w.text for w in c.unwrapped()[1:] if not w.text.startswith("-")]
                    anchor = c.source_span()[0]
                    for t in targets:
                        target = expand(t, place.env)
                        if target and resolve(place.workdir, target) in wanted:
                            body = parse_script(c.heredoc, _fixed(anchor), 2)
                            yield StartScript(ins, body.commands, resolve(place.workdir, target))


# ---------------------------------------------------------------------------------------------
# Database and queue servers


@dataclass(frozen=True, slots=True)
class Service:
    key: str
    label: str  # as people write it: "PostgreSQL"
    packages: re.Pattern[str]  # OS package names of the server (full match)
    data_dirs: tuple[str, ...]  # where the distribution packages keep the data; () = none
    image: str  # the official image that runs it
    apk_only: frozenset[str] = frozenset()  # names that are the server only on Alpine/openSUSE
    env: str = ""  # an environment variable that moves the data directory
    programs: frozenset[str] = frozenset()  # the server's executables


SERVICES: tuple[Service, ...] = (
    Service(
        "postgres", "PostgreSQL",
        re.compile(r"postgresql(?:-?\d+(?:\.\d+)?)?(?:-server)?"),
        ("/var/lib/postgresql", "/var/lib/pgsql"), "postgres",
        env="PGDATA", programs=frozenset({"postgres", "postmaster", "pg_ctl", "pg_ctlcluster"}),
    ),
    Service(
        "mysql", "MySQL/MariaDB",
        re.compile(r"(?:default-)?mysql-(?:community-)?server(?:-core)?(?:-[\d.]+)?|mariadb-server(?:-[\d.]+)?|percona-server-server(?:-[\d.]+)?"),
        ("/var/lib/mysql",), "mariadb",
        apk_only=frozenset({"mariadb", "mysql"}),
        programs=frozenset({"mysqld", "mysqld_safe", "mariadbd", "mariadbd-safe", "mariadb-safe"}),
    ),
    Service(
        "mongodb", "MongoDB",
        re.compile(r"mongodb(?:-org|-server|-org-server)?"),
        ("/data/db", "/var/lib/mongodb", "/var/lib/mongo"), "mongo",
        programs=frozenset({"mongod"}),
    ),
    Service(
        "redis", "Redis",
        re.compile(r"(?:redis|valkey|keydb)(?:-server)?"),
        ("/var/lib/redis", "/data", "/var/lib/valkey"), "redis",
        programs=frozenset({"redis-server", "valkey-server", "keydb-server"}),
    ),
    Service(
        "rabbitmq", "RabbitMQ", re.compile(r"rabbitmq-server"),
        ("/var/lib/rabbitmq",), "rabbitmq", programs=frozenset({"rabbitmq-server"}),
    ),
    Service(
        "elasticsearch", "Elasticsearch/OpenSearch", re.compile(r"elasticsearch|opensearch"),
        ("/usr/share/elasticsearch/data", "/var/lib/elasticsearch", "/usr/share/opensearch/data", "/var/lib/opensearch"),
        "elasticsearch", programs=frozenset({"elasticsearch", "opensearch"}),
    ),
    Service(
        "cassandra", "Cassandra", re.compile(r"cassandra"),
        ("/var/lib/cassandra",), "cassandra", programs=frozenset({"cassandra"}),
    ),
    Service(
        "couchdb", "CouchDB", re.compile(r"couchdb"),
        ("/opt/couchdb/data", "/var/lib/couchdb"), "couchdb", programs=frozenset({"couchdb"}),
    ),
    Service(
        "influxdb", "InfluxDB", re.compile(r"influxdb2?"),
        ("/var/lib/influxdb", "/var/lib/influxdb2"), "influxdb", programs=frozenset({"influxd"}),
    ),
    Service(
        "clickhouse", "ClickHouse", re.compile(r"clickhouse-server"),
        ("/var/lib/clickhouse",), "clickhouse/clickhouse-server",
        programs=frozenset({"clickhouse-server"}),
    ),
    Service(
        "neo4j", "Neo4j", re.compile(r"neo4j"),
        ("/var/lib/neo4j/data", "/data"), "neo4j", programs=frozenset({"neo4j"}),
    ),
    Service(
        "zookeeper", "ZooKeeper", re.compile(r"zookeeperd?"),
        ("/var/lib/zookeeper",), "zookeeper", programs=frozenset({"zkServer.sh"}),
    ),
    Service(
        "etcd", "etcd", re.compile(r"etcd(?:-server)?"),
        ("/var/lib/etcd",), "quay.io/coreos/etcd", programs=frozenset({"etcd"}),
    ),
    # In-memory servers and brokers without a default data directory: a second service for
    # the modular-design rules, nothing for the volume rule.
    Service(
        "memcached", "Memcached", re.compile(r"memcached"), (), "memcached",
        programs=frozenset({"memcached"}),
    ),
    Service(
        "mosquitto", "Mosquitto", re.compile(r"mosquitto"), (), "eclipse-mosquitto",
        programs=frozenset({"mosquitto"}),
    ),
)  # fmt: skip
SERVICE_PROGRAMS = frozenset(p for s in SERVICES for p in s.programs)

# Images that run a database (and declare its VOLUME themselves): names, or hyphenated parts
# of names, of any component of the repository path ("bitnami/postgresql", "postgis/postgis",
# "timescale/timescaledb-ha"). The loose match also takes in tools named after a database
# ("mongo-express"); it only ever keeps a rule quiet.
_DB_NAMES = (
    r"postgres|postgresql|postgis|timescaledb|pgvector|mysql|mariadb|percona|mongo|mongodb|"
    r"redis|valkey|keydb|elasticsearch|opensearch|rabbitmq|cassandra|scylla|couchdb|couchbase|"
    r"influxdb|minio|neo4j|clickhouse|clickhouse-server|memcached|arangodb|cockroach|cockroachdb|"
    r"questdb|etcd|zookeeper|kafka|mosquitto|eclipse-mosquitto|rethinkdb|orientdb|dgraph|"
    r"surrealdb|mssql|oracle-xe|oracle-free"
)
_DB_IMAGE_LOOSE = re.compile(rf"(?:^|[/_.-])(?:{_DB_NAMES})(?:$|[/_.-])")
_DB_IMAGE_STRICT = re.compile(rf"(?:{_DB_NAMES})")


def is_database_image(base: BaseImage | None, *, strict: bool = False) -> bool:
    """Whether the base runs a database; ``strict``: its name is exactly a database's."""
    if base is None:
        return False
    if strict:
        return _DB_IMAGE_STRICT.fullmatch(base.name) is not None
    return _DB_IMAGE_LOOSE.search(base.repository) is not None


# Alpine's `redis` package is also how people get `redis-cli`: it counts as the server only
# when the Dockerfile shows the server (its program named, or its port exposed).
_CLIENT_TOO = {"redis": ("redis-server", "6379"), "valkey": ("valkey-server", "6379")}


def service_of(ctx: CheckContext, installed: Installed) -> Service | None:
    """The server a package installs, if it is one of SERVICES."""
    name = installed.name
    manager = installed.op.manager
    if manager == "apk" and name in _CLIENT_TOO and not _shows_server(ctx, *_CLIENT_TOO[name]):
        return None
    for service in SERVICES:
        if service.packages.fullmatch(name):
            return service
        if name in service.apk_only and manager in ("apk", "zypper"):
            return service
    return None


def _shows_server(ctx: CheckContext, program: str, port: str) -> bool:
    for ins in chain_instructions(ctx):
        if ins.keyword == "EXPOSE" and any(v.split("/", 1)[0] == port for v in ins.values):
            return True
        if ins.keyword in ("CMD", "ENTRYPOINT", "RUN", "HEALTHCHECK") and program in ins.original:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# SL701: a database server's data directory with no VOLUME


_SPECIFIC_DATA_DIRS = {
    d: s for s in SERVICES for d in s.data_dirs if d not in ("/data",)
}  # "/data" alone says nothing about which server, if any, uses it


def _data_dir_service(path: str) -> Service | None:
    for d, service in _SPECIFIC_DATA_DIRS.items():
        if path == d or path.startswith(d + "/"):
            return service
    return None


@dataclass(slots=True)
class _Evidence:
    service: Service
    start: int
    end: int
    what: str  # "installs `postgresql`", "creates /var/lib/mysql"
    dirs: tuple[str, ...]


class DataDirWithoutVolume(Rule):
    """A database or queue server is installed in the image, but no VOLUME holds its data.

    Why: whatever the server writes goes to the container's writable layer: it is lost when the
    container is removed, it is slower than a volume (copy-on-write storage driver), and an
    image rebuilt from the same Dockerfile starts empty again. A `VOLUME` on the data directory
    makes the engine keep that state outside the image (an anonymous volume when nothing is
    mounted) and documents where it lives.

    Catches, in the final image (the last stage and the stages it is built FROM): an OS package
    install of a server (PostgreSQL `postgresql`/`postgresql-15`/`postgresql15-server`, MySQL
    and MariaDB `mysql-server`/`mariadb-server` (and `mariadb` on Alpine and openSUSE),
    MongoDB, Redis/Valkey (Alpine's `redis`, which also carries `redis-cli`, only when the
    Dockerfile names `redis-server` or exposes 6379), RabbitMQ, Elasticsearch/OpenSearch, Cassandra, CouchDB, InfluxDB,
    ClickHouse, Neo4j, ZooKeeper, etcd); `ENV PGDATA=...`; and `mkdir`/`WORKDIR` of a
    server-specific data directory (`/var/lib/postgresql`, `/var/lib/mysql`, `/data/db`, ...),
    when no VOLUME covers the data directory (`PGDATA` included) or a directory inside it.

    Leaves alone: images built on an official or well-known database image (`postgres`,
    `mysql`, `mariadb`, `mongo`, `redis`, `bitnami/postgresql`, `postgis/postgis`, ...), which
    declare the VOLUME themselves; client packages (`postgresql-client`, `redis-tools`,
    `mariadb-client`) and language client libraries (`pip install redis`); build stages; and
    images that declare some other VOLUME, since a configuration file the Dockerfile copies
    may have moved the data directory there. In-memory servers (Memcached) have no data.
    """

    id = "SL701"
    name = "data-dir-without-volume"
    practice = Practice.DATA_STORAGE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        base = base_image(ctx)
        if base is None and not ctx.target_chain[0].is_scratch:
            return  # an unresolved base may well be a database image
        if is_database_image(base):
            return
        places = chain_places(ctx)
        declared = [path for _ins, path in volumes(places) if path not in _SENSITIVE_VOLUMES]
        found: dict[str, _Evidence] = {}
        env_final = ctx.env_at(ctx.target)
        for inst in os_installs(ctx):
            service = service_of(ctx, inst)
            if service is None or not service.data_dirs or service.key in found:
                continue
            start, end = inst.op.command.word_source(inst.word)
            dirs = service.data_dirs
            moved = env_final.get(service.env) if service.env else None
            if moved and moved.startswith("/"):
                dirs = (*dirs, posixpath.normpath(moved))
            found[service.key] = _Evidence(
                service,
                start,
                end,
                f"installs the {service.label} server (`{inst.word.text}`)",
                dirs,
            )
        for place in places:
            ins = place.instruction
            evidence: list[tuple[Service, int, int, str, str]] = []
            if ins.keyword == "ENV" and "PGDATA" in ins.values[::2] and len(ins.values) % 2 == 0:
                value = env_final.get("PGDATA", "")
                if value.startswith("/"):
                    span = ins.args_span()
                    evidence.append(
                        (
                            SERVICES[0],
                            span.offset,
                            span.end_offset,
                            "sets PGDATA, the PostgreSQL data directory,",
                            posixpath.normpath(value),
                        )
                    )
            elif ins.keyword == "WORKDIR" and ins.values:
                target = expand(ins.values[0], place.env)
                if target:
                    path = resolve(place.workdir, target)
                    service = _data_dir_service(path)
                    if service is not None:
                        span = ins.args_span()
                        evidence.append(
                            (
                                service,
                                span.offset,
                                span.end_offset,
                                f"makes the {service.label} data directory {path} the WORKDIR",
                                path,
                            )
                        )
            elif ins.keyword == "RUN":
                evidence += self._mkdirs(ctx, ins, place)
            for service, start, end, what, path in evidence:
                if service.key not in found:
                    found[service.key] = _Evidence(
                        service, start, end, what, (*service.data_dirs, path)
                    )
        if not found:
            return
        if declared and not any(
            covers(v, d) for e in found.values() for v in declared for d in e.dirs
        ):
            # Some other VOLUME: the data directory may have been moved there by a config file.
            return
        for e in found.values():
            if any(covers(v, d) for v in declared for d in e.dirs):
                continue
            where = e.dirs[-1] if e.dirs[-1] not in e.service.data_dirs else e.dirs[0]
            yield self.at_offsets(
                ctx,
                e.start,
                e.end,
                f"the image {e.what} but no VOLUME holds the data: what the server writes to {where} is "
                f"lost with the container; declare `VOLUME {where}` or run the official `{e.service.image}` image "
                "as a separate container",
            )

    @staticmethod
    def _mkdirs(
        ctx: CheckContext, ins: Instruction, place: Place
    ) -> list[tuple[Service, int, int, str, str]]:
        out: list[tuple[Service, int, int, str, str]] = []
        run = run_of(ctx, ins)
        if run is not None:
            for c in run.commands:
                if c.program != "mkdir":
                    continue
                for w in c.unwrapped()[1:]:
                    if w.text.startswith("-"):
                        continue
                    path = expand(w.text, place.env)
                    if not path:
                        continue
                    path = resolve(place.workdir, path)
                    service = _data_dir_service(path)
                    if service is not None:
                        start, end = c.word_source(w)
                        out.append(
                            (
                                service,
                                start,
                                end,
                                f"creates the {service.label} data directory {path}",
                                path,
                            )
                        )
        return out


# ---------------------------------------------------------------------------------------------
# SL702: an uploads directory with no VOLUME

_UPLOAD_NAMES = frozenset(
    {
        "uploads",
        "upload",
        "media",
        "mediafiles",
        "media_files",
        "user-uploads",
        "user_uploads",
        "userfiles",
        "user-files",
    }
)
_NOT_APP_DIRS = (
    "/usr/",
    "/etc/",
    "/lib/",
    "/tmp/",
    "/var/tmp/",
    "/run/",
    "/proc/",
    "/dev/",
    "/sys/",
    "/root/.",
)
# Official images that declare a VOLUME on their application directory.
_BASE_VOLUMES = {
    "wordpress": ("/var/www/html",),
    "nextcloud": ("/var/www/html",),
    "joomla": ("/var/www/html",),
    "owncloud": ("/var/www/html", "/mnt/data"),
    "ghost": ("/var/lib/ghost/content",),
    "redmine": ("/usr/src/redmine/files",),
    "matomo": ("/var/www/html",),
}


class UploadsDirWithoutVolume(Rule):
    """An uploads (or media) directory is created in the image but no VOLUME holds it.

    Why: files users upload are state. Written to a directory of the image they land in the
    container's writable layer, and disappear when the container is replaced (every deploy);
    two replicas each see their own copy. A `VOLUME` (or object storage) keeps them.

    Catches: `mkdir` in the final image of a directory named `uploads`, `upload`, `media`,
    `user-uploads`, `userfiles` (resolved against WORKDIR and ENV values), when no VOLUME
    covers it.

    Leaves alone: directories under system paths (`/usr/...`, `/tmp`, `/etc`, dot-directories
    of root's home), `/media` itself (a mount point), bases that declare a VOLUME on the
    application directory (`wordpress`, `nextcloud`, ...), build stages, and directories only
    copied in (`COPY media/ ...` ships static assets, not a place for uploads). Reported as
    info: the directory may be mounted at run time by a compose file the linter cannot see.
    """

    id = "SL702"
    name = "uploads-dir-without-volume"
    practice = Practice.DATA_STORAGE
    severity = Severity.INFO
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        places: list[Place] | None = None
        seen: set[str] = set()
        for run in ctx.final_runs():
            mkdirs = [c for c in run.commands if c.program == "mkdir"]
            if not mkdirs:
                continue
            if places is None:
                places = chain_places(ctx)
                by_id = {id(p.instruction): p for p in places}
                base = base_image(ctx)
                declared = [p for _i, p in volumes(places)]
                if base is not None:
                    declared += _BASE_VOLUMES.get(base.name, ())
            place = by_id.get(id(run.instruction))
            if place is None:
                continue
            cwd = place.workdir
            for c in run.commands:
                if c.program == "cd":
                    args = [w.text for w in c.unwrapped()[1:] if not w.text.startswith("-")]
                    target = expand(args[0], place.env) if args else None
                    if target and not c.conditional:
                        cwd = resolve(cwd, target)
                    continue
                if c.program != "mkdir":
                    continue
                for w in c.unwrapped()[1:]:
                    if w.text.startswith("-") or (w.dynamic and "$" not in w.text):
                        continue
                    text = expand(w.text, place.env)
                    if not text or "{" in text or "*" in text:
                        continue
                    path = resolve(cwd, text)
                    if basename(path) not in _UPLOAD_NAMES or path in seen:
                        continue
                    if path == "/media" or (path + "/").startswith(_NOT_APP_DIRS):
                        continue
                    if any(covers(v, path) for v in declared):
                        continue
                    seen.add(path)
                    yield self.at_command(
                        ctx,
                        c,
                        f"{path} holds files users upload, but no VOLUME covers it: they are lost when the "
                        f"container is replaced; declare `VOLUME {path}` (or store uploads in object storage)",
                        word=w,
                    )


# ---------------------------------------------------------------------------------------------
# SL703: a database initialised or loaded at build time

_SERVICE_NAME = re.compile(
    r"(?:postgresql|postgres|mysql|mysqld|mariadb|mongod|mongodb|redis(?:-server)?|valkey(?:-server)?|"
    r"rabbitmq-server|elasticsearch|cassandra|couchdb|influxdb|clickhouse-server|neo4j)(?:[@-]?[\d.]+)?(?:-main)?"
)
_INIT_COMMANDS = frozenset(
    {
        "initdb",
        "mysql_install_db",
        "mariadb-install-db",
        "pg_createcluster",
        "mongorestore",
        "mongoimport",
    }
)
_LOADERS = frozenset({
    "psql", "mysql", "mariadb", "createdb", "createuser", "mongo", "mongosh", "mongorestore",
    "mongoimport", "redis-cli", "pg_restore", "cqlsh", "influx", "mysqladmin", "mariadb-admin",
})  # fmt: skip
_DB_DAEMONS = frozenset({"mysqld", "mysqld_safe", "mariadbd", "mariadbd-safe", "postgres", "postmaster", "mongod", "redis-server", "valkey-server"})  # fmt: skip
_SQLITE_DB = re.compile(r".*\.(?:sqlite3?|db3?|sqlitedb)$", re.IGNORECASE)


def _starts_database(c: Command) -> bool:
    words = c.unwrapped()
    if not words:
        return False
    prog = basename(words[0].text)
    args = [w.text for w in words[1:]]
    if prog in ("service", "rc-service", "invoke-rc.d") and len(args) >= 2:
        return bool(_SERVICE_NAME.fullmatch(args[0])) and args[1] in ("start", "restart")
    if words[0].text.startswith("/etc/init.d/") and args:
        return bool(_SERVICE_NAME.fullmatch(prog)) and args[0] in ("start", "restart")
    if prog == "systemctl":
        return "start" in args and any(
            _SERVICE_NAME.fullmatch(a.removesuffix(".service")) for a in args
        )
    if prog in ("pg_ctl", "pg_ctlcluster"):
        return "start" in args or "restart" in args
    if prog == "mongod":
        return "--fork" in args or backgrounded(c)
    if prog in ("redis-server", "valkey-server"):
        return "--daemonize" in args or backgrounded(c)
    if prog in ("docker-entrypoint.sh", "docker-entrypoint"):
        return any(a in _DB_DAEMONS for a in args)
    if prog in ("mysqld_safe", "mariadbd-safe"):
        return True
    return prog in _DB_DAEMONS and backgrounded(c)


def _initialises(c: Command) -> bool:
    words = c.unwrapped()
    if not words:
        return False
    prog = basename(words[0].text)
    args = [w.text for w in words[1:]]
    if prog in _INIT_COMMANDS:
        return not any(a in ("--help", "-h", "--version", "-V") for a in args)
    if prog in ("mysqld", "mariadbd"):
        return any(a.startswith("--initialize") for a in args)
    if prog == "pg_ctl":
        return "initdb" in args or "init" in args
    return False


def _sqlite_load(c: Command) -> Word | None:
    """The database file of ``sqlite3 app.db < schema.sql`` (or with SQL, a heredoc or a pipe)."""
    if c.program != "sqlite3":
        return None
    words = c.unwrapped()[1:]
    positional = []
    skip = False
    for w in words:
        if skip:
            skip = False
        elif w.text in ("-cmd", "-init", "-separator", "-newline", "-nullvalue"):
            skip = True
        elif not w.text.startswith("-"):
            positional.append(w)
    if not positional or positional[0].text in (":memory:", ""):
        return None
    fed = (
        c.heredoc is not None or c.pipe_from is not None or any(op == "<" for op, _ in c.redirects)
    )
    if fed or len(positional) >= 2:
        return positional[0]
    return None


class DatabaseBuiltIntoImage(Rule):
    """A database is created or loaded while the image builds, so its data is baked into a layer.

    Why: the data then ships with every copy of the image (size, and whatever it holds leaks
    with the image), cannot be changed without a rebuild, and the running container writes on
    top of it in its writable layer, where changes are lost. Databases are initialised when
    the container first starts (the official images run `/docker-entrypoint-initdb.d/*.sql`),
    into a volume.

    Catches, in the final image's RUN steps: `initdb`, `pg_ctl initdb`, `pg_createcluster`,
    `mysql_install_db`, `mariadb-install-db`, `mysqld --initialize`, `mongorestore`,
    `mongoimport`; a database server started (`service postgresql start`,
    `/etc/init.d/mysql start`, `pg_ctl start`, `mongod --fork`, `mysqld_safe &`,
    `docker-entrypoint.sh postgres &`, also inside `su postgres -c "..."`) and then written to
    in the same RUN (`psql`, `mysql`, `createdb`, `mongosh`, `redis-cli`...); and `sqlite3 app.db`
    fed with SQL (`< schema.sql`, a heredoc, a pipe or an SQL argument).

    Leaves alone: `COPY *.sql /docker-entrypoint-initdb.d/` (the idiomatic, run-time way), a
    server started without writing to it, clients talking to another host, `python manage.py
    migrate` (whether it writes a local SQLite file depends on settings the linter cannot see),
    and build stages whose output does not include the database.
    """

    id = "SL703"
    name = "database-built-into-image"
    practice = Practice.DATA_STORAGE
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        for run in ctx.final_runs():
            commands = run_commands(run)
            started: Command | None = None
            for c in commands:
                prog = c.program
                if _initialises(c):
                    yield self.at_command(
                        ctx,
                        c,
                        f"`{prog}` creates a database inside the image at build time: its files are baked "
                        "into the layer; initialise the database when the container first starts, in a volume",
                    )
                    break
                if started is None and _starts_database(c):
                    started = c
                    continue
                if started is not None and prog in _LOADERS and not c.conditional:
                    yield self.at_command(
                        ctx,
                        started,
                        f"a database server is started during the build and written to with `{prog}`: the "
                        "data is baked into the layer; load it at first start instead (e.g. "
                        "`COPY dump.sql /docker-entrypoint-initdb.d/` with the official image)",
                    )
                    break
                db = _sqlite_load(c)
                if db is not None:
                    yield self.at_command(
                        ctx,
                        c,
                        f"`sqlite3 {db.text}` builds a database file into the image: its contents are "
                        "frozen in a layer and what the container writes to it is lost with the container; "
                        "create it at start-up, in a volume",
                        word=db,
                    )
                    break


# ---------------------------------------------------------------------------------------------
# SL704: a database file copied into the image


class DatabaseFileCopied(Rule):
    """A database file (`*.sqlite`, `*.sqlite3`, `*.db`) is copied into the image.

    Why: a database file in a layer is state frozen at build time: what the application writes
    to it goes to the container's writable layer and is lost with the container, and the file
    (often a development database, with its users and data) ships with every copy of the image.

    Catches: `COPY`/`ADD` from the build context, in the final image, of a source whose name
    ends in `.sqlite`, `.sqlite3`, `.db`, `.db3` or `.sqlitedb`.

    Leaves alone: copies into a path a VOLUME covers (seeding a volume's initial content is a
    deliberate pattern), `COPY --from` another stage, globs and directories, and build stages.
    Reported as info: a read-only reference dataset (a GeoIP or lookup database) is a
    legitimate reason to ship such a file.
    """

    id = "SL704"
    name = "database-file-copied"
    practice = Practice.DATA_STORAGE
    severity = Severity.INFO
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        places: list[Place] | None = None
        for stage in ctx.target_chain:
            for ins in stage.instructions:
                if (
                    ins.keyword not in ("COPY", "ADD")
                    or ins.flag("from") is not None
                    or len(ins.values) < 2
                ):
                    continue
                sources = [s for s in ins.values[:-1] if not s.startswith("<<") and "://" not in s]
                hits = [
                    s
                    for s in sources
                    if _SQLITE_DB.fullmatch(basename(s.rstrip("/")))
                    and not any(ch in s for ch in "*?[")
                ]
                if not hits:
                    continue
                if places is None:
                    places = chain_places(ctx)
                    by_id = {id(p.instruction): p for p in places}
                    declared = [p for _i, p in volumes(places)]
                place = by_id.get(id(ins))
                if place is not None and declared:
                    dest = expand(ins.values[-1], place.env)
                    if dest is None or any(
                        covers(v, resolve(place.workdir, dest)) for v in declared
                    ):
                        continue
                for src in hits:
                    start, end = _value_offsets(ins, src)
                    yield self.at_offsets(
                        ctx,
                        start,
                        end,
                        f"`{src}` is a database file copied into the image: its data is frozen in a layer and "
                        "what the application writes to it is lost with the container; create or mount it "
                        "at run time (a volume)",
                    )


def _value_offsets(ins: Instruction, value: str) -> tuple[int, int]:
    """Source offsets of a word of an instruction's arguments (the whole arguments if the
    word cannot be found as written)."""
    args = ins.args
    for m in re.finditer(re.escape(value), args):
        before = args[m.start() - 1] if m.start() > 0 else " "
        after = args[m.end()] if m.end() < len(args) else " "
        if before in " \t\"'[,\n\\" and after in " \t\"',]\n\\":
            span = ins.args_span(m.start(), m.end())
            return span.offset, span.end_offset
    span = ins.args_span()
    return span.offset, span.end_offset


# ---------------------------------------------------------------------------------------------
# SL705: a VOLUME on a system directory

_SENSITIVE_VOLUMES = {
    "/": "the root file system",
    "/proc": "the kernel's process file system",
    "/sys": "the kernel's sysfs",
    "/dev": "the device directory",
    "/var/run/docker.sock": "the Docker socket",
    "/run/docker.sock": "the Docker socket",
}


class SensitiveVolume(Rule):
    """A VOLUME is declared on a system path (`/`, `/proc`, `/sys`, `/dev`) or the Docker socket.

    Why: a volume on `/proc`, `/sys` or `/dev` shadows what the runtime mounts there and
    invites mounting the host's; a VOLUME on the Docker socket path announces that the
    container expects the host's engine socket, which gives it root on the host; a VOLUME on
    `/` turns the whole file system into a volume.

    Catches: VOLUME instructions of the final image naming one of those paths.

    Leaves alone: data directories, and every other path.
    """

    id = "SL705"
    name = "sensitive-volume"
    practice = Practice.DATA_STORAGE
    severity = Severity.WARNING
    refs = ("DKL-DI-0002",)

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        places: list[Place] | None = None
        for ins in chain_instructions(ctx):
            if ins.keyword != "VOLUME":
                continue
            if places is None:
                places = chain_places(ctx)
            for vins, path in volumes(places):
                if vins is not ins or path not in _SENSITIVE_VOLUMES:
                    continue
                raw = next(
                    (
                        v
                        for v in ins.values
                        if expand(v.strip(), {}) is not None
                        and posixpath.normpath(v.strip()) == path
                    ),
                    None,
                )
                start, end = (
                    _value_offsets(ins, raw)
                    if raw
                    else (ins.args_span().offset, ins.args_span().end_offset)
                )
                yield self.at_offsets(
                    ctx,
                    start,
                    end,
                    f"VOLUME {path} makes {_SENSITIVE_VOLUMES[path]} a volume: remove it (mount what the "
                    "container really needs at run time, never the host's system directories or engine socket)",
                )


__all__ = [
    "OS_MANAGERS",
    "SERVICES",
    "SERVICE_PROGRAMS",
    "BaseImage",
    "Installed",
    "Place",
    "Service",
    "StartScript",
    "backgrounded",
    "base_image",
    "chain_instructions",
    "chain_places",
    "covers",
    "expand",
    "is_database_image",
    "os_installs",
    "resolve",
    "run_commands",
    "service_of",
    "start_scripts",
    "volumes",
]
