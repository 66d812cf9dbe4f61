"""modular-design: one concern per image: no database next to the application, no several
services started side by side, no process supervisor running a whole stack."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from slimline.dockerfile.context import CheckContext
from slimline.dockerfile.parse import Instruction
from slimline.dockerfile.rules import Rule
from slimline.dockerfile.rules.data_storage import (
    SERVICE_PROGRAMS,
    BaseImage,
    Installed,
    Service,
    StartScript,
    backgrounded,
    base_image,
    is_database_image,
    os_installs,
    service_of,
    start_scripts,
)
from slimline.dockerfile.shell import Command, basename
from slimline.findings import Finding, Practice, Severity

_WEB_SERVER = re.compile(
    r"nginx(?:-full|-light|-extras|-core|-mainline)?|apache2|httpd|lighttpd|caddy|openresty"
)
_PHP_FPM = re.compile(r"php(?:\d+(?:\.\d+)?)?-fpm")
_PY_APP_SERVERS = frozenset({"gunicorn", "uwsgi", "uvicorn", "daphne", "hypercorn", "waitress"})
_OS_APP_SERVERS = re.compile(r"(?:python3?-)?(?:gunicorn3?|uwsgi)|tomcat\d*|jetty\d*")
# Programs that, run by CMD or ENTRYPOINT, are an application (not the database itself).
_RUNTIMES = frozenset({
    "python", "python3", "node", "nodejs", "npm", "yarn", "pnpm", "bun", "deno", "java", "ruby",
    "rails", "puma", "unicorn", "rackup", "bundle", "php", "php-fpm", "dotnet", "gunicorn",
    "uwsgi", "uvicorn", "daphne", "hypercorn", "waitress-serve", "flask", "celery", "nginx",
    "httpd", "apache2", "apache2-foreground", "apache2ctl", "apachectl", "catalina.sh", "caddy",
    "lighttpd", "mix", "elixir", "beam.smp",
})  # fmt: skip
_RUNTIME_RE = re.compile(r"python\d+(?:\.\d+)?|php-fpm\d*(?:\.\d+)?|php\d+(?:\.\d+)?|pypy3?")
# Bases that are an application runtime (the image then runs an application).
_RUNTIME_BASES = frozenset({
    "python", "pypy", "node", "ruby", "php", "openjdk", "eclipse-temurin", "amazoncorretto",
    "ibm-semeru-runtimes", "sapmachine", "tomcat", "jetty", "aspnet", "bun", "deno", "elixir",
    "wordpress", "drupal", "joomla", "ghost", "rails", "django",
})  # fmt: skip
_WEB_BASES = frozenset({"nginx", "nginx-unprivileged", "httpd", "caddy", "openresty", "angie"})


def _at_start(
    rule: Rule, ctx: CheckContext, instruction: Instruction, command: Command, message: str
) -> Finding:
    """A finding at a command of a start script: the command itself in shell form and in
    heredoc scripts, the instruction's arguments in JSON form (whose words have no offsets)."""
    if instruction.json and instruction.keyword in ("CMD", "ENTRYPOINT"):
        span = instruction.args_span()
        return rule.at_offsets(ctx, span.offset, span.end_offset, message)
    return rule.at_command(ctx, command, message)


def _runtime_program(name: str) -> bool:
    return name in _RUNTIMES or _RUNTIME_RE.fullmatch(name) is not None


def _programs(scripts: list[StartScript]) -> list[tuple[str, Command, Instruction]]:
    """Programs the start scripts run unconditionally (``sh -c`` and wrappers looked through)."""
    out: list[tuple[str, Command, Instruction]] = []
    for script in scripts:
        for c in script.commands:
            if c.conditional:
                continue
            words = c.unwrapped()
            if not words or words[0].dynamic:
                continue
            prog = basename(words[0].text)
            if (
                prog in ("sh", "bash", "ash", "dash")
                and len(words) > 1
                and not words[1].text.startswith("-")
            ):
                prog = basename(words[1].text)
            out.append((prog, c, script.instruction))
    return out


