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

/* A model is one net or an ensemble of nets that take the same face side,
 * whose softmax probabilities nn_classify averages with weights. */
struct nn_model;

/* Loads and validates a model: a net file (".msnn", format spec at the
 * top of src/nn/model_io.c) or an ensemble manifest (".msens", text
 * starting "msens 1", spec at the top of src/nn/ensemble.c), told apart
 * by their first bytes. MS_EFORMAT/MS_ELIMIT/MS_EIO/MS_ENOTFOUND with a
 * reason (for a member: its number and path). */
int nn_model_load(const char *path, struct nn_model **out, char *err,
		  size_t errlen);
/* A net file in a buffer (a manifest needs its path: MS_EFORMAT). */
int nn_model_parse(const uint8_t *buf, size_t len, struct nn_model **out,
		   char *err, size_t errlen);
void nn_model_free(struct nn_model *m);

/* Side of the square gray face crop the model takes (e.g. 48). */
int nn_model_input_size(const struct nn_model *m);

/* Nets in the model (1 for a single net, at most NN_ENS_MAX). */
int nn_model_members(const struct nn_model *m);
/* Member i (0-based) of an ensemble, or m itself for i 0 of a single net;
 * NULL when out of range. *weight (may be NULL) gets its normalised
 * weight. The member is owned by m. */
const struct nn_model *nn_model_member(const struct nn_model *m, int i,
				       float *weight);

/* ---- Ensemble manifests ------------------------------------------------
 * The parsed lines of a ".msens" file (spec at the top of
 * src/nn/ensemble.c): member net files as written (relative to the
 * manifest's folder unless absolute) and their weights, normalised to
 * sum 1. */
#define NN_ENS_MAX 8
#define NN_ENS_PATH 512 /* bytes of a member path, with the NUL */
struct nn_manifest {
	int n;				    /* members, 1..NN_ENS_MAX */
	char path[NN_ENS_MAX][NN_ENS_PATH]; /* as written in the file */
	float weight[NN_ENS_MAX];	    /* > 0, sum 1 */
};
/* Parses a manifest of `len` bytes (any bytes; fuzzed). MS_EFORMAT or
 * MS_ELIMIT with the line and reason; *out written only on success. */
int nn_manifest_parse(const uint8_t *buf, size_t len, struct nn_manifest *out,
		      char *err, size_t errlen);

struct nn_ctx;

/* Per-thread inference scratch for one model (borrowed). */
struct nn_ctx *nn_ctx_new(const struct nn_model *m);
void nn_ctx_free(struct nn_ctx *ctx);

/* Test-time augmentation: nn_classify averages the probabilities of
 * several views of the face. A net sees a crop x crop window of the side x
 * side face (nn_model_info); its centre is the plain view. */
enum nn_tta {
	NN_TTA_NONE = 0,  /* the centre window: 1 pass */
	NN_TTA_FLIP = 1,  /* the centre window and its mirror: 2 passes */
	NN_TTA_CROPS = 2, /* the 4 corner windows and the centre one, each
			   * with its mirror: 10 passes */
	NN_TTA_MODES
};
/* "none", "flip", "crops", indexed by enum nn_tta, then NULL. */
extern const char *const nn_tta_names[NN_TTA_MODES + 1];

/* Classifies one face: `gray` is side*side bytes (side =
 * nn_model_input_size). Writes softmax probabilities: with test-time
 * augmentation `tta` (enum nn_tta) the mean over its views, and for an
 * ensemble the weighted mean over its members. MS_EINVAL for a NULL
 * argument or an unknown mode; MS_EUNSUPPORTED when the kernel level was
 * lowered below int8 after the model was loaded for int8, or below AMX
 * after it was loaded for AMX (it keeps only the weights its level reads:
 * load it again); MS_ENOMEM when the portable path's scratch, allocated
 * on its first use (a model on the fast kernels uses it only if the
 * level is lowered), cannot be had. */
int nn_classify(struct nn_ctx *ctx, const uint8_t *gray, int tta,
		float probs[NN_CLASSES]);

/* The most probable class of `probs` (the first on a tie). */
int nn_argmax(const float probs[NN_CLASSES]);

/* The arithmetic classification and training use on this CPU: "portable"
 * (im2col + OpenBLAS), "fp32" (AVX-512), "int8" (+ VNNI) or "amx" (+ AMX
 * tiles: int8 inference, bf16 training convolutions), capped by
 * MOODSYNC_NN_KERNELS. A static string; thread-safe. */
const char *nn_kernels_name(void);

/* Sets the number of OpenBLAS threads for the whole process (inference
 * and training GEMMs). One thread gives the lowest batch-1 latency when
 * several server threads classify at once. */
void nn_set_threads(int n);

/* Shape and cost of a loaded model, for summaries. */
struct nn_model_info {
	int side;      /* input face crop, pixels */
	int crop;      /* window the net sees, pixels (the first member's) */
	int layers;    /* layers in the file(s), before folding */
	int members;   /* nets: 1, or an ensemble's count */
	double macs;   /* multiply-adds per face, one pass of every member */
	size_t params; /* trainable parameters, all members */
};
void nn_model_info(const struct nn_model *m, struct nn_model_info *out);

