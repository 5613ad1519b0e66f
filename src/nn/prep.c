/* prep.c - the two ends of a classification: a face's window as the
 * net's normalised input (nn_classify and the trainer), and logits to
 * softmax probabilities and the winning class. */
#include <math.h>

#include "nn/nn_internal.h"

void nn_prep_window(const struct nn_arch *a, const uint8_t *gray, int x0,
		    int y0, int flip, float *dst)
{
	float sc = 1.0f / (255.0f * a->norm_std),
	      sh = -a->norm_mean / a->norm_std;

	for (int y = 0; y < a->crop; y++) {
		const uint8_t *row = gray + (size_t)(y + y0) * a->side + x0;

		for (int x = 0; x < a->crop; x++)
			dst[y * a->crop + x] =
				(float)row[flip ? a->crop - 1 - x : x] * sc +
				sh;
	}
}

void nn_prep_center(const struct nn_arch *a, const uint8_t *gray, int flip,
		    float *dst)
{
	int off = (a->side - a->crop) / 2;

	nn_prep_window(a, gray, off, off, flip, dst);
}

void nn_softmax(const float z[NN_CLASSES], float p[NN_CLASSES])
{
	float mx = z[0], s = 0;

	for (int c = 1; c < NN_CLASSES; c++)
		mx = z[c] > mx ? z[c] : mx;
	for (int c = 0; c < NN_CLASSES; c++) {
		p[c] = expf(z[c] - mx);
		s += p[c];
	}
	for (int c = 0; c < NN_CLASSES; c++)
		p[c] /= s;
}

int nn_argmax(const float probs[NN_CLASSES])
{
	int best = 0;

	for (int c = 1; c < NN_CLASSES; c++)
		if (probs[c] > probs[best])
			best = c;
	return best;
}
