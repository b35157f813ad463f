/* axes: loading an axes file and writing a drawn profile into a record. */
#include "axes.h"
#include "conf.h"
#include "jv.h"
#include "record.h"
#include "util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Combinations are kept in memory: a few axes of many values, or many
 * axes, would otherwise fill it. */
enum { MAX_COMBOS = 1000000 };

static char *trimmed(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n && (*s == ' ' || *s == '\n' || *s == '\t')) {
		s++;
		n--;
	}
	return xstrndup(s, n);
}

/* The trimmed text of a value file; dies naming what points at it. */
static char *value_text(const char *what, const char *fp)
{
	size_t len;
	char *text = read_text(fp, what, &len);
	char *t = trimmed(text, len);
	free(text);
	return t;
}

/* The NAME.txt files of a folder as {NAME: text}. */
static json_t *folder_values(const char *what, const char *path)
{
	char **names;
	size_t n;
	if (dir_names(path, &names, &n))
		die("%s: %s: %s", what, path, strerror(errno));
	json_t *vals = json_object();
	for (size_t i = 0; i < n; i++) {
		size_t nl = strlen(names[i]);
		if (nl >= 5 && !strcmp(names[i] + nl - 4, ".txt")) {
			char *fp = xasprintf("%s/%s", path, names[i]);
			char *t = value_text(what, fp);
			names[i][nl - 4] = 0;
			json_object_set_new(vals, names[i], json_string(t));
			free(t);
			free(fp);
		}
		free(names[i]);
	}
	free(names);
	if (!json_object_size(vals))
		die("%s: %s: no NAME.txt files", what, path);
	return vals;
}

/* A folder of NAME.txt files, relative to the axes file. */
static json_t *load_folder(const char *file, const char *axis, const char *dir)
{
	char *path;
	const char *slash = strrchr(file, '/');
	if (dir[0] == '/' || !slash)
		path = xstrdup(dir);
	else
		path = xasprintf("%.*s/%s", (int)(slash - file), file, dir);
	char *what = xasprintf("%s: axes.%s", file, axis);
	json_t *vals = folder_values(what, path);
	free(what);
	free(path);
	return vals;
}

/* ---- the seed-message experiment folder ------------------------------- */

static int readable(const char *p)
{
	return access(p, R_OK) == 0;
}

/* The folder of an axis in the experiment: DIR/motivations, and
 * DIR/disposition or DIR/dispositions; NULL when there is none. */
static char *axis_folder(const char *dir, const char *const *names)
{
	for (; *names; names++) {
		char *p = xasprintf("%s/%s", dir, *names);
		struct stat st;
		if (!stat(p, &st) && S_ISDIR(st.st_mode))
			return p;
		free(p);
	}
	return NULL;
}

static const char *const motivation_dirs[] = {"motivations", "motivation", NULL};
static const char *const disposition_dirs[] = {"disposition", "dispositions", NULL};

/* Where the file an expt-setup.json entry names is. Its paths were written
 * relative to the notebooks, so they are tried as given, from the
 * experiment folder, from the inst-templates folder above it, and by file
 * name in the axis's own folder. */
static char *entry_file(const char *dir, const char *const *folders, const char *given,
			const char *name, const char *what)
{
	struct buf tried = {0};
	char *cand[8] = {0};
	int n = 0;
	if (given && *given) {
		cand[n++] = xstrdup(given);
		if (given[0] != '/') {
			cand[n++] = xasprintf("%s/%s", dir, given);
			const char *it = strstr(given, "inst-templates/");
			if (it)
				cand[n++] = xasprintf("%s/../%s", dir, it + strlen("inst-templates/"));
		}
		const char *base = strrchr(given, '/');
		base = base ? base + 1 : given;
		for (const char *const *f = folders; *f; f++)
			cand[n++] = xasprintf("%s/%s/%s", dir, *f, base);
	} else {
		for (const char *const *f = folders; *f; f++)
			cand[n++] = xasprintf("%s/%s/%s.txt", dir, *f, name);
	}
	char *found = NULL;
	for (int i = 0; i < n; i++) {
		if (!found && readable(cand[i]))
			found = cand[i];
		else {
			buf_addf(&tried, "%s%s", tried.len ? ", " : "", cand[i]);
			free(cand[i]);
		}
	}
	if (!found)
		die("%s: no such file (tried %s)", what, tried.p);
	buf_free(&tried);
	return found;
}

