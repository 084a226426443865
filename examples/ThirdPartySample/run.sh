#!/usr/bin/env bash
# Packs the conformance suite with a fresh prerelease version into artifacts/packages and runs this
# sample against it, as a third party would (a fresh version, so NuGet never serves a stale copy
# from its cache). Extra arguments go to `dotnet test`, e.g. --logger trx --logger junit.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
suffix="local.$(date +%Y%m%d%H%M%S)"
dotnet pack "$root/conformance/SpecificationTests" -o "$root/artifacts/packages" --version-suffix "$suffix"
dotnet test "$root/examples/ThirdPartySample" -p:KmmSpecTestsVersion="0.1.0-$suffix" "$@"
