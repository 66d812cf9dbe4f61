"""The modular-design rules (SL8xx): what each catches, where, and what it leaves alone."""

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
# SL801 database-with-application

SL801_CATCHES = [
    # The LAMP pattern.
    (
        "FROM ubuntu:22.04\nRUN apt-get update && apt-get install -y apache2 mysql-server php libapache2-mod-php\n",
        [2],
        "shares the image with `apache2`",
    ),
    (
        "FROM debian:12\nRUN apt-get install -y postgresql nginx\n",
        [2],
        "PostgreSQL server (`postgresql`)",
    ),
    # A runtime started by CMD.
    (
        'FROM debian:12\nRUN apt-get install -y redis-server python3\nCMD ["python3", "app.py"]\n',
        [2],
        "`python3`",
    ),
    ("FROM debian:12\nRUN apt-get install -y mongodb-org\nCMD node server.js\n", [2], "`node`"),
    # A runtime base image.
    (
        'FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends postgresql\nENTRYPOINT ["/entrypoint.sh"]\n',
        [2],
        "the `python` runtime of the base image",
    ),
    (
        "FROM node:20\nRUN apt-get update && apt-get install -y redis-server\n",
        [2],
        "official image (`redis`)",
    ),
    # Two different servers.
    ("FROM ubuntu:22.04\nRUN apt-get install -y mysql-server redis-server\n", [2], "with Redis"),
    ("FROM alpine:3.20\nRUN apk add --no-cache mariadb php83-fpm nginx\n", [2], "`php83-fpm`"),
    # An application added to a database image.
    ("FROM postgres:16\nRUN apt-get update && apt-get install -y nginx\n", [2], "database image"),
    ('FROM mysql:8.4\nCMD ["python3", "/app.py"]\n', [2], "is made to run `python3`"),
]
SL801_LEAVES_ALONE = [
    # A database image adding extensions and tools.
    "FROM postgres:16\nRUN apt-get update && apt-get install -y postgresql-16-postgis-3 python3\n",
    # The runtime base runs the server itself.
    'FROM python:3.12\nRUN apt-get install -y redis-server\nCMD ["redis-server"]\n',
    # Clients.
    'FROM python:3.12\nRUN apt-get install -y postgresql-client redis-tools default-mysql-client\nCMD ["python", "app.py"]\n',
    "FROM node:20\nRUN npm install redis pg\n",
    # Only a build stage.
    'FROM python:3.12 AS test\nRUN apt-get install -y postgresql\nRUN pytest\nFROM python:3.12\nCMD ["python", "app.py"]\n',
    # Tools named after a database are not database images.
    'FROM provectuslabs/kafka-ui:latest\nCMD ["java", "-jar", "/kafka-ui.jar"]\n',
    'FROM oracle/graalvm-ce:22\nCMD ["java", "-jar", "/app.jar"]\n',
    # A server alone.
    'FROM debian:12\nRUN apt-get install -y mariadb-server\nVOLUME /var/lib/mysql\nCMD ["mariadbd"]\n',
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL801_CATCHES)
def test_sl801_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL801", text, lines, fragment)


@pytest.mark.parametrize("text", SL801_LEAVES_ALONE)
def test_sl801_leaves_alone(text: str) -> None:
    assert run_rule("SL801", text) == []


def test_sl801_points_at_the_server_package() -> None:
    [f] = run_rule("SL801", "FROM debian:12\nRUN apt-get install -y nginx postgresql-15\n")
    assert (f.line, f.column, f.end_column) == (2, 30, 43)
    assert f.severity is Severity.WARNING


# ---------------------------------------------------------------------------------------------
# SL802 process-supervisor

