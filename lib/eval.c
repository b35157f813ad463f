/* eval: aggregates of the judge's verdicts (see eval.h). Each conversation
 * with an eval is kept as a small object (id, persona, pairing key, stop
 * reason, axes labels, outcome, normalised criteria scores); the summary
 * and the comparison are computed from those at the end. */
#include "eval.h"
#include "jv.h"
#include "record.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959963984540054

struct eval {
	json_t *convs;      /* [{id, persona, key, reason, axes, outcome, scores, score}] */
	json_t *criteria;   /* name -> {scale, weight} as first seen */
	json_t *failures;   /* category -> count */
};

struct eval *eval_new(void)
{
	struct eval *ev = xcalloc(1, sizeof *ev);
	ev->convs = json_array();
	ev->criteria = json_object();
	ev->failures = json_object();
	return ev;
}

void eval_free(struct eval *ev)
{
	if (!ev)
		return;
	json_decref(ev->convs);
	json_decref(ev->criteria);
	json_decref(ev->failures);
	free(ev);
}

long eval_count(const struct eval *ev)
{
	return (long)json_array_size(ev->convs);
}

static double round4(double x)
{
	return round(x * 1e4) / 1e4;
}

static double round6(double x)
{
	return round(x * 1e6) / 1e6;
}

/* ---- taking a record --------------------------------------------------- */

void eval_add(struct eval *ev, json_t *rec)
{
	json_t *e = json_object_get(rec, "eval");
	if (!json_is_object(e))
		return;
	const char *id = jv_str(rec, "id");
	const char *persona = json_string_value(jv_path(rec, "persona.name"));
	const char *reason = json_string_value(jv_path(rec, "stop.reason"));
	const char *outcome = jv_str(e, "outcome");
	/* pairs across runs: the persona and the conversation's index, the
	 * last part of the id (p0003.c2 -> c2) */
	const char *dot = id ? strrchr(id, '.') : NULL;
	char *key = xasprintf("%s\t%s", persona ? persona : "", dot ? dot + 1 : id ? id : "");
	json_t *axes = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(jv_path(rec, "persona.axes"), k, v)
		if (json_is_string(v)) {
			char *label = xasprintf("%s: %s", k, json_string_value(v));
			json_array_append_new(axes, json_string(label));
			free(label);
		}
	json_t *scores = json_object();
	double wsum = 0, wtot = 0;
	json_object_foreach(json_object_get(e, "criteria"), k, v) {
		json_t *scale = json_object_get(v, "scale");
		double lo = json_number_value(json_array_get(scale, 0));
		double hi = json_is_array(scale) && json_array_size(scale) == 2
			    ? json_number_value(json_array_get(scale, 1)) : 1;
		json_t *sc = json_object_get(v, "score");
		if (!json_is_number(sc) || hi <= lo)
			continue;
		double s = (json_number_value(sc) - lo) / (hi - lo);
		s = s < 0 ? 0 : s > 1 ? 1 : s;
		json_t *w = json_object_get(v, "weight");
		double weight = json_is_number(w) && json_number_value(w) >= 0 ? json_number_value(w) : 1;
		json_object_set_new(scores, k, json_real(s));
		wsum += weight * s;
		wtot += weight;
		if (!json_object_get(ev->criteria, k))
			json_object_set_new(ev->criteria, k, json_pack("{s:[f,f], s:f}", "scale", lo, hi,
								       "weight", weight));
	}
	size_t i;
	json_array_foreach(json_object_get(e, "failures"), i, v)
		if (json_is_string(v))
			jv_count(ev->failures, json_string_value(v), 1);
	json_array_append_new(ev->convs, json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o}",
		"id", id ? id : "", "persona", persona ? persona : "(none)", "key", key,
		"reason", reason ? reason : "(none)", "axes", axes,
		"outcome", outcome ? outcome : "(none)", "scores", scores,
		"score", wtot > 0 ? json_real(wsum / wtot) : json_null()));
	free(key);
}

/* ---- statistics --------------------------------------------------------- */

