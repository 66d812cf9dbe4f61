"""The data-storage rules (SL7xx): what each catches, where, and what it leaves alone."""

from __future__ import annotations

import pytest

from slimline.api import check_text
from slimline.config import Config
from slimline.findings import Severity
from tests.dockerfile.rules.harness import run_rule


def check(rule_id: str, text: str, lines: list[int], fragment: str) -> None:
    found = run_rule(rule_id, text)
    assert [f.line for f in found] == lines, [(f.line, f.message) for f in found]
    assert all(fragment in f.message for f in found), [f.message for f in found]


# ---------------------------------------------------------------------------------------------
# SL701 data-dir-without-volume

SL701_CATCHES = [
    (
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y postgresql python3\n",
        [2],
        "VOLUME /var/lib/postgresql",
    ),
    (
        "FROM debian:12\nRUN apt-get install -y --no-install-recommends mariadb-server\n",
        [2],
        "VOLUME /var/lib/mysql",
    ),
    ("FROM debian:12\nRUN apt-get install -y default-mysql-server=1.1.0\n", [2], "MySQL/MariaDB"),
    (
        'FROM alpine:3.20\nRUN apk add --no-cache redis\nCMD ["redis-server"]\n',
        [2],
        "Redis server (`redis`)",
    ),
    (
        "FROM alpine:3.20\nRUN apk add --no-cache redis\nEXPOSE 6379\n",
        [2],
        "Redis server (`redis`)",
    ),
    ("FROM alpine:3.20\nRUN apk add --no-cache mariadb mariadb-client\n", [2], "/var/lib/mysql"),
    (
        "FROM rockylinux:9\nRUN dnf install -y postgresql15-server\n",
        [2],
        "official `postgres` image",
    ),
    (
        "FROM ubuntu:22.04\nRUN apt-get install -y mongodb-org rabbitmq-server\n",
        [2, 2],
        "no VOLUME holds the data",
    ),
    # PGDATA moves the data directory: that is what needs the VOLUME.
    (
        "FROM debian:12\nENV PGDATA=/srv/pg\nRUN apt-get install -y postgresql-15\n",
        [3],
        "VOLUME /srv/pg",
    ),
    (
        "FROM debian:12\nRUN apt-get install -y postgresql\nVOLUME /var/lib/postgresql/data\nVOLUME /var/lib/mysql\nRUN apt-get install -y mysql-server\nVOLUME /var/log/x\nRUN apt-get install -y redis-server\n",
        [7],
        "Redis",
    ),
    # A data directory declared without a server package (installed by a script).
    (
        "FROM debian:12\nRUN curl -fsSL https://example.com/install.sh -o i.sh && sh i.sh && mkdir -p /var/lib/mysql\n",
        [2],
        "creates the MySQL/MariaDB data directory /var/lib/mysql",
    ),
    ("FROM ubuntu:22.04\nWORKDIR /data/db\n", [2], "WORKDIR"),
    ("FROM ubuntu:22.04\nENV PGDATA /pg\n", [2], "PGDATA"),
    # The final stage built FROM an earlier stage that installs the server.
    (
        'FROM debian:12 AS base\nRUN apt-get install -y redis-server\nFROM base\nCMD ["redis-server"]\n',
        [2],
        "Redis",
    ),
]
SL701_LEAVES_ALONE = [
    # Official database images declare the VOLUME themselves.
    "FROM postgres:16\nRUN apt-get update && apt-get install -y postgresql-16-postgis-3\n",
    "FROM mysql:8.4\nRUN mkdir -p /var/lib/mysql-files\n",
    "FROM bitnami/postgresql:16\nENV PGDATA=/bitnami/postgresql/data\n",
    "FROM postgis/postgis:16-3.4\nRUN mkdir -p /var/lib/postgresql/data\n",
    "FROM redis:7\nRUN mkdir -p /data/db\n",
    # Covered by a VOLUME (the directory, a parent, or a directory inside it).
    "FROM debian:12\nRUN apt-get install -y postgresql\nVOLUME /var/lib/postgresql\n",
    'FROM debian:12\nRUN apt-get install -y mysql-server\nVOLUME ["/var/lib/mysql"]\n',
    "FROM debian:12\nENV DATA=/var/lib\nRUN apt-get install -y mysql-server\nVOLUME $DATA\n",
    "FROM alpine:3.20\nRUN apk add redis\nVOLUME /data\n",
    "FROM debian:12\nENV PGDATA=/srv/pg\nRUN apt-get install -y postgresql\nVOLUME /srv/pg\n",
    # Some other VOLUME: a copied config file may have moved the data there.
    "FROM debian:12\nRUN apt-get install -y mysql-server\nCOPY my.cnf /etc/mysql/\nVOLUME /srv/db\n",
    # Clients and libraries are not servers.
    "FROM debian:12\nRUN apt-get install -y postgresql-client redis-tools mariadb-client libpq-dev mongodb-org-shell\n",
    "FROM python:3.12\nRUN pip install redis psycopg2-binary\n",
    "FROM alpine:3.20\nRUN apk add --no-cache postgresql15-client\n",
    # Alpine's redis package installed for redis-cli.
    "FROM alpine:3.20\nRUN apk add --no-cache redis\nHEALTHCHECK CMD redis-cli -h cache ping\n",
    # Memcached keeps nothing on disk.
    "FROM debian:12\nRUN apt-get install -y memcached\n",
    # Only in a build stage.
    "FROM debian:12 AS test\nRUN apt-get install -y postgresql\nFROM debian:12\nCOPY --from=test /etc/hostname /x\n",
    # An unresolved base may be a database image.
    "ARG BASE\nFROM ${BASE}\nRUN mkdir -p /var/lib/postgresql\n",
    # "/data" alone says nothing about a database.
    "FROM debian:12\nRUN mkdir -p /data\nWORKDIR /data\n",
    "FROM debian:12\nRUN mkdir -p /var/lib/mysql-files /var/run/mysqld\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL701_CATCHES)
def test_sl701_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL701", text, lines, fragment)


@pytest.mark.parametrize("text", SL701_LEAVES_ALONE)
def test_sl701_leaves_alone(text: str) -> None:
    assert run_rule("SL701", text) == []


def test_sl701_points_at_the_package_word() -> None:
    text = "FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y curl postgresql-15 && rm -rf /var/lib/apt/lists/*\n"
    [f] = run_rule("SL701", text)
    assert (f.line, f.column, f.end_column) == (3, 29, 42)
    assert f.severity is Severity.WARNING


# ---------------------------------------------------------------------------------------------
# SL702 uploads-dir-without-volume

SL702_CATCHES = [
    ("FROM python:3.12\nWORKDIR /app\nRUN mkdir -p /app/uploads\n", [3], "VOLUME /app/uploads"),
    ("FROM python:3.12\nWORKDIR /app\nRUN mkdir -p static media\n", [3], "/app/media holds files"),
    (
        "FROM php:8.3-apache\nRUN mkdir -p /var/www/html/wp-content/uploads && chown -R www-data /var/www/html\n",
        [2],
        "/var/www/html/wp-content/uploads",
    ),
    (
        "FROM python:3.12\nENV APP_HOME=/home/app/web\nRUN mkdir $APP_HOME/mediafiles\n",
        [3],
        "/home/app/web/mediafiles",
    ),
    ("FROM node:20\nRUN cd /srv/app && mkdir upload\n", [2], "/srv/app/upload"),
    # Two directories, two findings; the same one twice, one finding.
    (
        "FROM node:20\nRUN mkdir -p /srv/uploads /srv/media\nRUN mkdir -p /srv/uploads\n",
        [2, 2],
        "no VOLUME covers it",
    ),
]
SL702_LEAVES_ALONE = [
    "FROM python:3.12\nRUN mkdir -p /app/uploads\nVOLUME /app/uploads\n",
    'FROM python:3.12\nRUN mkdir -p /app/uploads\nVOLUME ["/app"]\n',
    # The base image declares the VOLUME.
    "FROM wordpress:6\nRUN mkdir -p /var/www/html/wp-content/uploads\n",
    # System and scratch paths, the /media mount point.
    "FROM debian:12\nRUN mkdir -p /media /tmp/uploads /usr/share/nginx/html/media /etc/media\n",
    # Copied assets are not an uploads directory.
    "FROM nginx:1.27\nCOPY media /usr/share/nginx/html/media\n",
    # Build stages.
    "FROM node:20 AS build\nRUN mkdir -p /app/uploads\nFROM nginx:1.27\nCOPY --from=build /app/dist /usr/share/nginx/html\n",
    # Names that merely contain the word.
    "FROM node:20\nRUN mkdir -p /app/upload-service /app/media-kit\n",
    # Unknown variables: an ARG without a default, a WORKDIR that depends on one.
    "FROM node:20\nRUN mkdir -p $DIR/uploads\n",
    "FROM node:20\nARG D\nRUN mkdir -p $D/media\n",
    "FROM node:20\nARG APP\nWORKDIR /srv/$APP\nRUN mkdir uploads\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL702_CATCHES)
def test_sl702_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL702", text, lines, fragment)
    assert all(f.severity is Severity.INFO for f in run_rule("SL702", text))


@pytest.mark.parametrize("text", SL702_LEAVES_ALONE)
def test_sl702_leaves_alone(text: str) -> None:
    assert run_rule("SL702", text) == []


# ---------------------------------------------------------------------------------------------
# SL703 database-built-into-image

SL703_CATCHES = [
    (
        "FROM ubuntu:22.04\nRUN apt-get install -y postgresql\nRUN service postgresql start && psql -U postgres -f /tmp/schema.sql\n",
        [3],
        "written to with `psql`",
    ),
    (
        "FROM debian:12\nRUN /etc/init.d/mysql start && mysql -uroot < /tmp/dump.sql\n",
        [2],
        "`mysql`",
    ),
    (
        'FROM debian:12\nRUN service postgresql start && su postgres -c "createdb app"\n',
        [2],
        "`createdb`",
    ),
    (
        "FROM debian:12\nRUN (mysqld_safe &) ; sleep 5 ; mysql -e 'CREATE DATABASE app'\n",
        [2],
        "`mysql`",
    ),
    (
        "FROM mongo:7\nCOPY dump /dump\nRUN mongod --fork --logpath /var/log/mongod.log && mongorestore /dump\n",
        [3],
        "`mongorestore`",
    ),
    (
        "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\nRUN docker-entrypoint.sh postgres & sleep 10 && psql -U postgres -c 'select 1'\n",
        [3],
        "started during the build",
    ),
    (
        "FROM debian:12\nRUN su postgres -c '/usr/lib/postgresql/15/bin/initdb -D /var/lib/postgresql/data'\n",
        [2],
        "`initdb` creates a database",
    ),
    ("FROM debian:12\nRUN mysqld --initialize-insecure --user=mysql\n", [2], "`mysqld`"),
    ("FROM debian:12\nRUN mysql_install_db --user=mysql\n", [2], "mysql_install_db"),
    (
        "FROM mongo:7\nCOPY data.json /tmp/\nRUN mongoimport --db app --file /tmp/data.json\n",
        [3],
        "mongoimport",
    ),
    (
        "FROM python:3.12\nCOPY schema.sql .\nRUN sqlite3 /app/app.db < schema.sql\n",
        [3],
        "`sqlite3 /app/app.db`",
    ),
    ("FROM python:3.12\nRUN cat schema.sql | sqlite3 db.sqlite3\n", [2], "sqlite3 db.sqlite3"),
    ('FROM python:3.12\nRUN sqlite3 data.db "CREATE TABLE t (x int);"\n', [2], "data.db"),
    # Heredoc RUN.
    (
        "FROM debian:12\nRUN <<EOF\nservice mariadb start\nmariadb -e 'CREATE DATABASE app'\nEOF\n",
        [3],
        "`mariadb`",
    ),
]
SL703_LEAVES_ALONE = [
    # The idiomatic way: load at first start.
    "FROM postgres:16\nCOPY init.sql /docker-entrypoint-initdb.d/\n",
    "FROM mysql:8.4\nADD data/sakila.sql /docker-entrypoint-initdb.d/\n",
    # A client talking to another host, or a server started without writing to it.
    "FROM debian:12\nRUN psql -h db.example.com -c 'select 1'\n",
    "FROM debian:12\nRUN service postgresql start\n",
    "FROM debian:12\nRUN service nginx start && mysql --version\n",
    # sqlite3 without SQL, or in memory.
    "FROM python:3.12\nRUN sqlite3 --version\nRUN sqlite3 :memory: 'select 1'\n",
    # Build stage only.
    "FROM debian:12 AS seed\nRUN service postgresql start && psql -f /s.sql\nFROM debian:12\nCOPY --from=seed /etc/hostname /x\n",
    # Help and version flags.
    "FROM debian:12\nRUN initdb --version\n",
    # Not loaders: the check is conditional.
    "FROM debian:12\nRUN service postgresql start || psql -c 'x'\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL703_CATCHES)
def test_sl703_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL703", text, lines, fragment)


@pytest.mark.parametrize("text", SL703_LEAVES_ALONE)
def test_sl703_leaves_alone(text: str) -> None:
    assert run_rule("SL703", text) == []


def test_sl703_points_at_the_server_start() -> None:
    text = "FROM debian:12\nRUN set -e; service postgresql start; psql -f /x.sql\n"
    [f] = run_rule("SL703", text)
    assert (f.line, f.column, f.end_column) == (2, 13, 37)


# ---------------------------------------------------------------------------------------------
# SL704 database-file-copied

SL704_CATCHES = [
    ("FROM python:3.12\nCOPY db.sqlite3 /app/\n", [2], "`db.sqlite3` is a database file"),
    ("FROM python:3.12\nCOPY app.py data/app.db /app/\n", [2], "data/app.db"),
    ('FROM python:3.12\nCOPY ["store.sqlite", "/srv/"]\n', [2], "store.sqlite"),
    ("FROM python:3.12\nADD --chown=app:app instance/site.db /app/instance/\n", [2], "site.db"),
]
SL704_LEAVES_ALONE = [
    "FROM python:3.12\nCOPY app.py requirements.txt /app/\n",
    "FROM python:3.12\nCOPY --from=build /out/app.db /app/\n",
    "FROM python:3.12\nCOPY *.db /app/\n",
    "FROM python:3.12\nCOPY GeoLite2-City.mmdb schema.sql /app/\n",
    # Seeding a volume's initial content.
    "FROM python:3.12\nCOPY seed.sqlite3 /data/\nVOLUME /data\n",
    "FROM python:3.12 AS b\nCOPY x.db /x.db\nFROM python:3.12\nCOPY app.py /\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL704_CATCHES)
def test_sl704_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL704", text, lines, fragment)


@pytest.mark.parametrize("text", SL704_LEAVES_ALONE)
def test_sl704_leaves_alone(text: str) -> None:
    assert run_rule("SL704", text) == []


def test_sl704_points_at_the_source() -> None:
    [f] = run_rule("SL704", "FROM python:3.12\nCOPY app.py data/app.db /app/\n")
    assert (f.column, f.end_column) == (13, 24)


# ---------------------------------------------------------------------------------------------
# SL705 sensitive-volume

SL705_CATCHES = [
    ("FROM debian:12\nVOLUME /proc\n", [2], "kernel's process file system"),
    ('FROM debian:12\nVOLUME ["/data", "/var/run/docker.sock"]\n', [2], "Docker socket"),
    ("FROM debian:12\nVOLUME /sys/ /dev\n", [2, 2], "VOLUME /"),
]
SL705_LEAVES_ALONE = [
    "FROM debian:12\nVOLUME /data /var/lib/app\n",
    "FROM debian:12\nVOLUME /dev-data /procfiles\n",
    "FROM debian:12 AS b\nVOLUME /proc\nFROM debian:12\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL705_CATCHES)
def test_sl705_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL705", text, lines, fragment)


@pytest.mark.parametrize("text", SL705_LEAVES_ALONE)
def test_sl705_leaves_alone(text: str) -> None:
    assert run_rule("SL705", text) == []


def test_sl705_points_at_the_path() -> None:
    [f] = run_rule("SL705", 'FROM debian:12\nVOLUME ["/data", "/var/run/docker.sock"]\n')
    assert (f.column, f.end_column) == (19, 39)


# ---------------------------------------------------------------------------------------------
# Robustness: odd input never raises

ODD_INPUTS = [
    "FROM debian:12\nRUN\n",
    'FROM debian:12\nRUN ["apt-get", "install", "-y", "postgresql"]\n',
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nRUN mkdir C:\\uploads\n',
    "FROM debian:12\nONBUILD RUN mkdir -p /app/uploads\nONBUILD VOLUME /proc\n",
    "FROM debian:12\nRUN apt-get install -y $DB_PACKAGE ${EXTRA}\nVOLUME $UNKNOWN\n",
    "FROM debian:12\nVOLUME\nWORKDIR\nENV PGDATA\n",
    "FROM debian:12\nVOLUME []\nWORKDIR $X\nENV PGDATA=relative\n",
    "FROM debian:12\nCOPY <<EOF /etc/x.db\nhello\nEOF\nRUN <<EOF bash\nsqlite3 x.db < y\nEOF\n",
    "FROM scratch\nCOPY app.db /\n",
]


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_input_does_not_raise(text: str) -> None:
    result = check_text(text, "Dockerfile", Config(select=("SL7",)))
    assert result.error is not None or isinstance(result.findings, list)
