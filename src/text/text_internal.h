/* text_internal.h - the text model's layout, shared by the files of
 * src/text/ only (the public API is include/moodsync/text.h). */
#ifndef MOODSYNC_TEXT_INTERNAL_H
#define MOODSYNC_TEXT_INTERNAL_H

#include "moodsync/text.h"

struct txt_model {
	struct txt_config cfg;
	float bias[TXT_CLASSES];
	float *w; /* (buckets, TXT_CLASSES) */
};

/* In-place softmax of n logits. */
void txt_softmax(float *z, int n);

#endif
