#!/usr/bin/env python3
# The starting point: the client of the classic pair (tcp_deadlock.py), taking host, port and byte
# count on the command line so that 'tcplab check client' can run it. 'tcplab files DIR' writes it
# into DIR, with the two fixes and the classic pair; from that folder:
#
#     tcplab check client -- python3 naive_client.py {host} {port} {bytes}
#
# It sends every byte before it reads a single one back. Small counts pass; large ones fill the
# four buffers and deadlock (experiment 15). Fix it in a copy: threaded_client.py and
# selectors_client.py are two ways.
import socket, sys


def main(host, port, bytecount):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    bytecount = (bytecount + 15) // 16 * 16
    message = b'capitalize this!'
    print('Sending', bytecount, 'bytes of data, in chunks of 16 bytes', flush=True)
    sock.connect((host, port))
    sent = 0
    while sent < bytecount:
        sock.sendall(message)
        sent += len(message)
    sock.shutdown(socket.SHUT_WR)
    print('Receiving all the data the server sends back', flush=True)
    received = bytearray()
    while True:
        data = sock.recv(42)
        if not data:
            break
        received += data
    sock.close()
    ok = received == message.upper() * (bytecount // 16)
    print('%d bytes received, %s' % (len(received), 'all uppercased' if ok else 'NOT the uppercased input'))
    return 0 if ok else 1


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit('usage: naive_client.py HOST PORT BYTES')
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