SL802_CATCHES = [
    (
        'FROM debian:12\nRUN apt-get install -y supervisor nginx\nCOPY s.conf /etc/supervisor/conf.d/\nCMD ["/usr/bin/supervisord", "-n"]\n',
        [4],
        "supervisord process supervisor",
    ),
    (
        "FROM python:3.12\nRUN pip install supervisor\nCMD supervisord -c /etc/supervisord.conf\n",
        [3],
        "supervisord",
    ),
    # Installed, started by an entrypoint script the linter cannot read.
    (
        'FROM debian:12\nRUN apt-get install -y supervisor\nENTRYPOINT ["/start.sh"]\n',
        [2],
        "installs the supervisord",
    ),
    (
        'FROM centos:7\nRUN yum install -y httpd\nCMD ["/usr/sbin/init"]\n',
        [3],
        "systemd as the container's init",
    ),
    ('FROM ubuntu:22.04\nENTRYPOINT ["/lib/systemd/systemd"]\n', [2], "systemd"),
    ('FROM phusion/baseimage:jammy-1.0.4\nCMD ["/sbin/my_init"]\n', [2], "my_init"),
    ("FROM python:3.12\nRUN pip install honcho\nCMD honcho start\n", [3], "honcho"),
    (
        "FROM node:20\nRUN npm i -g pm2\nCMD pm2 start api.js && pm2-runtime start worker.js\n",
        [3],
        "pm2 starts 2 applications",
    ),
    (
        'FROM python:3.12\nCMD ["sh", "-c", "service supervisor start && tail -f /dev/null"]\n',
        [2],
        "supervisord",
    ),
]
SL802_LEAVES_ALONE = [
    # Minimal inits with one child.
    'FROM python:3.12\nRUN apt-get install -y tini\nENTRYPOINT ["tini", "--"]\nCMD ["python", "app.py"]\n',
    'FROM node:20\nRUN apt-get install -y dumb-init\nENTRYPOINT ["dumb-init", "--"]\nCMD ["node", "s.js"]\n',
    # s6-overlay: as often a single service's init.
    'FROM alpine:3.20\nADD https://github.com/just-containers/s6-overlay/releases/download/v3.2.0.0/s6-overlay-noarch.tar.xz /tmp\nENTRYPOINT ["/init"]\n',
    # pm2-runtime with one application (or an ecosystem file).
    'FROM node:20\nRUN npm i -g pm2\nCMD ["pm2-runtime", "app.js"]\n',
    'FROM node:20\nCMD ["pm2-runtime", "start", "ecosystem.config.js"]\n',
    # Only in a build stage.
    'FROM debian:12 AS b\nRUN apt-get install -y supervisor\nFROM debian:12\nCMD ["/app"]\n',
    # A package whose name only contains the word.
    "FROM python:3.12\nRUN pip install supervisor-stdout-x && apt-get install -y runit-helper\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL802_CATCHES)
def test_sl802_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL802", text, lines, fragment)
    assert all(f.severity is Severity.INFO for f in run_rule("SL802", text))


@pytest.mark.parametrize("text", SL802_LEAVES_ALONE)
def test_sl802_leaves_alone(text: str) -> None:
    assert run_rule("SL802", text) == []


def test_sl802_json_cmd_covers_the_arguments() -> None:
    [f] = run_rule("SL802", 'FROM debian:12\nCMD ["/usr/bin/supervisord", "-n"]\n')
    assert (f.line, f.column, f.end_column) == (2, 5, 35)


# ---------------------------------------------------------------------------------------------
# SL803 several-daemons-in-start-command

SL803_CATCHES = [
    (
        "FROM ubuntu:22.04\nCMD service mysql start && service apache2 start && tail -f /dev/null\n",
        [2],
        "starts `mysql` and `apache2`",
    ),
    ("FROM python:3.12\nCMD nginx && gunicorn app:app\n", [2], "`nginx` and `gunicorn`"),
    (
        'FROM python:3.12\nCMD ["sh", "-c", "celery -A app worker & gunicorn app:app"]\n',
        [2],
        "`celery` and `gunicorn`",
    ),
    ("FROM python:3.12\nCMD cron && python app.py\n", [2], "`cron` and `python`"),
    (
        "FROM debian:12\nCMD /usr/sbin/sshd && /etc/init.d/nginx start && sleep infinity\n",
        [2],
        "`sshd` and `nginx`",
    ),
    (
        "FROM node:20\nCMD node worker.js > /var/log/w.log 2>&1 & node server.js\n",
        [2],
        "`node` 2 times",
    ),
    # A start script the Dockerfile writes.
    (
        'FROM php:8.3-fpm\nCOPY <<EOF /start.sh\n#!/bin/sh\nphp-fpm -D\nnginx -g "daemon off;"\nEOF\nCMD ["/start.sh"]\n',
        [4],
        "`/start.sh` starts `php-fpm` and `nginx`",
    ),
    (
        'FROM python:3.12\nRUN cat > /run.sh <<\'EOF\'\nredis-server --daemonize yes\nexec python app.py\nEOF\nCMD ["sh", "/run.sh"]\n',
        [2],
        "`redis-server` and `python`",
    ),
]
SL803_LEAVES_ALONE = [
    # One service plus keep-alives or one-shot steps.
    "FROM nginx:1.27\nCMD service nginx start && tail -f /var/log/nginx/access.log\n",
    "FROM python:3.12\nCMD python manage.py migrate && gunicorn app:app\n",
    'FROM nginx:1.27\nCMD ["nginx", "-g", "daemon off;"]\n',
    "FROM debian:12\nCMD /usr/sbin/sshd -D\n",
    "FROM php:8.3-fpm\nCMD php-fpm -F\n",
    "FROM debian:12\nCMD cron -f\n",
    # Alternatives, not simultaneous services.
    'FROM python:3.12\nCMD ["sh", "-c", "if [ \\"$ROLE\\" = worker ]; then celery worker; else gunicorn app; fi"]\n',
    "FROM python:3.12\nCMD gunicorn app || python app.py\n",
    # Start scripts whose body is not in the Dockerfile; exec "$@".
    'FROM python:3.12\nENTRYPOINT ["/entrypoint.sh"]\nCMD ["gunicorn", "app"]\n',
    'FROM python:3.12\nCOPY <<EOF /e.sh\nset -e\nchown app /data\nexec "$@"\nEOF\nENTRYPOINT ["/e.sh"]\nCMD ["gunicorn", "app"]\n',
    # A script written in the Dockerfile but not run at start.
    'FROM python:3.12\nCOPY <<EOF /tools.sh\nnginx\ncron\nEOF\nCMD ["python", "app.py"]\n',
    # Supervisors are SL802's business.
    "FROM debian:12\nCMD supervisord -c /x.conf & nginx\n",
    # Build stage.
    'FROM debian:12 AS b\nCMD nginx && cron\nFROM debian:12\nCMD ["/app"]\n',
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL803_CATCHES)
def test_sl803_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL803", text, lines, fragment)


@pytest.mark.parametrize("text", SL803_LEAVES_ALONE)
def test_sl803_leaves_alone(text: str) -> None:
    assert run_rule("SL803", text) == []


def test_sl803_points_at_the_first_service() -> None:
    [f] = run_rule(
        "SL803",
        "FROM debian:12\nCMD echo hi; service mysql start && service apache2 start && tail -f /dev/null\n",
    )
    assert (f.line, f.column, f.end_column) == (2, 14, 33)


# ---------------------------------------------------------------------------------------------
# SL804 web-server-with-app-server

SL804_CATCHES = [
    (
        "FROM php:8.3-fpm\nRUN apt-get update && apt-get install -y nginx\n",
        [2],
        "`nginx` and application server `php-fpm`",
    ),
    ("FROM alpine:3.20\nRUN apk add --no-cache nginx php83-fpm supervisor\n", [2], "`php83-fpm`"),
    (
        "FROM nginx:1.27\nRUN apt-get update && apt-get install -y php8.2-fpm\n",
        [2],
        "the `nginx` base image",
    ),
    (
        "FROM python:3.12\nRUN apt-get update && apt-get install -y nginx && pip install gunicorn\n",
        [2],
        "`gunicorn`",
    ),
    (
        'FROM python:3.12\nRUN apt-get update && apt-get install -y nginx\nCMD ["/start.sh"]\n',
        [2],
        "the `python` application",
    ),
    (
        "FROM debian:12\nRUN apt-get install -y nginx nodejs\nCMD nginx && node server.js\n",
        [2],
        "`node`",
    ),
]
SL804_LEAVES_ALONE = [
    # Apache with an in-process module: one service.
    "FROM php:8.3-apache\nRUN apt-get update && apt-get install -y libzip-dev\n",
    "FROM debian:12\nRUN apt-get install -y apache2 libapache2-mod-php\n",
    "FROM python:3.12\nRUN apt-get install -y apache2 libapache2-mod-wsgi-py3\n",
    # A web server alone.
    "FROM nginx:1.27\nCOPY dist /usr/share/nginx/html\n",
    'FROM debian:12\nRUN apt-get install -y nginx\nCMD ["nginx", "-g", "daemon off;"]\n',
    # The app server alone.
    "FROM php:8.3-fpm\nRUN apt-get update && apt-get install -y libpq-dev\n",
    # nginx only in a build stage.
    "FROM python:3.12 AS b\nRUN apt-get install -y nginx\nFROM python:3.12\nRUN pip install gunicorn\n",
]


@pytest.mark.parametrize(("text", "lines", "fragment"), SL804_CATCHES)
def test_sl804_catches(text: str, lines: list[int], fragment: str) -> None:
    check("SL804", text, lines, fragment)
    assert all(f.severity is Severity.INFO for f in run_rule("SL804", text))


@pytest.mark.parametrize("text", SL804_LEAVES_ALONE)
def test_sl804_leaves_alone(text: str) -> None:
    assert run_rule("SL804", text) == []


# ---------------------------------------------------------------------------------------------
# Robustness

ODD_INPUTS = [
    "FROM debian:12\nCMD\n",
    "FROM debian:12\nCMD []\nENTRYPOINT []\n",
    'FROM debian:12\nCMD ["$APP", "&"]\n',
    "FROM debian:12\nCMD $START &\n",
    'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["powershell", "-Command"]\nCMD Start-Service nginx; Start-Service w3svc\n',
    "FROM debian:12\nONBUILD CMD nginx & cron\n",
    "FROM debian:12\nCOPY <<EOF /s.sh\nEOF\nCMD /s.sh\n",
    'FROM debian:12\nCOPY <<-EOF /s.sh\n\tnginx\n\tcron\n\tEOF\nCMD ["/s.sh"]\n',
    "FROM debian:12\nCMD 'unterminated & nginx\n",
    'FROM debian:12\nCMD ["sh", "-c"]\n',
]


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_input_does_not_raise(text: str) -> None:
    result = check_text(text, "Dockerfile", Config(select=("SL8",)))
    assert result.error is not None or isinstance(result.findings, list)
