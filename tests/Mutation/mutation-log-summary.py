#!/usr/bin/env python3
"""Summarise a Stryker.NET 5.1.0 run (mtp runner) from its debug log, finished or not.

Stryker 5.1.0 writes mutation-report.json only at the end; a run stopped early leaves only its log.
Run Stryker with `-V debug -L`, then:

    tests/Mutation/mutation-log-summary.py StrykerOutput/all [--survivors] [--slow SECONDS] [--compare OTHER]

prints, for the mutants tested so far: killed / survived / timeout per reference file, the score of
the tested part (killed + timeout over tested), the wall time of the testing phase and the mutants per
minute, and the statuses Stryker decided before testing (no coverage, compile error, ignored).
Statuses are read from the runner's lines: a session ending in a timed-out run is a timeout; otherwise
"failed" (some test failed) is killed and "success" is survived.

--compare OTHER (another run's output folder, of the same reference source, so the same mutant ids)
prints how the statuses of the mutants both runs tested compare, and lists the mutants that differ:
a change of test runner set-up must not change a status; a timeout in one run that survived in the
other was a false timeout (a slow run cut short, counted as detected).
"""
import collections, datetime, glob, re, sys


def read(logs):
    """Every mutant's file, text, covering-test count, status and session time, from the logs."""
    file_of, text_of, covered_by = {}, {}, collections.Counter()
    session, status, duration = {}, {}, {}
    first = last = None
    skipped = []
    current_file = None
    lines = (line for log in logs for line in open(log, errors="replace"))  # one file per day
    for line in lines:
        m = re.search(r'Mutating "(.*)"', line)
        if m:
            current_file = m.group(1).split("/reference/")[-1]
            continue
        m = re.search(r'Mutant (\d+) created (.*) using "Stryker\.Core\.Mutators\.(\w+)"', line)
        if m:
            file_of[m.group(1)] = current_file
            text_of[m.group(1)] = f"{m.group(3)}: {m.group(2)[:150]}"
            continue
        m = re.search(r'Read coverage data"": "([^";]*)', line)
        if m:
            for i in set(m.group(1).split(",")):
                if i:
                    covered_by[i] += 1
            continue
        m = re.search(r"\] (\d+)\s+mutants got status (\w+)\.\s+Reason: (.*?)\s*(\([0-9a-f]{8}\))?$", line)
        if m:
            skipped.append((int(m.group(1)), m.group(2), m.group(3).strip()))
            continue
        m = re.search(r'"(MtpRunner-\d+)": Testing mutant\(s\) \[([^\]]*)\]', line)
        if m:
            ids = re.findall(r'"(\d+)"', m.group(2))
            at = datetime.datetime.fromisoformat(line[:27])
            session[m.group(1)] = {"ids": ids, "at": at, "timeout": False}
            first = first or at
            continue
        m = re.search(r'"(MtpRunner-\d+)": Test run timed out', line)
        if m and m.group(1) in session:
            session[m.group(1)]["timeout"] = True
            continue
        m = re.search(r'Test run for "(\d+): .*" is "(\w+)"', line)
        if m:
            at = datetime.datetime.fromisoformat(line[:27])
            last = at
            mid = m.group(1)
            for s in session.values():
                if mid in s["ids"]:
                    status[mid] = "timeout" if s["timeout"] else {"failed": "killed", "success": "survived"}.get(m.group(2), m.group(2))
                    duration[mid] = (at - s["at"]).total_seconds()

    return {"file_of": file_of, "text_of": text_of, "covered_by": covered_by, "status": status,
            "duration": duration, "skipped": skipped, "first": first, "last": last}


def main(argv):
    if not argv or argv[0].startswith("-"):
        print(__doc__)
        return 2
    logs = sorted(glob.glob(argv[0].rstrip("/") + "/logs/*.txt"))
    if not logs:
        print(f"no log under {argv[0]}/logs (run Stryker with -V debug -L)")
        return 2
    survivors = "--survivors" in argv
    slow = float(argv[argv.index("--slow") + 1]) if "--slow" in argv else None
    run = read(logs)
    file_of, text_of, covered_by = run["file_of"], run["text_of"], run["covered_by"]
    status, duration, skipped, first, last = run["status"], run["duration"], run["skipped"], run["first"], run["last"]
    for n, st, why in skipped:
        print(f"{n:6d} {st:12s} {why}")
    per_file = collections.defaultdict(collections.Counter)
    for mid, st in status.items():
        per_file[file_of.get(mid) or "?"][st] += 1
    total = collections.Counter(status.values())
    print()
    print(f"{'file':48s} {'killed':>7s} {'timeout':>7s} {'survived':>8s}")
    for f in sorted(per_file):
        c = per_file[f]
        print(f"{f:48s} {c['killed']:7d} {c['timeout']:7d} {c['survived']:8d}")
    tested = sum(total.values())
    if tested:
        detected = total["killed"] + total["timeout"]
        minutes = (last - first).total_seconds() / 60 if first and last else 0
        print(f"\ntested {tested}: killed {total['killed']}, timeout {total['timeout']}, survived {total['survived']}; "
              f"score of the tested part {100.0 * detected / tested:.1f}%")
        if minutes:
            print(f"testing phase {first:%H:%M:%S} - {last:%H:%M:%S} UTC: {minutes:.1f} min, {tested / minutes:.1f} mutants/min")
        spent = collections.defaultdict(float)
        for mid, st in status.items():
            spent[st] += duration.get(mid, 0)
        print("runner-seconds by status: " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(spent.items())))
    if survivors:
        print("\nsurvivors:")
        for mid in sorted((m for m, s in status.items() if s == "survived"), key=lambda m: (file_of.get(m) or "", int(m))):
            print(f"  {mid:>5s} {file_of.get(mid)} ({covered_by[mid]} tests) {text_of.get(mid)}")
    if slow is not None:
        print(f"\nsessions over {slow} s:")
        for mid in sorted((m for m in status if duration.get(m, 0) > slow), key=lambda m: -duration[m]):
            print(f"  {duration[mid]:6.1f} s {status[mid]:8s} {mid:>5s} {file_of.get(mid)} ({covered_by[mid]} tests) {text_of.get(mid)}")
    if "--compare" in argv:
        other_dir = argv[argv.index("--compare") + 1]
        other_logs = sorted(glob.glob(other_dir.rstrip("/") + "/logs/*.txt"))
        other = read(other_logs)["status"]
        both = sorted(set(status) & set(other), key=int)
        pairs = collections.Counter((status[m], other[m]) for m in both)
        print(f"\ncompared with {other_dir}: {len(both)} mutants tested by both (rows: this run, columns: the other)")
        kinds = ["killed", "timeout", "survived"]
        print(f"{'':10s}" + "".join(f"{k:>10s}" for k in kinds))
        for a in kinds:
            print(f"{a:10s}" + "".join(f"{pairs[(a, b)]:10d}" for b in kinds))
        for m in both:
            if status[m] != other[m]:
                print(f"  {m:>5s} {status[m]:8s} (other: {other[m]:8s}) {duration.get(m, 0):5.1f} s {file_of.get(m)} {text_of.get(m)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
