/*
 * tsradius raw Ethernet (Linux AF_PACKET) for the pppoe_dpdk data plane.
 *
 * Synchronous, non-blocking calls only: an lcore worker polls its socket from its own loop (like a DPDK poll-mode
 * driver), so nothing here touches libuv. Plain Node-API C, context-aware (no global mutable state), so it loads
 * in worker threads; each socket is owned by the JS object that wraps it and closed by close() or its finalizer.
 *
 *   open(ifname, { fanout?: group id (1..65535), fanoutMode?: 0 hash | 1 lb | 2 cpu, rcvbuf?, sndbuf? }) -> handle
 *   info(handle) -> { ifindex, mac: Buffer(6), fd }
 *   recv(handle, buffer, slotSize, lengths: Uint32Array, max) -> frames received (0 = none) or -errno
 *       frame i is at buffer[i * slotSize], lengths[i] bytes, with its 802.1Q tag put back when the kernel
 *       had stripped it (PACKET_AUXDATA), so the caller parses VLAN and QinQ the same way in every case.
 *   send(handle, buffer, offsets: Uint32Array, lengths: Uint32Array, count) -> frames sent or -errno (first failed)
 *   wait(handle, ms, wakeFd?) -> 1 readable, 0 not (poll(2), for the idle back-off); with wakeFd (an eventfd of
 *       wakeFd() below) it also returns when that is written, and drains it
 *   close(handle)
 *   wakeFd() -> fd, wake(fd), closeWakeFd(fd): an eventfd that another thread writes to end a wait() at once
 *       (the control plane, after publishing answers for a sleeping lcore); its creator owns and closes it
 * Our own transmitted frames are not received (PACKET_IGNORE_OUTGOING).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <node_api.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif
#ifndef TP_STATUS_VLAN_VALID
#define TP_STATUS_VLAN_VALID (1 << 4)
#endif
#ifndef TP_STATUS_VLAN_TPID_VALID
#define TP_STATUS_VLAN_TPID_VALID (1 << 6)
#endif

#define MAX_BATCH 256
#define CMSG_ROOM CMSG_SPACE(sizeof(struct tpacket_auxdata))

typedef struct {
  int fd;
  int ifindex;
  uint8_t mac[6];
  struct mmsghdr msgs[MAX_BATCH];
  struct iovec iovs[MAX_BATCH];
  uint8_t cmsg[MAX_BATCH][CMSG_ROOM];
} psock_t;

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[200];
  snprintf(msg, sizeof(msg), "packet: %s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  psock_t *s = data;
  if (s->fd >= 0) close(s->fd);
  free(s);
}

static psock_t *get(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_unwrap(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "packet: not a socket handle");
    return NULL;
  }
  psock_t *s = p;
  if (s->fd < 0) {
    napi_throw_error(env, NULL, "packet: socket is closed");
    return NULL;
  }
  return s;
}

static int opt_u32(napi_env env, napi_value obj, const char *name, uint32_t *out) {
  bool has = false;
  napi_valuetype t;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_value v;
  napi_get_named_property(env, obj, name, &v);
  napi_typeof(env, v, &t);
  if (t != napi_number) return 0;
  napi_get_value_uint32(env, v, out);
  return 1;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char ifname[IFNAMSIZ + 1];
  size_t n = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], ifname, sizeof(ifname), &n) != napi_ok || n == 0 || n >= IFNAMSIZ) {
    napi_throw_type_error(env, NULL, "packet: open(ifname, opts): bad interface name");
    return NULL;
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) return throw_errno(env, "socket(AF_PACKET)", errno);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  memcpy(ifr.ifr_name, ifname, n);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) { int e = errno; close(fd); return throw_errno(env, ifname, e); }
  int ifindex = ifr.ifr_ifindex;
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { int e = errno; close(fd); return throw_errno(env, "SIOCGIFHWADDR", e); }
  uint8_t mac[6];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof(sll));
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) { int e = errno; close(fd); return throw_errno(env, "bind", e); }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
  if (argc >= 2) {
    napi_valuetype t;
    napi_typeof(env, argv[1], &t);
    if (t == napi_object) {
      uint32_t v;
      /* the FORCE variants pass net.core.rmem_max/wmem_max with CAP_NET_ADMIN; without it, the capped size */
      if (opt_u32(env, argv[1], "rcvbuf", &v)) { int x = (int)v; if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &x, sizeof(x)) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &x, sizeof(x)); }
      if (opt_u32(env, argv[1], "sndbuf", &v)) { int x = (int)v; if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &x, sizeof(x)) != 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &x, sizeof(x)); }
      if (opt_u32(env, argv[1], "fanout", &v) && v > 0) {
        uint32_t mode = PACKET_FANOUT_HASH;
        opt_u32(env, argv[1], "fanoutMode", &mode);
        int arg = (int)((v & 0xffff) | ((mode & 0xff) << 16));
        if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) { int e = errno; close(fd); return throw_errno(env, "PACKET_FANOUT", e); }
      }
    }
  }
  psock_t *s = calloc(1, sizeof(psock_t));
  if (!s) { close(fd); return throw_errno(env, "calloc", ENOMEM); }
  s->fd = fd;
  s->ifindex = ifindex;
  memcpy(s->mac, mac, 6);
  napi_create_object(env, &self);
  if (napi_wrap(env, self, s, finalize, NULL, NULL) != napi_ok) { close(fd); free(s); napi_throw_error(env, NULL, "packet: wrap failed"); return NULL; }
  return self;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], o, v;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  psock_t *s = get(env, argv[0]);
  if (!s) return NULL;
  napi_create_object(env, &o);
  napi_create_int32(env, s->ifindex, &v);
  napi_set_named_property(env, o, "ifindex", v);
  napi_create_int32(env, s->fd, &v);
  napi_set_named_property(env, o, "fd", v);
  void *d;
  napi_create_buffer_copy(env, 6, s->mac, &d, &v);
  napi_set_named_property(env, o, "mac", v);
  return o;
}

