/* text.h - mood from words: a UTF-8-safe tokeniser with negation marking,
 * hashed word and character n-gram features, and a linear softmax over the
 * seven moods (FER-2013 order), with its model file, trainer and the
 * GoEmotions data it learns from. Depends on common only; never sees HTTP,
 * images or SQLite.
 *
 * Thread-safety: a loaded struct txt_model is immutable and shared by
 * threads; txt_predict keeps its scratch on the caller's stack. */
#ifndef MOODSYNC_TEXT_H
#define MOODSYNC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"

/* The seven classes, in FER-2013 label order (enum music_mood_id). */
#define TXT_CLASSES 7
extern const char *const txt_class_names[TXT_CLASSES];

/* ---- Tokeniser --------------------------------------------------------
 * Reads at most TXT_MAX_INPUT bytes (a longer text is cut at a code-point
 * boundary). Lowercases ASCII, keeps other valid UTF-8 code points, drops
 * control characters and invalid or overlong sequences (they separate
 * words). Letters, digits, apostrophes inside words and non-symbol code
 * points form words; each emoji or pictographic symbol, '!' and '?' is a
 * token of its own. After a negator ("not", "no", "never", "without",
 * "nothing", "cannot", any "...n't") the following words, up to a clause
 * punctuation mark or `neg_window` words, carry the negated flag. */
#define TXT_MAX_INPUT 4096
#define TXT_MAX_TOKENS 1024
#define TXT_MAX_TOKEN_BYTES 48 /* longer words are cut (code-point safe) */

struct txt_tokens {
	int n;			      /* tokens */
	uint16_t off[TXT_MAX_TOKENS]; /* start of token i in buf */
	uint8_t len[TXT_MAX_TOKENS];  /* its length in bytes */
	uint8_t neg[TXT_MAX_TOKENS];  /* 1 when inside a negation scope */
	uint8_t word[TXT_MAX_TOKENS]; /* 1 word, 0 symbol/emoji/punct */
	size_t used;		      /* input bytes read (<= max input) */
	char buf[TXT_MAX_INPUT + TXT_MAX_TOKENS]; /* token bytes */
};

/* Splits `len` bytes of `text` (need not be NUL-terminated; any bytes).
 * `neg_window` 0 means up to the next punctuation mark. Never fails. */
void txt_tokenize(const char *text, size_t len, int neg_window,
		  struct txt_tokens *out);

/* ---- Features and model -----------------------------------------------
 * Features of a text: each token (negated ones hashed apart from plain
 * ones), each pair of neighbouring tokens (when enabled) and the character
 * n-grams of each word wrapped in '<' '>' (n in [ngram_min, ngram_max],
 * counted in code points), hashed (FNV-1a) into `buckets` rows. */
struct txt_config {
	uint32_t buckets;    /* hash rows, 1 .. TXT_MAX_BUCKETS */
	uint32_t ngram_min;  /* character n-grams, 0 = none */
	uint32_t ngram_max;  /* <= TXT_MAX_NGRAM */
	uint32_t bigrams;    /* 1 = word pairs too */
	uint32_t neg_window; /* see txt_tokenize, <= 64 */
};
#define TXT_MAX_BUCKETS (1u << 22)
#define TXT_MAX_NGRAM 6
#define TXT_MAX_FEATURES 8192

/* buckets 2^17, character 3..5-grams, bigrams, negation to punctuation. */
void txt_config_default(struct txt_config *c);
/* MS_EINVAL with a reason when a field is out of range. */
int txt_config_check(const struct txt_config *c, char *err, size_t errlen);

/* Writes up to `max` feature rows of `tok` into `feat`; returns the count
 * (features past `max` are dropped). */
int txt_features(const struct txt_config *c, const struct txt_tokens *tok,
		 uint32_t *feat, int max);

struct txt_model;

/* A model with all weights zero (uniform output), for the trainer and
 * tests. NULL on bad config or out of memory. */
