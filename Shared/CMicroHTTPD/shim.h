#ifndef COHORTSYNC_CMICROHTTPD_SHIM_H
#define COHORTSYNC_CMICROHTTPD_SHIM_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <malloc.h>
#include <microhttpd.h>

/* MHD_start_daemon is variadic, which Swift cannot call. This wrapper starts a daemon with an
   internal polling thread (epoll or poll, whichever the platform has) and a thread pool, bound to the given IPv4
   address (raising the process's soft file descriptor limit to the hard one), with an inactivity timeout in seconds (a connection that sends nothing for that long, headers
   included, is closed; a client trickling a byte now and then is not), suspend/resume for delayed answers, a connection limit that leaves room in the process's file
   descriptor limit, and libmicrohttpd's own messages sent to `logger` instead of stderr. */
static inline struct MHD_Daemon *cohortsync_mhd_start(
    const char *host, uint16_t port, unsigned int threads, unsigned int timeout_seconds, unsigned int max_connections,
    MHD_AccessHandlerCallback handler, void *handler_cls,
    MHD_RequestCompletedCallback completed, void *completed_cls,
    MHD_LogCallback logger, void *logger_cls) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        return NULL;
    }
    struct rlimit files;
    /* A server's connections are file descriptors: take the hard limit rather than a soft one of 1024. */
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
        unsigned int room = files.rlim_cur > 128 ? (unsigned int)(files.rlim_cur - 64) : 64;
        if (room < max_connections) {
            max_connections = room;
        }
    }
    return MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
        port, NULL, NULL, handler, handler_cls,
        MHD_OPTION_EXTERNAL_LOGGER, logger, logger_cls,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
        MHD_OPTION_CONNECTION_TIMEOUT, timeout_seconds,
        MHD_OPTION_CONNECTION_LIMIT, max_connections,
        MHD_OPTION_NOTIFY_COMPLETED, completed, completed_cls,
        MHD_OPTION_END);
}

/* The port the daemon actually listens on (useful after binding port 0). */
static inline uint16_t cohortsync_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}
/* Serves every allocation of at least `bytes` from its own mapping, returned to the system when freed (a fixed
   threshold also stops glibc from raising it after the first large free). For servers that receive large
   request bodies; glibc-only, a no-op elsewhere. */
static inline int cohortsync_return_large_allocations(size_t bytes) {
#ifdef M_MMAP_THRESHOLD
    return mallopt(M_MMAP_THRESHOLD, (int)bytes);
#else
    return 0;
#endif
}

#endif