/* ---- FER-2013 records ------------------------------------------------
 * A split file is a sequence of 2,305-byte records: one label byte (enum
 * nn_emotion) then 48x48 gray pixels, row-major, top row first. */
#define NN_FER_SIDE 48
#define NN_FER_RECORD (1 + NN_FER_SIDE * NN_FER_SIDE)

/* FER+ majority of a record that has none among the seven classes (a tie,
 * no votes, or most votes for contempt, unknown or not a face). */
#define NN_FERPLUS_NONE 255

struct nn_fer {
	size_t n;	 /* records */
	uint8_t *labels; /* (n) enum nn_emotion */
	uint8_t *pixels; /* (n, 48, 48) gray */
	/* FER+ votes, NULL until nn_fer_load_ferplus: */
	float *votes;	/* (n, NN_CLASSES) vote shares of the seven classes,
			 * summing to 1; all 0 when the record has no target
			 * (no votes, or "not a face" ties or wins) */
	uint8_t *major; /* (n) FER+ majority class or NN_FERPLUS_NONE */
};

/* Loads a whole split (at most 1,000,000 records). MS_EIO when unreadable,
 * MS_EFORMAT when the size is not a multiple of a record or a label is
 * out of range. Release with nn_fer_release. */
int nn_fer_load(const char *path, struct nn_fer *out, char *err, size_t errlen);
void nn_fer_release(struct nn_fer *f);

/* Loads the FER+ votes of a loaded split (`*.ferplus.txt`, format at the
 * top of src/nn/ferplus.c) into set->votes and set->major. Every line
 * must match its record (index and FER label). MS_EFORMAT/MS_ELIMIT with
 * the line, MS_EIO, MS_ENOMEM; `set` is unchanged on failure. */
int nn_fer_load_ferplus(const char *path, struct nn_fer *set, char *err,
			size_t errlen);
/* The same on a buffer of `len` bytes (any bytes; fuzzed). */
int nn_ferplus_parse(const uint8_t *buf, size_t len, struct nn_fer *set,
		     char *err, size_t errlen);
/* 1 when record i has a training target: always without FER+ votes,
 * otherwise when it has votes for a FER class and is a face. */
int nn_fer_has_target(const struct nn_fer *set, size_t i);

/* Accuracy of a model on a split: FER labels always, FER+ majority labels
 * when the split has votes. */
struct nn_fer_eval {
	int confusion[NN_CLASSES][NN_CLASSES];	    /* [FER label][predicted] */
	int plus_confusion[NN_CLASSES][NN_CLASSES]; /* [FER+ majority][pred],
						     * records with one */
	size_t plus_n;	   /* records with a FER+ target (the denominator) */
	size_t plus_hits;  /* of those, predicted == their unique majority
			    * (a tie counts as a miss) */
	size_t agree_n;	   /* records whose FER label is their FER+ majority */
	size_t agree_hits; /* of those, predicted right */
	size_t neither;	   /* records predicted as neither of their labels */
};
/* Classifies every record of `set` with nn_classify (test-time
 * augmentation `tta`, enum nn_tta) on `threads` threads sharing the model, and
 * fills confusion[truth][predicted]. MS_EINVAL when the model does not take
 * 48x48 faces, MS_ENOMEM. */
int nn_eval_fer(const struct nn_model *m, const struct nn_fer *set, int tta,
		int threads, int confusion[NN_CLASSES][NN_CLASSES]);
/* The same, also scoring the FER+ majority labels when set->votes is
 * loaded (out->plus_* stay 0 otherwise). */
int nn_eval_split(const struct nn_model *m, const struct nn_fer *set, int tta,
		  int threads, struct nn_fer_eval *out);
/* The two halves of nn_eval_split: the probabilities of every record
 * into probs (set->n, NN_CLASSES), and the figures of given
 * probabilities (for instance after nn_calib_apply). */
int nn_eval_probs(const struct nn_model *m, const struct nn_fer *set, int tta,
		  int threads, float *probs);
void nn_eval_score(const struct nn_fer *set, const float *probs,
		   struct nn_fer_eval *out);

/* ---- Per-person calibration --------------------------------------------
 * People's resting faces differ: one reads "sad" to the model, another
 * "neutral". A calibration holds a person's baseline (the mean probability
 * vector of their resting face) and reads a face relative to it:
 *   out[k] ~ p[k] * (target[k] / base[k])^strength, renormalised,
 * so a resting face comes out as `target` (e.g. uniform, or a prior) and
 * strength 0 leaves p unchanged. Plain values, no allocation; the caller
 * keeps one per session and synchronises access to it. */
struct nn_calib {
	float base[NN_CLASSES]; /* baseline probabilities, sum 1 */
	double weight; /* samples (or EMA weight) behind base; 0 = none */
};

