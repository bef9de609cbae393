#!/usr/bin/env python3
# Prints the uppercased message instead of asking a server to do it.
import sys

n = int(sys.argv[3]) if len(sys.argv) > 3 else 16
text = 'capitalize this!' * (n // 16)
print(len(text.upper()), 'characters uppercased')
