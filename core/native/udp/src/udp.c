/*
 * tsradius batched UDP sockets (Linux): recvmmsg/sendmmsg, SO_REUSEPORT,
 * IP_PKTINFO / IPV6_RECVPKTINFO, SO_RCVBUF/SO_SNDBUF sizing.
 *
 * Plain Node-API C (node_api.h), context-aware: every socket belongs to the
 * environment (main thread or worker thread) that created it, is polled on
 * that environment's libuv loop, and is closed by an environment cleanup
 * hook when the thread exits. No global mutable state.
 *
 * JS API (see ../index.ts for the typed wrapper and the dgram fallback):
 *   create(opts, recvBuffer, recvLengths, recvMeta|null, onMessages) -> handle
 *     opts: { family: 4|6, bindAddress?, bindPort?, connectAddress?, connectPort?,
 *             reusePort?, spread?, rcvbuf?, sndbuf?, pktinfo? }
 *     spread: N >= 2 with reusePort: the reuse group picks socket (byte 1 of the
 *     payload, the RADIUS packet ID) mod N (SO_ATTACH_REUSEPORT_CBPF) instead of
 *     the flow hash, so a few busy source ports still spread over N workers and
 *     a (source, ID) pair, the duplicate-detection key, stays on one socket.
 *     recvBuffer: Buffer of batch * slotSize bytes; recvLengths: Uint32Array(batch);
 *     recvMeta: Buffer of batch * 48 bytes (peer and local address per datagram) or null.
 *     onMessages(count) is called on the loop thread after each recvmmsg batch.
 *   sendBatch(handle, buffer, offsets: Uint32Array, lengths: Uint32Array, count, meta|null)
 *     -> datagrams sent (>= 0) or -errno when the first one failed.
 *   info(handle) -> { family, address, port, rcvbuf, sndbuf }
 *   close(handle)
 *
 * Meta layout (48 bytes per datagram):
 *   [0] family (4 or 6)  [1] flags (bit 0: local address valid)  [2..4) port, big endian
 *   [4..20) peer address  [20..36) local address (IP_PKTINFO)  [36..40) ifindex (LE)
 * On receive the peer is the source; on send it is the destination and, with
 * flag bit 0, the local address is used as the source (IP_PKTINFO).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/filter.h>
#include <unistd.h>
#include <node_api.h>
#include <uv.h>

#define META_SIZE 48
#define MAX_BATCH 256
#define BATCHES_PER_WAKEUP 16
#define CMSG_ROOM 64

typedef struct {
  napi_env env;
  int fd;
  int family;
  int pktinfo;
  uv_poll_t poll;
  int polling;
  int closed;      /* close() or cleanup done */
  int handle_open; /* uv handle not yet closed */
  int wrapped;     /* JS object still alive */
  napi_ref cb, rbuf_ref, rlens_ref, rmeta_ref;
  napi_async_context actx;
  uint8_t *rbuf;
  size_t slot;
  uint32_t *rlens;
  uint8_t *rmeta;
  uint32_t batch;
  struct mmsghdr *msgs;
  struct iovec *iovs;
  struct sockaddr_storage *addrs;
  uint8_t *cmsgs;
} sock_t;

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, NULL, "native udp: " #call " failed");         \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof(msg), "%s: %s", what, strerror(err));
  napi_value code, m, e;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_int32(env, err, &code);
  napi_create_error(env, NULL, m, &e);
  napi_set_named_property(env, e, "errno", code);
  napi_throw(env, e);
  return NULL;
}

static void maybe_free(sock_t *s) {
  if (!s->handle_open && !s->wrapped) {
    free(s->msgs);
    free(s->iovs);
    free(s->addrs);
    free(s->cmsgs);
    free(s);
  }
}

static void on_handle_closed(uv_handle_t *h) {
  sock_t *s = (sock_t *)h->data;
  s->handle_open = 0;
  maybe_free(s);
}

static void cleanup_hook(void *arg);

