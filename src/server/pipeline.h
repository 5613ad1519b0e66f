/* pipeline.h - one frame from bytes to emotions: decode, detect faces,
 * crop each, classify. Shared by `moodsync detect` and POST /api/frame.
 * A struct srv_pipeline (cascade + model + defaults) is immutable and
 * shared by threads; each thread owns a struct srv_worker. */
#ifndef MOODSYNC_SERVER_PIPELINE_H
#define MOODSYNC_SERVER_PIPELINE_H

#include "moodsync/nn.h"
#include "moodsync/vision.h"

#define SRV_MAX_FACES 32

struct srv_face {
	struct ms_rect box;        /* pixels in the decoded image */
	int emotion;               /* enum nn_emotion, -1 without a model */
	float probs[NN_CLASSES];   /* softmax, zeros without a model */
};

struct srv_frame {
	int width, height;                  /* decoded image, pixels */
	int nfaces;                         /* faces[0..nfaces) valid */
	struct srv_face faces[SRV_MAX_FACES]; /* largest first */
	double ms_decode, ms_detect, ms_classify; /* server time spent */
};

/* Per-call options. `hint` (may be NULL) is the last face seen in this
 * stream: the webcam fast path searches near it first. */
struct srv_frame_opts {
	const struct vis_detect_params *params; /* NULL: pipeline defaults */
	const struct ms_rect *hint;
	int fast;     /* 1: webcam fast path (downscale, plausible sizes) */
	int flip_tta; /* classifier test-time flip averaging */
};

struct srv_pipeline;
struct srv_worker;

/* Loads the cascade and (when model_path is non-NULL) the emotion model. */
int srv_pipeline_new(const char *cascade_path, const char *model_path,
		     struct srv_pipeline **out, char *err, size_t errlen);
void srv_pipeline_free(struct srv_pipeline *p);
int srv_pipeline_has_model(const struct srv_pipeline *p);

struct srv_worker *srv_worker_new(const struct srv_pipeline *p);
void srv_worker_free(struct srv_worker *w);

/* Decodes `buf` and runs detection + classification. Decode failures come
 * back as vis_image_decode's codes with its reason in err. */
int srv_frame_run(struct srv_worker *w, const uint8_t *buf, size_t len,
		  const struct srv_frame_opts *opts, struct srv_frame *out,
		  char *err, size_t errlen);
/* The same on an already decoded image. */
int srv_frame_run_image(struct srv_worker *w, const struct vis_image *img,
			const struct srv_frame_opts *opts,
			struct srv_frame *out);

#endif
