#!/usr/bin/env python3
"""Counts test cases across meson test logs and prints one line:
"N passed, N failed, N skipped".

Each TAP line of a Check program is one case; a program skipped as a whole
("1..0 # SKIP") counts one skip; a program that printed no TAP (a script)
counts as one case by its result; a program that crashed or timed out after
printing only passing lines counts one extra failure, so that no failure is
lost."""
import json
import re
import sys

passed = failed = skipped = 0
TAP = re.compile(r'^(not ok|ok)\b(.*)$')

for path in sys.argv[1:]:
    try:
        lines = open(path, encoding='utf-8').read().splitlines()
    except OSError as e:
        print(f"count-tests: {path}: {e.strerror}", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        t = json.loads(line)
        result = t.get('result', 'ERROR')
        out = t.get('stdout') or ''
        p = f = s = 0
        plan_skip = False
        for l in out.splitlines():
            m = TAP.match(l)
            if m:
                if '# SKIP' in m.group(2):
                    s += 1
                elif m.group(1) == 'ok':
                    p += 1
                else:
                    f += 1
            elif re.match(r'^1\.\.0\s*#\s*SKIP', l, re.I):
                plan_skip = True
        if p + f + s == 0:
            if plan_skip or result == 'SKIP':
                s = 1
            elif result in ('OK', 'EXPECTEDFAIL'):
                p = 1
            else:
                f = 1
        elif f == 0 and result not in ('OK', 'SKIP', 'EXPECTEDFAIL'):
            f = 1
        passed += p
        failed += f
        skipped += s

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
