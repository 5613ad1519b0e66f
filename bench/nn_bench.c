/* nn_bench.c - our side of bench/nn_bench.py: batch-1 inference latency
 * of a model file (a net or an ensemble manifest) on one thread, with
 * each test-time augmentation mode (none, flip, ten crops), on the kernel
 * level MOODSYNC_NN_KERNELS selects, and training throughput (images/s)
 * of a named architecture with the real trainer on synthetic faces, and
 * the core's peak rate of int8 multiply-adds on AVX-512 VNNI, the ceiling
 * the int8 kernels are measured against.
 *   nn_bench latency MODEL [N]
 *   nn_bench train ARCH THREADS [IMAGES] [BATCH] [OUT.msnn]
 *   nn_bench peak
 * Prints one "key value" line per figure; `train` keeps its (synthetic,
 * one-epoch) model in OUT when given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "moodsync/nn.h"
#include "nn/kernels.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* User CPU time of this process, ms: unlike wall time, it does not count
 * the time other processes hold the CPU, which matters on a loaded box. */
static double user_cpu_ms(void)
{
	struct rusage r;

	getrusage(RUSAGE_SELF, &r);
	return (double)r.ru_utime.tv_sec * 1e3 +
	       (double)r.ru_utime.tv_usec / 1e3;
}

/* Median and 90th percentile of n classifications (wall, ms), and their
 * mean user CPU time (ms). */
static void time_classify(struct nn_ctx *ctx, const uint8_t *face, int tta,
			  double *t, int n, double *med, double *p90,
			  double *cpu)
{
	float p[NN_CLASSES];
	double c0;

	for (int i = 0; i < 20; i++)
		nn_classify(ctx, face, tta, p);
	c0 = user_cpu_ms();
	for (int i = 0; i < n; i++) {
		double t0 = ms_now_ms();

		nn_classify(ctx, face, tta, p);
		t[i] = ms_now_ms() - t0;
	}
	*cpu = (user_cpu_ms() - c0) / n;
	qsort(t, (size_t)n, sizeof(double), cmp_double);
	*med = t[n / 2];
	*p90 = t[n * 9 / 10];
}

static int bench_latency(const char *path, int n)
{
	struct nn_model *m;
	struct nn_model_info info;
	struct nn_ctx *ctx;
	char err[MS_ERRLEN];
	uint8_t *face;
	double *t, med, p90, tmed, tp90, cpu, tcpu, cmed, cp90, ccpu;
	int side;

	if (nn_model_load(path, &m, err, sizeof(err))) {
		fprintf(stderr, "nn_bench: %s: %s\n", path, err);
		return 1;
	}
	nn_set_threads(1);
	side = nn_model_input_size(m);
	face = malloc((size_t)side * side);
	t = calloc((size_t)n, sizeof(double));
	ctx = nn_ctx_new(m);
	if (!face || !t || !ctx)
		return 1;
	for (int i = 0; i < side * side; i++)
		face[i] = (uint8_t)(i * 13 + (i >> 6));
	time_classify(ctx, face, 0, t, n, &med, &p90, &cpu);
	time_classify(ctx, face, NN_TTA_FLIP, t, n, &tmed, &tp90, &tcpu);
	/* ten passes a face: a quarter of the samples keep the run short */
	time_classify(ctx, face, NN_TTA_CROPS, t, MS_MAX(n / 4, 10), &cmed,
		      &cp90, &ccpu);
	nn_model_info(m, &info);
	printf("macs %.0f\n", info.macs);
	printf("latency_ms_median %.4f\nlatency_ms_p90 %.4f\n"
	       "latency_tta_ms_median %.4f\nlatency_tta_ms_p90 %.4f\n"
	       "latency_crops_ms_median %.4f\nlatency_crops_ms_p90 %.4f\n"
	       "cpu_ms_mean %.4f\ncpu_tta_ms_mean %.4f\n"
	       "cpu_crops_ms_mean %.4f\nmembers %d\nkernel_level %d\n",
	       med, p90, tmed, tp90, cmed, cp90, cpu, tcpu, ccpu,
	       nn_model_members(m), (int)nn_kern_level());
	fprintf(stderr, "nn_bench: kernels %s\n", nn_kernels_name());
	nn_ctx_free(ctx);
	nn_model_free(m);
	free(face);
	free(t);
	return 0;
}

static double last_ips;

static void on_progress(void *user, const struct nn_train_progress *p)
{
	(void)user;
	if (p->epoch_end)
		last_ips = p->images_per_s;
}

