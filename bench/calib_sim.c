/* calib_sim.c - does per-person calibration (src/server/calib.c) help on
 * the faces we have? FER-2013 PublicTest has no identities, so a "person"
 * is simulated: every face they show reads `delta` more sad in log-odds
 * (p_sad * e^delta, renormalised: the "it always says sad"), the
 * FER+ crowd majority is the truth. Two uses of the real server code:
 *  - explicit: one FER+-neutral face (the 3-second resting face; its
 *    frames are near copies) is the baseline, every other face is read
 *    relative to it; averaged over TRIALS random resting faces;
 *  - automatic: a stream of faces feeds the slow moving average (time
 *    constant tau faces), each face read relative to it once warm; streams
 *    drawn from the test set's own mix or "mostly resting" (70 % FER+
 *    neutral faces), averaged over STREAMS seeds.
 * The peer is the same faces read raw. Prints FER+ accuracy, macro recall
 * and the share of crowd-neutral faces read as sad.
 * With FACES_DIR (the shared photos, no emotion labels, one photo per
 * person): each face the cascade finds (40 px wide or more) is a person's
 * resting face seen by a jittery webcam (the cascade's box shifted and scaled
 * by up to 5 %, the light by up to 12 levels); 5 frames calibrate, 5 more are
 * read. Prints how often the resting face then reads neutral, and sad, per
 * strength. Usage: calib_sim MODEL PUBLICTEST.bin [FACES_DIR] (FERPLUS.txt
 * beside the split). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/nn.h"
#include "moodsync/pipeline.h"
#include "server/calib.h"

#define TRIALS 200
#define STREAMS 20
#define STREAM_LEN 3000
#define SAD 4
#define NEUTRAL 6
#define CASCADE                                                                \
	"/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define JITTER_FRAMES 5 /* frames of the resting face, then as many read */

struct score {
	double acc, macro,
		neu_sad; /* FER+ accuracy, mean recall, neutral->sad */
	double fer;	 /* accuracy on the FER labels */
};

struct tally {
	long hit[NN_CLASSES], n[NN_CLASSES], neu_sad;
	long fer_hit, fer_n;
};

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void bias(const float *p, double delta, float *out)
{
	double z = 0;

	for (int k = 0; k < NN_CLASSES; k++) {
		out[k] = (float)(p[k] * (k == SAD ? exp(delta) : 1.0));
		z += out[k];
	}
	for (int k = 0; k < NN_CLASSES; k++)
		out[k] = (float)(out[k] / z);
}

static void tally_add(struct tally *t, int truth, int fer, const float *p)
{
	int top = nn_argmax(p);

	t->fer_n++;
	t->fer_hit += top == fer;
	t->n[truth]++;
	t->hit[truth] += top == truth;
	if (truth == NEUTRAL && top == SAD)
		t->neu_sad++;
}

static void tally_score(const struct tally *t, struct score *s)
{
	long hits = 0, n = 0;
	int classes = 0;

	memset(s, 0, sizeof(*s));
	for (int k = 0; k < NN_CLASSES; k++) {
		hits += t->hit[k];
		n += t->n[k];
		if (t->n[k]) {
			s->macro += (double)t->hit[k] / (double)t->n[k];
			classes++;
		}
	}
	s->acc = n ? (double)hits / (double)n : 0;
	s->macro = classes ? s->macro / classes : 0;
	s->neu_sad = t->n[NEUTRAL] ? (double)t->neu_sad / t->n[NEUTRAL] : 0;
	s->fer = t->fer_n ? (double)t->fer_hit / (double)t->fer_n : 0;
}

static void score_add(struct score *sum, const struct score *s, double w)
{
	sum->acc += w * s->acc;
	sum->macro += w * s->macro;
	sum->neu_sad += w * s->neu_sad;
	sum->fer += w * s->fer;
}

static void print_row(const char *what, const struct score *raw,
		      const struct score *cal)
{
	printf("%-40s %6.2f %6.2f %+6.2f | %6.2f %6.2f %+6.2f | %5.1f %5.1f "
	       "| %6.2f %+6.2f\n",
	       what, 100 * raw->acc, 100 * cal->acc,
	       100 * (cal->acc - raw->acc), 100 * raw->macro, 100 * cal->macro,
	       100 * (cal->macro - raw->macro), 100 * raw->neu_sad,
	       100 * cal->neu_sad, 100 * raw->fer, 100 * (cal->fer - raw->fer));
}

