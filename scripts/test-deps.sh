#!/usr/bin/env bash
# Installs the system services the integration tests use. Under CI (CI=true) a missing one is
# installed, and failing to install it fails the run; on a developer's machine nothing is
# installed and those tests skip, saying why.
set -euo pipefail

need_pg() { ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
need_chromium() { ! command -v chromium >/dev/null 2>&1; }
need_caddy() { ! command -v caddy >/dev/null 2>&1; } # parses docker/Caddyfile

if [[ "${CI:-}" == "true" ]]; then
  pkgs=()
  need_pg && pkgs+=(postgresql)
  need_chromium && pkgs+=(chromium)
  need_caddy && pkgs+=(caddy)
  if ((${#pkgs[@]})); then
    echo "test-deps: installing ${pkgs[*]} from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
  need_pg && { echo "test-deps: PostgreSQL is still missing" >&2; exit 1; }
  need_chromium && { echo "test-deps: chromium is still missing" >&2; exit 1; }
  need_caddy && { echo "test-deps: caddy is still missing" >&2; exit 1; }
fi
exit 0
