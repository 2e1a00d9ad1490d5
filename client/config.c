/*
 * config.c: the client's configuration file, $XDG_CONFIG_HOME/yiqi/config
 * (~/.config/yiqi/config by default).
 *
 * It is one small JSON object, {"server": ..., "token": ..., "timezone": ...},
 * read and written with jansson.  A missing file is an empty configuration.
 * It holds a token, so it is written with mode 0600 in a directory created
 * 0700, through a temporary file renamed into place; keys this version does
 * not know are kept when it is rewritten.
 */

#include "yiqi.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Return the directory of the config file, allocated, or NULL with cause. */
static char *
config_dir(char **cause)
{
	const char	*xdg, *home;
	char		*dir;

	xdg = getenv("XDG_CONFIG_HOME");
	if (xdg != NULL && *xdg == '/') {
		xasprintf(&dir, "%s/yiqi", xdg);
		return (dir);
	}
	home = getenv("HOME");
	if (home == NULL || *home != '/') {
		xasprintf(cause, "HOME is not set, so there is no config file; "
		    "set HOME or XDG_CONFIG_HOME, or pass --server and --token");
		return (NULL);
	}
	xasprintf(&dir, "%s/.config/yiqi", home);
	return (dir);
}

/* Return the path of the config file, allocated, or NULL with cause. */
char *
config_path(char **cause)
{
	char	*dir, *path;

	if ((dir = config_dir(cause)) == NULL)
		return (NULL);
	xasprintf(&path, "%s/config", dir);
	free(dir);
	return (path);
}

/* Copy a string member of obj, if there is one. */
static int
config_string(json_t *obj, const char *key, char **out, const char *path,
    char **cause)
{
	json_t	*v;

	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v))
		return (0);
	if (!json_is_string(v)) {
		xasprintf(cause, "%s: \"%s\" must be a string; fix or remove "
		    "the file and run yiqi login again", path, key);
		return (-1);
	}
	*out = xstrdup(json_string_value(v));
	return (0);
}

/* Read the whole file into a JSON object; NULL and no cause if missing. */
static json_t *
config_read(const char *path, char **cause)
{
	json_error_t	 error;
	struct stat	 st;
	json_t		*obj;
	FILE		*f;

	*cause = NULL;
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT)
			xasprintf(cause, "cannot read %s: %s", path,
			    strerror(errno));
		return (NULL);
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > YIQI_MAX_CONFIG) {
		xasprintf(cause, "%s is not a small regular file; remove it "
		    "and run yiqi login again", path);
		fclose(f);
		return (NULL);
	}
	obj = json_loadf(f, JSON_REJECT_DUPLICATES, &error);
	fclose(f);
	if (obj == NULL || !json_is_object(obj)) {
		xasprintf(cause, "%s:%d: not a JSON object (%s); fix or remove "
		    "it and run yiqi login again", path, error.line,
		    obj == NULL ? error.text : "wrong type");
		json_decref(obj);
		return (NULL);
	}
	return (obj);
}

/* Load the config file into cfg (left empty if there is no file). */
int
config_load(struct config *cfg, char **cause)
{
	json_t	*obj;
	char	*path;
	int	 rc = -1;

	memset(cfg, 0, sizeof *cfg);
	if ((path = config_path(cause)) == NULL)
		return (-1);
	if ((obj = config_read(path, cause)) == NULL) {
		free(path);
		return (*cause == NULL ? 0 : -1);
	}
	if (config_string(obj, "server", &cfg->server, path, cause) != 0 ||
	    config_string(obj, "token", &cfg->token, path, cause) != 0 ||
	    config_string(obj, "timezone", &cfg->timezone, path, cause) != 0) {
		config_free(cfg);
		goto out;
	}
	rc = 0;
out:
	json_decref(obj);
	free(path);
	return (rc);
}

/* Create dir with mode 0700, and its parent if that is missing too. */
static int
config_mkdir(const char *dir, char **cause)
{
	char	*parent, *slash;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return (0);
	if (errno == ENOENT) {
		parent = xstrdup(dir);
		if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
			*slash = '\0';
			if (mkdir(parent, 0700) == 0 &&
			    mkdir(dir, 0700) == 0) {
				free(parent);
				return (0);
			}
		}
		free(parent);
	}
	xasprintf(cause, "cannot create %s: %s", dir, strerror(errno));
	return (-1);
}

/* Set or remove one member of obj. */
static void
config_set(json_t *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_set_new(obj, key, json_string(value));
}

/* Write cfg to the config file with mode 0600, keeping unknown keys. */
int
config_save(const struct config *cfg, char **cause)
{
	json_t	*obj;
	char	*dir = NULL, *path = NULL, *tmp = NULL, *text = NULL;
	size_t	 len, off;
	ssize_t	 n;
	int	 fd = -1, rc = -1;

	if ((dir = config_dir(cause)) == NULL)
		return (-1);
	xasprintf(&path, "%s/config", dir);
	if ((obj = config_read(path, cause)) == NULL) {
		if (*cause != NULL)
			goto out;
		obj = json_object();
	}
	config_set(obj, "server", cfg->server);
	config_set(obj, "token", cfg->token);
	config_set(obj, "timezone", cfg->timezone);
	if ((text = json_dumps(obj, JSON_INDENT(2))) == NULL) {
		xasprintf(cause, "cannot encode the configuration");
		goto out;
	}

	if (config_mkdir(dir, cause) != 0)
		goto out;
	xasprintf(&tmp, "%s/.config.XXXXXX", dir);
	if ((fd = mkstemp(tmp)) == -1) {
		xasprintf(cause, "cannot create a file in %s: %s", dir,
		    strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) != 0)
		goto fail;
	len = strlen(text);
	for (off = 0; off < len; off += n) {
		if ((n = write(fd, text + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			goto fail;
		}
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	rc = 0;
	goto out;

fail:
	xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
out:
	if (fd != -1)
		close(fd);
	if (rc != 0 && tmp != NULL)
		unlink(tmp);
	free(tmp);
	free(text);
	json_decref(obj);
	free(path);
	free(dir);
	return (rc);
}

/* Free what config_load allocated. */
void
config_free(struct config *cfg)
{
	free(cfg->server);
	free(cfg->token);
	free(cfg->timezone);
	memset(cfg, 0, sizeof *cfg);
}
