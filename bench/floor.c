/* The cold-start step's floor: what this runner measures for a process that does nothing but
 * answer. It listens on 127.0.0.1:$FC_CUSTOM_LISTEN_PORT and answers every connection's first
 * read with `200 {}`: no configuration, no runtime, no probe. bench/run.py builds it with the
 * system's C compiler (static, -O2) into the run's temp dir; its cold start, beside ours, shows
 * how much of a cold-start figure is the runner's own spawn, polling and HTTP client. */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
    const char *port = getenv("FC_CUSTOM_LISTEN_PORT");
    if (port == NULL) return 2;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)atoi(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 64) != 0) return 1;
    static const char reply[] = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                "content-length: 2\r\nconnection: close\r\n\r\n{}";
    static char buf[65536];
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        /* The runner's requests fit one read; the readiness poll's connections send nothing. */
        if (read(c, buf, sizeof buf) > 0 && write(c, reply, sizeof reply - 1) < 0) {
            /* nothing to do: the runner sees the error */
        }
        close(c);
    }
}
