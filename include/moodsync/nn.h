/* nn.h - the emotion CNN: model files, inference and training, in plain C
 * on top of OpenBLAS. Depends on common only; never sees images files,
 * HTTP, JSON or SQLite (the caller hands it gray pixels).
 *
 * Thread-safety: a loaded struct nn_model is immutable and shared by
 * threads; each thread owns its struct nn_ctx (activations, scratch). */
#ifndef MOODSYNC_NN_H
#define MOODSYNC_NN_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"

/* FER-2013 classes, in the dataset's label order. */
enum nn_emotion {
	NN_ANGRY,
	NN_DISGUST,
	NN_FEAR,
	NN_HAPPY,
	NN_SAD,
	NN_SURPRISE,
	NN_NEUTRAL,
	NN_CLASSES
};

/* "angry", "disgust", ... indexed by enum nn_emotion. */
extern const char *const nn_emotion_names[NN_CLASSES];

struct nn_model;

/* Loads and validates a model file (format spec at the top of
 * src/nn/model_io.c). MS_EFORMAT/MS_ELIMIT/MS_EIO with a reason. */
int nn_model_load(const char *path, struct nn_model **out, char *err,
		  size_t errlen);
int nn_model_parse(const uint8_t *buf, size_t len, struct nn_model **out,
		   char *err, size_t errlen);
void nn_model_free(struct nn_model *m);

/* Side of the square gray face crop the model takes (e.g. 48). */
int nn_model_input_size(const struct nn_model *m);

struct nn_ctx;

/* Per-thread inference scratch for one model (borrowed). */
struct nn_ctx *nn_ctx_new(const struct nn_model *m);
void nn_ctx_free(struct nn_ctx *ctx);

/* Classifies one face: `gray` is side*side bytes (side =
 * nn_model_input_size). Writes softmax probabilities. With `flip_tta`,
 * averages with the mirrored face. */
int nn_classify(struct nn_ctx *ctx, const uint8_t *gray, int flip_tta,
		float probs[NN_CLASSES]);

#endif