/* Stops polling and closes the socket; safe to call twice. */
static void do_close(sock_t *s, int from_cleanup) {
  if (s->closed) return;
  s->closed = 1;
  if (!from_cleanup) napi_remove_env_cleanup_hook(s->env, cleanup_hook, s);
  if (s->polling) uv_poll_stop(&s->poll);
  s->polling = 0;
  if (s->cb) { napi_delete_reference(s->env, s->cb); s->cb = NULL; }
  if (s->rbuf_ref) { napi_delete_reference(s->env, s->rbuf_ref); s->rbuf_ref = NULL; }
  if (s->rlens_ref) { napi_delete_reference(s->env, s->rlens_ref); s->rlens_ref = NULL; }
  if (s->rmeta_ref) { napi_delete_reference(s->env, s->rmeta_ref); s->rmeta_ref = NULL; }
  if (s->actx) { napi_async_destroy(s->env, s->actx); s->actx = NULL; }
  if (s->fd >= 0) { close(s->fd); s->fd = -1; }
  if (s->handle_open) uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static void cleanup_hook(void *arg) { do_close((sock_t *)arg, 1); }

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  sock_t *s = (sock_t *)data;
  do_close(s, 0);
  s->wrapped = 0;
  maybe_free(s);
}

/* Writes a sockaddr into a meta record (peer part). */
static void meta_put_peer(uint8_t *m, const struct sockaddr_storage *sa) {
  memset(m, 0, META_SIZE);
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
    m[0] = 4;
    memcpy(m + 2, &a->sin_port, 2);
    memcpy(m + 4, &a->sin_addr, 4);
  } else if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
    m[0] = 6;
    memcpy(m + 2, &a->sin6_port, 2);
    memcpy(m + 4, &a->sin6_addr, 16);
  }
}

static void meta_put_local(uint8_t *m, struct msghdr *h) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      memcpy(m + 20, &pi.ipi_addr, 4);
      uint32_t ifx = (uint32_t)pi.ipi_ifindex;
      memcpy(m + 36, &ifx, 4);
      m[1] |= 1;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof(pi));
      memcpy(m + 20, &pi.ipi6_addr, 16);
      uint32_t ifx = (uint32_t)pi.ipi6_ifindex;
      memcpy(m + 36, &ifx, 4);
      m[1] |= 1;
    }
  }
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  sock_t *s = (sock_t *)h->data;
  if (status < 0 || s->closed) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  for (int round = 0; round < BATCHES_PER_WAKEUP && !s->closed; round++) {
    for (uint32_t i = 0; i < s->batch; i++) {
      s->iovs[i].iov_base = s->rbuf + i * s->slot;
      s->iovs[i].iov_len = s->slot;
      struct msghdr *m = &s->msgs[i].msg_hdr;
      memset(m, 0, sizeof(*m));
      m->msg_iov = &s->iovs[i];
      m->msg_iovlen = 1;
      if (s->rmeta) {
        m->msg_name = &s->addrs[i];
        m->msg_namelen = sizeof(s->addrs[i]);
      }
      if (s->pktinfo) {
        m->msg_control = s->cmsgs + i * CMSG_ROOM;
        m->msg_controllen = CMSG_ROOM;
      }
    }
    int got = recvmmsg(s->fd, s->msgs, s->batch, MSG_DONTWAIT, NULL);
    if (got <= 0) break; /* EAGAIN, or an error (ICMP unreachable on a connected socket): wait for the next wakeup */
    for (int i = 0; i < got; i++) {
      s->rlens[i] = s->msgs[i].msg_len;
      if (s->rmeta) {
        uint8_t *m = s->rmeta + (size_t)i * META_SIZE;
        meta_put_peer(m, &s->addrs[i]);
        if (s->pktinfo) meta_put_local(m, &s->msgs[i].msg_hdr);
      }
    }
    napi_value cb, argv, global, result;
    napi_get_reference_value(env, s->cb, &cb);
    napi_get_global(env, &global);
    napi_create_uint32(env, (uint32_t)got, &argv);
    napi_status st = napi_make_callback(env, s->actx, global, cb, 1, &argv, &result);
    if (st == napi_pending_exception) {
      napi_value ex;
      napi_get_and_clear_last_exception(env, &ex);
      napi_fatal_exception(env, ex);
      break;
    }
    if ((uint32_t)got < s->batch) break;
  }
  napi_close_handle_scope(env, scope);
}

static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_get_named_property(env, obj, name, out);
  napi_valuetype t;
  napi_typeof(env, *out, &t);
  return t != napi_undefined && t != napi_null;
}

