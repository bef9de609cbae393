/* Echo client that keeps a copy of the reply (and frees it once too often). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    long total = atol(argv[3]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(atoi(argv[2]));
    inet_pton(AF_INET, argv[1], &sa.sin_addr);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        return 1;
    }
    char *buf = malloc(total);
    memset(buf, 'm', total);
    long off = 0;
    while (off < total) {
        ssize_t n = send(s, buf + off, total - off, 0);
        if (n <= 0)
            return 1;
        off += n;
    }
    shutdown(s, SHUT_WR);
    char *reply = malloc(4096);
    ssize_t n = recv(s, reply, 4096, 0);
    printf("first %zd bytes: %.16s...\n", n, reply);
    fflush(stdout);
    free(reply);
    free(buf);
    free(reply); /* oops */
    close(s);
    return 0;
}
