# Shared set-up for the integration tests: a Docker engine, local Debian base images and the
# registry server binary. Nothing comes from Docker Hub: the base images are built with mmdebstrap
# from Debian's archive and imported under the names the Dockerfiles use.
# shellcheck shell=bash

ENGINE_STATE="${SLIMLINE_ENGINE_STATE:-$PWD/build/engine}"

_engine_up() { docker info >/dev/null 2>&1; }

# ensure_engine: install docker.io, mmdebstrap, docker-registry and strace if missing (root only), start
# dockerd without bridges or iptables when no engine answers, then make the base images.
ensure_engine() {
  local missing=()
  _engine_up || command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  # `slimline slim` traces containers with the host's strace
  command -v strace >/dev/null 2>&1 || missing+=(strace)
  if [ "${#missing[@]}" -gt 0 ]; then
    _apt_install "${missing[@]}" || return 1
  fi
  if ! _engine_up; then
    if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null 2>&1; then
      echo "no Docker engine answers and this script cannot start one (run as root)" >&2
      return 1
    fi
    mkdir -p "$ENGINE_STATE"
    # Containers started without -i inherit the daemon's standard input, so it must be
    # /dev/null, never the caller's input.
    nohup dockerd --bridge=none --iptables=false --ip-masq=false \
      </dev/null >"$ENGINE_STATE/dockerd.log" 2>&1 &
    local waited=0
    until _engine_up; do
      sleep 1
      waited=$((waited + 1))
      if [ "$waited" -ge 60 ]; then
        echo "dockerd did not start in 60 s; its log:" >&2
        tail -20 "$ENGINE_STATE/dockerd.log" >&2
        return 1
      fi
    done
  fi
  ensure_base_images
}

# The official images' slim variants drop documentation, man pages and locales through dpkg's
# path-exclude; the same options make our local debian:bookworm-slim.
_SLIM_DPKG_OPTS=(
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-include=/usr/share/locale/locale.alias'
)

# The official images (debuerreotype) carry apt and dpkg settings in /etc/apt/apt.conf.d/
# docker-clean and /etc/dpkg/dpkg.cfg.d/docker-apt-speedup: apt keeps no .deb files, no binary
# caches and no translations, indexes stay compressed, autoremove does not hold on to suggested
# packages. The same files go into ours, and /usr is merged without pulling in the usrmerge
# package (and perl).
_DEBIAN_SETTINGS="$PWD/tests/support/base_images/_common/debian-settings"
_OFFICIAL_OPTS=(
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --dpkgopt=force-unsafe-io
  --customize-hook="cp -r '$_DEBIAN_SETTINGS/.' \"\$1/\""
  # what apt cached while bootstrapping, which the official images do not ship
  --customize-hook='rm -rf "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb "$1"/etc/dpkg/dpkg.cfg.d/99mmdebstrap'
)

_make_base() {
  local tag="$1"
  shift
  docker image inspect "$tag" >/dev/null 2>&1 && return 0
  mkdir -p "$ENGINE_STATE"
  local tar="$ENGINE_STATE/${tag//[:\/]/_}.tar"
  if [ ! -s "$tar" ]; then
    mmdebstrap --quiet --variant=minbase --format=tar "${_OFFICIAL_OPTS[@]}" "$@" \
      bookworm "$tar.part" >"$tar.log" 2>&1 || {
      echo "mmdebstrap failed for $tag; its log:" >&2
      tail -20 "$tar.log" >&2
      return 1
    }
    mv "$tar.part" "$tar"
  fi
  docker import --change 'CMD ["bash"]' "$tar" "$tag" >/dev/null
}

ensure_base_images() {
  _make_base debian:bookworm &
  local full=$!
  _make_base debian:bookworm-slim "${_SLIM_DPKG_OPTS[@]}" &
  local slim=$!
  local status=0
  wait "$full" || status=1
  wait "$slim" || status=1
  return "$status"
}

# ensure_stand_in_images [TAG...]: the local stand-ins for the official images the examples and
# their fixes build on (python:3.12, node:20, golang, their slim variants, distroless static),
# made from the Debian base images above with Debian's packages (tests/support/base_images/).
# Each is built once per machine and rebuilt only when its recipe or its base changes. Needs
# the virtualenv (ensure_venv) and the base images (ensure_engine); run from the repository root.
ensure_stand_in_images() {
  "$VENV/bin/python" -m tests.support.base_images "$@"
}
