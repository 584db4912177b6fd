/*
 * The two socket options Node cannot reach, for transparent interception (Istio sidecars):
 *
 *   originalDst(fd, family)  getsockopt(SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST): where a
 *                            connection redirected by iptables REDIRECT was going.
 *   setTransparent(fd, family) setsockopt(IP_TRANSPARENT / IPV6_TRANSPARENT) on a listening
 *                            socket, so that TPROXY can deliver connections to it.
 *
 * Both take the file descriptor of a socket Node already owns (`socket._handle.fd`) and never
 * close it. Errors are thrown as JavaScript errors carrying the errno name in `code`.
 */
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
/* The values of <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h>, spelled out
 * so that the addon builds without the kernel headers package. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#endif

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == ENOENT ? "ENOENT" : err == ENOPROTOOPT ? "ENOPROTOOPT" : err == EBADF ? "EBADF"
                   : err == ENOTSOCK ? "ENOTSOCK" : err == EPERM ? "EPERM" : err == EINVAL ? "EINVAL" : "EIO";
  napi_throw_error(env, code, msg);
  return NULL;
}

/* Reads (fd: number, family: 4 | 6) from the call; returns 0 after throwing on bad input. */
static int read_args(napi_env env, napi_callback_info info, int *fd, int *family) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected (fd, family)");
    return 0;
  }
  int32_t a = -1, b = 0;
  if (napi_get_value_int32(env, argv[0], &a) != napi_ok || a < 0 || napi_get_value_int32(env, argv[1], &b) != napi_ok || (b != 4 && b != 6)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG", "expected a file descriptor >= 0 and a family of 4 or 6");
    return 0;
  }
  *fd = a;
  *family = b;
  return 1;
}

static napi_value address_object(napi_env env, const char *ip, unsigned port, int family) {
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, ip, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "address", v);
  napi_create_uint32(env, port, &v);
  napi_set_named_property(env, obj, "port", v);
  napi_create_uint32(env, (uint32_t)family, &v);
  napi_set_named_property(env, obj, "family", v);
  return obj;
}

static napi_value original_dst(napi_env env, napi_callback_info info) {
  int fd, family;
  if (!read_args(env, info, &fd, &family)) return NULL;
#ifdef __linux__
  char ip[INET6_ADDRSTRLEN];
  if (family == 4) {
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    memset(&sin, 0, sizeof sin);
    if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &sin, &len) != 0) return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
    inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
    return address_object(env, ip, ntohs(sin.sin_port), 4);
  }
  struct sockaddr_in6 sin6;
  socklen_t len6 = sizeof sin6;
  memset(&sin6, 0, sizeof sin6);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &sin6, &len6) != 0) return throw_errno(env, "getsockopt(IP6T_SO_ORIGINAL_DST)", errno);
  inet_ntop(AF_INET6, &sin6.sin6_addr, ip, sizeof ip);
  return address_object(env, ip, ntohs(sin6.sin6_port), 6);
#else
  napi_throw_error(env, "ENOTSUP", "SO_ORIGINAL_DST exists only on Linux");
  return NULL;
#endif
}

static napi_value set_transparent(napi_env env, napi_callback_info info) {
  int fd, family;
  if (!read_args(env, info, &fd, &family)) return NULL;
#ifdef __linux__
  int one = 1;
  int rc = family == 4 ? setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one)
                       : setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof one);
  if (rc != 0) return throw_errno(env, family == 4 ? "setsockopt(IP_TRANSPARENT)" : "setsockopt(IPV6_TRANSPARENT)", errno);
  /* A dual-stack (::) socket also receives IPv4 connections: mark it for both. */
  if (family == 6) (void)setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one);
  napi_value undef;
  napi_get_undefined(env, &undef);
  return undef;
#else
  napi_throw_error(env, "ENOTSUP", "IP_TRANSPARENT exists only on Linux");
  return NULL;
#endif
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "originalDst", NAPI_AUTO_LENGTH, original_dst, NULL, &fn);
  napi_set_named_property(env, exports, "originalDst", fn);
  napi_create_function(env, "setTransparent", NAPI_AUTO_LENGTH, set_transparent, NULL, &fn);
  napi_set_named_property(env, exports, "setTransparent", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
