#!/usr/bin/env python3
# asyncio echo client: one task sends, another reads, at the same time.
import asyncio, sys


async def send_all(writer, n):
    chunk = b'many small words ' * 60
    left = n
    while left:
        piece = chunk[:left]
        writer.write(piece)
        await writer.drain()
        left -= len(piece)
    writer.write_eof()


async def read_all(reader):
    total = 0
    while True:
        data = await reader.read(65536)
        if not data:
            return total
        total += len(data)


async def main(host, port, n):
    reader, writer = await asyncio.open_connection(host, port)
    _, got = await asyncio.gather(send_all(writer, n), read_all(reader))
    writer.close()
    await writer.wait_closed()
    print('received', got, 'of', n)
    return 0 if got == n else 1


sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