/* (buffer, slot, lengths, max) -> count */
static napi_value js_recv(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], r;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  psock_t *s = get(env, argv[0]);
  if (!s) return NULL;
  uint8_t *buf; size_t blen; uint32_t slot, max;
  void *ld; size_t llen; napi_typedarray_type lt; napi_value lab; size_t lbo;
  if (napi_get_buffer_info(env, argv[1], (void **)&buf, &blen) != napi_ok
      || napi_get_value_uint32(env, argv[2], &slot) != napi_ok
      || napi_get_typedarray_info(env, argv[3], &lt, &llen, &ld, &lab, &lbo) != napi_ok || lt != napi_uint32_array
      || napi_get_value_uint32(env, argv[4], &max) != napi_ok || slot < 64) {
    napi_throw_type_error(env, NULL, "packet: recv(handle, buffer, slotSize, lengths, max): bad arguments");
    return NULL;
  }
  uint32_t *lens = ld;
  if (max > MAX_BATCH) max = MAX_BATCH;
  if (max > llen) max = (uint32_t)llen;
  if ((size_t)max * slot > blen) max = (uint32_t)(blen / slot);
  for (uint32_t i = 0; i < max; i++) {
    /* 4 bytes of room at the front of each slot for a tag the kernel stripped */
    s->iovs[i].iov_base = buf + (size_t)i * slot + 4;
    s->iovs[i].iov_len = slot - 4;
    memset(&s->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
    s->msgs[i].msg_hdr.msg_iov = &s->iovs[i];
    s->msgs[i].msg_hdr.msg_iovlen = 1;
    s->msgs[i].msg_hdr.msg_control = s->cmsg[i];
    s->msgs[i].msg_hdr.msg_controllen = CMSG_ROOM;
  }
  int got = max ? recvmmsg(s->fd, s->msgs, max, MSG_DONTWAIT, NULL) : 0;
  if (got < 0) {
    int e = errno;
    napi_create_int32(env, (e == EAGAIN || e == EWOULDBLOCK || e == EINTR) ? 0 : -e, &r);
    return r;
  }
  for (int i = 0; i < got; i++) {
    uint8_t *slotp = buf + (size_t)i * slot;
    uint32_t len = s->msgs[i].msg_len;
    if (len > slot - 4) len = slot - 4;
    uint16_t tci = 0, tpid = 0x8100;
    int tagged = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&s->msgs[i].msg_hdr); c; c = CMSG_NXTHDR(&s->msgs[i].msg_hdr, c)) {
      if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA && c->cmsg_len >= CMSG_LEN(sizeof(struct tpacket_auxdata))) {
        struct tpacket_auxdata aux;
        memcpy(&aux, CMSG_DATA(c), sizeof(aux));
        if ((aux.tp_status & TP_STATUS_VLAN_VALID) || aux.tp_vlan_tci) {
          tagged = 1;
          tci = aux.tp_vlan_tci;
          if (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) tpid = aux.tp_vlan_tpid;
        }
      }
    }
    if (tagged && len >= 12 && len + 4 <= slot) {
      /* dst+src move 4 bytes to the front, the tag goes between them and the ethertype */
      memmove(slotp, slotp + 4, 12);
      slotp[12] = tpid >> 8; slotp[13] = tpid & 0xff;
      slotp[14] = tci >> 8; slotp[15] = tci & 0xff;
      lens[i] = len + 4;
    } else {
      memmove(slotp, slotp + 4, len);
      lens[i] = len;
    }
  }
  napi_create_int32(env, got, &r);
  return r;
}