/* Explicit step: a random crowd-neutral face is the resting face. */
static void explicit_run(const struct nn_fer *set, const float *probs,
			 const size_t *neutral, size_t nneutral, double delta,
			 float strength)
{
	struct srv_calib_params cp = {strength, 0};
	struct score raw, cal, s;
	char what[64];

	memset(&raw, 0, sizeof(raw));
	memset(&cal, 0, sizeof(cal));
	for (int t = 0; t < TRIALS; t++) {
		struct tally tr, tc;
		struct srv_calib c;
		const struct nn_calib *act;
		size_t rest = neutral[rnd() % nneutral];
		float q[NN_CLASSES], o[NN_CLASSES];
		int automatic;

		memset(&tr, 0, sizeof(tr));
		memset(&tc, 0, sizeof(tc));
		srv_calib_init(&c);
		srv_calib_start(&c, 0, 30, 0);
		bias(probs + rest * NN_CLASSES, delta, q);
		for (int f = 0; f < 30; f++)
			srv_calib_frame(&c, &cp, q, 0);
		act = srv_calib_active(&c, &cp, &automatic);
		for (size_t i = 0; i < set->n; i++) {
			if (i == rest || set->major[i] == NN_FERPLUS_NONE)
				continue;
			bias(probs + i * NN_CLASSES, delta, q);
			srv_calib_apply(act, &cp, q, o);
			tally_add(&tr, set->major[i], set->labels[i], q);
			tally_add(&tc, set->major[i], set->labels[i], o);
		}
		tally_score(&tr, &s);
		score_add(&raw, &s, 1.0 / TRIALS);
		tally_score(&tc, &s);
		score_add(&cal, &s, 1.0 / TRIALS);
	}
	snprintf(what, sizeof(what), "explicit delta %.1f S %.2f", delta,
		 strength);
	print_row(what, &raw, &cal);
}

/* Automatic baseline over streams of the person's faces. */
static void auto_run(const struct nn_fer *set, const float *probs,
		     const size_t *neutral, size_t nneutral,
		     const size_t *labelled, size_t nlabelled, double delta,
		     double tau, float strength, int resting)
{
	struct srv_calib_params cp = {strength, tau};
	struct score raw, cal, s;
	char what[80];

	memset(&raw, 0, sizeof(raw));
	memset(&cal, 0, sizeof(cal));
	for (int r = 0; r < STREAMS; r++) {
		struct tally tr, tc;
		struct srv_calib c;

		memset(&tr, 0, sizeof(tr));
		memset(&tc, 0, sizeof(tc));
		srv_calib_init(&c);
		for (int f = 0; f < STREAM_LEN; f++) {
			const struct nn_calib *act;
			float q[NN_CLASSES], o[NN_CLASSES];
			size_t i = resting && rnd() % 10 < 7
					   ? neutral[rnd() % nneutral]
					   : labelled[rnd() % nlabelled];
			int automatic;

			bias(probs + i * NN_CLASSES, delta, q);
			srv_calib_frame(&c, &cp, q, 0);
			act = srv_calib_active(&c, &cp, &automatic);
			if (!act)
				continue; /* warming up: scored only once on */
			srv_calib_apply(act, &cp, q, o);
			tally_add(&tr, set->major[i], set->labels[i], q);
			tally_add(&tc, set->major[i], set->labels[i], o);
		}
		tally_score(&tr, &s);
		score_add(&raw, &s, 1.0 / STREAMS);
		tally_score(&tc, &s);
		score_add(&cal, &s, 1.0 / STREAMS);
	}
	snprintf(what, sizeof(what), "auto %-7s delta %.1f tau %4.0f S %.2f",
		 resting ? "resting" : "testmix", delta, tau, strength);
	print_row(what, &raw, &cal);
}

