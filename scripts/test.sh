#!/usr/bin/env bash
# Runs every test of the workspace: builds all crates (the hub, the connector plugins and the
# test plugins, which the tests load as real dynamic libraries), installs the Node packages the
# official-client tests and the browser tests' accessibility checks (axe-core) use, then runs
# the tests. PostgreSQL variants run when HUB_TEST_POSTGRES_URL is set (e.g.
# postgres://postgres@127.0.0.1:5432/postgres) and say they were skipped otherwise. The browser tests need Debian's chromium and chromium-driver
# (installed here through .ci/install-browser when missing; HUB_SKIP_BROWSER_TESTS=1 skips them).
# The OpenAPI document's validator comes from PyPI (.ci/openapi-check --install, cached).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f sandbox/node-tests/package-lock.json ] && [ ! -d sandbox/node-tests/node_modules ]; then
  echo "== installing the Node packages of the official-client tests (sandbox/node-tests)"
  npm ci --prefix sandbox/node-tests --no-audit --no-fund
fi

if [ -f tests/browser/axe/package-lock.json ] && [ ! -d tests/browser/axe/node_modules ]; then
  echo "== installing axe-core for the browser tests' accessibility checks (tests/browser/axe)"
  npm ci --prefix tests/browser/axe --no-audit --no-fund
fi

if [ -z "${HUB_SKIP_BROWSER_TESTS:-}" ] && { [ ! -x /usr/bin/chromedriver ] || ! fc-list 2>/dev/null | grep -i "ipagothic\|noto sans cjk" >/dev/null; }; then
  echo "== installing Chromium, its WebDriver and a Japanese font for the browser tests"
  .ci/install-browser
fi

if [ -z "${HUB_OPENAPI_TOOLS:-}" ]; then
  echo "== installing openapi-spec-validator and schemathesis for the OpenAPI tests (.ci/openapi-check --install)"
  # Without them the openapi_doc test says SKIPPED (and CI fails on skips).
  HUB_OPENAPI_TOOLS="$(.ci/openapi-check --install)" || HUB_OPENAPI_TOOLS=
  export HUB_OPENAPI_TOOLS
fi

echo "== building the workspace"
cargo build --workspace --all-targets

echo "== running the tests"
cargo test --workspace "$@"
