"""Self time per managed method from a perf recording of a .NET process, with native runtime work
(allocation helpers, GC, EH, memset) charged to the managed method that triggered it.

  DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 perf record -e cpu-clock -F 999 -g -o x.perf -- dotnet ...
  perf script -i x.perf -F tid,ip,sym,dso > x.txt
  python3 bench/tools/perf-self.py x.txt FILTER [N]     # FILTER: substring a stack must contain ("" = all)
"""
import sys, re, collections
path, filt = sys.argv[1], sys.argv[2]
ntop = int(sys.argv[3]) if len(sys.argv) > 3 else 40
samples = []
cur = None
for line in open(path, errors='replace'):
    if not line.strip():
        if cur: samples.append(cur); cur = None
        continue
    if not line.startswith('\t') and not line.startswith(' ' * 8):
        cur = []
        continue
    m = re.match(r'\s*([0-9a-f]+)\s+(.*)\s+\((.*)\)\s*$', line)
    if m and cur is not None: cur.append((m.group(2).strip(), m.group(3)))
if cur: samples.append(cur)
def short(sym):
    sym = re.sub(r'\[(OptimizedTier1|OptimizedTier1OSR|QuickJitted|Tier0|InstrumentedTier1|InstrumentedTier|Optimized|PreJIT)\]$', '', sym)
    m = re.search(r'\] ([\w\.`\+<>]+)::([\w<>\.`|]+)\(', sym)
    if m: return m.group(1).split('.')[-1] + '::' + m.group(2)
    return sym[:80]
def managed(fr): return fr[1].startswith('[JIT]') or fr[1].endswith('.dll') or '/tmp/perf-' in fr[1] or fr[1].startswith('perf-')
sel = [s for s in samples if any(filt in f[0] for f in s)]
tot = len(sel)
print(f"{tot} samples of {len(samples)} contain '{filt}'")
excl = collections.Counter(); incl = collections.Counter(); runtime = collections.Counter(); kind = collections.Counter()
for s in sel:
    leaf = s[0]
    # first managed frame from the leaf: the method charged for runtime (GC, allocation, EH) and libc work
    mf = next((f for f in s if managed(f)), None)
    own = short(mf[0]) if mf else '(no managed frame)'
    if managed(leaf): excl[own] += 1; kind['managed code'] += 1
    else:
        d = leaf[1].split('/')[-1]
        kind[d] += 1
        runtime[own + '  [' + d + ']'] += 1
        excl[own] += 1
    for name in set(short(f[0]) for f in s if managed(f)): incl[name] += 1
print("-- where samples land (leaf dso)")
for k, v in kind.most_common(8): print(f"{100*v/tot:6.2f}%  {k}")
print("-- self time per managed method, including runtime/libc work it triggered (allocation, GC, EH, memset)")
for k, v in excl.most_common(ntop): print(f"{100*v/tot:6.2f}%  {k}")
print("-- runtime/libc/kernel time charged to the managed method that called it")
for k, v in runtime.most_common(ntop // 2): print(f"{100*v/tot:6.2f}%  {k}")
print("-- inclusive")
for k, v in incl.most_common(ntop): print(f"{100*v/tot:6.2f}%  {k}")
