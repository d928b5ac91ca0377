# shellcheck shell=bash
# Shared by scripts/demo and scripts/bench-*: an emulator on loopback and test hosts with the
# binary under test and the stand-in agents. Source it; call testbed_cleanup on exit.

testbed_emulator_pid=""
testbed_hosts=()
testbed_work="$(mktemp -d)"

testbed_cleanup() {
  local h
  for h in "${testbed_hosts[@]}"; do
    scripts/testhost stop "$h" >/dev/null 2>&1 || true
  done
  if [[ -n "$testbed_emulator_pid" ]]; then
    kill "$testbed_emulator_pid" 2>/dev/null || true
    wait "$testbed_emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$testbed_work"
}

# Starts the emulator and exports its AWS_* variables (admin keys) into this shell.
testbed_emulator() {
  mkfifo "$testbed_work/exports"
  scripts/emulator "$@" >"$testbed_work/exports" 2>"$testbed_work/emulator.log" &
  testbed_emulator_pid=$!
  local exports="" line
  while IFS= read -r line; do
    exports+="$line"$'\n'
    [[ "$line" == export\ RESTRICTED_AWS_SECRET_ACCESS_KEY=* ]] && break
  done <"$testbed_work/exports"
  cat "$testbed_work/exports" >/dev/null &
  eval "$exports"
  export AWS_EC2_METADATA_DISABLED=true
  export AWS_CONFIG_FILE="$testbed_work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$testbed_work/aws-credentials"
  : >"$AWS_CONFIG_FILE"
  : >"$AWS_SHARED_CREDENTIALS_FILE"
}

# testbed_host NAME BINARY: boots a test host with BINARY as /usr/local/bin/ecs-anywhere, the
# stand-in agents, and the SSM agent pointed at the emulator. Sets testbed_root to the host's
# root. (Not to be called in $(...): the host must be recorded here for testbed_cleanup.)
# shellcheck disable=SC2034 # read by the scripts that source this file
testbed_root=""
testbed_host() {
  local name="$1" binary="$2" root port="${AWS_ENDPOINT_URL##*:}"
  root="$(scripts/testhost start "$name" --forward "$port")"
  testbed_hosts+=("$name")
  # shellcheck disable=SC2034 # read by the scripts that source this file
  testbed_root="$root"
  scripts/testhost cp-in "$name" "$binary" /usr/local/bin/ecs-anywhere 0755
  tests/fixtures/standins/install-into "$root"
  mkdir -p "$root/etc/amazon/ssm"
  printf '{"Agent": {"Region": "%s"}, "Ssm": {"Endpoint": "%s"}}\n' "$AWS_REGION" "$AWS_ENDPOINT_URL" \
    >"$root/etc/amazon/ssm/amazon-ssm-agent.json"
  scripts/testhost exec "$name" -- systemctl daemon-reload >/dev/null
}

# testbed_in NAME ARGS...: ecs-anywhere inside the host, reaching the emulator, with only the
# credentials the host has.
testbed_in() {
  local name="$1"
  shift
  scripts/testhost exec "$name" --env "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" --env "AWS_REGION=$AWS_REGION" \
    --env AWS_EC2_METADATA_DISABLED=true -- /usr/local/bin/ecs-anywhere "$@"
}

testbed_create_cluster() {
  "$(scripts/emulator --print-venv)/bin/python" - "$1" <<'PY'
import boto3, os, sys
boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"]).create_cluster(clusterName=sys.argv[1])
PY
}