/* (buffer, offsets, lengths, count) -> sent */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], r;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  psock_t *s = get(env, argv[0]);
  if (!s) return NULL;
  uint8_t *buf; size_t blen; uint32_t count;
  void *od, *ld; size_t olen, llen; napi_typedarray_type ot, lt; napi_value ab; size_t bo;
  if (napi_get_buffer_info(env, argv[1], (void **)&buf, &blen) != napi_ok
      || napi_get_typedarray_info(env, argv[2], &ot, &olen, &od, &ab, &bo) != napi_ok || ot != napi_uint32_array
      || napi_get_typedarray_info(env, argv[3], &lt, &llen, &ld, &ab, &bo) != napi_ok || lt != napi_uint32_array
      || napi_get_value_uint32(env, argv[4], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "packet: send(handle, buffer, offsets, lengths, count): bad arguments");
    return NULL;
  }
  uint32_t *offs = od, *lens = ld;
  if (count > MAX_BATCH) count = MAX_BATCH;
  if (count > olen) count = (uint32_t)olen;
  if (count > llen) count = (uint32_t)llen;
  for (uint32_t i = 0; i < count; i++) {
    if ((size_t)offs[i] + lens[i] > blen) { napi_throw_range_error(env, NULL, "packet: send: frame outside the buffer"); return NULL; }
    s->iovs[i].iov_base = buf + offs[i];
    s->iovs[i].iov_len = lens[i];
    memset(&s->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
    s->msgs[i].msg_hdr.msg_iov = &s->iovs[i];
    s->msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int sent = count ? sendmmsg(s->fd, s->msgs, count, MSG_DONTWAIT) : 0;
  napi_create_int32(env, sent < 0 ? -errno : sent, &r);
  return r;
}

static napi_value js_wait(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], r;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  psock_t *s = get(env, argv[0]);
  if (!s) return NULL;
  double ms = 0;
  napi_get_value_double(env, argv[1], &ms);
  int32_t efd = -1;
  if (argc >= 3) {
    napi_valuetype t;
    napi_typeof(env, argv[2], &t);
    if (t == napi_number) napi_get_value_int32(env, argv[2], &efd);
  }
  struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN }, { .fd = efd, .events = POLLIN } };
  int timeout = ms <= 0 ? 0 : (int)(ms + 0.999);
  int n = poll(p, efd >= 0 ? 2 : 1, timeout);
  if (n > 0 && efd >= 0 && (p[1].revents & POLLIN)) {
    uint64_t v;
    ssize_t rd = read(efd, &v, sizeof(v)); /* drain: the next wait sleeps again */
    (void)rd;
  }
  napi_create_int32(env, n > 0 ? 1 : 0, &r);
  return r;
}

static napi_value js_wake_fd(napi_env env, napi_callback_info info) {
  napi_value r;
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return throw_errno(env, "eventfd", errno);
  napi_create_int32(env, fd, &r);
  return r;
}

static int32_t fd_arg(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &fd);
  return fd;
}

static napi_value js_wake(napi_env env, napi_callback_info info) {
  int32_t fd = fd_arg(env, info);
  if (fd >= 0) {
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof(one)); /* EAGAIN: the counter is already non-zero, the waiter wakes anyway */
    (void)w;
  }
  return NULL;
}

static napi_value js_close_wake_fd(napi_env env, napi_callback_info info) {
  int32_t fd = fd_arg(env, info);
  if (fd >= 0) close(fd);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void *p = NULL;
  if (napi_unwrap(env, argv[0], &p) == napi_ok && p) {
    psock_t *s = p;
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor d[] = {
    { "open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL },
    { "info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL },
    { "recv", NULL, js_recv, NULL, NULL, NULL, napi_default, NULL },
    { "send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL },
    { "wait", NULL, js_wait, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
    { "wakeFd", NULL, js_wake_fd, NULL, NULL, NULL, napi_default, NULL },
    { "wake", NULL, js_wake, NULL, NULL, NULL, napi_default, NULL },
    { "closeWakeFd", NULL, js_close_wake_fd, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof(d) / sizeof(d[0]), d);
  return exports;
}
