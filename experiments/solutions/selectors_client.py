#!/usr/bin/env python3
# A fix of naive_client.py with one thread: a non-blocking socket and one loop that waits for
# 'writable' and 'readable' together (selectors), sends when the socket takes more and reads
# whenever echo has arrived, so the buffers never fill up on both sides at once.
#
#     tcplab check client -- python3 selectors_client.py {host} {port} {bytes}
import selectors, socket, sys


def main(host, port, bytecount):
    bytecount = (bytecount + 15) // 16 * 16
    message = b'capitalize this!'
    print('Sending', bytecount, 'bytes of data, in chunks of 16 bytes', flush=True)
    sock = socket.create_connection((host, port))
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    pending = b''      # the part of the current chunk send() did not take yet
    sent = 0           # bytes handed to send() and accepted
    received = bytearray()
    done_sending = False
    while True:
        for _key, events in sel.select():
            if events & selectors.EVENT_READ:
                data = sock.recv(65536)
                if not data:
                    sel.close()
                    sock.close()
                    ok = received == message.upper() * (bytecount // 16)
                    print('%d bytes received, %s' % (len(received), 'all uppercased' if ok else 'NOT the uppercased input'))
                    return 0 if ok else 1
                received.extend(data)
            if events & selectors.EVENT_WRITE and not done_sending:
                # A non-blocking send() may take part of what it is given: keep the rest.
                while sent < bytecount:
                    if not pending:
                        pending = message
                    try:
                        n = sock.send(pending)
                    except BlockingIOError:
                        break
                    pending = pending[n:]
                    sent += n
                if sent >= bytecount:
                    sock.shutdown(socket.SHUT_WR)
                    done_sending = True
                    sel.modify(sock, selectors.EVENT_READ)


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit('usage: selectors_client.py HOST PORT BYTES')
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
