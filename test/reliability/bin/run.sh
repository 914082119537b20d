#!/usr/bin/env bash
# npm run test:reliability: the tier's jest files, then its figures as one table (and JSON).
set -uo pipefail
cd "$(dirname "$0")/../../.." || exit 1
rm -rf test/reliability/.results
mkdir -p test/reliability/.results
npx jest --config test/reliability/jest.config.json --runInBand "$@"
status=$?
npx tsx test/reliability/bin/report.ts
exit "$status"