/* One jittered webcam frame of the face in `box`: probabilities. */
static int jitter_frame(struct nn_ctx *ctx, const struct vis_image *img,
			struct ms_rect box, int side, uint8_t *crop, float *out)
{
	double u = (double)(rnd() % 2001) / 1000.0 - 1.0;
	double v = (double)(rnd() % 2001) / 1000.0 - 1.0;
	double sc = 1.0 + 0.05 * ((double)(rnd() % 2001) / 1000.0 - 1.0);
	int light = (int)(rnd() % 25) - 12;
	struct ms_rect b;

	b.w = (int)(box.w * sc);
	b.h = (int)(box.h * sc);
	b.x = box.x + (box.w - b.w) / 2 + (int)(0.05 * u * box.w);
	b.y = box.y + (box.h - b.h) / 2 + (int)(0.05 * v * box.h);
	vis_crop_resize(img, b, 0.0f, side, side, crop);
	for (int i = 0; i < side * side; i++) {
		int p = crop[i] + light;

		crop[i] = (uint8_t)(p < 0 ? 0 : p > 255 ? 255 : p);
	}
	return nn_classify(ctx, crop, 0, out);
}

/* Calibrates on JITTER_FRAMES frames of the face in `box`, then reads as
 * many more at each strength; counts neutral and sad readings (index 0
 * raw, then per strength). */
static void resting_face(struct nn_ctx *ctx, const struct vis_image *img,
			 struct ms_rect box, int side, uint8_t *crop,
			 long neu[4], long sad[4], long *n)
{
	static const float strengths[] = {0.5f, 0.75f, 1.0f};
	struct srv_calib c[3];

	for (int s = 0; s < 3; s++) {
		srv_calib_init(&c[s]);
		srv_calib_start(&c[s], 0, JITTER_FRAMES, 0);
	}
	for (int k = 0; k < 2 * JITTER_FRAMES; k++) {
		float p[NN_CLASSES], q[NN_CLASSES];
		int automatic;

		if (jitter_frame(ctx, img, box, side, crop, p))
			continue;
		for (int s = 0; s < 3; s++) {
			struct srv_calib_params cp = {strengths[s], 0};

			if (srv_calib_frame(&c[s], &cp, p, 0))
				continue;
			srv_calib_apply(
				srv_calib_active(&c[s], &cp, &automatic), &cp,
				p, q);
			neu[s + 1] += nn_argmax(q) == NEUTRAL;
			sad[s + 1] += nn_argmax(q) == SAD;
			if (s == 0) {
				(*n)++;
				neu[0] += nn_argmax(p) == NEUTRAL;
				sad[0] += nn_argmax(p) == SAD;
			}
		}
	}
}

