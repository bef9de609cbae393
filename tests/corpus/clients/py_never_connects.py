#!/usr/bin/env python3
# Echo client, work in progress: the networking part is not written yet.
import sys, time

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print('will send', n, 'bytes to', host, port, flush=True)
# TODO: connect and send
for second in range(20):
    time.sleep(1)
print('done')
