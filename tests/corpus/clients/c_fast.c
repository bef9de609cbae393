/* Fast echo client: non-blocking socket, big writes, poll(). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

int main(int argc, char **argv)
{
    if (argc != 4)
        return 2;
    long total = atol(argv[3]), sent = 0, got = 0;
    static char out[CHUNK], in[CHUNK];
    memset(out, 'f', sizeof out);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        perror("connect");
        return 1;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct pollfd p = {.fd = fd};
    while (1) {
        p.events = POLLIN | (sent < total ? POLLOUT : 0);
        poll(&p, 1, 5000);
        ssize_t r;
        while ((r = read(fd, in, sizeof in)) > 0)
            got += r;
        if (r == 0 || (r < 0 && errno != EAGAIN))
            break;
        while (sent < total) {
            long n = total - sent > CHUNK ? CHUNK : total - sent;
            ssize_t w = write(fd, out, n);
            if (w < 0)
                break;
            sent += w;
            if (sent == total)
                shutdown(fd, SHUT_WR);
        }
    }
    close(fd);
    printf("%ld sent, %ld echoed\n", sent, got);
    return got == total ? 0 : 1;
}