/* Baseline = uniform, weight 0 (nn_calib_apply is then the identity). */
void nn_calib_init(struct nn_calib *c);
/* Adds one face's probabilities to an explicit calibration (running mean
 * of every sample added, e.g. the frames of a 3-second "resting face"). */
void nn_calib_add(struct nn_calib *c, const float probs[NN_CLASSES]);
/* Slow automatic baseline: the running mean of the first `tau` samples,
 * then an exponential moving average with time constant `tau` samples
 * (>= 1). */
void nn_calib_track(struct nn_calib *c, const float probs[NN_CLASSES],
		    double tau);
/* Reads p relative to the baseline (formula above). target NULL means
 * uniform; strength in [0, 1]. Without a baseline (weight 0), out = p.
 * out may alias p. */
void nn_calib_apply(const struct nn_calib *c, const float *target,
		    float strength, const float p[NN_CLASSES],
		    float out[NN_CLASSES]);

/* ---- Training ----------------------------------------------------------
 * nn_train_run trains a named architecture on a FER split with SGD
 * (Nesterov momentum, weight decay on conv/dense weights), linear warmup
 * then cosine learning rate, label smoothing and augmentation (random
 * shift/rotation/scale, flip, brightness/contrast). After every epoch it
 * evaluates on `val`, writes the best-by-validation model to out_path and
 * the full training state to ckpt_path (both atomically). */
struct nn_train_progress {
	int epoch;	     /* 1-based epoch in progress */
	int epochs;	     /* total epochs */
	size_t done;	     /* training images seen this epoch */
	size_t total;	     /* training images per epoch */
	double images_per_s; /* training throughput this epoch */
	double eta_s;	     /* seconds to the end of the run (estimate) */
	double loss;	     /* mean training loss this epoch */
	double acc;	     /* training accuracy this epoch, 0..1 */
	double lr;	     /* current learning rate */
	int epoch_end;	     /* 1: the fields below are set */
	double val_acc;	     /* validation accuracy, 0..1 */
	double val_plus_acc; /* on FER+ majority labels, -1 without votes */
	double val_loss;
	double epoch_s; /* wall seconds of the epoch incl. validation */
	int best;	/* 1 if this epoch is the best so far */
};

struct nn_train_opts {
	const char *arch;      /* preset: "tiny" ... "xl" (nn_arch_preset) */
	const char *out_path;  /* best model (.msnn) */
	const char *ckpt_path; /* checkpoint, rewritten every epoch */
	const char *resume;    /* checkpoint to continue from, or NULL */
	int epochs;	       /* ignored on resume unless resume_epochs */
	int resume_epochs;     /* 1: on resume, set the run's total epochs to
				* `epochs` (the cosine schedule is stretched
				* or shortened from the current step on) */
	int batch;
	int threads; /* data-parallel workers, each with 1-thread BLAS */
	uint32_t seed;
	float lr; /* peak learning rate */
	float wd; /* weight decay */
	float momentum;
	float smoothing;     /* label smoothing */
	float warmup;	     /* warmup length, epochs */
	int augment;	     /* 0: none, 1: full augmentation */
	size_t limit;	     /* train on a random subset of this many (0 all) */
	const char *init;    /* model file to start from instead of random
			      * weights (its architecture; `arch` ignored) */
	float ferplus_share; /* target = (1-s) smoothed one-hot + s FER+
			      * votes; needs train->votes when > 0, and then
			      * drops records without a target */
	float erase;	     /* random-erasing probability per face */
	float mixup;	     /* mixup Beta(a, a) parameter, 0 = off */
	float class_weight[NN_CLASSES]; /* loss weight of each class's term
					 * (1: unweighted) */
	int stop_after; /* >0: return after this many epochs (resume
			 * later from the checkpoint) */
	void (*progress)(void *user, const struct nn_train_progress *p);
	void *user;
};

/* Sensible defaults for every field (arch "base"). */
void nn_train_opts_init(struct nn_train_opts *o);
/* Class weights of the loss from "CLASS=W[,CLASS=W...]" (class names as
 * nn_emotion_names, W from NN_CLASS_WEIGHT_MIN to NN_CLASS_WEIGHT_MAX);
 * classes not named get 1, an empty spec weights nothing. MS_EINVAL with
 * a reason on anything else. */
#define NN_CLASS_WEIGHT_MIN 0.01
#define NN_CLASS_WEIGHT_MAX 100.0
int nn_class_weights_parse(const char *spec, float w[NN_CLASSES], char *err,
			   size_t errlen);
int nn_train_run(const struct nn_train_opts *o, const struct nn_fer *train,
		 const struct nn_fer *val, char *err, size_t errlen);
/* Writes the net of checkpoint `ckpt` (the weights at its last finished
 * epoch, not the best-by-validation ones) to `out` as a model file,
 * atomically; MS_EFORMAT when `ckpt` is not a checkpoint. */
int nn_train_ckpt_export(const char *ckpt, const char *out, char *err,
			 size_t errlen);

#endif
