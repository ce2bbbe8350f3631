# Shared helpers for the test-bed scripts. Source, do not run.
set -euo pipefail
HACK_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../versions.env
source "$HACK_DIR/versions.env"
CACHE_ROOT=${VAULTSYNC_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vaultsync-testbed}
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
log() { printf '[testbed %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# component_dir NAME VERSION -> the cache directory for that pinned version
component_dir() { printf '%s/%s-%s' "$CACHE_ROOT" "$1" "$2"; }
