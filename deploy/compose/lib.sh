# Shared by up.sh and down.sh: the compose command and the project's settings.
# shellcheck shell=bash
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
compose_file="$root/deploy/docker-compose.yml"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-navarch}"
export NAVARCH_COMPOSE_API_PORT="${NAVARCH_COMPOSE_API_PORT:-7443}"
export NAVARCH_COMPOSE_NET="${NAVARCH_COMPOSE_NET:-10.120.0}"
# The project's PKI on the host (cli/composepki.py), which the services mount.
export NAVARCH_COMPOSE_STATE_DIR="${NAVARCH_COMPOSE_STATE_DIR:-$HOME/.navarch/compose/$COMPOSE_PROJECT_NAME}"

# $NAVARCH_COMPOSE ("docker compose" or "docker-compose") when set; else `docker compose`
# where the plugin is there, else Debian's docker-compose (installed with apt when
# neither is). As cli/compose.py's compose_command.
compose_cmd() {
  if [ -n "${NAVARCH_COMPOSE:-}" ]; then
    case "$NAVARCH_COMPOSE" in
      "docker compose" | docker-compose) ;;
      *) echo "NAVARCH_COMPOSE=$NAVARCH_COMPOSE: 'docker compose' or 'docker-compose'" >&2; return 1 ;;
    esac
    $NAVARCH_COMPOSE version >/dev/null 2>&1 || return 1
    echo "$NAVARCH_COMPOSE"
  elif docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then
    echo "docker-compose"
  else
    return 1
  fi
}

compose() {
  local cmd
  cmd="$(compose_cmd)"
  $cmd -p "$COMPOSE_PROJECT_NAME" -f "$compose_file" "$@"
}
