/* server_frame.c - benchmarks of the server's frame path (bench/, not
 * part of the product):
 *   server_frame mkjpeg PHOTO.jpg W H OUT.jpg [X Y CW CH]  a WxH colour JPEG
 *       (q 80, like the page's canvas) of the crop (default: the centre)
 *   server_frame time FRAME.jpg N [MODEL]       per-frame server time on this
 *       thread (decode + detect + classify) over N frames of a simulated
 *       webcam stream (fast path, hint from the last face, whole-frame
 *       rescan every 10th frame, as POST /api/frame does), then the full scan;
 *       with $ALIGN_EYES (an eye cascade) each face is aligned (serve --align)
 *   server_frame recall DATA_DIR                 face recall/precision of the
 *       webcam fast path vs the full scan on DATA_DIR/faces (IoU >= 0.4) */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jpeglib.h>

#include "moodsync/common.h"
#include "moodsync/pipeline.h"

#define CASCADE                                                                \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

static int mkjpeg(const char *in, int ow, int oh, const char *out,
		  const int *crop)
{
	struct jpeg_decompress_struct d;
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr je, je2;
	unsigned char *rgb, *dst, *row;
	FILE *f = fopen(in, "rb"), *g;
	int w, h, cw, ch, cx, cy;

	if (!f)
		return 1;
	d.err = jpeg_std_error(&je);
	jpeg_create_decompress(&d);
	jpeg_stdio_src(&d, f);
	jpeg_read_header(&d, TRUE);
	d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&d);
	w = (int)d.output_width;
	h = (int)d.output_height;
	rgb = malloc((size_t)w * h * 3);
	while (d.output_scanline < d.output_height) {
		row = rgb + (size_t)d.output_scanline * w * 3;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	fclose(f);
	/* the largest ow:oh crop around the centre, area-sampled */
	cw = w;
	ch = (int)((long)w * oh / ow);
	if (ch > h) {
		ch = h;
		cw = (int)((long)h * ow / oh);
	}
	cx = (w - cw) / 2;
	cy = (h - ch) / 2;
	if (crop && crop[0] >= 0 && crop[1] >= 0 && crop[2] > 0 &&
	    crop[3] > 0 && crop[0] + crop[2] <= w && crop[1] + crop[3] <= h) {
		cx = crop[0];
		cy = crop[1];
		cw = crop[2];
		ch = crop[3];
	}
	dst = malloc((size_t)ow * oh * 3);
	for (int y = 0; y < oh; y++) {
		for (int x = 0; x < ow; x++) {
			int x0 = cx + x * cw / ow, x1 = cx + (x + 1) * cw / ow;
			int y0 = cy + y * ch / oh, y1 = cy + (y + 1) * ch / oh;
			long sum[3] = {0, 0, 0}, n = 0;

			x1 = x1 > x0 ? x1 : x0 + 1;
			y1 = y1 > y0 ? y1 : y0 + 1;
			for (int yy = y0; yy < y1; yy++)
				for (int xx = x0; xx < x1; xx++, n++)
					for (int k = 0; k < 3; k++)
						sum[k] += rgb[((size_t)yy * w +
							       xx) * 3 +
							      k];
			for (int k = 0; k < 3; k++)
				dst[((size_t)y * ow + x) * 3 + k] =
					(unsigned char)(sum[k] / n);
		}
	}
	g = fopen(out, "wb");
	if (!g)
		return 1;
	c.err = jpeg_std_error(&je2);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, g);
	c.image_width = (JDIMENSION)ow;
	c.image_height = (JDIMENSION)oh;
	c.input_components = 3;
	c.in_color_space = JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 80, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		row = dst + (size_t)c.next_scanline * ow * 3;
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	fclose(g);
	free(rgb);
	free(dst);
	return 0;
}

/* CPU time of this thread, ms: what the frame costs a core whatever else
 * runs on the machine (wall time is reported too). */
static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, int n, double q)
{
	int i = (int)(q * n);

	return v[i < n ? i : n - 1];
}

static void report(const char *name, double *tot, double *cpu, double *dec,
		   double *det, double *cls, int n, int faces)
{
	double sd = 0, sdet = 0, sc = 0;

	for (int i = 0; i < n; i++) {
		sd += dec[i];
		sdet += det[i];
		sc += cls[i];
	}
	qsort(tot, (size_t)n, sizeof(*tot), cmp_double);
	qsort(cpu, (size_t)n, sizeof(*cpu), cmp_double);
	printf("%s: CPU time p50 %.2f ms p95 %.2f ms; wall p50 %.2f ms p95 "
	       "%.2f ms (mean wall decode %.2f detect %.2f classify %.2f) over "
	       "%d frames, %d with a face\n",
	       name, pct(cpu, n, 0.5), pct(cpu, n, 0.95), pct(tot, n, 0.5),
	       pct(tot, n, 0.95), sd / n, sdet / n, sc / n, n, faces);
}