static int get_int(napi_env env, napi_value obj, const char *name, int def) {
  napi_value v;
  int32_t r = def;
  if (get_prop(env, obj, name, &v)) napi_get_value_int32(env, v, &r);
  return r;
}

static int get_bool(napi_env env, napi_value obj, const char *name) {
  napi_value v;
  bool r = false;
  if (get_prop(env, obj, name, &v)) napi_get_value_bool(env, v, &r);
  return r;
}

/* Fills a sockaddr from a numeric address string and port; returns its length or 0. */
static socklen_t make_addr(napi_env env, napi_value obj, const char *aname, const char *pname, int family,
                           struct sockaddr_storage *sa, int required) {
  napi_value v;
  char text[64] = "";
  int port = get_int(env, obj, pname, 0);
  if (get_prop(env, obj, aname, &v)) {
    size_t n;
    napi_get_value_string_utf8(env, v, text, sizeof(text), &n);
  } else if (required) {
    return 0;
  }
  memset(sa, 0, sizeof(*sa));
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (text[0] && inet_pton(AF_INET6, text, &a->sin6_addr) != 1) return 0;
    return sizeof(*a);
  }
  struct sockaddr_in *a = (struct sockaddr_in *)sa;
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  if (text[0] && inet_pton(AF_INET, text, &a->sin_addr) != 1) return 0;
  return sizeof(*a);
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) { napi_throw_type_error(env, NULL, "create(opts, recvBuffer, recvLengths, recvMeta, onMessages)"); return NULL; }
  napi_value opts = argv[0];
  int family = get_int(env, opts, "family", 4) == 6 ? 6 : 4;

  void *rb; size_t rblen;
  if (napi_get_buffer_info(env, argv[1], &rb, &rblen) != napi_ok) { napi_throw_type_error(env, NULL, "recvBuffer must be a Buffer"); return NULL; }
  napi_typedarray_type tt; size_t nl; void *ld; napi_value ab; size_t aoff;
  if (napi_get_typedarray_info(env, argv[2], &tt, &nl, &ld, &ab, &aoff) != napi_ok || tt != napi_uint32_array || nl == 0 || nl > MAX_BATCH) {
    napi_throw_type_error(env, NULL, "recvLengths must be a Uint32Array of 1..256 entries");
    return NULL;
  }
  void *md = NULL; size_t mlen = 0;
  napi_valuetype mt;
  napi_typeof(env, argv[3], &mt);
  if (mt != napi_null && mt != napi_undefined) {
    if (napi_get_buffer_info(env, argv[3], &md, &mlen) != napi_ok || mlen < nl * META_SIZE) {
      napi_throw_type_error(env, NULL, "recvMeta must be a Buffer of batch * 48 bytes or null");
      return NULL;
    }
  }
  napi_valuetype ct;
  napi_typeof(env, argv[4], &ct);
  if (ct != napi_function) { napi_throw_type_error(env, NULL, "onMessages must be a function"); return NULL; }
  size_t slot = rblen / nl;
  if (slot < 20) { napi_throw_range_error(env, NULL, "recvBuffer too small for the batch"); return NULL; }

  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int one = 1;
  if (get_bool(env, opts, "reusePort") && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
    int e = errno; close(fd); return throw_errno(env, "SO_REUSEPORT", e);
  }
  int rcv = get_int(env, opts, "rcvbuf", 0), snd = get_int(env, opts, "sndbuf", 0);
  if (rcv > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)); /* capped by rmem_max, not an error */
  if (snd > 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
  int pktinfo = get_bool(env, opts, "pktinfo");
  if (pktinfo) {
    int r = family == 6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))
                        : setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    if (r < 0) { int e = errno; close(fd); return throw_errno(env, "IP_PKTINFO", e); }
  }
  struct sockaddr_storage sa;
  socklen_t salen;
  napi_value tmp;
  if (get_prop(env, opts, "bindAddress", &tmp) || get_int(env, opts, "bindPort", 0)) {
    salen = make_addr(env, opts, "bindAddress", "bindPort", family, &sa, 0);
    if (!salen) { close(fd); napi_throw_type_error(env, NULL, "bad bindAddress (a numeric address)"); return NULL; }
    if (bind(fd, (struct sockaddr *)&sa, salen) < 0) { int e = errno; close(fd); return throw_errno(env, "bind", e); }
  }
  int spread = get_int(env, opts, "spread", 0);
  if (spread >= 2 && get_bool(env, opts, "reusePort")) {
    /* A = payload[1] (UDP header already pulled); A %= spread; return A. A datagram
       shorter than 2 bytes aborts the program with 0: socket 0. An index past the
       group's size (a worker not yet joined) falls back to the flow hash. */
    struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 1),
      BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)spread),
      BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0) {
      int e = errno; close(fd); return throw_errno(env, "SO_ATTACH_REUSEPORT_CBPF", e);
    }
  }
  if (get_prop(env, opts, "connectAddress", &tmp)) {
    salen = make_addr(env, opts, "connectAddress", "connectPort", family, &sa, 1);
    if (!salen) { close(fd); napi_throw_type_error(env, NULL, "bad connectAddress (a numeric address)"); return NULL; }
    if (connect(fd, (struct sockaddr *)&sa, salen) < 0) { int e = errno; close(fd); return throw_errno(env, "connect", e); }
  }

  sock_t *s = calloc(1, sizeof(*s));
  s->env = env;
  s->fd = fd;
  s->family = family;
  s->pktinfo = pktinfo;
  s->rbuf = rb;
  s->slot = slot;
  s->rlens = ld;
  s->rmeta = md;
  s->batch = (uint32_t)nl;
  s->msgs = calloc(nl, sizeof(*s->msgs));
  s->iovs = calloc(nl, sizeof(*s->iovs));
  s->addrs = calloc(nl, sizeof(*s->addrs));
  s->cmsgs = calloc(nl, CMSG_ROOM);
  napi_create_reference(env, argv[1], 1, &s->rbuf_ref);
  napi_create_reference(env, argv[2], 1, &s->rlens_ref);
  if (md) napi_create_reference(env, argv[3], 1, &s->rmeta_ref);
  napi_create_reference(env, argv[4], 1, &s->cb);
  napi_value rname;
  napi_create_string_utf8(env, "tsradius.udp", NAPI_AUTO_LENGTH, &rname);
  napi_async_init(env, NULL, rname, &s->actx);

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  s->handle_open = 1;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  s->polling = 1;
  napi_add_env_cleanup_hook(env, cleanup_hook, s);

  napi_value obj;
  napi_create_object(env, &obj);
  s->wrapped = 1;
  napi_wrap(env, obj, s, finalize, NULL, NULL);
  return obj;
}

