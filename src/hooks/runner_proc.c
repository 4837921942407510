/*
 * runner_proc.c - one command's process: spawn, output capture, timeout.
 *
 * Spawning: libuv's uv_spawn with an argv array (never a shell) and
 * UV_PROCESS_DETACHED. Detached makes the child call setsid(): it leads a
 * new session and so a new process group whose id is its pid. That is what
 * the timeout needs: kill(-pid) reaches the command and every process it
 * started that did not leave the group. The new session also means the
 * command has no controlling terminal, so a Ctrl-C in hookd's terminal is not
 * delivered to commands behind hookd's back: hookd ends them itself, in
 * order. (posix_spawn with POSIX_SPAWN_SETPGROUP would give a group without
 * the session, but then the runner would have to reap children and poll the
 * pipes itself; uv_spawn already does both on the loop, and reports a
 * command that cannot be executed synchronously.) libuv resets the signal
 * mask and dispositions in the child, so hookd's blocked signals and ignored
 * SIGPIPE do not leak into commands.
 *
 * Output: stdout and stderr are the two ends of one pipe, so the capture
 * keeps their interleaving, as adnanh's CombinedOutput does. Up to the hook's
 * output-limit is kept; the rest is read and dropped (truncated = true), so
 * a chatty command never blocks on a full pipe.
 *
 * A run ends when the process has exited and the pipe has reached EOF (a
 * background child holding the pipe keeps the run going, bounded by the
 * timeout). Timeout: SIGTERM to the group, SIGKILL to the group after the
 * grace period.
 *
 * pass-file-to-command files are written (mode 0600) in the command's
 * working directory, or $TMPDIR, before the spawn and removed after the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "hooks/runner_int.h"

extern char **environ;

static void on_close(uv_handle_t *h)
{
	struct runner_job *j = h->data;

	if (--j->open == 0)
		runner_job_finished(j);
}

static void maybe_done(struct runner_job *j)
{
	if (!j->exited || !j->eof)
		return;
	uv_timer_stop(&j->timer);
	uv_close((uv_handle_t *)&j->timer, on_close);
	uv_close((uv_handle_t *)&j->proc, on_close);
}

void proc_kill(struct runner_job *j, int sig)
{
	if (!j->spawned || (j->exited && j->eof))
		return;
	j->killed = true;
	if (kill(-j->proc.pid, sig) < 0 && errno != ESRCH)
		log_warn("cannot signal the process group of run '%s'", j->id);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct runner_job *j = p->data;

	j->exited = true;
	j->exit_status = status;
	j->term_signal = sig;
	maybe_done(j);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct runner_job *j = h->data;
	(void)suggested;
	*b = uv_buf_init(j->rbuf, sizeof(j->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct runner_job *j = s->data;

	if (n > 0) {
		size_t room = j->def->output_limit - j->output.len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		if (take && buf_append(&j->output, b->base, take) < 0)
			take = 0;
		if (take < (size_t)n)
			j->truncated = true;
		return;
	}
	if (n == 0)
		return;
	j->eof = true;
	uv_read_stop(s);
	uv_close((uv_handle_t *)s, on_close);
	maybe_done(j);
}

static void on_timeout(uv_timer_t *t)
{
	struct runner_job *j = t->data;

	if (!j->timed_out) {
		j->timed_out = true;
		snprintf(j->error, sizeof(j->error), "timed out after %u s", j->def->timeout_s);
		log_warnx("run '%s' of hook '%s' timed out after %u s, terminating its process group",
			  j->id, j->def->id, j->def->timeout_s);
		proc_kill(j, SIGTERM);
		uv_timer_start(t, on_timeout, (uint64_t)j->r->cfg.kill_grace_ms, 0);
		return;
	}
	log_warnx("run '%s' of hook '%s' still alive after SIGTERM, killing its process group", j->id,
		  j->def->id);
	proc_kill(j, SIGKILL);
}

/* write_files writes pass-file-to-command contents and adds their env entries to env */
static int write_files(struct runner_job *j, char **env, size_t *nenv)
{
	const char *dir = j->def->command_working_directory;
	const char *tmp = getenv("TMPDIR");

	if (!dir[0])
		dir = tmp && *tmp ? tmp : "/tmp";
	j->tmpfiles = calloc(j->argv.nfiles + 1, sizeof(char *));
	if (!j->tmpfiles)
		return HK_ENOMEM;
	for (size_t i = 0; i < j->argv.nfiles; i++) {
		const struct hookdef_file *f = &j->argv.files[i];
		size_t need = strlen(dir) + strlen(f->envname) + 16;
		char *path = malloc(need), *entry;
		int fd;

		if (!path)
			return HK_ENOMEM;
		snprintf(path, need, "%s/%s-XXXXXX", dir, f->envname);
		fd = mkstemp(path);
		if (fd < 0) {
			snprintf(j->error, sizeof(j->error), "cannot create a file in '%s': %s", dir,
				 strerror(errno));
			free(path);
			return HK_EIO;
		}
		j->tmpfiles[j->ntmp++] = path;
		if (write(fd, f->data, f->len) != (ssize_t)f->len) {
			snprintf(j->error, sizeof(j->error), "cannot write '%s': %s", path, strerror(errno));
			close(fd);
			return HK_EIO;
		}
		close(fd);
		need = strlen(f->envname) + strlen(path) + 2;
		entry = malloc(need);
		if (!entry)
			return HK_ENOMEM;
		snprintf(entry, need, "%s=%s", f->envname, path);
		env[(*nenv)++] = entry;
	}
	return 0;
}

