"""data-storage: state written into the image: database files, logs, uploads.

Data belongs in volumes: in the image it is a snapshot of the build, copied into every
container, lost on every rebuild and readable by anyone who pulls the image.
"""

from __future__ import annotations

from collections.abc import Iterator

from slimline.findings import Practice, Severity
from slimline.image.bloat import Detector, amount
from slimline.image.bloat.context import BloatContext
from slimline.image.model import ImageFinding

SQLITE_MAGIC = b"SQLite format 3\x00"
# directories whose files are software, not data: libraries, package managers' own databases
_SOFTWARE_PREFIXES = (
    "usr/",
    "lib/",
    "lib64/",
    "bin/",
    "sbin/",
    "etc/",
    "var/lib/dpkg/",
    "var/lib/rpm/",
    "var/lib/dnf/",
    "var/lib/yum/",
    "var/lib/misc/",
    "var/cache/",
    "proc/",
    "sys/",
)
_LIBRARY_DIRS = ("/site-packages/", "/dist-packages/", "/node_modules/", "/gems/", "/vendor/")


def is_software(path: str) -> bool:
    """Whether `path` lies where software, not data, lives."""
    return path.startswith(_SOFTWARE_PREFIXES) or any(d in path for d in _LIBRARY_DIRS)


class DatabaseData(Detector):
    """A database server's data directory is in the image.

    Why: installing a database server package often initialises a cluster (Debian's
    postgresql runs initdb, mysql-server creates /var/lib/mysql), and some images load data at
    build time. That data is then baked into every container: not persistent, not backed up,
    its passwords and contents readable from the image.

    Counts: the non-empty regular files below /var/lib/mysql, /var/lib/postgresql,
    /var/lib/pgsql, /var/lib/mongodb, /data/db, /var/lib/redis, /var/lib/couchdb,
    /var/lib/elasticsearch, /var/lib/cassandra and /var/lib/influxdb, and Redis `dump.rdb`
    files anywhere.

    Fix: declare the data directory a VOLUME and initialise it when the container starts (as
    the official database images' entrypoints do); delete the cluster created at install time.
    """

    id = "SLI703"
    name = "database-data"
    practice = Practice.DATA_STORAGE
    severity = Severity.WARNING
    title = "database data in the image"
    refs = ("SL703", "SL701")
    file_names = frozenset({"dump.rdb"})
    _ROOTS = (
        "var/lib/mysql",
        "var/lib/postgresql",
        "var/lib/pgsql",
        "var/lib/mongodb",
        "data/db",
        "var/lib/redis",
        "var/lib/couchdb",
        "var/lib/elasticsearch",
        "var/lib/cassandra",
        "var/lib/influxdb",
    )

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        roots = [root for root in self._ROOTS if context.record(root) is not None]
        paths = [path for root in roots for path in context.files_under(root)]
        paths.extend(context.index.files_named("dump.rdb"))
        paths = context.take(paths)
        measured = context.measure(paths)
        if not measured.bytes:
            return
        where = ", ".join("/" + root for root in roots) or "dump.rdb files"
        yield self.sized(
            paths,
            measured,
            f"database data: {amount(measured, paths)} under {where}; "
            "declare the data directory a VOLUME and initialise it when the container starts",
        )


