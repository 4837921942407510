/*
 * sink.c - the receiving end of hookd's benchmarks: a small HTTP/1.1
 * keep-alive server that answers every request "200" with an empty body.
 *
 * It must never be the bottleneck it is measuring, so it does as little as a
 * correct server can: non-blocking sockets on epoll, one loop per thread
 * (all threads share the listening socket, EPOLLEXCLUSIVE wakes one),
 * requests parsed only as far as the request line, Content-Length and
 * webhook-id, pipelined requests answered in one write.
 *
 * What it measures:
 *   GET /stats           {"requests":N,"webhooks":W,"first_us":F,"last_us":L}
 *                        (W counts requests carrying a webhook-id; F and L are
 *                        the wall-clock arrival times of the first and last of
 *                        them, in microseconds since the epoch); not counted
 *   --record FILE        keeps "webhook-id arrival_us" per webhook request and
 *                        writes them to FILE on SIGUSR1 and on SIGTERM/SIGINT
 *
 * Limits: a request head larger than the connection buffer, a chunked body
 * or a malformed head closes the connection (the benchmark clients never
 * send one). Bodies of any size are read and dropped.
 *
 * Usage: sink [--port N] [--threads N] [--record FILE]
 * Prints "listening on http://127.0.0.1:PORT" once it accepts connections.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SINK_BUF 65536		  /* per-connection input; a head must fit */
#define SINK_OUT 16384		  /* per-connection pending responses */
#define SINK_ID_MAX 64		  /* longest webhook-id kept */
#define SINK_MAX_THREADS 8
#define SINK_RECORD_CHUNK 65536	  /* records per allocation */
#define SINK_RECORD_CHUNKS 256	  /* at most 16M records per thread */

static const char ok_reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

struct sink_rec {
	char id[SINK_ID_MAX];
	int64_t at_us;
};

/* records of one thread in fixed chunks; only its thread appends, the
 * signal thread reads entries below the published count */
struct sink_log {
	struct sink_rec *chunks[SINK_RECORD_CHUNKS];
	atomic_size_t n;
};

struct sink_conn {
	int fd;
	size_t len;	     /* bytes in in[] */
	uint64_t skip;	     /* body bytes still to drop after in[] ran dry */
	size_t outlen;	     /* bytes in out[] not written yet */
	char in[SINK_BUF];
	char out[SINK_OUT];
};

struct sink_worker {
	pthread_t thread;
	int ep;
	struct sink_log log;
};

static int listen_fd = -1;
static bool recording;
static atomic_uint_fast64_t n_requests, n_webhooks;
static atomic_int_fast64_t first_us, last_us;
static struct sink_worker workers[SINK_MAX_THREADS];
static int nworkers = 1;

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- records ---- */

static void log_add(struct sink_log *lg, const char *id, size_t idlen, int64_t at)
{
	size_t n = atomic_load_explicit(&lg->n, memory_order_relaxed);
	size_t c = n / SINK_RECORD_CHUNK;
	struct sink_rec *r;

	if (c >= SINK_RECORD_CHUNKS)
		return; /* full: later arrivals are counted but not recorded */
	if (!lg->chunks[c]) {
		lg->chunks[c] = malloc(SINK_RECORD_CHUNK * sizeof(struct sink_rec));
		if (!lg->chunks[c])
			return;
	}
	r = &lg->chunks[c][n % SINK_RECORD_CHUNK];
	if (idlen >= SINK_ID_MAX)
		idlen = SINK_ID_MAX - 1;
	memcpy(r->id, id, idlen);
	r->id[idlen] = '\0';
	r->at_us = at;
	/* publishes the record (and its chunk) to log_dump */
	atomic_store_explicit(&lg->n, n + 1, memory_order_release);
}

