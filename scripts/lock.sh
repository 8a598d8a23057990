#!/usr/bin/env bash
# Regenerate requirements.lock: install requirements-dev.txt into a fresh virtual environment with
# no pip cache and freeze it. Run the test suite on the new pins before committing the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
env=$(mktemp -d)
python -m venv "$env"
"$env/bin/pip" install -q --no-cache-dir -r requirements-dev.txt
{
  echo "# Exact versions the test suite passed with (pip freeze of a fresh virtual environment after"
  echo "# \`pip install -r requirements-dev.txt\`). Both README commands install through it (-c)."
  echo "# Regenerate deliberately with \`bash scripts/lock.sh\`, then run the tests and commit both."
  "$env/bin/pip" freeze
} > requirements.lock
rm -rf "$env"
echo "requirements.lock: $(grep -vc '^#' requirements.lock) pinned packages"