struct txt_model *txt_model_new(const struct txt_config *c);
void txt_model_free(struct txt_model *m);
const struct txt_config *txt_model_config(const struct txt_model *m);

/* Loads a model file (format spec at the top of src/text/model.c).
 * MS_EIO, MS_EFORMAT, MS_ELIMIT, MS_EUNSUPPORTED with a reason in err. */
int txt_model_load(const char *path, struct txt_model **out, char *err,
		   size_t errlen);
int txt_model_parse(const uint8_t *buf, size_t len, struct txt_model **out,
		    char *err, size_t errlen);
/* Writes the model (weights rounded to fp16). MS_EIO on failure. */
int txt_model_save(const struct txt_model *m, const char *path, char *err,
		   size_t errlen);

/* The reading of one text. */
struct txt_result {
	float probs[TXT_CLASSES]; /* softmax, sums to 1 */
	int top;		  /* most probable class */
	int tokens;		  /* tokens read (0: nothing to read) */
	int truncated;		  /* 1 when the input was longer than used */
};

/* Reads `len` bytes of `text`. With no tokens at all (empty, blank, only
 * control or invalid bytes) the answer is neutral (probability 1) and
 * out->tokens is 0, so callers can tell. Never fails. */
void txt_predict(const struct txt_model *m, const char *text, size_t len,
		 struct txt_result *out);

/* Softmax probabilities of `nfeat` feature rows (from txt_features). */
void txt_predict_features(const struct txt_model *m, const uint32_t *feat,
			  int nfeat, float probs[TXT_CLASSES]);

/* ---- Training ---------------------------------------------------------- */

/* One training text: its feature rows and a soft target over the classes. */
struct txt_example {
	uint32_t *feat; /* owned by the set */
	int nfeat;
	float target[TXT_CLASSES]; /* sums to 1 */
	uint8_t gold;		   /* bit c set when class c is a gold label */
	uint8_t first;		   /* the class of the first listed label */
};

struct txt_set {
	struct txt_example *ex;
	size_t n;
};

void txt_set_release(struct txt_set *s);

/* Loads a GoEmotions split (`tsv`: text TAB label ids TAB comment id per
 * line) with the label names of `emotions` (one per line, id order) and the
 * Ekman grouping of `mapping` (JSON: class -> emotion names; emotions not
 * listed map to neutral), as features of config `c`. A comment with labels
 * in k classes gets 1/k on each. Bad lines are errors (MS_EFORMAT with the
 * line number). */
int txt_set_load_goemotions(const char *tsv, const char *emotions,
			    const char *mapping, const struct txt_config *c,
			    struct txt_set *out, char *err, size_t errlen);

struct txt_train_params {
	int epochs;	    /* passes over the data */
	double lr;	    /* initial learning rate, decays linearly to 0 */
	double class_power; /* class weight = (prior / max prior)^-power */
	double l2;	    /* L2 decay per step on touched rows */
	uint64_t seed;	    /* shuffling */
};

void txt_train_params_default(struct txt_train_params *p);

/* Trains `m` (weights start at zero) on `set` with SGD on the softmax
 * cross-entropy. Deterministic for a given seed. `progress` (may be NULL)
 * is called after each epoch with its mean loss. */
int txt_train(struct txt_model *m, const struct txt_set *set,
	      const struct txt_train_params *p,
	      void (*progress)(int epoch, double loss, void *ctx), void *ctx,
	      char *err, size_t errlen);

/* Scores of a set: a prediction is right when its class is any gold class
 * of the text; per-class F1 counts a right prediction as its own class and
 * a wrong one against the text's first-listed class. */
struct txt_score {
	int n;
	double accuracy;
	double macro_f1;
	double f1[TXT_CLASSES];
	double precision[TXT_CLASSES];
	double recall[TXT_CLASSES];
	int support[TXT_CLASSES];
	int conf[TXT_CLASSES][TXT_CLASSES]; /* rows: scored gold, cols: pred */
};

void txt_evaluate(const struct txt_model *m, const struct txt_set *set,
		  struct txt_score *out);

#endif