static int log_dump(const char *path)
{
	FILE *f = fopen(path, "w");
	size_t total = 0;

	if (!f) {
		fprintf(stderr, "sink: cannot open '%s'\n", path);
		return -1;
	}
	for (int w = 0; w < nworkers; w++) {
		struct sink_log *lg = &workers[w].log;
		size_t n = atomic_load_explicit(&lg->n, memory_order_acquire);
		for (size_t i = 0; i < n; i++) {
			struct sink_rec *r = &lg->chunks[i / SINK_RECORD_CHUNK][i % SINK_RECORD_CHUNK];
			fprintf(f, "%s %" PRId64 "\n", r->id, r->at_us);
		}
		total += n;
	}
	fclose(f);
	fprintf(stderr, "sink: wrote %zu records to '%s'\n", total, path);
	return 0;
}

/* ---- requests ---- */

/* header_value finds "name:" in a head (lines after the request line) */
static const char *header_value(const char *head, size_t hlen, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = memchr(head, '\n', hlen);
	const char *end = head + hlen;

	while (p && p + 1 < end) {
		const char *line = p + 1;
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			break;
		if ((size_t)(eol - line) > nlen && line[nlen] == ':' && strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;
			const char *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = eol;
	}
	return NULL;
}

static bool reply(struct sink_conn *c, const char *data, size_t len)
{
	if (c->outlen + len > sizeof(c->out))
		return false;
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
	return true;
}

static bool reply_stats(struct sink_conn *c)
{
	char body[256], msg[384];
	int blen = snprintf(body, sizeof(body),
			    "{\"requests\":%" PRIu64 ",\"webhooks\":%" PRIu64 ",\"first_us\":%" PRId64
			    ",\"last_us\":%" PRId64 "}",
			    (uint64_t)atomic_load(&n_requests), (uint64_t)atomic_load(&n_webhooks),
			    (int64_t)atomic_load(&first_us), (int64_t)atomic_load(&last_us));
	int mlen = snprintf(msg, sizeof(msg),
			    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			    blen, body);
	return reply(c, msg, (size_t)mlen);
}

/*
 * handle_input answers every complete request in c->in and keeps a partial
 * one for the next read. Returns false when the connection must close.
 */
static bool handle_input(struct sink_worker *w, struct sink_conn *c)
{
	size_t pos = 0;
	bool keep = true;

	while (keep && pos < c->len) {
		const char *head = c->in + pos;
		size_t avail = c->len - pos, vlen, hlen;
		const char *eoh = memmem(head, avail, "\r\n\r\n", 4);
		const char *v;
		uint64_t clen = 0;

		if (!eoh)
			break;
		hlen = (size_t)(eoh - head) + 4;
		v = header_value(head, hlen, "transfer-encoding", &vlen);
		if (v)
			return false;
		v = header_value(head, hlen, "content-length", &vlen);
		if (v) {
			char num[24];
			char *endp;
			if (!vlen || vlen >= sizeof(num))
				return false;
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			clen = strtoull(num, &endp, 10);
			if (*endp)
				return false;
		}
		if (avail >= 11 && memcmp(head, "GET /stats ", 11) == 0) {
			keep = reply_stats(c);
		} else {
			int64_t at = now_us();
			atomic_fetch_add_explicit(&n_requests, 1, memory_order_relaxed);
			v = header_value(head, hlen, "webhook-id", &vlen);
			if (v) {
				int_fast64_t zero = 0;
				atomic_fetch_add_explicit(&n_webhooks, 1, memory_order_relaxed);
				atomic_compare_exchange_strong(&first_us, &zero, at);
				atomic_store_explicit(&last_us, at, memory_order_relaxed);
				if (recording)
					log_add(&w->log, v, vlen, at);
			}
			keep = reply(c, ok_reply, sizeof(ok_reply) - 1);
		}
		v = header_value(head, hlen, "connection", &vlen);
		if (v && vlen == 5 && strncasecmp(v, "close", 5) == 0)
			keep = false;
		/* the body: what is here is consumed, the rest is dropped as it comes */
		if (clen <= avail - hlen) {
			pos += hlen + clen;
		} else {
			c->skip = clen - (avail - hlen);
			pos = c->len;
		}
	}
	memmove(c->in, c->in + pos, c->len - pos);
	c->len -= pos;
	if (c->len == sizeof(c->in))
		return false; /* a head that does not fit */
	return keep;
}

static bool flush_out(struct sink_conn *c)
{
	size_t off = 0;

	while (off < c->outlen) {
		ssize_t n = send(c->fd, c->out + off, c->outlen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return false;
		off += (size_t)n;
	}
	memmove(c->out, c->out + off, c->outlen - off);
	c->outlen -= off;
	return true;
}

static void conn_close(struct sink_worker *w, struct sink_conn *c)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* conn_event reads what arrived, answers it, and writes what it can */
static void conn_event(struct sink_worker *w, struct sink_conn *c, uint32_t events)
{
	bool ok = !(events & (EPOLLERR | EPOLLHUP)) || (events & EPOLLIN);

	while (ok && (events & EPOLLIN)) {
		char drop[SINK_BUF];
		ssize_t n;

		if (c->skip) {
			size_t want = c->skip < sizeof(drop) ? (size_t)c->skip : sizeof(drop);
			n = recv(c->fd, drop, want, 0);
			if (n > 0)
				c->skip -= (uint64_t)n;
		} else {
			n = recv(c->fd, c->in + c->len, sizeof(c->in) - c->len, 0);
			if (n > 0) {
				c->len += (size_t)n;
				if (!handle_input(w, c)) {
					flush_out(c); /* the last answers, then close */
					ok = false;
				}
			}
		}
		if (n == 0) {
			ok = false;
		} else if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno != EINTR)
				ok = false;
		}
		if (c->outlen > sizeof(c->out) / 2 && ok)
			ok = flush_out(c);
	}
	if (ok)
		ok = flush_out(c);
	if (ok && c->outlen) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
		epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	if (!ok)
		conn_close(w, c);
}

