/*
 * api-misc.c: the routes that belong to no resource: health (no token)
 * and me (who the token belongs to).
 */

#include "config.h"

#include "yiqid.h"

static void	api_misc_health(struct req *);
static void	api_misc_me(struct req *);

const struct route api_misc_routes[] = {
	{ EVHTTP_REQ_GET, "/api/v1/health", R_NOAUTH, api_misc_health },
	{ EVHTTP_REQ_GET, "/api/v1/me", 0, api_misc_me },
	{ 0, NULL, 0, NULL }
};

static void
api_misc_health(struct req *r)
{
	api_reply(r, 200, json_pack("{s:s,s:s}", "status", "ok", "version",
	    YIQID_VERSION));
}

static void
api_misc_me(struct req *r)
{
	json_t	*u;

	if ((u = user_json(r->ctx, r->user->id)) == NULL) {
		api_error(r, 404, "not_found", "no such user");
		return;
	}
	json_object_set_new(u, "suspended_until", suspension_json(r->ctx,
	    r->user->id));
	api_reply(r, 200, u);
}