class DatabaseFiles(Detector):
    """SQLite (and other embedded database) files are in the image.

    Why: an application's database file in the image is state: every container starts from
    the build's copy and loses what it writes when it goes. Read-only reference data shipped
    on purpose is the exception (then ignore this finding).

    Counts: `*.sqlite`, `*.sqlite3`, `*.db3` and LMDB `data.mdb` files, and `*.db` files that
    start with SQLite's header, outside the places where software lives (/usr, /etc, library
    directories such as site-packages and node_modules, package-manager databases) and not
    listed by any installed package.

    Fix: keep the database in a volume (`VOLUME /data`) and create it at start-up or with a
    migration step; copy seed data in at run time.
    """

    id = "SLI704"
    name = "database-files"
    practice = Practice.DATA_STORAGE
    severity = Severity.INFO
    title = "database files in the image"
    refs = ("SL704",)
    file_names = frozenset({"data.mdb"})
    file_suffixes = frozenset({".sqlite", ".sqlite3", ".db3", ".db"})

    def wants(self, path: str) -> bool:
        # only the header is needed, but capture is per file: .db files are few and small
        return path.endswith(".db") and not is_software(path)

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        index = context.index
        candidates = [
            *index.files_with_suffix(".sqlite"),
            *index.files_with_suffix(".sqlite3"),
            *index.files_with_suffix(".db3"),
            *index.files_named("data.mdb"),
            *(p for p in index.files_with_suffix(".db") if _is_sqlite(context, p)),
        ]
        paths = [p for p in candidates if not is_software(p)]
        if paths:
            owned = context.owned
            paths = context.take(p for p in paths if p not in owned)
        measured = context.measure(paths)
        if not measured.bytes:
            return
        yield self.sized(
            paths,
            measured,
            f"database files: {amount(measured, paths)}; keep "
            "databases in a VOLUME and create or seed them when the container starts",
        )


def _is_sqlite(context: BloatContext, path: str) -> bool:
    data = context.files.read(path)
    return data is not None and data.startswith(SQLITE_MAGIC)


class LogFiles(Detector):
    """Log files written during the build are in the image.

    Why: what a build step logged is history, not something the running service needs; logs
    grow, and may record paths, hosts or tokens of the build.

    Counts: the non-empty regular files below /var/log and `*.log` files outside the places
    where software lives, when together they reach 16 kB (a few empty or tiny logs that
    packages create are not worth a finding). Package-manager logs are SLI354's.

    Fix: delete the logs at the end of the RUN that writes them, or send the application's logs
    to standard output, where the container runtime collects them.
    """

    id = "SLI750"
    name = "log-files"
    practice = Practice.DATA_STORAGE
    severity = Severity.INFO
    title = "log files in the image"
    file_suffixes = frozenset({".log"})
    THRESHOLD = 16_000

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        candidates = context.files_under("var/log")
        candidates.extend(
            p
            for p in context.index.files_with_suffix(".log")
            if not p.startswith("var/log/") and not is_software(p)
        )
        paths = context.take(candidates, claim=False)
        measured = context.measure(paths)
        if measured.bytes < self.THRESHOLD:
            return
        context.claimed.update(paths)
        yield self.sized(
            paths,
            measured,
            f"log files: {amount(measured, paths)}; delete them in the "
            "RUN that writes them, and log to standard output",
        )


class Uploads(Detector):
    """An uploads or media directory with files in it is in the image.

    Why: user uploads are data; shipped in the image they are a snapshot that every container
    starts from and that is lost when the container goes.

    Counts: the non-empty regular files below directories named `uploads`, `upload` or
    `media` outside the places where software lives (and not the top-level /media mount
    point directory).

    Fix: declare the directory a VOLUME (or store uploads in object storage) and leave it out
    of the build context.
    """

    id = "SLI702"
    name = "uploads"
    practice = Practice.DATA_STORAGE
    severity = Severity.INFO
    title = "uploaded files in the image"
    refs = ("SL702",)
    dir_names = frozenset({"uploads", "upload", "media"})

    def detect(self, context: BloatContext) -> Iterator[ImageFinding]:
        directories = sorted(
            d
            for name in self.dir_names
            for d in context.index.dirs(name)
            if d != "media" and not is_software(d + "/")
        )
        paths = [p for d in directories for p in context.files_under(d)]
        paths = context.take(paths)
        measured = context.measure(paths)
        if not measured.bytes:
            return
        where = ", ".join("/" + d for d in directories[:3])
        yield self.sized(
            paths,
            measured,
            f"uploaded files: {amount(measured, paths)} under {where}; "
            "declare the directory a VOLUME and keep uploads out of the build context",
        )
