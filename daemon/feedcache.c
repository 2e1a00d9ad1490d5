/*
 * feedcache.c: rendered feed events and whole feeds, kept in memory.
 *
 * libical builds and serializes a VEVENT in some microseconds, which a
 * feed of 10,000 bookings multiplies into most of a second; between two
 * requests almost none of them changed.  The cache keeps each booking's
 * VEVENT text under (booking id, variant: what the viewer may see) with
 * the exact inputs it was rendered from (times, status, SEQUENCE, the
 * last change, summary, description, location: everything
 * ical_event_render() reads).  An entry is used only if the inputs of the
 * row being served are byte for byte the same, so a changed booking, a
 * renamed instrument or an institute turned private renders again, and
 * one viewer's variant can never be handed to another: its inputs differ.
 *
 * Whole feeds are kept too, under their ETag (which covers the feed, its
 * window, the viewer and the newest audit row), for the clients that never
 * send a conditional request: at most FC_FEEDS of them and a quarter of
 * the limit.
 *
 * Memory is bounded by feed_cache_mb: entries are counted with their
 * overhead and the least recently used ones dropped when over; 0 turns
 * the cache off.  Pointers handed out stay valid until the next put, or
 * while the cache is held (feedcache_hold()) until it is released.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "yiqid.h"

#define FC_FEEDS	4	/* whole feeds kept */
#define FC_BUCKETS_MIN	1024

/* One rendered component. */
struct fc_entry {
	int64_t			 id;
	int			 variant;
	size_t			 inlen;
	size_t			 len;
	size_t			 size;		/* counted against the limit */
	struct fc_entry		*next;		/* hash chain */
	TAILQ_ENTRY(fc_entry)	 lru;
	char			*in;		/* inputs, then the text */
	char			*text;
};
TAILQ_HEAD(fc_lru, fc_entry);

/* One whole feed under its ETag. */
struct fc_feed {
	char		*etag;
	struct fc_text	*text;		/* one reference */
	size_t		 size;
};

/* The cache; one per daemon, in struct yiqid. */
struct feedcache {
	size_t		  limit;	/* bytes */
	size_t		  used;		/* events and feeds */
	size_t		  feeds_used;
	struct fc_entry	**tab;
	size_t		  nbuckets;	/* a power of two */
	size_t		  n;
	struct fc_lru	  lru;		/* most recently used first */
	struct fc_feed	  feeds[FC_FEEDS]; /* newest first */
	size_t		  hits, misses;
	int		  held;		/* texts in use: do not evict */
};

/* Make an empty cache of at most limit bytes. */
struct feedcache *
feedcache_new(size_t limit)
{
	struct feedcache	*fc;

	fc = xcalloc(1, sizeof *fc);
	fc->limit = limit;
	fc->nbuckets = FC_BUCKETS_MIN;
	fc->tab = xcalloc(fc->nbuckets, sizeof *fc->tab);
	TAILQ_INIT(&fc->lru);
	return (fc);
}

static size_t
fc_hash(int64_t id, int variant, size_t nbuckets)
{
	uint64_t	h = (uint64_t)id * 4 + (uint64_t)variant;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return ((size_t)h & (nbuckets - 1));
}

static struct fc_entry **
fc_slot(struct feedcache *fc, int64_t id, int variant)
{
	struct fc_entry	**pe;

	pe = &fc->tab[fc_hash(id, variant, fc->nbuckets)];
	while (*pe != NULL && ((*pe)->id != id || (*pe)->variant != variant))
		pe = &(*pe)->next;
	return (pe);
}

static void
fc_remove(struct feedcache *fc, struct fc_entry *e)
{
	struct fc_entry	**pe;

	pe = fc_slot(fc, e->id, e->variant);
	*pe = e->next;
	TAILQ_REMOVE(&fc->lru, e, lru);
	fc->used -= e->size;
	fc->n--;
	free(e);
}

static void
fc_feed_drop(struct feedcache *fc, size_t i)
{
	struct fc_feed	*f = &fc->feeds[i];

	if (f->etag == NULL)
		return;
	fc->used -= f->size;
	fc->feeds_used -= f->size;
	free(f->etag);
	fctext_unref(f->text);
	memmove(f, f + 1, (FC_FEEDS - 1 - i) * sizeof *f);
	memset(&fc->feeds[FC_FEEDS - 1], 0, sizeof *f);
}

/* Drop the least recently used events, then old feeds, until within. */
static void
fc_trim(struct feedcache *fc)
{
	size_t	i;

	if (fc->held)
		return;

	while (fc->used > fc->limit && !TAILQ_EMPTY(&fc->lru))
		fc_remove(fc, TAILQ_LAST(&fc->lru, fc_lru));
	for (i = FC_FEEDS; i > 0 && fc->used > fc->limit; i--)
		fc_feed_drop(fc, i - 1);
}

/* Free the cache and all it holds. */
void
feedcache_free(struct feedcache *fc)
{
	struct fc_entry	*e;

	if (fc == NULL)
		return;
	while ((e = TAILQ_FIRST(&fc->lru)) != NULL)
		fc_remove(fc, e);
	while (fc->feeds[0].etag != NULL)
		fc_feed_drop(fc, 0);
	free(fc->tab);
	free(fc);
}

/* Set the limit (bytes) and drop what no longer fits. */
void
feedcache_limit(struct feedcache *fc, size_t limit)
{
	fc->limit = limit;
	fc_trim(fc);
}

/*
 * The text kept for (id, variant) if it was rendered from exactly these
 * inputs, else NULL.
 */
