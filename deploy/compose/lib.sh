# Shared by up.sh and down.sh: the compose command and the project's settings.
# shellcheck shell=bash
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
compose_file="$root/deploy/docker-compose.yml"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-navarch}"
export NAVARCH_COMPOSE_API_PORT="${NAVARCH_COMPOSE_API_PORT:-7443}"
export NAVARCH_COMPOSE_NET="${NAVARCH_COMPOSE_NET:-10.120.0}"

# `docker compose` where the plugin is there, else Debian's docker-compose (installed
# with apt when neither is).
compose_cmd() {
  if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then
    echo "docker-compose"
  else
    return 1
  fi
}

ensure_tools() {
  "$root/deploy/ensure-docker.sh"
  local missing=()
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  compose_cmd >/dev/null || missing+=(docker-compose)
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "compose: ${missing[*]} missing and not root; apt-get install ${missing[*]}" >&2
      exit 1
    fi
    echo "compose: installing Debian's ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
  fi
}

compose() {
  local cmd
  cmd="$(compose_cmd)"
  $cmd -p "$COMPOSE_PROJECT_NAME" -f "$compose_file" "$@"
}