static void add_value(json_t *vals, const char *name, const char *text, const char *what)
{
	json_t *have = json_object_get(vals, name);
	if (have && strcmp(json_string_value(have), text))
		die("%s: '%s' is named twice with different texts", what, name);
	json_object_set_new(vals, name, json_string(text));
}

/* An axes document made from the experiment folder: expt-setup.json's
 * user_profiles (each motivation with its allowed dispositions), or
 * without it every motivation with every disposition of the folders. */
static json_t *experiment_doc(const char *dir)
{
	char *setup_path = xasprintf("%s/expt-setup.json", dir);
	json_t *motiv = json_object(), *disp = json_object(), *allowed = json_array();
	if (readable(setup_path)) {
		json_t *setup = conf_load_or_die(setup_path);
		json_t *profiles = json_object_get(setup, "user_profiles");
		if (!json_is_array(profiles) || !json_array_size(profiles))
			die("%s: user_profiles: expected a list of motivations with their dispositions", setup_path);
		size_t i, j;
		json_t *p, *d;
		json_array_foreach(profiles, i, p) {
			const char *m = jv_str(p, "motivation");
			json_t *ds = json_object_get(p, "dispositions");
			if (!m || !*m)
				die("%s: user_profiles[%zu]: no motivation name", setup_path, i);
			if (!json_is_array(ds) || !json_array_size(ds))
				die("%s: user_profiles[%zu]: dispositions: expected a list of {name, path}", setup_path, i);
			char *what = xasprintf("%s: user_profiles[%zu] (%s)", setup_path, i, m);
			char *fp = entry_file(dir, motivation_dirs, jv_str(p, "path"), m, what);
			char *t = value_text(what, fp);
			add_value(motiv, m, t, setup_path);
			free(t);
			free(fp);
			free(what);
			json_array_foreach(ds, j, d) {
				const char *dn = json_is_string(d) ? json_string_value(d) : jv_str(d, "name");
				if (!dn || !*dn)
					die("%s: user_profiles[%zu].dispositions[%zu]: no name", setup_path, i, j);
				what = xasprintf("%s: user_profiles[%zu].dispositions[%zu] (%s)", setup_path, i, j, dn);
				fp = entry_file(dir, disposition_dirs, json_is_object(d) ? jv_str(d, "path") : NULL, dn, what);
				t = value_text(what, fp);
				add_value(disp, dn, t, setup_path);
				json_array_append_new(allowed, json_pack("[s, s]", m, dn));
				free(t);
				free(fp);
				free(what);
			}
		}
		json_decref(setup);
	} else {
		char *md = axis_folder(dir, motivation_dirs), *dd = axis_folder(dir, disposition_dirs);
		if (!md || !dd)
			die("%s: an experiment folder needs expt-setup.json, or the folders motivations/ and disposition/",
			    dir);
		json_decref(motiv);
		json_decref(disp);
		motiv = folder_values(md, md);
		disp = folder_values(dd, dd);
		json_decref(allowed);
		allowed = json_null();
		free(md);
		free(dd);
	}
	free(setup_path);
	return json_pack("{s:{s:o, s:o}, s:o}", "axes", "motivation", motiv, "disposition", disp,
			 "allowed", allowed);
}

static int value_index(const struct axes *ax, int a, const char *name)
{
	int i = 0;
	const char *k;
	json_t *v;
	json_object_foreach(ax->values[a], k, v) {
		if (!strcmp(k, name))
			return i;
		i++;
	}
	return -1;
}

/* While loading: a hash set of the combinations (index + 1, 0 free), so
 * that one allowed twice is kept once. */
static int *slots;
static size_t nslots, combos_cap;