void eval_wilson(long c, long n, double *lo, double *hi)
{
	if (n <= 0) {
		*lo = 0, *hi = 1;
		return;
	}
	double p = (double)c / (double)n, z2 = Z95 * Z95, nn = (double)n;
	double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
	double half = Z95 / (1 + z2 / nn) * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
	*lo = fmax(0, centre - half);
	*hi = fmin(1, centre + half);
}

/* The 0.975 quantile of Student's t with df degrees of freedom. */
static double t975(long df)
{
	static const double tab[] = {
		12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
	};
	if (df >= 1 && df <= 30)
		return tab[df - 1];
	double z = Z95, d = (double)df;   /* Cornish-Fisher, good to 1e-4 past 30 */
	return z + (z * z * z + z) / (4 * d) + (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

static double log_choose(long n, long k)
{
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

double eval_binom_p(long k, long n)
{
	if (n <= 0)
		return 1;
	long m = k < n - k ? k : n - k;
	double tail = 0;
	for (long i = 0; i <= m; i++)
		tail += exp(log_choose(n, i) - (double)n * log(2));
	return fmin(1, 2 * tail);
}

static json_t *rate(long c, long n)
{
	double lo, hi;
	eval_wilson(c, n, &lo, &hi);
	return json_pack("{s:I, s:I, s:f, s:[f,f]}", "n", (json_int_t)n, "successes", (json_int_t)c,
			 "rate", n ? round4((double)c / (double)n) : 0.0, "ci", round4(lo), round4(hi));
}

/* mean and 95% interval of values (each in [0, 1]); pass/fail values (all
 * 0 or 1) get the Wilson interval, others Student's t */
static json_t *mean_ci(const double *v, long n)
{
	if (!n)
		return json_pack("{s:i}", "n", 0);
	double sum = 0, ss = 0;
	int binary = 1;
	for (long i = 0; i < n; i++) {
		sum += v[i];
		binary &= v[i] == 0 || v[i] == 1;
	}
	double mean = sum / (double)n, lo, hi;
	if (binary) {
		eval_wilson(lround(sum), n, &lo, &hi);
	} else {
		for (long i = 0; i < n; i++)
			ss += (v[i] - mean) * (v[i] - mean);
		double half = n > 1 ? t975(n - 1) * sqrt(ss / (double)(n - 1)) / sqrt((double)n) : 1;
		lo = fmax(0, mean - half);
		hi = fmin(1, mean + half);
	}
	return json_pack("{s:I, s:f, s:[f,f]}", "n", (json_int_t)n, "mean", round4(mean), "ci",
			 round4(lo), round4(hi));
}

static int by_string(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* A list of ids in the order of the ids, not of the input: a run written
 * as conversations finished (--unordered) lists the same. New reference. */
static json_t *sorted_ids(json_t *ids)
{
	size_t n = json_array_size(ids), i;
	json_t **v = xmalloc((n ? n : 1) * sizeof *v), *out = json_array();
	for (i = 0; i < n; i++)
		v[i] = json_array_get(ids, i);
	qsort(v, n, sizeof *v, by_string);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(ids);
	return out;
}

static int met(json_t *c)
{
	const char *o = jv_str(c, "outcome");
	return o && !strcmp(o, "met");
}

/* groups: label -> [n, c]; turned into rates sorted by n, then label */
static void group_add(json_t *g, const char *label, int success)
{
	json_t *x = json_object_get(g, label);
	if (!x) {
		x = json_pack("[i,i]", 0, 0);
		json_object_set_new(g, label, x);
	}
	json_integer_set(json_array_get(x, 0), json_integer_value(json_array_get(x, 0)) + 1);
	json_integer_set(json_array_get(x, 1), json_integer_value(json_array_get(x, 1)) + success);
}

struct grp {
	const char *label;
	long n, c;
};

static int by_n(const void *a, const void *b)
{
	const struct grp *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->label, y->label);
}

static json_t *rates(json_t *g)
{
	size_t n = json_object_size(g), i = 0;
	struct grp *a = xcalloc(n ? n : 1, sizeof *a);
	const char *k;
	json_t *v;
	json_object_foreach(g, k, v) {
		a[i].label = k;
		a[i].n = (long)json_integer_value(json_array_get(v, 0));
		a[i++].c = (long)json_integer_value(json_array_get(v, 1));
	}
	qsort(a, n, sizeof *a, by_n);
	json_t *out = json_object();
	for (i = 0; i < n; i++)
		json_object_set_new(out, a[i].label, rate(a[i].c, a[i].n));
	free(a);
	return out;
}

/* C(c,k)/C(n,k): the chance that k tries drawn from the n all succeed */
static double pass_k(long c, long n, long k)
{
	if (c < k)
		return 0;
	double p = 1;
	for (long i = 0; i < k; i++)
		p *= (double)(c - i) / (double)(n - i);
	return p;
}

static json_t *criteria_json(struct eval *ev)
{
	json_t *out = json_object();
	long n = (long)json_array_size(ev->convs);
	double *v = xmalloc((size_t)(n ? n : 1) * sizeof *v);
	const char *name;
	json_t *info;
	json_object_foreach(ev->criteria, name, info) {
		long m = 0;
		size_t i;
		json_t *c;
		json_array_foreach(ev->convs, i, c) {
			json_t *s = json_object_get(json_object_get(c, "scores"), name);
			if (s)
				v[m++] = json_real_value(s);
		}
		json_t *s = mean_ci(v, m);
		json_object_set(s, "scale", json_object_get(info, "scale"));
		json_object_set(s, "weight", json_object_get(info, "weight"));
		json_object_set_new(out, name, s);
	}
	free(v);
	return out;
}

json_t *eval_json(struct eval *ev, int k)
{
	json_t *persona = json_object(), *axis = json_object(), *reason = json_object();
	json_t *outcomes = json_pack("{s:i, s:i, s:i}", "met", 0, "partly", 0, "not met", 0);
	json_t *failed = json_array();
	long n = (long)json_array_size(ev->convs), c = 0, nscore = 0;
	double *score = xmalloc((size_t)(n ? n : 1) * sizeof *score);
	size_t i, j;
	json_t *x, *a;
	json_array_foreach(ev->convs, i, x) {
		int ok = met(x);
		c += ok;
		jv_count(outcomes, jv_str(x, "outcome"), 1);
		group_add(persona, jv_str(x, "persona"), ok);
		group_add(reason, jv_str(x, "reason"), ok);
		json_array_foreach(json_object_get(x, "axes"), j, a)
			group_add(axis, json_string_value(a), ok);
		if (!ok)
			json_array_append(failed, json_object_get(x, "id"));
		if (json_is_number(json_object_get(x, "score")))
			score[nscore++] = json_real_value(json_object_get(x, "score"));
	}
	/* pass^k per persona: k tries of the same persona all succeed */
	long kk = k;
	const char *name;
	json_t *g;
	if (kk <= 0) {
		json_object_foreach(persona, name, g) {
			long pn = (long)json_integer_value(json_array_get(g, 0));
			if (kk <= 0 || pn < kk)
				kk = pn;
		}
		if (kk <= 0)
			kk = 1;
	}
	json_t *pk = json_object();
	double sum = 0;
	long counted = 0;
	json_object_foreach(persona, name, g) {
		long pn = (long)json_integer_value(json_array_get(g, 0));
		long pc = (long)json_integer_value(json_array_get(g, 1));
		if (pn < kk) {
			json_object_set_new(pk, name, json_null());
			continue;
		}
		double p = pass_k(pc, pn, kk);
		json_object_set_new(pk, name, json_real(round4(p)));
		sum += p;
		counted++;
	}
	failed = sorted_ids(failed);
	json_t *out = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:{s:I, s:o, s:I, s:o}, s:o, s:o, s:o, s:{s:I, s:o}}",
		"conversations", (json_int_t)n, "success", rate(c, n), "outcomes", outcomes,
		"by_persona", rates(persona), "by_axis", rates(axis), "by_stop_reason", rates(reason),
		"pass_k", "k", (json_int_t)kk, "mean", counted ? json_real(round4(sum / (double)counted)) : json_null(),
		"personas", (json_int_t)counted, "by_persona", pk,
		"criteria", criteria_json(ev), "score", mean_ci(score, nscore),
		"failures", json_deep_copy(ev->failures),
		"failed", "count", (json_int_t)json_array_size(failed), "ids", failed);
	free(score);
	json_decref(persona);
	json_decref(axis);
	json_decref(reason);
	return out;
}

/* ---- two runs ------------------------------------------------------------ */

/* Wilcoxon signed-rank test of the differences d[0..n): two-sided p, exact
 * (over the ranks as they are, ties included) up to 20 non-zero
 * differences, else the normal approximation with the tie correction. */
static double wilcoxon(const double *d, long n, double *wplus, long *nz)
{
	struct { double a; int pos; } *r = xcalloc((size_t)(n ? n : 1), sizeof *r);
	long m = 0;
	for (long i = 0; i < n; i++)
		if (fabs(d[i]) > 1e-12)
			r[m].a = fabs(d[i]), r[m++].pos = d[i] > 0;
	*nz = m;
	*wplus = 0;
	if (!m) {
		free(r);
		return 1;
	}
	/* sort by |d| (insertion: m is small where it matters) */
	for (long i = 1; i < m; i++)
		for (long j = i; j > 0 && r[j - 1].a > r[j].a; j--) {
			double ta = r[j].a;
			int tp = r[j].pos;
			r[j].a = r[j - 1].a, r[j].pos = r[j - 1].pos;
			r[j - 1].a = ta, r[j - 1].pos = tp;
		}
	long *rank2 = xmalloc((size_t)m * sizeof *rank2);   /* twice the average rank */
	double ties = 0;
	for (long i = 0; i < m;) {
		long j = i;
		while (j + 1 < m && fabs(r[j + 1].a - r[i].a) < 1e-12)
			j++;
		for (long t = i; t <= j; t++)
			rank2[t] = i + j + 2;
		double t = (double)(j - i + 1);
		ties += t * t * t - t;
		i = j + 1;
	}
	long w2 = 0, total = 0;
	for (long i = 0; i < m; i++) {
		total += rank2[i];
		if (r[i].pos)
			w2 += rank2[i];
	}
	*wplus = (double)w2 / 2;
	double p;
	if (m <= 20) {
		double *dp = xcalloc((size_t)total + 1, sizeof *dp);
		dp[0] = 1;
		for (long i = 0; i < m; i++)
			for (long s = total; s >= rank2[i]; s--)
				dp[s] += dp[s - rank2[i]];
		double le = 0, ge = 0, all = ldexp(1, (int)m);
		for (long s = 0; s <= total; s++) {
			if (s <= w2)
				le += dp[s];
			if (s >= w2)
				ge += dp[s];
		}
		p = fmin(1, 2 * fmin(le, ge) / all);
		free(dp);
	} else {
		double mm = (double)m, mean = mm * (mm + 1) / 4;
		double var = mm * (mm + 1) * (2 * mm + 1) / 24 - ties / 48;
		double z = (fabs(*wplus - mean) - 0.5) / sqrt(var);
		p = z <= 0 ? 1 : erfc(z / sqrt(2));
	}
	free(rank2);
	free(r);
	return p;
}

json_t *eval_compare(struct eval *a, struct eval *b)
{
	json_t *index = json_object();
	size_t i;
	json_t *x;
	json_array_foreach(b->convs, i, x)
		if (!json_object_get(index, jv_str(x, "key")))
			json_object_set_new(index, jv_str(x, "key"), json_integer((json_int_t)i));
	long n = 0, ca = 0, cb = 0, to_met = 0, to_not = 0;
	json_t *up = json_array(), *down = json_array(), *pairs = json_array();
	json_array_foreach(a->convs, i, x) {
		json_t *at = json_object_get(index, jv_str(x, "key"));
		if (!at)
			continue;
		json_t *y = json_array_get(b->convs, (size_t)json_integer_value(at));
		json_array_append_new(pairs, json_pack("[O,O]", x, y));
		json_object_del(index, jv_str(x, "key"));   /* one partner each */
		n++;
		int ma = met(x), mb = met(y);
		ca += ma, cb += mb;
		if (!ma && mb) {
			to_met++;
			json_array_append(up, json_object_get(y, "id"));
		} else if (ma && !mb) {
			to_not++;
			json_array_append(down, json_object_get(y, "id"));
		}
	}
	long disc = to_met + to_not;
	double p;
	const char *method = "exact";
	if (disc <= 25) {
		p = eval_binom_p(to_met, disc);
	} else {
		double chi = pow(fabs((double)(to_met - to_not)) - 1, 2) / (double)disc;
		p = erfc(sqrt(chi / 2));
		method = "chi-square";
	}
	json_t *success = json_pack("{s:o, s:o, s:f, s:{s:I, s:I, s:f, s:s}}",
		"a", rate(ca, n), "b", rate(cb, n),
		"change", n ? round4((double)(cb - ca) / (double)n) : 0.0,
		"mcnemar", "to_met", (json_int_t)to_met, "to_not_met", (json_int_t)to_not,
		"p", round6(p), "method", method);

	/* each criterion that both of a pair scored */
	json_t *crit = json_object();
	const char *name;
	json_t *info;
	double *d = xmalloc((json_array_size(pairs) + 1) * sizeof *d);
	json_object_foreach(a->criteria, name, info) {
		long m = 0, plus = 0, minus = 0;
		double sa = 0, sb = 0;
		json_t *pr;
		json_array_foreach(pairs, i, pr) {
			json_t *va = json_object_get(json_object_get(json_array_get(pr, 0), "scores"), name);
			json_t *vb = json_object_get(json_object_get(json_array_get(pr, 1), "scores"), name);
			if (!va || !vb)
				continue;
			sa += json_real_value(va);
			sb += json_real_value(vb);
			d[m] = json_real_value(vb) - json_real_value(va);
			plus += d[m] > 1e-12;
			minus += d[m] < -1e-12;
			m++;
		}
		if (!m)
			continue;
		double wplus;
		long nz;
		double pw = wilcoxon(d, m, &wplus, &nz);
		json_object_set_new(crit, name, json_pack("{s:I, s:f, s:f, s:f, s:{s:f, s:I, s:f}, s:{s:I, s:I, s:f}}",
			"n", (json_int_t)m, "a", round4(sa / (double)m), "b", round4(sb / (double)m),
			"change", round4((sb - sa) / (double)m),
			"wilcoxon", "w_plus", wplus, "n", (json_int_t)nz, "p", round6(pw),
			"sign", "plus", (json_int_t)plus, "minus", (json_int_t)minus,
			"p", round6(eval_binom_p(plus, plus + minus))));
	}
	free(d);
	up = sorted_ids(up);
	down = sorted_ids(down);
	json_t *out = json_pack("{s:I, s:I, s:I, s:o, s:o, s:{s:o, s:o}}",
		"pairs", (json_int_t)n, "only_a", (json_int_t)(eval_count(a) - n),
		"only_b", (json_int_t)(eval_count(b) - n), "success", success, "criteria", crit,
		"flipped", "to_met", up, "to_not_met", down);
	json_decref(pairs);
	json_decref(index);
	return out;
}

int eval_gate(json_t *e, const char *name, double min, struct buf *why)
{
	const char *sep = why->len ? "; " : "";
	if (!e) {
		buf_addf(why, "%sno conversation has an eval", sep);
		return 1;
	}
	if (!name) {
		json_t *su = json_object_get(e, "success");
		double r = json_number_value(json_object_get(su, "rate"));
		if (r >= min)
			return 0;
		buf_addf(why, "%ssuccess rate %g < %g (%lld of %lld met)", sep, r, min,
			 (long long)json_number_value(json_object_get(su, "successes")),
			 (long long)json_number_value(json_object_get(su, "n")));
		return 1;
	}
	json_t *c = json_object_get(json_object_get(e, "criteria"), name);
	if (!c) {
		buf_addf(why, "%sno criterion '%s'", sep, name);
		return 1;
	}
	if (json_number_value(json_object_get(c, "mean")) >= min)
		return 0;
	buf_addf(why, "%s%s %g < %g (mean of %lld)", sep, name,
		 json_number_value(json_object_get(c, "mean")), min,
		 (long long)json_number_value(json_object_get(c, "n")));
	return 1;
}
