/*
 * store_sqlite_vfs.c - a VFS over SQLite's own that writes each commit's
 * WAL frames with one system call.
 *
 * SQLite appends a frame to the WAL as two writes, its 24-byte header and
 * then the page, so a commit of n pages costs 2n pwrite calls, each page
 * straddling two pages of the kernel's cache. Here consecutive appends to a
 * WAL file gather in a buffer and go out as one pwrite, from a call that can
 * report a failure to SQLite:
 *   - the write of a commit frame's page (the frame whose header holds the
 *     database size, the last one SQLite writes before it publishes the
 *     commit): a failure there fails the commit, as an unbuffered write would;
 *   - a write elsewhere in the file or a full buffer (that write fails);
 *   - a read, sync, truncate, size query, file control or close of the file.
 * A write that follows a read goes straight to the file: that is how SQLite
 * rewrites frame checksums in place before a commit. Besides, the memory
 * barrier on the database's shared-memory index (xShmBarrier), which comes
 * between the two copies of the index header that publish a commit, writes
 * anything still gathered; it cannot report a failure, so a failed write
 * stays gathered and fails the next call above. So no reader can see a frame
 * that is not in the file, and a crash loses only frames no commit has
 * published. Everything else goes to the default VFS as is.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_sqlite.h"

/* below 128 KiB: the default VFS writes at most 0x1ffff bytes per call and takes less as a full disk */
#define WAL_BUF (120u << 10)

struct vfile {
	sqlite3_file base;
	sqlite3_file *real;   /* the default VFS's file, allocated after this struct */
	bool wal;
	/* WAL files: appends not yet written, at file offset off */
	pthread_mutex_t mu;
	unsigned char *buf;
	size_t len;
	sqlite3_int64 off;
	bool commit_page;     /* the last write was a commit frame's header: its page comes next */
	bool after_read;      /* the last call was a read */
	char *db;             /* the database's path (a WAL file: without "-wal") */
	struct vfile *next;   /* open WAL files */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs vfs;
static pthread_mutex_t wals_mu = PTHREAD_MUTEX_INITIALIZER;
static struct vfile *wals;

/* flush writes the gathered appends, which stay gathered when that fails; f->mu held */
static int flush(struct vfile *f)
{
	int rc = SQLITE_OK;

	if (f->len)
		rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
	if (rc == SQLITE_OK)
		f->len = 0;
	return rc;
}

/* is_commit_header: a frame header (24 bytes) whose second word, the database size, is set */
static bool is_commit_header(const void *in, int amt)
{
	const unsigned char *b = in;
	return amt == 24 && (b[4] | b[5] | b[6] | b[7]) != 0;
}

static int flush_locked(struct vfile *f)
{
	int rc;

	pthread_mutex_lock(&f->mu);
	rc = flush(f);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

/* ---- methods ---- */

static int v_close(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file, **p;
	int rc = SQLITE_OK;

	if (f->wal) {
		pthread_mutex_lock(&wals_mu);
		for (p = &wals; *p; p = &(*p)->next) {
			if (*p == f) {
				*p = f->next;
				break;
			}
		}
		pthread_mutex_unlock(&wals_mu);
		rc = flush_locked(f);
		pthread_mutex_destroy(&f->mu);
		free(f->buf);
	}
	free(f->db);
	f->db = NULL;
	if (f->real->pMethods) {
		int crc = f->real->pMethods->xClose(f->real);
		if (rc == SQLITE_OK)
			rc = crc;
	}
	return rc;
}

static int v_read(sqlite3_file *file, void *out, int amt, sqlite3_int64 off)
{
	struct vfile *f = (struct vfile *)file;
	int rc = SQLITE_OK;

	if (f->wal) {
		pthread_mutex_lock(&f->mu);
		rc = flush(f);
		f->after_read = true;
		pthread_mutex_unlock(&f->mu);
	}
	return rc == SQLITE_OK ? f->real->pMethods->xRead(f->real, out, amt, off) : rc;
}

static int v_write(sqlite3_file *file, const void *in, int amt, sqlite3_int64 off)
{
	struct vfile *f = (struct vfile *)file;
	bool direct;
	int rc = SQLITE_OK;

	if (!f->wal || amt <= 0)
		return f->real->pMethods->xWrite(f->real, in, amt, off);
	pthread_mutex_lock(&f->mu);
	direct = f->after_read || (size_t)amt > WAL_BUF;
	f->after_read = false;
	if (f->len && (direct || off != f->off + (sqlite3_int64)f->len || f->len + (size_t)amt > WAL_BUF))
		rc = flush(f);
	if (rc != SQLITE_OK)
		goto out;
	if (direct) {
		f->commit_page = false;
		rc = f->real->pMethods->xWrite(f->real, in, amt, off);
		goto out;
	}
	if (!f->len)
		f->off = off;
	memcpy(f->buf + f->len, in, (size_t)amt);
	f->len += (size_t)amt;
	if (f->commit_page) {
		f->commit_page = false;
		rc = flush(f); /* the commit is complete: into the file before SQLite publishes it */
	} else {
		f->commit_page = is_commit_header(in, amt);
	}
out:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int v_truncate(sqlite3_file *file, sqlite3_int64 size)
{
	struct vfile *f = (struct vfile *)file;
	int rc = f->wal ? flush_locked(f) : SQLITE_OK;

	return rc == SQLITE_OK ? f->real->pMethods->xTruncate(f->real, size) : rc;
}

static int v_sync(sqlite3_file *file, int flags)
{
	struct vfile *f = (struct vfile *)file;
	int rc = f->wal ? flush_locked(f) : SQLITE_OK;

	return rc == SQLITE_OK ? f->real->pMethods->xSync(f->real, flags) : rc;
}

static int v_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
	struct vfile *f = (struct vfile *)file;
	int rc = f->wal ? flush_locked(f) : SQLITE_OK;

	return rc == SQLITE_OK ? f->real->pMethods->xFileSize(f->real, size) : rc;
}

static int v_lock(sqlite3_file *file, int lock)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xLock(f->real, lock);
}

static int v_unlock(sqlite3_file *file, int lock)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xUnlock(f->real, lock);
}

