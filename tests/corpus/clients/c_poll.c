/* Echo client with a non-blocking socket and poll(): write and read in one loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST PORT BYTES\n", argv[0]);
        return 2;
    }
    long total = atol(argv[3]), sent = 0, got = 0;
    int chunk = 1024;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        perror("connect");
        return 1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    char out[1024], in[8192];
    memset(out, 'p', sizeof out);
    int bad = 0;
    struct pollfd p = {.fd = fd};
    for (;;) {
        p.events = POLLIN | (sent < total ? POLLOUT : 0);
        if (poll(&p, 1, -1) < 0) {
            perror("poll");
            return 1;
        }
        if (p.revents & POLLOUT) {
            long n = total - sent < chunk ? total - sent : chunk;
            ssize_t w = send(fd, out, n, 0);
            if (w > 0)
                sent += w;
            else if (errno != EAGAIN) {
                perror("send");
                return 1;
            }
            if (sent == total)
                shutdown(fd, SHUT_WR);
        }
        if (p.revents & (POLLIN | POLLHUP)) {
            ssize_t r = recv(fd, in, sizeof in, 0);
            if (r == 0)
                break;
            if (r < 0 && errno != EAGAIN) {
                perror("recv");
                return 1;
            }
            for (ssize_t i = 0; i < r; i++)
                bad += in[i] != 'P';
            if (r > 0)
                got += r;
        }
    }
    close(fd);
    printf("sent %ld, got %ld, %d wrong bytes\n", sent, got, bad);
    return got == total && bad == 0 ? 0 : 1;
}