const char *
feedcache_get(struct feedcache *fc, int64_t id, int variant, const void *in,
    size_t inlen, size_t *len)
{
	struct fc_entry	*e;

	e = *fc_slot(fc, id, variant);
	if (e == NULL || e->inlen != inlen || memcmp(e->in, in, inlen) != 0) {
		fc->misses++;
		return (NULL);
	}
	fc->hits++;
	if (e != TAILQ_FIRST(&fc->lru)) {
		TAILQ_REMOVE(&fc->lru, e, lru);
		TAILQ_INSERT_HEAD(&fc->lru, e, lru);
	}
	*len = e->len;
	return (e->text);
}

static void
fc_grow(struct feedcache *fc)
{
	struct fc_entry	**old = fc->tab, *e, *next;
	size_t		  n = fc->nbuckets, i, h;

	fc->nbuckets *= 2;
	fc->tab = xcalloc(fc->nbuckets, sizeof *fc->tab);
	for (i = 0; i < n; i++) {
		for (e = old[i]; e != NULL; e = next) {
			next = e->next;
			h = fc_hash(e->id, e->variant, fc->nbuckets);
			e->next = fc->tab[h];
			fc->tab[h] = e;
		}
	}
	free(old);
}

/*
 * Keep the text of (id, variant) rendered from these inputs; returns the
 * kept copy, or NULL if it does not fit.
 */
const char *
feedcache_put(struct feedcache *fc, int64_t id, int variant, const void *in,
    size_t inlen, const char *text, size_t len)
{
	struct fc_entry	**pe, *e;
	size_t		  size;

	if ((e = *fc_slot(fc, id, variant)) != NULL)
		fc_remove(fc, e);
	size = sizeof *e + inlen + len + 1 + sizeof e;
	if (fc->limit <= fc->feeds_used || size > fc->limit - fc->feeds_used)
		return (NULL);
	e = xmalloc(sizeof *e + inlen + len + 1);
	e->id = id;
	e->variant = variant;
	e->in = (char *)(e + 1);
	e->inlen = inlen;
	memcpy(e->in, in, inlen);
	e->text = e->in + inlen;
	e->len = len;
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	e->size = size;
	pe = fc_slot(fc, id, variant);
	e->next = NULL;
	*pe = e;
	TAILQ_INSERT_HEAD(&fc->lru, e, lru);
	fc->n++;
	fc->used += size;
	fc_trim(fc);
	if (fc->n > fc->nbuckets)
		fc_grow(fc);
	return (e->text);
}

/*
 * Hold (1) the texts handed out so far while a feed is assembled from
 * them: nothing is evicted, the limit may be passed by one feed's worth;
 * release (0) trims to the limit again.
 */
void
feedcache_hold(struct feedcache *fc, int hold)
{
	fc->held = hold;
	fc_trim(fc);
}

/*
 * A feed's text, shared by the cache and the replies sending it (by
 * reference, not copied into each reply's buffer: 4-5 MB for a site
 * feed).  Loop thread only.  fctext_new() takes text over, with one
 * reference for the caller.
 */
struct fc_text *
fctext_new(char *text, size_t len)
{
	struct fc_text	*t = xmalloc(sizeof *t);

	t->refs = 1;
	t->text = text;
	t->len = len;
	return (t);
}

/* Take one more reference to t. */
void
fctext_ref(struct fc_text *t)
{
	t->refs++;
}

/* Give one reference back; the last frees t. */
void
fctext_unref(struct fc_text *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	free(t->text);
	free(t);
}

/* The whole feed kept under this ETag (the cache's reference), or NULL. */
struct fc_text *
feedcache_feed_get(struct feedcache *fc, const char *etag)
{
	size_t	i;

	for (i = 0; i < FC_FEEDS && fc->feeds[i].etag != NULL; i++) {
		if (strcmp(fc->feeds[i].etag, etag) == 0)
			return (fc->feeds[i].text);
	}
	return (NULL);
}

/*
 * Keep a whole feed under its ETag (taking a reference of its own to
 * text), if it fits in a quarter of the limit with the others.
 */
void
feedcache_feed_put(struct feedcache *fc, const char *etag,
    struct fc_text *text)
{
	size_t	size = text->len + strlen(etag) + 1 + sizeof fc->feeds[0], n;

	if (size > fc->limit / 4)
		return;
	for (;;) {
		for (n = 0; n < FC_FEEDS && fc->feeds[n].etag != NULL; n++)
			continue;
		if (n == 0 || (n < FC_FEEDS &&
		    fc->feeds_used + size <= fc->limit / 4))
			break;
		fc_feed_drop(fc, n - 1);
	}
	memmove(&fc->feeds[1], &fc->feeds[0], (FC_FEEDS - 1) *
	    sizeof fc->feeds[0]);
	fc->feeds[0].etag = xstrdup(etag);
	fctext_ref(text);
	fc->feeds[0].text = text;
	fc->feeds[0].size = size;
	fc->used += size;
	fc->feeds_used += size;
	fc_trim(fc);
}

/* Of the bytes held, those of whole feeds (feedcache_feed_put()). */
size_t
feedcache_feeds_used(struct feedcache *fc)
{
	return (fc->feeds_used);
}

/* What the cache holds and how it served: bytes, hits, misses. */
void
feedcache_stats(struct feedcache *fc, size_t *used, size_t *hits,
    size_t *misses)
{
	*used = fc->used;
	*hits = fc->hits;
	*misses = fc->misses;
}
