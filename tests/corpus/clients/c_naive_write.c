/* Uppercase echo client in C: write() everything, then read() the echo back. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s host port bytes\n", argv[0]);
        return 2;
    }
    long total = atol(argv[3]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &addr.sin_addr);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("connect");
        return 1;
    }

    char buf[512];
    memset(buf, 'w', sizeof buf);
    long sent = 0;
    while (sent < total) {
        long n = total - sent < (long)sizeof buf ? total - sent : (long)sizeof buf;
        ssize_t w = write(fd, buf, n);
        if (w < 0) {
            perror("write");
            return 1;
        }
        sent += w;
    }
    shutdown(fd, SHUT_WR);

    long got = 0;
    ssize_t r;
    char in[4096];
    while ((r = read(fd, in, sizeof in)) > 0)
        got += r;
    close(fd);
    printf("sent %ld, got %ld\n", sent, got);
    return 0;
}