static int v_check_reserved(sqlite3_file *file, int *out)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int v_file_control(sqlite3_file *file, int op, void *arg)
{
	struct vfile *f = (struct vfile *)file;
	int rc = f->wal ? flush_locked(f) : SQLITE_OK;

	return rc == SQLITE_OK ? f->real->pMethods->xFileControl(f->real, op, arg) : rc;
}

static int v_sector_size(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xSectorSize(f->real);
}

static int v_device_characteristics(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int v_shm_map(sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xShmMap(f->real, page, size, extend, out);
}

static int v_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

/* v_shm_barrier puts the database's gathered WAL frames in the file before a commit is published */
static void v_shm_barrier(sqlite3_file *file)
{
	struct vfile *f = (struct vfile *)file, *w;

	pthread_mutex_lock(&wals_mu);
	for (w = wals; w; w = w->next) {
		if (w->db && f->db && strcmp(w->db, f->db) == 0)
			(void)flush_locked(w); /* a failed write shows again at the next sync */
	}
	pthread_mutex_unlock(&wals_mu);
	f->real->pMethods->xShmBarrier(f->real);
}

static int v_shm_unmap(sqlite3_file *file, int del)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int v_fetch(sqlite3_file *file, sqlite3_int64 off, int amt, void **out)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xFetch(f->real, off, amt, out);
}

static int v_unfetch(sqlite3_file *file, sqlite3_int64 off, void *p)
{
	struct vfile *f = (struct vfile *)file;
	return f->real->pMethods->xUnfetch(f->real, off, p);
}

static const sqlite3_io_methods methods = {
	3,
	v_close,
	v_read,
	v_write,
	v_truncate,
	v_sync,
	v_file_size,
	v_lock,
	v_unlock,
	v_check_reserved,
	v_file_control,
	v_sector_size,
	v_device_characteristics,
	v_shm_map,
	v_shm_lock,
	v_shm_barrier,
	v_shm_unmap,
	v_fetch,
	v_unfetch,
};

/* ---- the VFS ---- */

static int v_open(sqlite3_vfs *self, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
	struct vfile *f = (struct vfile *)file;
	size_t n;
	int rc;

	(void)self;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK)
		return rc; /* base.pMethods stays NULL: SQLite does not close it */
	if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) {
		n = strlen(name);
		if (flags & SQLITE_OPEN_WAL)
			n = n > 4 ? n - 4 : n;
		f->db = strndup(name, n);
	}
	if ((flags & SQLITE_OPEN_WAL) && f->db) {
		f->buf = malloc(WAL_BUF);
		if (!f->buf) {
			f->real->pMethods->xClose(f->real);
			free(f->db);
			return SQLITE_NOMEM;
		}
		f->wal = true;
		pthread_mutex_init(&f->mu, NULL);
		pthread_mutex_lock(&wals_mu);
		f->next = wals;
		wals = f;
		pthread_mutex_unlock(&wals_mu);
	}
	f->base.pMethods = &methods;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *self, const char *name, int sync_dir)
{
	(void)self;
	return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *self, const char *name, int flags, int *out)
{
	(void)self;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *self, const char *name, int n, char *out)
{
	(void)self;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static int v_randomness(sqlite3_vfs *self, int n, char *out)
{
	(void)self;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *self, int us)
{
	(void)self;
	return base_vfs->xSleep(base_vfs, us);
}

static int v_current_time(sqlite3_vfs *self, double *out)
{
	(void)self;
	return base_vfs->xCurrentTime(base_vfs, out);
}

static int v_last_error(sqlite3_vfs *self, int n, char *out)
{
	(void)self;
	return base_vfs->xGetLastError(base_vfs, n, out);
}

static int v_current_time_int64(sqlite3_vfs *self, sqlite3_int64 *out)
{
	(void)self;
	return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

int sq_vfs_register(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs || base_vfs->iVersion < 2)
		return SQLITE_ERROR;
	vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct vfile) + base_vfs->szOsFile,
		.mxPathname = base_vfs->mxPathname,
		.zName = "hookd",
		.xOpen = v_open,
		.xDelete = v_delete,
		.xAccess = v_access,
		.xFullPathname = v_full_pathname,
		.xRandomness = v_randomness,
		.xSleep = v_sleep,
		.xCurrentTime = v_current_time,
		.xGetLastError = v_last_error,
		.xCurrentTimeInt64 = v_current_time_int64,
	};
	return sqlite3_vfs_register(&vfs, 1);
}
