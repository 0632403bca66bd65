#!/bin/bash
# ldap-pap.sh - kept for the commands quoted in docs/performance.md: PAP with an LDAP user search,
# tsradius `ldap` vs FreeRADIUS 3.2 `rlm_ldap` against the same slapd. See bench/ldap/compare.sh.
exec env AUTH=pap "$(cd "$(dirname "$0")" && pwd)/ldap/compare.sh" "$@"