static size_t slot_of(const struct axes *ax, const int *row)
{
	uint64_t h = 1469598103934665603u;
	for (int a = 0; a < ax->naxes; a++) {
		h ^= (uint32_t)row[a];
		h *= 1099511628211u;
	}
	size_t i = (size_t)(h ^ h >> 29) & (nslots - 1);
	while (slots[i] && memcmp(ax->combos + (size_t)(slots[i] - 1) * ax->naxes, row,
				  sizeof *row * ax->naxes))
		i = (i + 1) & (nslots - 1);
	return i;
}

static void add_combo(struct axes *ax, const int *row)
{
	if ((size_t)ax->ncombos * 2 >= nslots) {
		free(slots);
		nslots = nslots ? nslots * 2 : 64;
		slots = xcalloc(nslots, sizeof *slots);
		for (int c = 0; c < ax->ncombos; c++)
			slots[slot_of(ax, ax->combos + (size_t)c * ax->naxes)] = c + 1;
	}
	size_t i = slot_of(ax, row);
	if (slots[i])
		return;
	if (ax->ncombos == MAX_COMBOS)
		die("%s: more than %d combinations of values are allowed", ax->path, MAX_COMBOS);
	if ((size_t)ax->ncombos == combos_cap) {
		combos_cap = combos_cap ? combos_cap * 2 : 64;
		ax->combos = xrealloc(ax->combos, sizeof *row * ax->naxes * combos_cap);
	}
	memcpy(ax->combos + (size_t)ax->ncombos * ax->naxes, row, sizeof *row * ax->naxes);
	slots[i] = ++ax->ncombos;
}

/* Adds every combination that row allows (-1: any value of that axis). */
static void expand(struct axes *ax, int *row, int a)
{
	if (a == ax->naxes) {
		add_combo(ax, row);
		return;
	}
	if (row[a] >= 0) {
		expand(ax, row, a + 1);
		return;
	}
	for (size_t i = 0; i < json_object_size(ax->values[a]); i++) {
		row[a] = (int)i;
		expand(ax, row, a + 1);
	}
	row[a] = -1;
}

static void load_allowed(struct axes *ax, json_t *allowed)
{
	const char *f = ax->path;
	if (!json_is_array(allowed))
		die("%s: allowed: expected a list of combinations", f);
	int *row = xmalloc(sizeof *row * ax->naxes);
	size_t i;
	json_t *e;
	json_array_foreach(allowed, i, e) {
		for (int a = 0; a < ax->naxes; a++)
			row[a] = -1;
		if (json_is_array(e)) {
			if (json_array_size(e) != (size_t)ax->naxes)
				die("%s: allowed[%zu]: %zu values for %d axes", f, i, json_array_size(e), ax->naxes);
			for (int a = 0; a < ax->naxes; a++) {
				const char *v = json_string_value(json_array_get(e, (size_t)a));
				if (!v || (row[a] = value_index(ax, a, v)) < 0)
					die("%s: allowed[%zu]: '%s' is not a value of axis %s", f, i, v ? v : "(not a string)",
					    ax->names[a]);
			}
		} else if (json_is_object(e)) {
			const char *k;
			json_t *v;
			json_object_foreach(e, k, v) {
				int a = 0;
				while (a < ax->naxes && strcmp(ax->names[a], k))
					a++;
				if (a == ax->naxes)
					die("%s: allowed[%zu]: no axis named %s", f, i, k);
				if (!json_is_string(v) || (row[a] = value_index(ax, a, json_string_value(v))) < 0)
					die("%s: allowed[%zu]: '%s' is not a value of axis %s", f, i,
					    json_is_string(v) ? json_string_value(v) : "(not a string)", k);
			}
		} else {
			die("%s: allowed[%zu]: expected a mapping {axis: value} or a list of values", f, i);
		}
		expand(ax, row, 0);
	}
	free(row);
}

