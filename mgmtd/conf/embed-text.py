#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes INPUT as a C string constant SYMBOL (and SYMBOL_len) to OUTPUT,
# so that the library carries its schema and needs no file at run time.
# Usage: embed-text.py INPUT OUTPUT SYMBOL
import sys

src, out, sym = sys.argv[1:4]
data = open(src, 'rb').read()
lines = []
for chunk in data.splitlines(keepends=True):
    esc = ''.join(chr(b) if 32 <= b < 127 and chr(b) not in '"\\?' else '\\%03o' % b
                  for b in chunk)
    lines.append('    "%s"' % esc)
with open(out, 'w') as f:
    f.write('/* Generated from %s by embed-text.py: do not edit. */\n' % src.split('/')[-1])
    f.write('#include <stddef.h>\n\n')
    f.write('extern const char %s[];\n' % sym)
    f.write('extern const size_t %s_len;\n' % sym)
    f.write('const char %s[] =\n%s;\n' % (sym, '\n'.join(lines) or '    ""'))
    f.write('const size_t %s_len = sizeof(%s) - 1;\n' % (sym, sym))
