/* test_nn_eval.c - unit tests of nn_eval_score (src/nn/fer.c) on a
 * hand-made split with FER+ votes: the FER and FER+ confusion counts, the
 * faces whose two label sets agree, and the faces predicted as neither
 * label, which bound what one prediction per face can score on both sets:
 * FER hits + FER+ hits = faces + agree_hits - neither. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "moodsync/nn.h"

#define N 6
#define NONE NN_FERPLUS_NONE

/* Probabilities that make `cls` the prediction. */
static void predict(float *p, int cls)
{
	for (int c = 0; c < NN_CLASSES; c++)
		p[c] = c == cls ? 0.4f : 0.1f;
}

static int diag(int m[NN_CLASSES][NN_CLASSES])
{
	int s = 0;

	for (int c = 0; c < NN_CLASSES; c++)
		s += m[c][c];
	return s;
}

static void test_score_label_sets(void **state)
{
	/* record: FER label, FER+ majority, has a target, prediction
	 * 0 both agree, right   1 FER+ right only    2 neither
	 * 3 FER+ tie, wrong     4 no FER+ target     5 both agree, wrong */
	uint8_t labels[N] = {3, 4, 2, 0, 1, 6};
	uint8_t major[N] = {3, 6, 5, NONE, NONE, 6};
	int target[N] = {1, 1, 1, 1, 0, 1};
	int pred[N] = {3, 6, 0, 1, 2, 3};
	float votes[N * NN_CLASSES] = {0}, probs[N * NN_CLASSES];
	struct nn_fer set = {.n = N, .labels = labels, .major = major};
	struct nn_fer_eval ev;

	(void)state;
	for (int i = 0; i < N; i++) {
		predict(probs + i * NN_CLASSES, pred[i]);
		if (target[i]) /* shares: all on the majority, or a 50/50 tie */
			for (int c = 0; c < NN_CLASSES; c++)
				votes[i * NN_CLASSES + c] =
					major[i] == NONE ? (c < 2 ? 0.5f : 0)
							 : (c == major[i]);
	}
	nn_eval_score(&set, probs, &ev); /* no votes loaded */
	assert_int_equal(diag(ev.confusion), 1);
	assert_int_equal(ev.plus_n, 0);
	assert_int_equal(ev.agree_n, 0);
	assert_int_equal(ev.neither, 0);

	set.votes = votes;
	nn_eval_score(&set, probs, &ev);
	assert_int_equal(diag(ev.confusion), 1);
	assert_int_equal(ev.confusion[2][0], 1);
	assert_int_equal(ev.plus_n, 5);
	assert_int_equal(ev.plus_hits, 2);
	assert_int_equal(diag(ev.plus_confusion), 2);
	assert_int_equal(ev.plus_confusion[6][3], 1);
	assert_int_equal(ev.agree_n, 2);
	assert_int_equal(ev.agree_hits, 1);
	assert_int_equal(ev.neither, 4);
	assert_int_equal(diag(ev.confusion) + (int)ev.plus_hits,
			 N + (int)ev.agree_hits - (int)ev.neither);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score_label_sets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
