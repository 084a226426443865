#!/usr/bin/env python3
"""Mutation scores from Stryker.NET's mutation-report.json, per area and overall, and the survivors.

usage: tests/Mutation/mutation-score.py REPORT.json [--survivors] [--area NAME]
Score = (killed + timeout) / (killed + timeout + survived + no coverage), as Stryker computes it
(ignored and compile-error mutants are not counted). Works on a report that is still being
written (Stryker rewrites it as mutants finish), so it also shows progress: "pending" counts the rest.
"""
import json, sys, os, collections

AREAS = {}
here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))
for area in ("physical", "heap", "vm", "user"):
    cfg = os.path.join(root, f"stryker-config.{area}.json")
    if os.path.exists(cfg):
        for glob in json.load(open(cfg))["stryker-config"]["mutate"]:
            AREAS[glob.replace("**/", "")] = area

def area_of(path):
    for suffix, area in AREAS.items():
        if path.endswith(suffix):
            return area
    return "other"

def main():
    args = sys.argv[1:]
    report = json.load(open(args[0]))
    show = "--survivors" in args
    only = args[args.index("--area") + 1] if "--area" in args else None
    counts = collections.defaultdict(collections.Counter)
    survivors = []
    for path, f in report["files"].items():
        area = area_of(path)
        if only and area != only:
            continue
        lines = f.get("source", "").splitlines()
        for m in f["mutants"]:
            s = m["status"]
            counts[area][s] += 1
            counts["all"][s] += 1
            if s in ("Survived", "NoCoverage"):
                line = m["location"]["start"]["line"]
                src = lines[line - 1].strip() if line - 1 < len(lines) else ""
                survivors.append((area, os.path.relpath(path, root) if path.startswith("/") else path, line, s, m["mutatorName"], m.get("replacement", ""), src))
    print(f"{'area':9} {'score':>6} {'killed':>6} {'timeout':>7} {'survived':>8} {'nocov':>5} {'ignored':>7} {'cerr':>4} {'pending':>7}")
    for area in ["physical", "heap", "vm", "user", "other", "all"]:
        c = counts.get(area)
        if not c:
            continue
        detected = c["Killed"] + c["Timeout"]
        valid = detected + c["Survived"] + c["NoCoverage"]
        score = 100.0 * detected / valid if valid else float("nan")
        print(f"{area:9} {score:6.1f} {c['Killed']:6} {c['Timeout']:7} {c['Survived']:8} {c['NoCoverage']:5} {c['Ignored']:7} {c['CompileError']:4} {c['Pending']:7}")
    if show:
        for a, p, line, s, mut, rep, src in sorted(survivors):
            print(f"{a:8} {p}:{line} {s} [{mut}] -> {rep[:60]!r}   | {src[:110]}")

main()
