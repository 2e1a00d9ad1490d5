/*
 * availcache.c: recent availability answers, kept while nothing they
 * could show has changed.
 *
 * An instrument's availability for a week is the API's most read answer
 * (booking pages poll it) and changes only when something is written.
 * Computing it reads ~30 bookings through an index and a table lookup
 * each, and formats ~60 times: ~75 µs of the loop at a million bookings
 * (docs/performance.md).  An answer is kept under (instrument code, from,
 * to, caller) and served again only while all of these hold, so a kept
 * answer is always byte for byte the answer computed afresh:
 *
 *  - no row of the database has changed since: the main connection's
 *    sqlite3_total_changes64() (every row inserted, updated or deleted by
 *    any statement, triggers included; a rolled-back change still counts,
 *    which only drops answers early) and PRAGMA data_version (commits by
 *    any other connection or process) are what they were when it was
 *    computed;
 *  - it was computed outside any transaction (never from a group's rows
 *    that might still be rolled back);
 *  - it does not depend on the time of day: `from` is not in the past
 *    (the free list starts at max(from, now)) and `to` is within the
 *    instrument's advance window as of when it was computed (the free list
 *    ends at min(to, now + window), and now only grows).
 *
 * AVCACHE_SLOTS slots, direct-mapped by a hash of the key; an answer is
 * kept only if it is at most its slot's share of the budget (a sixteenth
 * of cache_mb, config_budget(): 16 KiB a slot at the default 64 MiB) and
 * AVCACHE_MAX_TEXT, so the text kept stays within that part.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define AVCACHE_SLOTS		256
#define AVCACHE_MAX_TEXT	16384

struct avslot {
	char		*code;		/* NULL: empty */
	time_t		 from;
	time_t		 to;
	int64_t		 user;
	int64_t		 changes;	/* sqlite3_total_changes64() then */
	int64_t		 version;	/* PRAGMA data_version then */
	char		*text;
	size_t		 len;
};

struct avcache {
	struct avslot	 slot[AVCACHE_SLOTS];
};

static struct avslot *
slot_of(struct yiqid *ctx, const char *code, time_t from, time_t to,
    int64_t user)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */
	const unsigned char *p;

	if (ctx->avcache == NULL)
		ctx->avcache = xcalloc(1, sizeof *ctx->avcache);
	for (p = (const unsigned char *)code; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	h = (h ^ (uint64_t)from) * 1099511628211ULL;
	h = (h ^ (uint64_t)to) * 1099511628211ULL;
	h = (h ^ (uint64_t)user) * 1099511628211ULL;
	return (&ctx->avcache->slot[h % AVCACHE_SLOTS]);
}

/* What the database's state is now, as the cache compares it. */
void
avcache_mark(struct yiqid *ctx, int64_t *changes, int64_t *version)
{
	static const char *const q = "PRAGMA data_version";
	sqlite3_stmt	*st;

	*changes = sqlite3_total_changes64(ctx->db);
	st = db_prepare(ctx, q);
	*version = db_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) :
	    -1;
	sqlite3_reset(st);
}

/*
 * The kept answer for this key if it is still exactly right at now, or
 * NULL; *len is its length.
 */
const char *
avcache_get(struct yiqid *ctx, const char *code, time_t from, time_t to,
    int64_t user, time_t now, size_t *len)
{
	struct avslot	*s = slot_of(ctx, code, from, to, user);
	int64_t		 changes, version;

	if (s->code == NULL || s->from != from || s->to != to ||
	    s->user != user || strcmp(s->code, code) != 0 || now > from)
		return (NULL);
	avcache_mark(ctx, &changes, &version);
	if (changes != s->changes || version != s->version || version == -1)
		return (NULL);
	*len = s->len;
	return (s->text);
}

/*
 * Keep an answer computed while the database was as avcache_mark() said
 * (before the answer's queries ran), if it may be kept: no transaction
 * open, from not before now, to within window seconds after now.
 */
void
avcache_put(struct yiqid *ctx, const char *code, time_t from, time_t to,
    int64_t user, time_t now, long window, int64_t changes, int64_t version,
    const char *text, size_t len)
{
	struct avslot	*s;
	struct budget	 b;

	config_budget(&ctx->cfg, &b);
	if (ctx->txn_depth != 0 || ctx->group_open ||
	    !sqlite3_get_autocommit(ctx->db) || version == -1 ||
	    now > from || to > now + window || len > AVCACHE_MAX_TEXT ||
	    len > (size_t)b.avail_kib * 1024 / AVCACHE_SLOTS)
		return;
	s = slot_of(ctx, code, from, to, user);
	free(s->code);
	free(s->text);
	s->code = xstrdup(code);
	s->from = from;
	s->to = to;
	s->user = user;
	s->changes = changes;
	s->version = version;
	s->text = xmalloc(len);
	memcpy(s->text, text, len);
	s->len = len;
}

/* Drop every kept answer and the cache itself. */
void
avcache_free(struct yiqid *ctx)
{
	size_t	i;

	if (ctx->avcache == NULL)
		return;
	for (i = 0; i < AVCACHE_SLOTS; i++) {
		free(ctx->avcache->slot[i].code);
		free(ctx->avcache->slot[i].text);
	}
	free(ctx->avcache);
	ctx->avcache = NULL;
}
