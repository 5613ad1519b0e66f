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
 * Usage: calib_sim MODEL PUBLICTEST.bin (FERPLUS.txt beside it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/nn.h"
#include "server/calib.h"

#define TRIALS 200
#define STREAMS 20
#define STREAM_LEN 3000
#define SAD 4
#define NEUTRAL 6

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
	printf("%-34s %6.2f %6.2f %+6.2f | %6.2f %6.2f %+6.2f | %5.1f %5.1f "
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
		     double tau, int resting)
{
	struct srv_calib_params cp = {SRV_CALIB_STRENGTH, tau};
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
	snprintf(what, sizeof(what), "auto %-7s delta %.1f tau %4.0f",
		 resting ? "resting" : "testmix", delta, tau);
	print_row(what, &raw, &cal);
}

int main(int argc, char **argv)
{
	static const double deltas[] = {0.0, 1.0, 2.0};
	static const double taus[] = {100, 300, 1000};
	struct nn_model *m = NULL;
	struct nn_fer set;
	size_t *neutral = NULL, *labelled = NULL, nneutral = 0, nlabelled = 0;
	float *probs = NULL;
	char err[MS_ERRLEN], plus[4096];
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: calib_sim MODEL PUBLICTEST.bin\n");
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
	       "%-34s %-20s | %-20s | %-11s | %s\n%-34s %6s %6s %6s | %6s %6s "
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
			for (int t = 0; t < 3; t++)
				auto_run(&set, probs, neutral, nneutral,
					 labelled, nlabelled, deltas[d],
					 taus[t], r);
	rc = 0;
out:
	free(labelled);
	free(neutral);
	free(probs);
	nn_fer_release(&set);
	nn_model_free(m);
	return rc;
}
