/*
 * err.h - the one error type of hookd.
 *
 * Every function that can fail returns int: 0 on success or a negative HK_E*
 * code from the table below. The same X-macro yields the code's name and a
 * human message through hk_strerror(). Detail for humans travels in an
 * explicit out-parameter or the log, never through exit().
 */
#ifndef HK_ERR_H
#define HK_ERR_H

#define HK_ERRNO_MAP(X)                                              \
	X(NOMEM, "out of memory")                                    \
	X(INVAL, "invalid argument")                                 \
	X(NOTFOUND, "not found")                                     \
	X(CONFLICT, "already exists")                                \
	X(TOOBIG, "too large")                                       \
	X(IO, "input/output error")                                  \
	X(DB, "database error")                                      \
	X(BUSY, "busy, try again")                                   \
	X(FULL, "queue full")                                        \
	X(PARSE, "malformed input")                                  \
	X(AUTH, "not authorized")                                    \
	X(FORBIDDEN, "forbidden")                                    \
	X(VERIFY, "signature verification failed")                   \
	X(TIMEOUT, "timed out")                                      \
	X(DENIED, "address not allowed")                             \
	X(CLOSED, "closed")                                          \
	X(UNSUPPORTED, "not supported")                              \
	X(NOSPACE, "no space left")

enum hk_err {
	HK_OK = 0,
#define HK_ERR_ENUM(name, msg) HK_E##name,
	HK__EFIRST = -1000,
	HK_ERRNO_MAP(HK_ERR_ENUM)
#undef HK_ERR_ENUM
	HK__ELAST
};

/* hk_strerror returns a static, lowercase message for a code (0 included). */
const char *hk_strerror(int code);

/* hk_errname returns the code's short name ("NOTFOUND") for logs and tests. */
const char *hk_errname(int code);

#endif