@dataclass(slots=True)
class _Component:
    label: str
    installed: Installed | None  # None when it comes from the base image or the CMD


def _app_components(
    ctx: CheckContext, base: BaseImage | None, programs: list[tuple[str, Command, Instruction]]
) -> tuple[list[_Component], list[_Component], list[_Component]]:
    """(web servers, application servers, runtimes started by CMD/ENTRYPOINT) of the final image."""
    web: list[_Component] = []
    app: list[_Component] = []
    for inst in os_installs(ctx, frozenset({"apt", "apk", "dnf", "zypper", "pip"})):
        if inst.op.manager == "pip":
            if inst.name in _PY_APP_SERVERS:
                app.append(_Component(inst.name, inst))
        elif _WEB_SERVER.fullmatch(inst.name):
            web.append(_Component(inst.name, inst))
        elif _PHP_FPM.fullmatch(inst.name) or _OS_APP_SERVERS.fullmatch(inst.name):
            app.append(_Component(inst.name, inst))
    if base is not None:
        if base.name in _WEB_BASES:
            web.append(_Component(base.name, None))
        if base.name == "php" and "fpm" in base.tag:
            app.append(_Component("php-fpm", None))
    started = [_Component(p, None) for p, _c, _i in programs if _runtime_program(p)]
    return web, app, started


# ---------------------------------------------------------------------------------------------
# SL801


class DatabaseWithApplication(Rule):
    """A database or queue server and an application (or a second server) share one image.

    Why: one concern per container. A database next to the application cannot be scaled,
    upgraded, backed up or restarted on its own; a crash of either one is invisible to the
    engine unless the other dies too; the image carries both stacks and rebuilds for either.
    Run the database from its own (official) image and connect to it over the network (a
    compose file or a CI service container does it in a few lines).

    Catches, in the final image: an OS package install of a database or queue server
    (PostgreSQL, MySQL/MariaDB, MongoDB, Redis, RabbitMQ, Elasticsearch, Cassandra, CouchDB,
    InfluxDB, ClickHouse, Neo4j, ZooKeeper, etcd, Memcached, Mosquitto), or a database base
    image, together with one of: a second, different server of that list; a web or application
    server installed (`nginx`, `apache2`, `php-fpm`, `gunicorn`, `uwsgi`, `tomcat`...); an
    application runtime started by CMD/ENTRYPOINT (`python`, `node`, `java`, `gunicorn`...); or
    an application runtime base image (`python`, `node`, `php`, `ruby`, `openjdk`...).

    Leaves alone: client packages (`postgresql-client`, `redis-tools`), a runtime base whose
    CMD runs the database itself (`FROM python` + `redis-server` as CMD), build stages, and
    database images that add only tools or extensions.
    """

    id = "SL801"
    name = "database-with-application"
    practice = Practice.MODULAR_DESIGN
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        databases: list[tuple[Service, Installed]] = []
        seen: set[str] = set()
        for inst in os_installs(ctx):
            service = service_of(ctx, inst)
            if service is not None and service.key not in seen:
                seen.add(service.key)
                databases.append((service, inst))
        base = base_image(ctx)
        base_is_db = is_database_image(base, strict=True)
        if not databases and not base_is_db:
            return
        programs = _programs(start_scripts(ctx))
        web, app, started = _app_components(ctx, base, programs)
        runs_db_itself = any(p in SERVICE_PROGRAMS for p, _c, _i in programs)
        others: list[_Component] = [*web, *app]
        others += [c for c in started if c.label not in SERVICE_PROGRAMS]
        if (
            not others
            and base is not None
            and base.name in _RUNTIME_BASES
            and not runs_db_itself
            and databases
        ):
            others.append(_Component(f"the `{base.name}` runtime of the base image", None))
        if databases:
            first, inst = databases[0]
            partners = [s.label for s, _i in databases[1:]]
            partners += [_describe(o) for o in others]
            if not partners:
                return
            yield self.at_command(
                ctx,
                inst.op.command,
                f"the {first.label} server (`{inst.word.text}`) shares the image with {_join(partners)}: "
                f"run the database from its official image (`{first.image}`) in a separate container and "
                "connect over the network",
                word=inst.word,
            )
            return
        # A database base image with an application added to it.
        assert base is not None
        for o in others:
            if o.installed is not None:
                inst = o.installed
                yield self.at_command(
                    ctx,
                    inst.op.command,
                    f"`{inst.word.text}` adds an application server to the `{base.repository}` database "
                    "image: run the application in its own image and connect to the database over the network",
                    word=inst.word,
                )
                return
        for o in others:
            for prog, c, ins in programs:
                if prog == o.label:
                    yield _at_start(
                        self,
                        ctx,
                        ins,
                        c,
                        f"the `{base.repository}` database image is made to run `{prog}`: run the "
                        "application in its own image and connect to the database over the network",
                    )
                    return