static void accept_all(struct sink_worker *w)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		int one = 1;
		struct sink_conn *c;
		struct epoll_event ev;

		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->skip = 0;
		c->outlen = 0;
		ev = (struct epoll_event){.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = c};
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

static void *worker_main(void *arg)
{
	struct sink_worker *w = arg;
	struct epoll_event evs[256];

	for (;;) {
		int n = epoll_wait(w->ep, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				accept_all(w);
			else
				conn_event(w, evs[i].data.ptr, evs[i].events);
		}
	}
	return NULL;
}

/* ---- main ---- */

static int open_listener(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	socklen_t alen = sizeof(a);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		close(fd);
		return -1;
	}
	printf("listening on http://127.0.0.1:%d\n", ntohs(a.sin_port));
	fflush(stdout);
	return fd;
}

static int usage(void)
{
	fprintf(stderr, "usage: sink [--port N] [--threads 1..%d] [--record FILE]\n", SINK_MAX_THREADS);
	return 2;
}

int main(int argc, char **argv)
{
	const char *record = NULL;
	int port = 0;
	sigset_t set;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			nworkers = (int)strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--record") == 0 && i + 1 < argc)
			record = argv[++i];
		else
			return usage();
	}
	if (nworkers < 1 || nworkers > SINK_MAX_THREADS || port < 0 || port > 65535)
		return usage();
	recording = record != NULL;

	/* workers never see signals; this thread waits for them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	listen_fd = open_listener(port);
	if (listen_fd < 0) {
		perror("sink: cannot listen");
		return 1;
	}
	for (int i = 0; i < nworkers; i++) {
		struct sink_worker *w = &workers[i];
		struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL};
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0 || epoll_ctl(w->ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0 ||
		    pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			perror("sink: cannot start a worker");
			return 1;
		}
	}
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (record)
			log_dump(record);
		if (sig != SIGUSR1)
			break;
	}
	/* workers are still in epoll_wait; exiting the process ends them */
	return 0;
}
