#!/usr/bin/env python3
# asyncio echo client: write everything (respecting drain), then read the reply.
import asyncio, sys


async def main(host, port, n):
    reader, writer = await asyncio.open_connection(host, port)
    chunk = b'asyncio is fun!!' * 64
    sent = 0
    while sent < n:
        piece = chunk[:n - sent]
        writer.write(piece)
        await writer.drain()
        sent += len(piece)
    writer.write_eof()
    reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    print('sent', sent, 'got', len(reply))


asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
