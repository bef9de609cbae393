#!/usr/bin/env python3
# A fix of naive_client.py: a second thread reads the echo while the main thread sends, so the
# server's replies never pile up in the buffers and the server never stops reading.
#
#     tcplab check client -- python3 threaded_client.py {host} {port} {bytes}
#
# The main thread still sends everything and then shuts down its write half (the server reads
# until end of stream); it then waits for the reader, which reads until the server closes.
import socket, sys, threading


def main(host, port, bytecount):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    bytecount = (bytecount + 15) // 16 * 16
    message = b'capitalize this!'
    print('Sending', bytecount, 'bytes of data, in chunks of 16 bytes', flush=True)
    sock.connect((host, port))
    received = bytearray()

    def read_echo():
        while True:
            data = sock.recv(65536)
            if not data:
                break
            received.extend(data)

    reader = threading.Thread(target=read_echo, name='reader')
    reader.start()
    sent = 0
    while sent < bytecount:
        sock.sendall(message)
        sent += len(message)
    sock.shutdown(socket.SHUT_WR)
    reader.join()
    sock.close()
    ok = received == message.upper() * (bytecount // 16)
    print('%d bytes received, %s' % (len(received), 'all uppercased' if ok else 'NOT the uppercased input'))
    return 0 if ok else 1


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit('usage: threaded_client.py HOST PORT BYTES')
    sys.exit(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