void axes_load(struct axes *ax, const char *path)
{
	memset(ax, 0, sizeof *ax);
	ax->path = path;
	struct stat st;
	int folder = !stat(path, &st) && S_ISDIR(st.st_mode);
	json_t *doc = folder ? experiment_doc(path) : conf_load_or_die(path);
	json_t *axes = json_object_get(doc, "axes");
	if (!json_is_object(axes) || !json_object_size(axes))
		die("%s: axes: expected a mapping of axis names to values", path);
	ax->naxes = (int)json_object_size(axes);
	ax->names = xcalloc((size_t)ax->naxes, sizeof *ax->names);
	ax->values = xcalloc((size_t)ax->naxes, sizeof *ax->values);
	int a = 0;
	const char *name;
	json_t *v;
	json_object_foreach(axes, name, v) {
		ax->names[a] = xstrdup(name);
		if ((json_is_object(v) && !json_object_size(v)) ||
		    (json_is_string(v) && !*json_string_value(v))) {
			/* an empty folder name would be the axes file's own folder */
			die("%s: axes.%s: no values", path, name);
		} else if (json_is_string(v)) {
			ax->values[a] = load_folder(path, name, json_string_value(v));
		} else if (json_is_object(v)) {
			const char *k;
			json_t *t;
			json_object_foreach(v, k, t)
				if (!json_is_string(t))
					die("%s: axes.%s.%s: expected the value's text", path, name, k);
			ax->values[a] = json_incref(v);
		} else {
			die("%s: axes.%s: expected a mapping VALUE: text, or a folder", path, name);
		}
		a++;
	}
	json_t *allowed = json_object_get(doc, "allowed");
	if (allowed && !json_is_null(allowed)) {
		load_allowed(ax, allowed);
	} else {
		int *row = xmalloc(sizeof *row * ax->naxes);
		for (a = 0; a < ax->naxes; a++)
			row[a] = -1;
		expand(ax, row, 0);
		free(row);
	}
	if (!ax->ncombos)
		die("%s: allowed: no combination is allowed", path);
	free(slots);
	slots = NULL;
	nslots = combos_cap = 0;
	json_decref(doc);
}

/* The name and text of value i of axis a. */
static const char *value_at(const struct axes *ax, int a, int i, json_t **text)
{
	const char *k;
	json_t *t;
	json_object_foreach(ax->values[a], k, t)
		if (i-- == 0) {
			*text = t;
			return k;
		}
	return NULL;
}

void axes_apply(const struct axes *ax, int combo, json_t *rec)
{
	json_t *persona = json_object_get(rec, "persona");
	if (!json_is_object(persona)) {
		persona = json_object();
		json_object_set_new(rec, "persona", persona);
	}
	struct buf name = {0}, desc = {0};
	json_t *axes = json_object();
	for (int a = 0; a < ax->naxes; a++) {
		json_t *text = NULL;
		const char *v = value_at(ax, a, ax->combos[(size_t)combo * ax->naxes + a], &text);
		json_object_set_new(axes, ax->names[a], json_string(v));
		buf_addf(&desc, "%s%s", a && desc.len ? " " : "", json_string_value(text));
	}
	if (!json_object_get(persona, "name")) {
		axes_label(axes, &name);
		json_object_set_new(persona, "name", json_string(name.p));
	}
	json_object_set_new(persona, "axes", axes);
	if (!json_object_get(persona, "description"))
		json_object_set_new(persona, "description", json_string(desc.p));
	buf_free(&name);
	buf_free(&desc);
}

void axes_label(json_t *axes, struct buf *out)
{
	const char *k;
	json_t *v;
	int first = 1;
	buf_adds(out, "");
	json_object_foreach(axes, k, v) {
		buf_addf(out, "%s%s", first ? "" : "/", json_is_string(v) ? json_string_value(v) : "");
		first = 0;
	}
}

int axes_is_label(json_t *axes, const char *name)
{
	if (!json_is_object(axes) || !json_object_size(axes) || !name)
		return 0;
	struct buf label = {0};
	axes_label(axes, &label);
	int same = !strcmp(label.p, name);
	buf_free(&label);
	return same;
}
