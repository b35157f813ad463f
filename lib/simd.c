/* simd: the run-time choice of vector path, made once. */
#include "simd.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[SIMD_NPATHS] = {"portable", "avx2", "avx512", "neon"};

const char *simd_name(enum simd_path p)
{
	return names[p];
}

int simd_available(enum simd_path p)
{
	switch (p) {
	case SIMD_PORTABLE:
		return 1;
#ifdef SIMD_HAVE_X86
	case SIMD_AVX2:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx2");
	case SIMD_AVX512:
		__builtin_cpu_init();
		return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2");
#endif
#ifdef SIMD_HAVE_NEON
	case SIMD_NEON:
		return 1;
#endif
	default:
		return 0;
	}
}

enum simd_path simd_path(void)
{
	static int chosen = -1;
	if (chosen >= 0)
		return (enum simd_path)chosen;
	const char *e = getenv("SCG_SIMD");
	if (e && *e) {
		for (int p = 0; p < SIMD_NPATHS; p++)
			if (!strcmp(e, names[p])) {
				if (!simd_available((enum simd_path)p))
					die_status(2, "SCG_SIMD=%s: this CPU or build has no such "
						   "vector unit", e);
				return (enum simd_path)(chosen = p);
			}
		die_status(2, "SCG_SIMD=%s: expected avx512, avx2, neon or portable", e);
	}
	static const enum simd_path best[] = {SIMD_AVX512, SIMD_NEON, SIMD_AVX2};
	chosen = SIMD_PORTABLE;
	for (size_t i = 0; i < sizeof best / sizeof *best; i++)
		if (simd_available(best[i])) {
			chosen = best[i];
			break;
		}
	return (enum simd_path)chosen;
}

const char *simd_describe(void)
{
	static char text[128];
	size_t n = (size_t)snprintf(text, sizeof text, "%s (this machine:", simd_name(simd_path()));
	for (int p = SIMD_NPATHS - 1; p >= 0 && n < sizeof text; p--)
		if (simd_available((enum simd_path)p))
			n += (size_t)snprintf(text + n, sizeof text - n, " %s", names[p]);
	if (n < sizeof text)
		snprintf(text + n, sizeof text - n, "; SCG_SIMD chooses)");
	return text;
}
