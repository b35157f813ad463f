/* exec-reorder: the reorder buffer. Records come out in input order, so a
 * job that ends before an earlier one waits here, as the bytes it will be
 * written as, until every job before it is written. Bounded by memory,
 * not by a count of records: up to --reorder-mb of records and index in
 * memory, the rest in a temporary file (made at the first need, removed
 * from its folder at once, so nothing is left behind). A record stuck in
 * backoff thus holds up only the writing, never the reading and the
 * requests behind it; only when the index of the records held (40 bytes
 * each) would pass the bound does reading wait. */
#include "exec-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct held {
	char *bytes;            /* in memory, or NULL: in the file at off */
	size_t len;
	off_t off;
	long records;
	int full;               /* the job has ended: this is its output */
};

static struct held *ring;       /* seq s at s & (cap - 1), for next_out <= s */
static long cap, next_out, held_last = -1;
static size_t held_mem;         /* bytes held in memory */
static int spill_fd = -1;
static off_t spill_end;
static long spilled;            /* records written to the file, for the summary */

static size_t budget(void)
{
	double b = ex.cfg.reorder_mb * 1048576.0;
	return b > 1e18 ? (size_t)1e18 : (size_t)b;
}

static size_t index_bytes(long span)
{
	return (size_t)span * sizeof(struct held);
}

long reorder_next(void)
{
	return next_out;
}

int reorder_room(long seq_next)
{
	return index_bytes(seq_next - next_out) <= budget() || seq_next - next_out <= 64;
}

/* The ring holds seq, grown (doubled, entries moved to their new places)
 * when seq is past its end. */
static struct held *slot(long seq)
{
	if (seq - next_out >= cap) {
		long ncap = cap ? cap : 64;
		while (seq - next_out >= ncap)
			ncap *= 2;
		struct held *n = xcalloc((size_t)ncap, sizeof *n);
		for (long s = next_out; s <= held_last; s++)
			n[s & (ncap - 1)] = ring[s & (cap - 1)];
		free(ring);
		ring = n;
		cap = ncap;
	}
	return &ring[seq & (cap - 1)];
}

static void spill_open(void)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	char *path = xasprintf("%s/scg-reorder-XXXXXX", dir);
	spill_fd = mkstemp(path);
	if (spill_fd < 0)
		die_status(2, "--reorder-mb: cannot make a temporary file in %s: %s", dir, strerror(errno));
	unlink(path);
	free(path);
}

static void spill(struct held *h, const char *bytes)
{
	if (spill_fd < 0)
		spill_open();
	for (size_t done = 0; done < h->len;) {
		ssize_t w = pwrite(spill_fd, bytes + done, h->len - done, spill_end + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die_status(2, "--reorder-mb: the temporary file of the reorder buffer: %s",
				   w < 0 ? strerror(errno) : "nothing written");
		done += (size_t)w;
	}
	h->off = spill_end;
	spill_end += (off_t)h->len;
	spilled += h->records;
}

void reorder_hold(long seq, struct buf *bytes, long records)
{
	struct held *h = slot(seq);
	if (seq > held_last)
		held_last = seq;
	h->len = bytes->len;
	h->records = records;
	h->full = 1;
	long span = held_last - next_out + 1;
	if (h->len && held_mem + h->len + index_bytes(span) > budget()) {
		/* the newest is the last to be written: it goes to the file */
		spill(h, bytes->p);
		h->bytes = NULL;
		buf_free(bytes);
	} else {
		h->bytes = buf_steal(bytes);
		held_mem += h->len;
	}
}

static void write_held(struct held *h)
{
	if (h->bytes) {
		out_bytes(h->bytes, h->len);
		held_mem -= h->len;
		free(h->bytes);
	} else if (h->len) {
		char *tmp = xmalloc(h->len);
		for (size_t done = 0; done < h->len;) {
			ssize_t r = pread(spill_fd, tmp + done, h->len - done, h->off + (off_t)done);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				die_status(2, "--reorder-mb: reading back the reorder buffer's file: %s",
					   r < 0 ? strerror(errno) : "it is shorter than written");
			done += (size_t)r;
		}
		out_bytes(tmp, h->len);
		free(tmp);
	}
	ex.records_out += h->records;
	memset(h, 0, sizeof *h);
}

void reorder_written(long seq)
{
	if (seq != next_out)
		die("internal: record %ld written before %ld", seq, next_out);
	next_out++;
	while (next_out <= held_last && ring[next_out & (cap - 1)].full)
		write_held(&ring[next_out++ & (cap - 1)]);
	if (next_out > held_last && spill_fd >= 0 && spill_end > 0) {
		/* nothing held: the file starts over */
		if (ftruncate(spill_fd, 0) == 0)
			spill_end = 0;
	}
}

long reorder_write_all(long seq_end)
{
	long missing = 0;
	for (long s = next_out; s < seq_end; s++) {
		struct held *h = s <= held_last && s - next_out < cap ? &ring[s & (cap - 1)] : NULL;
		if (h && h->full)
			write_held(h);
		else
			missing++;
	}
	return missing;
}

long reorder_spilled(void)
{
	return spilled;
}