static int bench_train(const char *arch, int threads, int images, int batch,
		       const char *keep)
{
	struct nn_train_opts o;
	struct nn_fer train, val;
	char err[MS_ERRLEN], out[] = "/tmp/nn_bench_XXXXXX";
	int fd = mkstemp(out);

	if (fd < 0)
		return 1;
	close(fd);
	train.n = (size_t)images;
	val.n = 64;
	train.labels = malloc(train.n);
	train.pixels = malloc(train.n * NN_FER_SIDE * NN_FER_SIDE);
	if (!train.labels || !train.pixels)
		return 1;
	for (size_t i = 0; i < train.n; i++)
		train.labels[i] = (uint8_t)(i % NN_CLASSES);
	for (size_t i = 0; i < train.n * NN_FER_SIDE * NN_FER_SIDE; i++)
		train.pixels[i] = (uint8_t)((i * 2654435761u) >> 24);
	val.labels = train.labels;
	val.pixels = train.pixels;
	nn_train_opts_init(&o);
	o.arch = arch;
	o.out_path = keep ? keep : out;
	o.epochs = 1;
	o.batch = batch;
	o.threads = threads;
	o.ckpt_path = NULL;
	o.progress = on_progress;
	if (nn_train_run(&o, &train, &val, err, sizeof(err))) {
		fprintf(stderr, "nn_bench: %s\n", err);
		return 1;
	}
	printf("train_images_per_s %.1f\nkernel_level %d\n", last_ips,
	       (int)nn_kern_level());
	unlink(out);
	free(train.labels);
	free(train.pixels);
	return 0;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
static volatile int peak_sink;

#define DP(acc) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s))

/* Multiply-adds a second of vpdpbusd alone: 12 independent accumulators in
 * registers (more than its latency times its issue rate), no loads, so
 * the only limit is how many the core issues a cycle. Each instruction is
 * 64 u8 x s8 multiply-adds. The best of five 0.1 s rounds, in GMAC/s. */
VNNI static double vnni_peak(void)
{
	__m512i u = _mm512_set1_epi32(0x01010101);
	__m512i s = _mm512_set1_epi32(0x01020102);
	__m512i a0 = u, a1 = s, a2 = u, a3 = s, a4 = u, a5 = s;
	__m512i a6 = u, a7 = s, a8 = u, a9 = s, a10 = u, a11 = s;
	const long n = 1000000;
	double best = 0;

	for (int r = 0; r < 5; r++) {
		double t0 = ms_now_ms(), dt;

		for (long k = 0; k < n; k++) {
			DP(a0);
			DP(a1);
			DP(a2);
			DP(a3);
			DP(a4);
			DP(a5);
			DP(a6);
			DP(a7);
			DP(a8);
			DP(a9);
			DP(a10);
			DP(a11);
		}
		dt = ms_now_ms() - t0;
		if (dt > 0)
			best = MS_MAX(best, (double)n * 12 * 64 / dt / 1e6);
	}
	/* the sums stay live */
	a0 = _mm512_add_epi32(_mm512_add_epi32(a0, a1), a2);
	a3 = _mm512_add_epi32(_mm512_add_epi32(a3, a4), a5);
	a6 = _mm512_add_epi32(_mm512_add_epi32(a6, a7), a8);
	a9 = _mm512_add_epi32(_mm512_add_epi32(a9, a10), a11);
	a0 = _mm512_add_epi32(_mm512_add_epi32(a0, a3),
			      _mm512_add_epi32(a6, a9));
	peak_sink = _mm512_reduce_add_epi32(a0);
	return best;
}

static int bench_peak(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("avx512vnni")) {
		fprintf(stderr, "nn_bench: this CPU has no AVX-512 VNNI\n");
		return 1;
	}
	printf("vnni_peak_gmacs %.1f\n", vnni_peak());
	return 0;
}
#else
static int bench_peak(void)
{
	fprintf(stderr, "nn_bench: peak: x86-64 only\n");
	return 1;
}
#endif

int main(int argc, char **argv)
{
	int n = 300, threads = 2, images = 1536, batch = 64;

	if (argc >= 3 && !strcmp(argv[1], "latency")) {
		if (argc > 3 && ms_parse_int(argv[3], 10, 1000000, &n))
			return 2;
		return bench_latency(argv[2], n);
	}
	if (argc == 2 && !strcmp(argv[1], "peak"))
		return bench_peak();
	if (argc >= 4 && !strcmp(argv[1], "train")) {
		if (ms_parse_int(argv[3], 1, 64, &threads) ||
		    (argc > 4 && ms_parse_int(argv[4], 64, 1000000, &images)) ||
		    (argc > 5 && ms_parse_int(argv[5], 2, 4096, &batch)))
			return 2;
		return bench_train(argv[2], threads, images, batch,
				   argc > 6 ? argv[6] : NULL);
	}
	fprintf(stderr, "usage: nn_bench latency MODEL [N] | "
			"nn_bench train ARCH THREADS [IMAGES] [BATCH] [OUT] | "
			"nn_bench peak\n");
	return 2;
}
