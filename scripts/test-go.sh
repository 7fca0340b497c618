#!/usr/bin/env bash
# make test-go: `go test` of bindings/go (and `go vet` plus a quick run of examples/go) against
# the build tree, with GOGC=1 (a collection at nearly every allocation, so finalizers and
# runtime.KeepAlive mistakes show up) and cgo's full pointer checking: GODEBUG=cgocheck=2 on
# Go < 1.21 (Debian bookworm has 1.19), GOEXPERIMENT=cgocheck2 on later Go, where the runtime
# setting is gone. The default cgocheck=1 already rejects a Go pointer to Go memory holding a
# Go pointer (which is why matrices cross through shim.c); cgocheck=2 also traps Go pointers
# stored into C memory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rel=${CARGO_TARGET_DIR:-$root/target}/release
export PKG_CONFIG_PATH="$rel/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export GOPROXY=off GOFLAGS=${GOFLAGS:-} GOTOOLCHAIN=local
minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
if [ "${minor:-0}" -ge 21 ]; then
  export GOEXPERIMENT=cgocheck2 GODEBUG=${GODEBUG:-}
  check="GOEXPERIMENT=cgocheck2"
else
  export GODEBUG=cgocheck=2
  check="GODEBUG=cgocheck=2"
fi
echo "go test with $(go env GOVERSION), GOGC=1, $check"
cd "$root/bindings/go"
go vet ./...
GOGC=1 go test -count=1 -v ./... 2>&1 | tee "$rel/go-test.log" | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|scones_test.go' || true
grep -q '^ok ' "$rel/go-test.log" || { cat "$rel/go-test.log" >&2; exit 1; }
cd "$root/examples/go"
go vet ./...
GOGC=1 go run ./swissroll -quick -out "$rel/go-examples"
test -s "$rel/go-examples/swiss_roll_go.png"
