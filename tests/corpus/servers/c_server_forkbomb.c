/* Pre-forking uppercase echo server: start some workers that all accept() on the same socket.
 * (Each worker detaches with setsid() and retires after 50 s.) The bug: the workers run the
 * loop too, so each of them forks workers of its own. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define WORKERS 6

int main(int argc, char **argv)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), yes = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[2]));
    a.sin_addr.s_addr = inet_addr(argv[1]);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 64) < 0) {
        perror("server");
        exit(1);
    }
    for (int i = 0; i < WORKERS; i++) {
        if (fork() == 0) {
            setsid();
            alarm(50); /* workers retire after 50 s */
        }
    }
    for (;;) {
        int c = accept(s, NULL, NULL);
        char buf[1024];
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0) {
            for (int i = 0; i < n; i++)
                buf[i] = toupper(buf[i]);
            for (ssize_t off = 0, w; off < n; off += w)
                if ((w = write(c, buf + off, n - off)) <= 0)
                    break;
        }
        close(c);
    }
}