def _describe(component: _Component) -> str:
    if component.installed is not None:
        return f"`{component.installed.word.text}`"
    if component.label.startswith("the "):
        return component.label
    return f"`{component.label}`"


def _join(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " and " + unique[-1]


# ---------------------------------------------------------------------------------------------
# SL802

_SUPERVISORS = {
    "supervisord": "supervisord",
    "circusd": "circus",
    "runsvdir": "runit",
    "s6-svscan": "s6",
    "monit": "monit",
    "chaperone": "chaperone",
    "my_init": "my_init (runit)",
    "honcho": "honcho (a Procfile runner)",
    "foreman": "foreman (a Procfile runner)",
    "overmind": "overmind (a Procfile runner)",
    "hivemind": "hivemind (a Procfile runner)",
    "forego": "forego (a Procfile runner)",
}
_INIT_PATHS = frozenset({
    "/sbin/init", "/usr/sbin/init", "/lib/systemd/systemd", "/usr/lib/systemd/systemd",
    "/bin/systemd", "/usr/bin/systemd", "systemd",
})  # fmt: skip
_SUPERVISOR_PACKAGES = {
    "supervisor": "supervisord",
    "circus": "circus",
    "runit": "runit",
    "monit": "monit",
}


def _supervisor_of(command: Command, prog: str) -> str | None:
    words = command.unwrapped()
    first = words[0].text if words else ""
    if prog in _SUPERVISORS:
        return _SUPERVISORS[prog]
    if first in _INIT_PATHS or prog == "systemd":
        return "systemd"
    if (
        prog in ("service", "rc-service")
        and len(words) >= 3
        and words[1].text in ("supervisor", "supervisord")
        and words[2].text in ("start", "restart")
    ):
        return "supervisord"
    return None


class ProcessSupervisor(Rule):
    """The image runs a process supervisor (supervisord, systemd, runit, a Procfile runner).

    Why: a supervisor inside the container is how several services end up in one image. The
    engine then only sees the supervisor: it cannot restart, scale, health-check or log each
    program separately, and a crashed program is restarted in place (or not) without anybody
    noticing. systemd as PID 1 also needs extra privileges and mounts. One process per
    container, with the orchestrator as the supervisor, keeps each concern separate.

    Catches, in the final image: CMD or ENTRYPOINT (or a start script the Dockerfile writes
    with a heredoc) running `supervisord`, `circusd`, `runsvdir`, `s6-svscan`, `monit`,
    `chaperone`, `my_init`, `honcho`/`foreman`/`overmind`/`hivemind`/`forego`, systemd
    (`/sbin/init`, `/lib/systemd/systemd`), `service supervisor start`, or `pm2` starting
    two or more applications; failing that, an install of `supervisor`, `circus`, `runit` or
    `monit`.

    Leaves alone: tini, dumb-init, `docker run --init` and other minimal inits that run ONE
    child and reap zombies (the right thing); s6-overlay (`ENTRYPOINT ["/init"]`), which is as
    often the init of a single service as a supervisor of several and whose service list lives
    in files outside the Dockerfile; `pm2-runtime` with one application (or an ecosystem file
    the linter cannot read); base images that bring their own supervisor; build stages.
    Reported as info: a supervisor is sometimes a deliberate choice (appliance images, dev
    containers, systemd test images for Ansible roles).
    """

    id = "SL802"
    name = "process-supervisor"
    practice = Practice.MODULAR_DESIGN
    severity = Severity.INFO
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not any(
            ins.keyword in ("CMD", "ENTRYPOINT") for s in ctx.target_chain for ins in s.instructions
        ) and not any(op.action == "install" for run in ctx.final_runs() for op in run.ops):
            return
        programs = _programs(start_scripts(ctx))
        pm2_starts: list[Command] = []
        pm2_places: list[Instruction] = []
        for prog, c, ins in programs:
            kind = _supervisor_of(c, prog)
            if kind is not None:
                what = (
                    "systemd as the container's init"
                    if kind == "systemd"
                    else f"the {kind} process supervisor"
                )
                yield _at_start(
                    self,
                    ctx,
                    ins,
                    c,
                    f"the image starts {what} to run several programs in one container: run each "
                    "program in its own container and let the orchestrator supervise them",
                )
                return
            if prog in ("pm2", "pm2-runtime", "pm2-docker"):
                args = [w.text for w in c.unwrapped()[1:] if not w.text.startswith("-")]
                if args[:1] == ["start"]:
                    args = args[1:]
                if args:
                    pm2_starts.append(c)
                    pm2_places.append(ins)
        if len(pm2_starts) >= 2:
            yield _at_start(
                self,
                ctx,
                pm2_places[0],
                pm2_starts[0],
                f"pm2 starts {len(pm2_starts)} applications in one container: run each in its own "
                "container (`pm2-runtime` with a single app is fine)",
            )
            return
        for inst in os_installs(ctx, frozenset({"apt", "apk", "dnf", "zypper", "pip"})):
            kind = _SUPERVISOR_PACKAGES.get(inst.name)
            if kind is None or (
                inst.op.manager == "pip" and inst.name not in ("supervisor", "circus")
            ):
                continue
            yield self.at_command(
                ctx,
                inst.op.command,
                f"`{inst.word.text}` installs the {kind} process supervisor, the usual way to run several "
                "programs in one container: run each program in its own container instead",
                word=inst.word,
            )
            return


# ---------------------------------------------------------------------------------------------
# SL803

_KEEPALIVE = frozenset({
    "tail", "sleep", "wait", "cat", "echo", "printf", "true", ":", "read", "sh", "bash", "exec",
    "set", "export", "cd", "trap", "test", "[", "chown", "chmod", "mkdir", "rm", "cp", "mv", "ln",
    "sed", "envsubst", "touch", "until", "while", "ls", "find", "grep", "date", "env", "printenv",
    "tee", "unset", "source", ".", "eval", "kill", "ps", "id", "whoami", "usermod", "install",
})  # fmt: skip
_SERVICE_TOOLS = frozenset({"service", "rc-service", "invoke-rc.d"})


def _service_start(command: Command, prog: str) -> str | None:
    """The name of the service a command starts in the background, or None."""
    words = command.unwrapped()
    args = [w.text for w in words[1:]]
    first = words[0].text if words else ""
    if prog in _SERVICE_TOOLS:
        if len(args) >= 2 and args[1] in ("start", "restart"):
            return args[0]
        return None
    if first.startswith("/etc/init.d/"):
        return prog if args[:1] in (["start"], ["restart"]) else None
    if prog == "systemctl" and args[:1] in (["start"], ["restart"]) and len(args) >= 2:
        return args[1].removesuffix(".service")
    if prog in ("apachectl", "apache2ctl") and "start" in args:
        return "apache2"
    if prog == "httpd" and "-k" in args and "start" in args:
        return "httpd"
    if prog in ("catalina.sh", "startup.sh") and (prog == "startup.sh" or args[:1] == ["start"]):
        return "tomcat"
    if prog == "postfix" and args[:1] == ["start"]:
        return "postfix"
    joined = " ".join(args)
    if (
        prog == "nginx"
        and "daemon off" not in joined
        and not any(a in ("-t", "-s", "-T", "-v", "-V", "-h") for a in args)
    ):
        return "nginx"
    if _PHP_FPM_PROG.fullmatch(prog) and not any(
        a in ("-F", "--nodaemonize", "-t", "--test", "-v", "-i", "-m") for a in args
    ):
        return prog
    if prog in ("sshd", "dropbear") and not any(
        a in ("-D", "-F", "-t", "-T")
        or (a.startswith("-") and "D" in a[1:] and not a.startswith("--"))
        for a in args
    ):
        return "sshd"
    if prog in ("cron", "crond") and not any(
        a in ("-f", "-n") or (a.startswith("-") and "f" in a[1:]) for a in args
    ):
        return prog
    if prog == "rsyslogd" and "-n" not in args:
        return "rsyslogd"
    if prog == "mongod" and "--fork" in args:
        return "mongod"
    if prog in ("redis-server", "valkey-server") and "--daemonize" in args and "no" not in args:
        return prog
    if prog == "memcached" and "-d" in args:
        return "memcached"
    if prog in ("mysqld_safe", "mariadbd-safe") and backgrounded(command):
        return prog
    if backgrounded(command) and prog not in _KEEPALIVE:
        return prog
    return None


_PHP_FPM_PROG = re.compile(r"php-fpm\d*(?:\.\d+)?|php\d+(?:\.\d+)?-fpm")


def _daemons(script: StartScript) -> list[tuple[str, Command]]:
    """The services a start script launches: background starts plus its last foreground
    program, when that is neither a keep-alive (`tail -f`, `sleep`, `wait`) nor dynamic."""
    starts: list[tuple[str, Command]] = []
    last: tuple[str, Command] | None = None
    for c in script.commands:
        if c.conditional:
            continue
        words = c.unwrapped()
        if not words:
            continue
        prog = basename(words[0].text)
        name = _service_start(c, prog)
        if name is not None:
            starts.append((name, c))
            last = None
            continue
        if words[0].dynamic or prog in _KEEPALIVE or c.pipe_from is not None:
            last = None
            continue
        last = (prog, c)
    if last is not None:
        starts.append(last)
    return starts


class SeveralDaemonsInStartCommand(Rule):
    """CMD or ENTRYPOINT starts several long-running services side by side, without a supervisor.

    Why: `service mysql start && service apache2 start && tail -f ...`, or `nginx & gunicorn
    app`, puts several services in one container and supervises none of them: when one crashes
    the container keeps running (nothing restarts it, health checks of the engine cannot see it),
    stop signals reach only PID 1 so the others are killed without a clean shutdown, and their
    logs do not reach `docker logs`. One service per container fixes all of it.

    Catches, in the last CMD and ENTRYPOINT of the final image (shell form, `sh -c` strings,
    and start scripts the Dockerfile writes with `COPY <<EOF` or `RUN cat > file <<EOF`): two or
    more services counted from `service X start`, `/etc/init.d/X start`, `rc-service`,
    `systemctl start`, `apachectl start`, `catalina.sh start`, programs that fork into the background by default
    (`nginx` without `daemon off`, `php-fpm` without `-F`, `sshd` without `-D`, `cron` without
    `-f`, `rsyslogd`, `mongod --fork`, `redis-server --daemonize yes`, `memcached -d`), commands
    sent to the background with `&`, and the last foreground program.

    Leaves alone: one service plus keep-alives or one-shot steps (`service nginx start && tail -f
    /var/log/nginx/access.log`, `python manage.py migrate && gunicorn app`), branches of `if`/
    `case` and the right side of `||` (alternative commands, not simultaneous ones), `exec "$@"`,
    entrypoint scripts whose body is not in the Dockerfile, and process supervisors (SL802).
    """

    id = "SL803"
    name = "several-daemons-in-start-command"
    practice = Practice.MODULAR_DESIGN
    severity = Severity.WARNING
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        if not any(
            ins.keyword in ("CMD", "ENTRYPOINT") for s in ctx.target_chain for ins in s.instructions
        ):
            return
        for script in start_scripts(ctx):
            daemons = _daemons(script)
            names = list(dict.fromkeys(n for n, _c in daemons))
            if len(daemons) < 2 or any(_supervisor_of(c, n) for n, c in daemons):
                continue
            where = f"`{script.script_path}`" if script.script_path else script.instruction.keyword
            if len(names) > 1:
                listed = ", ".join(f"`{n}`" for n in names[:-1]) + f" and `{names[-1]}`"
            else:
                listed = f"`{names[0]}` {len(daemons)} times"
            yield _at_start(
                self,
                ctx,
                script.instruction,
                daemons[0][1],
                f"{where} starts {listed} in one container with nothing supervising them: a crash goes "
                "unnoticed and stop signals reach only PID 1; run each service in its own container",
            )


# ---------------------------------------------------------------------------------------------
# SL804


class WebServerWithAppServer(Rule):
    """A web server and a separate application server share one image (nginx with php-fpm).

    Also nginx in front of gunicorn, uwsgi or node in the same image.

    Why: two processes in one container need something to start and watch both (usually a
    supervisor or a shell `&`), and they cannot be scaled or updated separately. The common
    alternative is two containers from two images (`nginx` and `php:fpm`, sharing the static
    files through a volume or a build stage), or an application server that serves HTTP
    directly behind the platform's load balancer.

    Catches, in the final image: a web server installed (`nginx`, `apache2`, `httpd`,
    `lighttpd`, `caddy`, `openresty`) or used as the base (`nginx`, `httpd`, `caddy`) together
    with an application server: `php-fpm` installed or a `php:*-fpm` base, `gunicorn`/`uwsgi`/
    `uvicorn`/`daphne`/`hypercorn`/`waitress` installed, or an application runtime run by
    CMD/ENTRYPOINT; nginx installed on an application runtime base (`python`, `node`, `ruby`,
    `php`, `openjdk`...).

    Leaves alone: Apache with an in-process module (`php:apache`, `libapache2-mod-php`,
    `mod_wsgi`): one service; a web server alone (`FROM nginx` + static files); web servers
    used only in build stages. Reported as info: nginx + php-fpm in one image is a widespread,
    deliberate trade-off.
    """

    id = "SL804"
    name = "web-server-with-app-server"
    practice = Practice.MODULAR_DESIGN
    severity = Severity.INFO
    refs = ()

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        base = base_image(ctx)
        installs = list(os_installs(ctx, frozenset({"apt", "apk", "dnf", "zypper", "pip"})))
        if not installs:
            return
        if not any(
            _WEB_SERVER.fullmatch(i.name)
            or _PHP_FPM.fullmatch(i.name)
            or i.name in _PY_APP_SERVERS
            or _OS_APP_SERVERS.fullmatch(i.name)
            for i in installs
        ):
            return
        programs = _programs(start_scripts(ctx))
        web, app, started = _app_components(ctx, base, programs)
        if not web:
            return
        nginx_like = [w for w in web if not w.label.startswith(("apache2", "httpd"))]
        web_names = {w.label for w in web}
        partners = list(app)
        partners += [
            s
            for s in started
            if s.label not in web_names
            and s.label
            not in (
                "apache2-foreground",
                "apache2ctl",
                "apachectl",
                "httpd",
                "nginx",
                "caddy",
                "lighttpd",
            )
        ]
        if (
            not partners
            and nginx_like
            and base is not None
            and base.name in _RUNTIME_BASES
            and base.name not in ("wordpress", "drupal", "joomla")
        ):
            partners.append(_Component(f"the `{base.name}` application of the base image", None))
        if not partners:
            return
        anchor = next((c for c in [*web, *partners] if c.installed is not None), None)
        if anchor is None or anchor.installed is None:
            return
        inst = anchor.installed
        w = web[0]
        web_text = _describe(w) if w.installed is not None else f"the `{w.label}` base image"
        yield self.at_command(
            ctx,
            inst.op.command,
            f"web server {web_text} and application server {_describe(partners[0])} in one image: "
            "two services that need a supervisor to run together; consider separate containers",
            word=inst.word,
        )