/* The shared photos as resting faces (see the top of the file). */
static int photos_run(const char *model_path, const struct nn_model *m,
		      const char *dir)
{
	struct pipeline *pipe = NULL;
	struct pipe_worker *w = NULL;
	struct nn_ctx *ctx = nn_ctx_new(m);
	struct pipe_frame *fr = malloc(sizeof(*fr));
	int side = nn_model_input_size(m), people = 0, rc = 1;
	long neu[4] = {0}, sad[4] = {0}, n = 0;
	uint8_t *crop = malloc((size_t)side * (size_t)side);
	char path[4096], line[4096], err[MS_ERRLEN];
	FILE *f;

	snprintf(path, sizeof(path), "%s/images.txt", dir);
	f = fopen(path, "r");
	if (!f || !ctx || !fr || !crop ||
	    pipe_load(CASCADE, NULL, &pipe, err, sizeof(err)) ||
	    !(w = pipe_worker_new(pipe))) {
		fprintf(stderr,
			"calib_sim: cannot read %s or load the cascade\n",
			path);
		goto out;
	}
	while (fgets(line, sizeof(line), f)) {
		char rel[2048];
		struct vis_image img;
		struct pipe_frame_opts o;

		if (line[0] == '#' || sscanf(line, "%2047s", rel) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		if (vis_image_load(path, &img, err, sizeof(err)))
			continue;
		memset(&o, 0, sizeof(o));
		if (pipe_frame_run_image(w, &img, &o, fr))
			fr->nfaces = 0;
		for (int i = 0; i < fr->nfaces; i++) {
			if (fr->faces[i].box.w < 40)
				continue;
			people++;
			resting_face(ctx, &img, fr->faces[i].box, side, crop,
				     neu, sad, &n);
		}
		vis_image_release(&img);
	}
	printf("\nshared photos, %s: %d faces as resting faces, %ld read "
	       "frames\n%-24s %8s %8s\n",
	       model_path, people, n, "reading", "neutral", "sad");
	for (int s = 0; s < 4; s++)
		printf("%-14s%-10s %7.1f%% %7.1f%%\n",
		       s ? "calibrated, S" : "raw",
		       s ? (const char *[]){"0.5", "0.75", "1"}[s - 1] : "",
		       n ? 100.0 * neu[s] / n : 0, n ? 100.0 * sad[s] / n : 0);
	rc = 0;
out:
	if (f)
		fclose(f);
	pipe_worker_free(w);
	pipe_free(pipe);
	nn_ctx_free(ctx);
	free(crop);
	free(fr);
	return rc;
}
int main(int argc, char **argv)
{
	static const double deltas[] = {0.0, 1.0, 2.0};
	static const double taus[] = {300, 1000};
	struct nn_model *m = NULL;
	struct nn_fer set;
	size_t *neutral = NULL, *labelled = NULL, nneutral = 0, nlabelled = 0;
	float *probs = NULL;
	char err[MS_ERRLEN], plus[4096];
	int rc = 1;

	if (argc != 3 && argc != 4) {
		fprintf(stderr,
			"usage: calib_sim MODEL PUBLICTEST.bin [FACES_DIR]\n");
		return 2;
	}
	memset(&set, 0, sizeof(set));
	snprintf(plus, sizeof(plus), "%.*s.ferplus.txt",
		 (int)(strlen(argv[2]) > 4 ? strlen(argv[2]) - 4 : 0), argv[2]);
	if (nn_model_load(argv[1], &m, err, sizeof(err)) ||
	    nn_fer_load(argv[2], &set, err, sizeof(err)) ||
	    nn_fer_load_ferplus(plus, &set, err, sizeof(err))) {
		fprintf(stderr, "calib_sim: %s\n", err);
		goto out;
	}
	probs = malloc(set.n * NN_CLASSES * sizeof(float));
	neutral = malloc(set.n * sizeof(size_t));
	labelled = malloc(set.n * sizeof(size_t));
	if (!probs || !neutral || !labelled ||
	    nn_eval_probs(m, &set, 0, 2, probs)) {
		fprintf(stderr, "calib_sim: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < set.n; i++) {
		if (set.major[i] == NN_FERPLUS_NONE)
			continue;
		labelled[nlabelled++] = i;
		if (set.major[i] == NEUTRAL)
			neutral[nneutral++] = i;
	}
	printf("model %s, %zu PublicTest faces with a unique FER+ majority "
	       "(%zu neutral)\n"
	       "%-40s %-20s | %-20s | %-11s | %s\n%-40s %6s %6s %6s | %6s %6s "
	       "%6s | %5s %5s | %6s %6s\n",
	       argv[1], nlabelled, nneutral, "", "FER+ accuracy %",
	       "FER+ macro recall %", "neutral->sad", "FER acc %", "condition",
	       "raw", "calib", "gain", "raw", "calib", "gain", "raw", "calib",
	       "raw", "gain");
	for (int d = 0; d < 3; d++)
		for (int s = 2; s <= 4; s++)
			explicit_run(&set, probs, neutral, nneutral, deltas[d],
				     0.25f * (float)s);
	for (int r = 0; r <= 1; r++)
		for (int d = 0; d < 3; d++)
			for (int t = 0; t < 2; t++)
				for (int s = 2; s <= 3; s++)
					auto_run(&set, probs, neutral, nneutral,
						 labelled, nlabelled, deltas[d],
						 taus[t], 0.25f * (float)s, r);
	rc = argc == 4 ? photos_run(argv[1], m, argv[3]) : 0;
out:
	free(labelled);
	free(neutral);
	free(probs);
	nn_fer_release(&set);
	nn_model_free(m);
	return rc;
}
