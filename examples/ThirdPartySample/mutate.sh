#!/usr/bin/env bash
# Mutation testing of the sample allocator with the conformance suite as its test suite: packs the
# suite with a fresh prerelease version (as run.sh does), then runs Stryker.NET (stryker-config.json)
# over src/SampleAllocator, with tests/SampleAllocator.Tests (the specification-test classes) as the
# tests. A surviving mutant is code of the allocator that no rule of the suite pins down.
# Report: StrykerOutput/<date>/reports/mutation-report.html (and .json). Extra arguments go to Stryker.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
suffix="local.$(date +%Y%m%d%H%M%S)"
dotnet pack "$root/conformance/SpecificationTests" -o "$root/artifacts/packages" --version-suffix "$suffix"
# MSBuild reads environment variables as properties: the projects pick this version up in Stryker's builds too.
export KmmSpecTestsVersion="0.1.0-$suffix"
cd "$here"
dotnet tool restore
dotnet stryker "$@"
