/* Echo client with two threads: one writes, one reads. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int sock;
static long received;

static void *reader(void *arg)
{
    char buf[16384];
    ssize_t n;
    (void)arg;
    while ((n = recv(sock, buf, sizeof buf, 0)) > 0)
        received += n;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    long total = atol(argv[3]);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(atoi(argv[2]));
    a.sin_addr.s_addr = inet_addr(argv[1]);
    sock = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(sock, (struct sockaddr *)&a, sizeof a) == -1) {
        perror("connect");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);

    const char msg[] = "threads make it work ";
    long sent = 0;
    while (sent < total) {
        size_t n = sizeof msg - 1;
        if (total - sent < (long)n)
            n = total - sent;
        ssize_t w = send(sock, msg, n, 0);
        if (w <= 0) {
            perror("send");
            return 1;
        }
        sent += w;
    }
    shutdown(sock, SHUT_WR);
    pthread_join(t, NULL);
    close(sock);
    printf("sent %ld received %ld\n", sent, received);
    return received == sent ? 0 : 1;
}