static sock_t *unwrap(napi_env env, napi_value v) {
  sock_t *s = NULL;
  if (napi_unwrap(env, v, (void **)&s) != napi_ok || !s) {
    napi_throw_type_error(env, NULL, "not a native udp handle");
    return NULL;
  }
  return s;
}

static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) return throw_errno(env, "sendBatch", EBADF);
  void *buf; size_t blen;
  if (napi_get_buffer_info(env, argv[1], &buf, &blen) != napi_ok) { napi_throw_type_error(env, NULL, "buffer must be a Buffer"); return NULL; }
  napi_typedarray_type t1, t2; size_t n1, n2; void *d1, *d2; napi_value ab; size_t ao;
  if (napi_get_typedarray_info(env, argv[2], &t1, &n1, &d1, &ab, &ao) != napi_ok || t1 != napi_uint32_array
      || napi_get_typedarray_info(env, argv[3], &t2, &n2, &d2, &ab, &ao) != napi_ok || t2 != napi_uint32_array) {
    napi_throw_type_error(env, NULL, "offsets and lengths must be Uint32Arrays");
    return NULL;
  }
  uint32_t count;
  napi_get_value_uint32(env, argv[4], &count);
  if (count > n1 || count > n2) { napi_throw_range_error(env, NULL, "count exceeds offsets/lengths"); return NULL; }
  uint8_t *meta = NULL; size_t mlen = 0;
  if (argc > 5) {
    napi_valuetype mt;
    napi_typeof(env, argv[5], &mt);
    if (mt != napi_null && mt != napi_undefined) {
      if (napi_get_buffer_info(env, argv[5], (void **)&meta, &mlen) != napi_ok || mlen < (size_t)count * META_SIZE) {
        napi_throw_type_error(env, NULL, "meta must be a Buffer of count * 48 bytes");
        return NULL;
      }
    }
  }
  const uint32_t *off = d1, *len = d2;
  for (uint32_t i = 0; i < count; i++) {
    if ((size_t)off[i] + len[i] > blen) { napi_throw_range_error(env, NULL, "datagram outside the buffer"); return NULL; }
  }
  struct mmsghdr msgs[64];
  struct iovec iovs[64];
  struct sockaddr_storage addrs[64];
  uint8_t cm[64][CMSG_ROOM];
  uint32_t done = 0;
  int err = 0;
  while (done < count) {
    uint32_t n = count - done > 64 ? 64 : count - done;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t k = done + i;
      iovs[i].iov_base = (uint8_t *)buf + off[k];
      iovs[i].iov_len = len[k];
      struct msghdr *h = &msgs[i].msg_hdr;
      memset(h, 0, sizeof(*h));
      h->msg_iov = &iovs[i];
      h->msg_iovlen = 1;
      if (meta) {
        const uint8_t *m = meta + (size_t)k * META_SIZE;
        memset(&addrs[i], 0, sizeof(addrs[i]));
        if (m[0] == 6) {
          struct sockaddr_in6 *a = (struct sockaddr_in6 *)&addrs[i];
          a->sin6_family = AF_INET6;
          memcpy(&a->sin6_port, m + 2, 2);
          memcpy(&a->sin6_addr, m + 4, 16);
          h->msg_namelen = sizeof(*a);
        } else {
          struct sockaddr_in *a = (struct sockaddr_in *)&addrs[i];
          a->sin_family = AF_INET;
          memcpy(&a->sin_port, m + 2, 2);
          memcpy(&a->sin_addr, m + 4, 4);
          h->msg_namelen = sizeof(*a);
        }
        h->msg_name = &addrs[i];
        if (m[1] & 1) { /* source address via IP_PKTINFO */
          memset(cm[i], 0, CMSG_ROOM);
          h->msg_control = cm[i];
          struct cmsghdr *c;
          if (m[0] == 6) {
            h->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
            c = CMSG_FIRSTHDR(h);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
            struct in6_pktinfo pi;
            memset(&pi, 0, sizeof(pi));
            memcpy(&pi.ipi6_addr, m + 20, 16);
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
          } else {
            h->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
            c = CMSG_FIRSTHDR(h);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
            struct in_pktinfo pi;
            memset(&pi, 0, sizeof(pi));
            memcpy(&pi.ipi_spec_dst, m + 20, 4);
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
          }
        }
      }
    }
    int r = sendmmsg(s->fd, msgs, n, MSG_DONTWAIT);
    if (r < 0) { err = errno; break; }
    done += (uint32_t)r;
    if ((uint32_t)r < n) break;
  }
  napi_value out;
  napi_create_int32(env, done == 0 && err ? -err : (int32_t)done, &out);
  return out;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) return throw_errno(env, "info", EBADF);
  struct sockaddr_storage sa;
  socklen_t l = sizeof(sa);
  if (getsockname(s->fd, (struct sockaddr *)&sa, &l) < 0) return throw_errno(env, "getsockname", errno);
  char text[64] = "";
  int port = 0;
  if (sa.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof(text));
    port = ntohs(a->sin6_port);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&sa;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof(text));
    port = ntohs(a->sin_port);
  }
  int rcv = 0, snd = 0;
  socklen_t ol = sizeof(int);
  getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, &ol);
  ol = sizeof(int);
  getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &snd, &ol);
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_int32(env, s->family, &v); napi_set_named_property(env, obj, "family", v);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &v); napi_set_named_property(env, obj, "address", v);
  napi_create_int32(env, port, &v); napi_set_named_property(env, obj, "port", v);
  napi_create_int32(env, rcv, &v); napi_set_named_property(env, obj, "rcvbuf", v);
  napi_create_int32(env, snd, &v); napi_set_named_property(env, obj, "sndbuf", v);
  return obj;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  sock_t *s = unwrap(env, argv[0]);
  if (!s) return NULL;
  do_close(s, 0);
  return NULL;
}

napi_value tsr_js_md5(napi_env env, napi_callback_info info); /* md5.c */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    { "create", NULL, js_create, NULL, NULL, NULL, napi_default, NULL },
    { "sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_default, NULL },
    { "info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL },
    { "close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL },
    { "md5", NULL, tsr_js_md5, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