/* The TTA mode of the timed frames: $TTA (none, flip, crops), by default
 * flip, as `serve` runs the shipped model. */
static int bench_tta(void)
{
	const char *v = getenv("TTA");

	for (int i = 0; v && i < NN_TTA_MODES; i++)
		if (!strcmp(v, nn_tta_names[i]))
			return i;
	return NN_TTA_FLIP;
}

static int time_frames(const char *path, int n, const char *model)
{
	struct pipeline *p = NULL;
	struct pipe_worker *w;
	struct pipe_frame f;
	struct pipe_frame_opts o;
	struct ms_rect hint;
	char err[MS_ERRLEN];
	uint8_t *buf;
	size_t len;
	double *tot = calloc((size_t)n, sizeof(double));
	double *dec = calloc((size_t)n, sizeof(double));
	double *det = calloc((size_t)n, sizeof(double));
	double *cls = calloc((size_t)n, sizeof(double));
	double *cpu = calloc((size_t)n, sizeof(double));
	int have = 0, faces, hinted = 0, tta = bench_tta();
	const char *eyes = getenv("ALIGN_EYES");

	if (ms_file_read(path, 64u << 20, &buf, &len, err, sizeof(err)) ||
	    pipe_load(CASCADE, model, &p, err, sizeof(err)) ||
	    (eyes && *eyes && pipe_load_eyes(p, eyes, err, sizeof(err)))) {
		fprintf(stderr, "server_frame: %s\n", err);
		return 1;
	}
	w = pipe_worker_new(p);
	for (int pass = 0; pass < 2; pass++) {
		/* the full scan is ~10x slower: a tenth of the frames */
		int nf = pass == 0 ? n : MS_MAX(n / 10, MS_MIN(n, 20));

		faces = 0;
		have = 0;
		for (int i = -5; i < nf; i++) { /* 5 warm-up frames */
			double t0 = ms_now_ms(), c0 = cpu_ms();

			memset(&o, 0, sizeof(o));
			o.fast = pass == 0;
			o.align = eyes && *eyes;
			o.tta = tta;
			if (o.fast && have && hinted < 10) {
				o.hint = &hint;
				hinted++;
			} else {
				hinted = 0;
			}
			if (pipe_frame_run(w, buf, len, &o, &f, err,
					   sizeof(err))) {
				fprintf(stderr, "server_frame: %s\n", err);
				return 1;
			}
			if (i < 0)
				continue;
			tot[i] = ms_now_ms() - t0;
			cpu[i] = cpu_ms() - c0;
			dec[i] = f.ms_decode;
			det[i] = f.ms_detect;
			cls[i] = f.ms_classify;
			if (f.nfaces > 0) {
				hint = f.faces[0].box;
				have = 1;
				faces++;
			}
		}
		report(pass == 0 ? "webcam fast path" : "full scan", tot, cpu,
		       dec, det, cls, nf, faces);
	}
	pipe_worker_free(w);
	pipe_free(p);
	free(buf);
	free(tot);
	free(dec);
	free(det);
	free(cls);
	free(cpu);
	return 0;
}

/* Greedy IoU >= 0.4 matching of `n` detections to `m` truths; used[j]
 * is set for each truth matched. Returns the matches. */
static int matches(const struct ms_rect *d, int n, const struct ms_rect *t,
		   int m, int *used)
{
	int hit = 0;

	for (int j = 0; j < m; j++)
		used[j] = 0;
	for (int i = 0; i < n; i++) {
		int best = -1;
		double bi = 0.4;

		for (int j = 0; j < m; j++) {
			double v = ms_rect_iou(d[i], t[j]);

			if (!used[j] && v >= bi) {
				bi = v;
				best = j;
			}
		}
		if (best >= 0) {
			used[best] = 1;
			hit++;
		}
	}
	return hit;
}