/* same_name: whether two NAME=value entries name the same variable */
static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(a, "=");
	return strncmp(a, b, n) == 0 && b[n] == '=';
}

/* set_later: whether env[from..n) sets the variable that entry sets */
static bool set_later(char *const *env, size_t from, size_t n, const char *entry)
{
	for (size_t i = from; i < n; i++)
		if (same_name(entry, env[i]))
			return true;
	return false;
}

/*
 * build_env is the inherited environment plus the hook's variables and
 * files; a variable set twice keeps its last value, as adnanh's (Go's) does
 */
static char **build_env(struct runner_job *j, size_t *nowned, size_t *start)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + j->argv.nenv + j->argv.nfiles + 1, sizeof(char *));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!set_later(j->argv.env, 0, j->argv.nenv, environ[i]))
			env[k++] = environ[i];
	for (size_t i = 0; i < j->argv.nenv; i++)
		if (!set_later(j->argv.env, i + 1, j->argv.nenv, j->argv.env[i]))
			env[k++] = j->argv.env[i];
	*start = k;
	if (write_files(j, env, &k) < 0) {
		for (size_t i = *start; i < k; i++)
			free(env[i]);
		free(env);
		return NULL;
	}
	*nowned = k;
	return env;
}

static int spawn(struct runner_job *j, char **env, int wfd)
{
	const char *cwd = j->def->command_working_directory;
	uv_stdio_container_t stdio[3];
	uv_process_options_t o;
	char *alt = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = wfd;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = wfd;
	o.file = j->argv.argv[0];
	o.args = j->argv.argv;
	o.env = env;
	o.cwd = cwd[0] ? cwd : NULL;
	o.flags = UV_PROCESS_DETACHED;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = on_exit_cb;
	if (cwd[0] && !strchr(o.file, '/')) {
		/* like adnanh: with a working directory, a bare name is looked for there only */
		size_t need = strlen(cwd) + strlen(o.file) + 2;
		alt = malloc(need);
		if (alt) {
			snprintf(alt, need, "%s/%s", cwd, o.file);
			o.file = alt;
		}
	}
	/* on failure too the handle is initialised: the caller closes it */
	rc = uv_spawn(&j->r->loop, &j->proc, &o);
	if (rc < 0)
		snprintf(j->error, sizeof(j->error), "cannot run '%s': %s", j->argv.argv[0], uv_strerror(rc));
	free(alt);
	return rc;
}

int proc_start(struct runner_job *j)
{
	uv_file fds[2];
	size_t nowned = 0, start = 0;
	char **env = build_env(j, &nowned, &start);
	int rc;

	if (!env) {
		if (!j->error[0])
			snprintf(j->error, sizeof(j->error), "out of memory");
		log_warnx("run '%s' of hook '%s': %s", j->id, j->def->id, j->error);
		return HK_EIO;
	}
	rc = uv_pipe(fds, 0, 0);
	if (rc < 0) {
		snprintf(j->error, sizeof(j->error), "cannot make a pipe: %s", uv_strerror(rc));
		goto out;
	}
	uv_pipe_init(&j->r->loop, &j->out, 0);
	uv_pipe_open(&j->out, fds[0]);
	uv_timer_init(&j->r->loop, &j->timer);
	j->out.data = j->timer.data = j->proc.data = j;
	j->open = 3;
	rc = spawn(j, env, fds[1]);
	close(fds[1]);
	if (rc < 0) {
		log_warnx("run '%s' of hook '%s': %s", j->id, j->def->id, j->error);
		j->eof = true;
		uv_close((uv_handle_t *)&j->out, on_close);
		uv_close((uv_handle_t *)&j->timer, on_close);
		uv_close((uv_handle_t *)&j->proc, on_close);
		rc = 0; /* the close callbacks finish the job */
		goto out;
	}
	j->spawned = true;
	uv_read_start((uv_stream_t *)&j->out, on_alloc, on_read);
	if (j->def->timeout_s)
		uv_timer_start(&j->timer, on_timeout, (uint64_t)j->def->timeout_s * 1000, 0);
out:
	for (size_t i = start; i < nowned; i++)
		free(env[i]);
	free(env);
	return rc;
}
