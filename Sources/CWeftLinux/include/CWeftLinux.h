// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
//
// Linux-only system calls Weft needs that Glibc does not expose to Swift in a usable form: network
// namespaces, the original destination of a redirected connection, socket marks and transparent sockets,
// and libnftables (nftables in process, no `nft` subprocess).
#ifndef C_WEFT_LINUX_H
#define C_WEFT_LINUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/// Enters the network namespace at `path` on the calling thread. Returns 0 or -errno.
int weft_setns_path(const char *path);

/// Opens the calling thread's current network namespace (for returning to it). Returns an fd or -errno.
int weft_open_current_netns(void);

/// Enters the network namespace `fd` on the calling thread. Returns 0 or -errno.
int weft_setns_fd(int fd);

/// The destination a connection had before REDIRECT (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST).
/// Returns 0 or -errno; `out` receives a sockaddr_in or sockaddr_in6.
int weft_original_dst(int fd, struct sockaddr_storage *out, socklen_t *len);

/// Sets SO_MARK. Returns 0 or -errno.
int weft_set_mark(int fd, uint32_t mark);

/// Sets IP_TRANSPARENT (and IPV6_TRANSPARENT for v6 sockets). Returns 0 or -errno.
int weft_set_transparent(int fd, int ipv6);

/// Runs an nftables script in the calling thread's network namespace through libnftables. Returns 0 on
/// success; otherwise non-zero with libnftables' diagnostics (or a message) in `err` (NUL-terminated).
/// With `dry_run`, the script is checked by the kernel but not committed.
int weft_nft_run(const char *script, int dry_run, char *err, size_t err_len, char *out, size_t out_len);

/// Installs, through rtnetlink (libmnl), the policy routing that returns replies of connections the node made
/// with a spoofed source to the node's transparent sockets: `ip rule fwmark <mark>/<mask> lookup <table>` and
/// `ip route local 0.0.0.0/0 dev lo table <table>`, in the calling thread's network namespace. Idempotent.
/// Returns 0 or -errno; a message in `err`.
int weft_install_local_route(uint32_t mark, uint32_t mask, uint32_t table, uint32_t priority, char *err, size_t err_len);

#endif
