#!/usr/bin/env bash
# The lab tier: jest on test/lab/**/*.lab.test.ts, run inside the lab's network namespace, where
# the storage hosts' sshd and the bridge are. Needs a running lab (npm run lab:start).
# Extra arguments go to jest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root
lab_json="$RUN_DIR/lab.json"
[ -f "$lab_json" ] || die "the lab is not running (no $lab_json): npm run lab:start"
netns=$(node -p 'require(process.argv[1]).netns' "$lab_json")
[ -e "/run/netns/$netns" ] || die "network namespace $netns of $lab_json is gone: npm run lab:start"
cd "$LAB_DIR/../.."
exec ip netns exec "$netns" node_modules/.bin/jest --config test/lab/jest.config.json "$@"
