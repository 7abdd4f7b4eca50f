// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
#define _GNU_SOURCE
#include "CWeftLinux.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

// From <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>, which clash with <netinet/in.h>.
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

int weft_setns_path(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = setns(fd, CLONE_NEWNET);
    int saved = errno;
    close(fd);
    return rc == 0 ? 0 : -saved;
}

int weft_open_current_netns(void) {
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int weft_setns_fd(int fd) {
    return setns(fd, CLONE_NEWNET) == 0 ? 0 : -errno;
}

int weft_original_dst(int fd, struct sockaddr_storage *out, socklen_t *len) {
    socklen_t l = sizeof(struct sockaddr_in);
    memset(out, 0, sizeof(*out));
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, out, &l) == 0) {
        *len = l;
        return 0;
    }
    l = sizeof(struct sockaddr_in6);
    if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, out, &l) == 0) {
        *len = l;
        return 0;
    }
    return -errno;
}

int weft_set_mark(int fd, uint32_t mark) {
    return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == 0 ? 0 : -errno;
}

int weft_set_transparent(int fd, int ipv6) {
    int one = 1;
    if (ipv6) return setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one)) == 0 ? 0 : -errno;
    return setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one)) == 0 ? 0 : -errno;
}

static void copy_out(char *dst, size_t len, const char *src) {
    if (!dst || len == 0) return;
    if (!src) src = "";
    snprintf(dst, len, "%s", src);
}

int weft_nft_run(const char *script, int dry_run, char *err, size_t err_len, char *out, size_t out_len) {
    struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) {
        copy_out(err, err_len, "libnftables: cannot create a context");
        return -1;
    }
    nft_ctx_buffer_error(ctx);
    nft_ctx_buffer_output(ctx);
    if (dry_run) nft_ctx_set_dry_run(ctx, true);
    int rc = nft_run_cmd_from_buffer(ctx, script);
    copy_out(err, err_len, nft_ctx_get_error_buffer(ctx));
    copy_out(out, out_len, nft_ctx_get_output_buffer(ctx));
    nft_ctx_free(ctx);
    return rc;
}
