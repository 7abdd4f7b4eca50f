// SPDX-License-Identifier: Apache-2.0
// Weft — an ambient service-mesh data plane.
#define _GNU_SOURCE
#include "CWeftLinux.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int send_and_ack(struct mnl_socket *nl, struct nlmsghdr *nlh, char *buf, size_t buflen) {
    unsigned int portid = mnl_socket_get_portid(nl);
    unsigned int seq = nlh->nlmsg_seq;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return -errno;
    ssize_t n = mnl_socket_recvfrom(nl, buf, buflen);
    if (n < 0) return -errno;
    int rc = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
    return rc < 0 ? -errno : 0;
}

int weft_install_local_route(uint32_t mark, uint32_t mask, uint32_t table, uint32_t priority, char *err, size_t err_len) {
    char buf[8192];
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl) {
        snprintf(err, err_len, "rtnetlink socket: %s", strerror(errno));
        return -errno;
    }
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        snprintf(err, err_len, "rtnetlink bind: %s", strerror(e));
        mnl_socket_close(nl);
        return -e;
    }
    unsigned int seq = (unsigned int)time(NULL);

    // ip rule add fwmark mark/mask lookup table pref priority
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWRULE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    nlh->nlmsg_seq = ++seq;
    struct fib_rule_hdr *rule = mnl_nlmsg_put_extra_header(nlh, sizeof(*rule));
    rule->family = AF_INET;
    rule->action = FR_ACT_TO_TBL;
    rule->table = table < 256 ? (uint8_t)table : 0;
    mnl_attr_put_u32(nlh, FRA_TABLE, table);
    mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
    mnl_attr_put_u32(nlh, FRA_FWMASK, mask);
    mnl_attr_put_u32(nlh, FRA_PRIORITY, priority);
    int rc = send_and_ack(nl, nlh, buf, sizeof(buf));
    if (rc < 0 && rc != -EEXIST) {
        snprintf(err, err_len, "add rule fwmark 0x%x/0x%x lookup %u: %s", mark, mask, table, strerror(-rc));
        mnl_socket_close(nl);
        return rc;
    }

    // ip route replace local 0.0.0.0/0 dev lo table table
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    nlh->nlmsg_seq = ++seq;
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 0;
    rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
    rtm->rtm_protocol = RTPROT_BOOT;
    rtm->rtm_scope = RT_SCOPE_HOST;
    rtm->rtm_type = RTN_LOCAL;
    mnl_attr_put_u32(nlh, RTA_TABLE, table);
    mnl_attr_put_u32(nlh, RTA_OIF, if_nametoindex("lo"));
    rc = send_and_ack(nl, nlh, buf, sizeof(buf));
    if (rc < 0) {
        snprintf(err, err_len, "add local route table %u: %s", table, strerror(-rc));
    }
    mnl_socket_close(nl);
    return rc;
}
