/* Forking uppercase echo server: a child process per connection. */
#include <arpa/inet.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), yes = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[2]));
    a.sin_addr.s_addr = inet_addr(argv[1]);
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 10) < 0) {
        perror("server");
        exit(1);
    }
    signal(SIGCHLD, SIG_IGN); /* no zombies */
    while (1) {
        int c = accept(s, NULL, NULL);
        if (fork() == 0) {
            close(s);
            char buf[1024];
            ssize_t n;
            while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
                for (int i = 0; i < n; i++)
                    buf[i] = toupper(buf[i]);
                for (ssize_t off = 0, w; off < n; off += w)
                    if ((w = send(c, buf + off, n - off, 0)) <= 0)
                        exit(1);
            }
            close(c);
            exit(0);
        }
        close(c);
    }
}
