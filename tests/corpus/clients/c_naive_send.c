/* tcp_deadlock client in C: send 16-byte chunks, then recv the answer. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
    struct addrinfo hints = {0}, *res;
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (argc != 4 || getaddrinfo(argv[1], argv[2], &hints, &res) != 0) {
        fprintf(stderr, "usage: client HOST PORT BYTES\n");
        exit(2);
    }
    long bytecount = (atol(argv[3]) + 15) / 16 * 16;
    int s = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (connect(s, res->ai_addr, res->ai_addrlen) != 0) {
        perror("connect");
        exit(1);
    }
    const char *message = "capitalize this!";
    for (long sent = 0; sent < bytecount; sent += 16)
        send(s, message, 16, 0);
    shutdown(s, SHUT_WR);

    char data[42];
    long received = 0;
    ssize_t n;
    while ((n = recv(s, data, sizeof data, 0)) > 0)
        received += n;
    printf("%ld bytes received\n", received);
    close(s);
    return 0;
}
