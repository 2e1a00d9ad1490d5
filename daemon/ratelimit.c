/*
 * ratelimit.c: a request rate limit per API token (a token bucket), so that
 * one runaway script cannot take the daemon from everyone else.  Buckets
 * live in a small open-addressed table in the daemon context, keyed by
 * token id; when it is full the least recently used bucket is reused
 * (a forgotten bucket is simply full again).  The rate and burst come from
 * the configuration; rate 0 turns the limit off.
 */

#include "config.h"

#include <string.h>

#include "yiqid.h"

static double
now_seconds(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static struct bucket *
bucket_find(struct yiqid *ctx, int64_t token_id, double now)
{
	struct bucket	*b, *oldest = NULL;
	unsigned int	 i, n, h = (unsigned int)(token_id * 2654435761u);

	for (n = 0; n < RATE_BUCKETS; n++) {
		i = (h + n) % RATE_BUCKETS;
		b = &ctx->buckets[i];
		if (b->token_id == token_id)
			return (b);
		if (b->token_id == 0) {
			oldest = b;
			break;
		}
		if (oldest == NULL || b->last < oldest->last)
			oldest = b;
	}
	oldest->token_id = token_id;
	oldest->level = ctx->cfg.rate_burst;
	oldest->last = now;
	return (oldest);
}

/*
 * Take one request from the token's bucket.  Returns 0 if allowed, or the
 * number of seconds (at least 1) to wait before the next one.
 */
int
ratelimit_take(struct yiqid *ctx, int64_t token_id)
{
	struct bucket	*b;
	double		 now;

	if (ctx->cfg.rate_limit <= 0)
		return (0);
	now = now_seconds();
	b = bucket_find(ctx, token_id, now);
	b->level += (now - b->last) * ctx->cfg.rate_limit;
	if (b->level > ctx->cfg.rate_burst)
		b->level = ctx->cfg.rate_burst;
	b->last = now;
	if (b->level >= 1) {
		b->level -= 1;
		return (0);
	}
	return ((int)((1 - b->level) / ctx->cfg.rate_limit) + 1);
}