static int recall(const char *data)
{
	char path[4096], img[1024], last[1024] = "", err[MS_ERRLEN];
	struct ms_rect truth[64];
	struct pipeline *p = NULL;
	struct pipe_worker *w;
	int ntruth = 0, faces = 0, nimg = 0, hit[2] = {0, 0}, det[2] = {0, 0};
	int used[64], big = 0, big_hit[2] = {0, 0};
	double ms[2] = {0, 0};
	FILE *f;

	snprintf(path, sizeof(path), "%s/faces/annotations.txt", data);
	f = fopen(path, "r");
	if (!f || pipe_load(CASCADE, NULL, &p, err, sizeof(err))) {
		fprintf(stderr, "server_frame: cannot open %s\n", path);
		return 1;
	}
	w = pipe_worker_new(p);
	for (;;) {
		struct ms_rect r;
		int got = fscanf(f, "%1023s %d %d %d %d", img, &r.x, &r.y, &r.w,
				 &r.h);

		if ((got != 5 || strcmp(img, last) != 0) && last[0]) {
			char ip[4096];
			uint8_t *buf;
			size_t len;

			snprintf(ip, sizeof(ip), "%s/faces/%s", data, last);
			if (ms_file_read(ip, 64u << 20, &buf, &len, err,
					 sizeof(err)))
				return 1;
			for (int fast = 0; fast < 2; fast++) {
				struct pipe_frame fr;
				struct pipe_frame_opts o;
				struct ms_rect boxes[PIPE_MAX_FACES];
				double t0 = ms_now_ms();

				memset(&o, 0, sizeof(o));
				o.fast = fast;
				if (pipe_frame_run(w, buf, len, &o, &fr, err,
						   sizeof(err)))
					return 1;
				ms[fast] += ms_now_ms() - t0;
				for (int i = 0; i < fr.nfaces; i++)
					boxes[i] = fr.faces[i].box;
				det[fast] += fr.nfaces;
				hit[fast] += matches(boxes, fr.nfaces, truth,
						     ntruth, used);
				/* webcam-sized: side >= 1/8 of the frame's */
				for (int j = 0; j < ntruth; j++) {
					int side = MS_MIN(fr.width, fr.height);

					if (MS_MIN(truth[j].w, truth[j].h) * 8 <
					    side)
						continue;
					big += fast == 0;
					big_hit[fast] += used[j];
				}
			}
			free(buf);
			nimg++;
			faces += ntruth;
			ntruth = 0;
		}
		if (got != 5)
			break;
		snprintf(last, sizeof(last), "%s", img);
		if (ntruth < 64)
			truth[ntruth++] = r;
	}
	fclose(f);
	for (int fast = 0; fast < 2; fast++)
		printf("%s: recall %d/%d = %.1f%%, precision %d/%d = %.1f%%, "
		       "%.1f ms per photo\n",
		       fast ? "webcam fast path (no hint)" : "full scan",
		       hit[fast], faces, 100.0 * hit[fast] / faces, hit[fast],
		       det[fast], det[fast] ? 100.0 * hit[fast] / det[fast] : 0,
		       ms[fast] / (nimg ? nimg : 1));
	for (int fast = 0; fast < 2; fast++)
		printf("%s: recall on webcam-sized faces (side >= 1/8 of the "
		       "photo's short side) %d/%d = %.1f%%\n",
		       fast ? "webcam fast path (no hint)" : "full scan",
		       big_hit[fast], big,
		       big ? 100.0 * big_hit[fast] / big : 0);
	pipe_worker_free(w);
	pipe_free(p);
	return 0;
}

int main(int argc, char **argv)
{
	int a, b;

	ms_log_set_level(MS_LOG_WARN);
	if ((argc == 6 || argc == 10) && strcmp(argv[1], "mkjpeg") == 0 &&
	    ms_parse_int(argv[3], 16, 4096, &a) == MS_OK &&
	    ms_parse_int(argv[4], 16, 4096, &b) == MS_OK) {
		int crop[4] = {-1, -1, -1, -1};

		for (int i = 0; argc == 10 && i < 4; i++)
			if (ms_parse_int(argv[6 + i], 0, 1 << 20, &crop[i]))
				return 2;
		return mkjpeg(argv[2], a, b, argv[5], crop);
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "time") == 0 &&
	    ms_parse_int(argv[3], 1, 1000000, &a) == MS_OK)
		return time_frames(argv[2], a, argc == 5 ? argv[4] : NULL);
	if (argc == 3 && strcmp(argv[1], "recall") == 0)
		return recall(argv[2]);
	fprintf(stderr, "usage: server_frame mkjpeg PHOTO W H OUT [X Y W H] | "
			"time JPEG N "
			"[MODEL] | recall DATA_DIR\n");
	return 2;
}
