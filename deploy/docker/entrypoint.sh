#!/usr/bin/env bash
# dynas-entrypoint: the one entry point of the dynas_service image.
#
#   dynas-entrypoint api          the REST API (`dynas serve`); with DYNAS_RAY_ADDRESS set it
#                                 first joins that Ray cluster as a node with 0 CPUs/GPUs,
#                                 because every job's runner is a Ray driver and a driver
#                                 needs a Ray node on its own host
#   dynas-entrypoint ray-head     a Ray head node (GCS, dashboard, Ray client server)
#   dynas-entrypoint ray-worker   a Ray worker node joining RAY_HEAD_ADDRESS
#   dynas-entrypoint mlflow       an MLflow tracking server with proxied artifacts
#   dynas-entrypoint healthcheck  exit 0 when the role this container started is healthy
#   dynas-entrypoint CMD ARGS...  anything else runs as given (e.g. `bash`, `dynas submit`)
#
# DYNAS_ENTRYPOINT_DRY_RUN=1 prints each command (one argument per line, then a line "--")
# instead of running it: tests check the exact commands without Docker.
# Ray nodes run with `ray start --block` so the container lives as long as the node, and a
# SIGTERM to that process stops exactly this node's Ray processes (no `ray stop`, which
# would stop every Ray on the host).
set -euo pipefail

RUN_DIR=${DYNAS_RUN_DIR:-/tmp}
ROLE_FILE="$RUN_DIR/dynas-role"

run() {
  # Print (dry run) or exec the command; used for the last command of a mode.
  if [[ "${DYNAS_ENTRYPOINT_DRY_RUN:-0}" == "1" ]]; then
    printf '%s\n' "$@" "--"
    exit 0
  fi
  exec "$@"
}

run_then_continue() {
  # Print (dry run) or run a command that must succeed before the mode's main command.
  if [[ "${DYNAS_ENTRYPOINT_DRY_RUN:-0}" == "1" ]]; then
    printf '%s\n' "$@" "--"
    return 0
  fi
  "$@"
}

remember_role() {
  if [[ "${DYNAS_ENTRYPOINT_DRY_RUN:-0}" != "1" ]]; then
    mkdir -p "$RUN_DIR" && printf '%s\n' "$1" >"$ROLE_FILE"
  fi
}

# Options every `ray start` shares: resources, temp dir, extra flags (word-split on purpose).
ray_common_args() {
  RAY_ARGS=(--disable-usage-stats)
  [[ -n "${RAY_NUM_CPUS:-}" ]] && RAY_ARGS+=("--num-cpus=$RAY_NUM_CPUS")
  [[ -n "${RAY_NUM_GPUS:-}" ]] && RAY_ARGS+=("--num-gpus=$RAY_NUM_GPUS")
  [[ -n "${RAY_NODE_IP_ADDRESS:-}" ]] && RAY_ARGS+=("--node-ip-address=$RAY_NODE_IP_ADDRESS")
  [[ -n "${RAY_TEMP_DIR:-}" ]] && RAY_ARGS+=("--temp-dir=$RAY_TEMP_DIR")
  [[ -n "${RAY_OBJECT_STORE_MEMORY:-}" ]] && RAY_ARGS+=("--object-store-memory=$RAY_OBJECT_STORE_MEMORY")
  if [[ -n "${RAY_START_ARGS:-}" ]]; then
    # shellcheck disable=SC2206
    RAY_ARGS+=($RAY_START_ARGS)
  fi
  return 0
}

mode_ray_head() {
  remember_role ray-head
  ray_common_args
  # Ray Client (ray://) only when asked for: the service itself never needs it.
  [[ -n "${RAY_CLIENT_SERVER_PORT:-}" ]] && RAY_ARGS+=("--ray-client-server-port=$RAY_CLIENT_SERVER_PORT")
  run ray start --head --block \
    "--port=${RAY_PORT:-6379}" \
    "--dashboard-host=${RAY_DASHBOARD_HOST:-0.0.0.0}" \
    "--dashboard-port=${RAY_DASHBOARD_PORT:-8265}" \
    "--include-dashboard=${RAY_INCLUDE_DASHBOARD:-true}" \
    "${RAY_ARGS[@]}"
}

mode_ray_worker() {
  : "${RAY_HEAD_ADDRESS:?set RAY_HEAD_ADDRESS to the head host:port, e.g. ray-head:6379}"
  remember_role ray-worker
  ray_common_args
  run ray start --block "--address=$RAY_HEAD_ADDRESS" "${RAY_ARGS[@]}"
}

mode_api() {
  remember_role api
  export DYNAS_HOST=${DYNAS_HOST:-0.0.0.0}
  export DYNAS_PORT=${DYNAS_PORT:-8000}
  local address=${DYNAS_RAY_ADDRESS:-${RAY_ADDRESS:-}}
  if [[ -n "$address" && "${DYNAS_API_JOIN_RAY:-1}" == "1" ]]; then
    # A resource-less node: trials never land here, drivers (job runners) attach to it.
    RAY_NUM_CPUS=0 RAY_NUM_GPUS=0 ray_common_args
    run_then_continue ray start "--address=$address" "${RAY_ARGS[@]}"
  fi
  run dynas serve
}

mode_mlflow() {
  remember_role mlflow
  : "${MLFLOW_BACKEND_STORE_URI:?set MLFLOW_BACKEND_STORE_URI, e.g. postgresql+psycopg://user:pw@postgres/mlflow}"
  export MLFLOW_SERVER_ENABLE_JOB_EXECUTION=${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}
  run mlflow server \
    --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
    --serve-artifacts \
    --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION:-/mlartifacts}" \
    --host "${MLFLOW_HOST:-0.0.0.0}" \
    --port "${MLFLOW_PORT:-5000}" \
    --workers "${MLFLOW_WORKERS:-1}" \
    --allowed-hosts "${MLFLOW_ALLOWED_HOSTS:-mlflow,mlflow:*,localhost,localhost:*,127.0.0.1,127.0.0.1:*}"
}

http_ok() {
  python - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception as exc:  # any failure is "unhealthy"
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

check() {
  # Print (dry run) or run a check (a command or a function) and exit with its status.
  if [[ "${DYNAS_ENTRYPOINT_DRY_RUN:-0}" == "1" ]]; then
    printf '%s\n' "$@" "--"
    exit 0
  fi
  "$@"
  exit $?
}

mode_healthcheck() {
  local role
  role=$(cat "$ROLE_FILE" 2>/dev/null || echo none)
  case "$role" in
    api) check http_ok "http://127.0.0.1:${DYNAS_PORT:-8000}/healthz" ;;
    ray-head) check ray health-check --address "127.0.0.1:${RAY_PORT:-6379}" ;;
    ray-worker) check ray health-check --address "$RAY_HEAD_ADDRESS" ;;
    mlflow) check http_ok "http://127.0.0.1:${MLFLOW_PORT:-5000}/health" ;;
    *) echo "no dynas role was started in this container" >&2; exit 1 ;;
  esac
}

main() {
  local mode=${1:-api}
  [[ $# -gt 0 ]] && shift
  case "$mode" in
    api) mode_api ;;
    ray-head) mode_ray_head ;;
    ray-worker) mode_ray_worker ;;
    mlflow) mode_mlflow ;;
    healthcheck) mode_healthcheck ;;
    *) run "$mode" "$@" ;;
  esac
}

main "$@"
