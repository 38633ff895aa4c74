#!/bin/sh
# Times mgdl against PyTorch on the same training step and grade epoch and
# prints the ratios; see bench/README.md. Flags go to bench/compare, e.g.
#   bench/compare.sh --rounds 3 --repeat 10 --json compare.json
set -e
cd "$(dirname "$0")/.."
exec go run ./bench/compare "$@"
