/* pipeline.h - the pipeline component: one frame from bytes to emotions
 * (decode, detect faces, crop each, classify) and the image-size limits a
 * frame must meet. Shared by `moodsync detect`, POST /api/frame and
 * bench/server_frame.c; sits on vision and nn, knows nothing of HTTP.
 * A struct pipeline (cascade + model + defaults) is immutable and shared
 * by threads; each thread owns a struct pipe_worker. */
#ifndef MOODSYNC_PIPELINE_H
#define MOODSYNC_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/nn.h"
#include "moodsync/vision.h"

#define PIPE_MAX_FACES 32

struct pipe_face {
	struct ms_rect box;	 /* pixels in the decoded image */
	int emotion;		 /* enum nn_emotion, -1 without a model */
	float probs[NN_CLASSES]; /* softmax, zeros without a model */
};

struct pipe_frame {
	int width, height;			  /* decoded image, pixels */
	int nfaces;				  /* faces[0..nfaces) valid */
	struct pipe_face faces[PIPE_MAX_FACES];	  /* largest first */
	double ms_decode, ms_detect, ms_classify; /* server time spent */
};

/* Per-call options. `hint` (may be NULL) is the last face seen in this
 * stream: the webcam fast path searches near it first. */
struct pipe_frame_opts {
	const struct vis_detect_params *params; /* NULL: pipeline defaults */
	const struct ms_rect *hint;
	int fast; /* 1: webcam fast path (downscale, plausible sizes) */
	int tta;  /* classifier test-time augmentation, enum nn_tta */
};

struct pipeline;
struct pipe_worker;

/* Loads the cascade and (when model_path is non-NULL) the emotion model,
 * a net or an ensemble manifest (nn_model_load).
 * MS_OK with *out set, or vis_cascade_load's / nn_model_load's code with
 * the reason in err. */
int pipe_load(const char *cascade_path, const char *model_path,
	      struct pipeline **out, char *err, size_t errlen);
/* NULL is a no-op. */
void pipe_free(struct pipeline *p);
/* 1 when an emotion model was loaded. */
int pipe_has_model(const struct pipeline *p);
/* Nets in the emotion model (more than 1 for an ensemble), 0 without. */
int pipe_model_nets(const struct pipeline *p);

/* Per-thread scratch (detector, classifier context, crop buffer) for `p`,
 * which must outlive it. NULL when out of memory. */
struct pipe_worker *pipe_worker_new(const struct pipeline *p);
void pipe_worker_free(struct pipe_worker *w);

/* Decodes `buf` and runs detection + classification. Decode failures come
 * back as vis_image_decode's codes with its reason in err. */
int pipe_frame_run(struct pipe_worker *w, const uint8_t *buf, size_t len,
		   const struct pipe_frame_opts *opts, struct pipe_frame *out,
		   char *err, size_t errlen);
/* The same on an already decoded image. */
int pipe_frame_run_image(struct pipe_worker *w, const struct vis_image *img,
			 const struct pipe_frame_opts *opts,
			 struct pipe_frame *out);

/* ---- Image-size limits ------------------------------------------------ */

/* Largest frame the API decodes: 4096 px a side, 4.2 megapixels (2560x1600
 * passes, 4K UHD does not; the page sends 320x240). */
#define PIPE_FRAME_MAX_SIDE 4096
#define PIPE_FRAME_MAX_PIXELS (4096u * 1024u)

/* Writes the width and height declared by the PNG IHDR or the first JPEG
 * SOFn marker of buf[0..len) without decoding. Returns 1 when found, 0
 * when the header is not recognised or truncated (let the decoder report
 * it). Reads only inside the buffer; thread-safe. */
int pipe_image_dims(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h);

/* Refuses a frame whose header declares more than the limits above, so
 * a 75 KB PNG claiming 8000x8000 never reaches the decoder: MS_ELIMIT
 * with "image too large: WxH (at most ...)" in err, else MS_OK (also when
 * the header is unreadable: the decoder reports that). Thread-safe. */
int pipe_frame_check_size(const uint8_t *buf, size_t len, char *err,
			  size_t errlen);

#endif
