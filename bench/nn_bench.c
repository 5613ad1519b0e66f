/* nn_bench.c - our side of bench/nn_bench.py: batch-1 inference latency
 * of a model file (a net or an ensemble manifest) on one thread, with
 * each test-time augmentation mode (none, flip, ten crops), on the kernel
 * level MOODSYNC_NN_KERNELS selects, and training throughput (images/s)
 * of a named architecture with the real trainer on synthetic faces.
 *   nn_bench latency MODEL [N]
 *   nn_bench train ARCH THREADS [IMAGES] [BATCH] [OUT.msnn]
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

int main(int argc, char **argv)
{
	int n = 300, threads = 2, images = 1536, batch = 64;

	if (argc >= 3 && !strcmp(argv[1], "latency")) {
		if (argc > 3 && ms_parse_int(argv[3], 10, 1000000, &n))
			return 2;
		return bench_latency(argv[2], n);
	}
	if (argc >= 4 && !strcmp(argv[1], "train")) {
		if (ms_parse_int(argv[3], 1, 64, &threads) ||
		    (argc > 4 && ms_parse_int(argv[4], 64, 1000000, &images)) ||
		    (argc > 5 && ms_parse_int(argv[5], 2, 4096, &batch)))
			return 2;
		return bench_train(argv[2], threads, images, batch,
				   argc > 6 ? argv[6] : NULL);
	}
	fprintf(stderr, "usage: nn_bench latency MODEL [N] | "
			"nn_bench train ARCH THREADS [IMAGES] [BATCH] [OUT]\n");
	return 2;
}
