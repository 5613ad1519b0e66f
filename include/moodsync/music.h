/* music.h - from emotion probabilities to music: a per-session mood
 * smoother (exponential averaging + hysteresis) and the offline catalog of
 * playlists (search queries) for each mood and strategy. Depends on common
 * and store; knows nothing of HTTP, images or the CNN (the seven moods are
 * the FER-2013 classes in the same order as enum nn_emotion). */
#ifndef MOODSYNC_MUSIC_H
#define MOODSYNC_MUSIC_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"
#include "moodsync/store.h"

/* The seven moods, in FER-2013 label order (same as enum nn_emotion). */
enum music_mood_id {
	MUSIC_ANGRY,
	MUSIC_DISGUST,
	MUSIC_FEAR,
	MUSIC_HAPPY,
	MUSIC_SAD,
	MUSIC_SURPRISE,
	MUSIC_NEUTRAL,
	MUSIC_MOODS
};

/* "angry", ... indexed by enum music_mood_id. */
extern const char *const music_mood_names[MUSIC_MOODS];
/* Parses a mood name; MS_EINVAL when unknown. */
int music_mood_parse(const char *s, int *out);

/* How the music relates to the mood (the session's goal). */
enum music_strategy {
	MUSIC_MATCH,	/* "match": music that sounds like the mood */
	MUSIC_LIFT,	/* "lift": gently toward positive valence */
	MUSIC_CALM,	/* "calm": gently toward low arousal */
	MUSIC_ENERGISE, /* "energise": gently toward high arousal */
	MUSIC_STRATEGIES
};

extern const char *const music_strategy_names[MUSIC_STRATEGIES];
int music_strategy_parse(const char *s, int *out);
/* The playlist catalog knows two strategies: match stays match, the
 * three journeys use the catalog's "lift" (away from the mood). */
int music_strategy_catalog(int strategy);

/* ---- Smoothing ------------------------------------------------------- */

struct music_mood_params {
	double tau_ms;	/* time constant of the exponential average, ms */
	double margin;	/* a new mood must lead the stable one by this much */
	double hold_ms; /* ... continuously for this long before it switches */
};

/* tau 800 ms, margin 0.10, hold 2500 ms. */
void music_mood_params_default(struct music_mood_params *p);

/* Per-session smoothing state; a plain value (copy it freely). */
struct music_mood {
	struct music_mood_params params;
	float probs[MUSIC_MOODS]; /* smoothed probabilities, sum ~1 */
	int samples;		  /* updates so far */
	double last_ms;		  /* time of the last update, ms (monotonic) */
	int stable;		  /* the mood shown/played, -1 before any */
	int candidate;		  /* mood trying to take over, -1 none */
	double candidate_ms;	  /* since when it has led by the margin */
};

void music_mood_init(struct music_mood *m, const struct music_mood_params *p);

/* Feeds one frame's probabilities (MUSIC_MOODS values >= 0, normalized
 * here) observed at `now_ms` (monotonic, non-decreasing). Returns 1 when
 * the stable mood changed (including the first one), 0 otherwise, or
 * MS_EINVAL for non-finite or all-zero input (state unchanged). */
int music_mood_update(struct music_mood *m, const float *probs, double now_ms);

/* The mood with the highest smoothed probability, -1 before any update. */
int music_mood_leader(const struct music_mood *m);

/* ---- Catalog --------------------------------------------------------- */

/* Maps a detected mood to the mood of the music for a strategy (match:
 * itself; lift: sad -> hopeful, angry -> calm, ...), as a short phrase. */
const char *music_target_describe(int mood, int strategy);

/* Inserts the built-in catalog into the store when its catalog table is
 * empty (first run), in one transaction. *added receives the rows added
 * (0 when already seeded). MS_EDB on failure, with the reason in err. */
int music_catalog_seed(struct store *s, int *added, char *err, size_t errlen);

/* Number of built-in catalog entries (for tests). */
size_t music_catalog_builtin_count(void);

/* ---- Recommendation -------------------------------------------------- */

#define MUSIC_REC_MAX 8 /* catalog playlists considered per answer */

/* What to play for a mood: catalog candidates, best first, and the one to
 * lead with. Embeds struct store_playlist (moodsync/store.h). */
struct music_rec {
	int mood;     /* the mood asked about, -1 when none yet */
	int based_on; /* the mood the playlists are for (neutral for none) */
	int strategy; /* enum music_strategy */
	int primary;  /* index into items of the pick, -1 when n == 0 */
	int n;	      /* items[0..n) valid */
	struct store_playlist items[MUSIC_REC_MAX];
};

/* The recommendation policy, in one place: the catalog's playlists for
 * `mood` (-1: none yet, answered as neutral) and `strategy`, in catalog
 * order; the primary pick changes with each mood change (`since_ms`, unix
 * ms the mood became stable) and is stable in between. The Spotify
 * service searches the same candidates in the same order. MS_EINVAL for a
 * bad strategy, the store's code (MS_EDB) with "catalog unavailable" in
 * err. Thread-safe (the store is). */
int music_recommend(struct store *s, int mood, int strategy, int64_t since_ms,
		    struct music_rec *out, char *err, size_t errlen);

/* Writes https://open.spotify.com/search/<url-encoded query> into out
 * (`outlen` bytes). MS_ELIMIT when it does not fit. */
int music_search_url(const char *query, char *out, size_t outlen);

/* ---- Affect: the valence/arousal plane -------------------------------
 * Faces, words and music meet on one plane: valence (negative .. positive)
 * and arousal (calm .. energetic), each in [-1, 1] (Russell's circumplex
 * model of affect). A probability vector over the seven moods maps to the
 * probability-weighted mean of the moods' anchor points below; the point
 * (plus the leading mood, for the cases the plane cannot separate) is then
 * named with one of a small set of feelings. Pure functions, thread-safe. */

struct music_va {
	double valence; /* -1 negative .. +1 positive */
	double arousal; /* -1 calm .. +1 energetic */
};

/* Anchor point of each of the seven moods, indexed by enum music_mood_id. */
extern const struct music_va music_mood_anchor[MUSIC_MOODS];

/* The point of a probability vector (MUSIC_MOODS values >= 0, normalised
 * here; all-zero or non-finite input gives the neutral anchor). */
struct music_va music_affect_point(const float *probs);

/* The finer moods shown to the listener and used by the music choice. */
enum music_feeling {
	MUSIC_FEEL_EXCITED,   /* positive, energetic */
	MUSIC_FEEL_HAPPY,     /* positive, moderate energy */
	MUSIC_FEEL_CALM,      /* positive, low energy */
	MUSIC_FEEL_TIRED,     /* mildly negative, low energy */
	MUSIC_FEEL_SAD,	      /* negative, low energy */
	MUSIC_FEEL_ANXIOUS,   /* negative, energetic, fear-led */
	MUSIC_FEEL_TENSE,     /* negative, energetic, anger/disgust-led */
	MUSIC_FEEL_SURPRISED, /* surprise leads clearly */
	MUSIC_FEEL_NEUTRAL,   /* close to the centre of the plane */
	MUSIC_FEELINGS
};

/* "excited", ... indexed by enum music_feeling. */
extern const char *const music_feeling_names[MUSIC_FEELINGS];

/* Names the feeling of a probability vector (as music_affect_point takes)
 * and its point `p`. The rules are documented in src/music/affect.c. */
enum music_feeling music_feeling_of(const float *probs, struct music_va p);

/* Parses a feeling name; MS_EINVAL when unknown. */
int music_feeling_parse(const char *s, int *out);

/* ---- Fusion: one mood from several sources ----------------------------
 * Each source (the face's smoothed mood, the listener's words, a manual
 * override; a voice source would be one more row) gives seven
 * probabilities and their age. A source counts with weight
 * w * exp(-age / tau), and not at all past max_age; the fused vector is the
 * weighted mean. An exclusive source (the override), when present, decides
 * alone. The numbers are documented in src/music/fusion.c. Pure, thread-
 * safe. */
enum music_source {
	MUSIC_SRC_FACE,
	MUSIC_SRC_TEXT,
	MUSIC_SRC_OVERRIDE,
	MUSIC_SOURCES
};

/* "face", "text", "override", indexed by enum music_source. */
extern const char *const music_source_names[MUSIC_SOURCES];

struct music_source_params {
	double weight;	  /* weight of a fresh reading, > 0 */
	double tau_s;	  /* decay time constant, seconds; 0 = no decay */
	double max_age_s; /* older readings are ignored; 0 = never */
	int exclusive;	  /* 1: when present it alone decides */
};

struct music_fusion_params {
	struct music_source_params src[MUSIC_SOURCES];
};

/* face: weight 1, tau 60 s, ignored after 5 min; text: weight 2, tau
 * 180 s, ignored after 15 min; override: exclusive, no decay. */
void music_fusion_params_default(struct music_fusion_params *p);

/* One source's latest reading. */
struct music_reading {
	int present;		  /* 0: the source has said nothing */
	float probs[MUSIC_MOODS]; /* >= 0, normalised by the fusion */
	double age_s;		  /* seconds since it was read, >= 0 */
};

struct music_fused {
	int any;		     /* 0: no source counts (then neutral) */
	int source;		     /* enum music_source, or -1 = fused */
	float probs[MUSIC_MOODS];    /* fused, sums to 1 */
	double share[MUSIC_SOURCES]; /* each source's part of the weight */
	int mood;		     /* most probable of the seven */
	struct music_va va;	     /* music_affect_point(probs) */
	enum music_feeling feeling;  /* music_feeling_of(probs, va) */
};

/* Fuses `in` (MUSIC_SOURCES readings, indexed by enum music_source). A
 * source whose share is at least 0.9 names the result (out->source), else
 * it is -1 ("fused"). Readings with non-finite, negative or all-zero
 * probabilities are skipped. Never fails. */
void music_fusion_fuse(const struct music_fusion_params *p,
		       const struct music_reading in[MUSIC_SOURCES],
		       struct music_fused *out);

/* A probability vector over the seven moods that music_feeling_of names
 * `f` (e.g. for an override given as a feeling: "tired" is mostly neutral
 * with some sadness). Unknown `f` gives neutral's. */
void music_feeling_probs(enum music_feeling f, float probs[MUSIC_MOODS]);

/* "face", "text", "override" or "fused" for out->source; "none" when no
 * source counts (out->any is 0). */
const char *music_fused_source_name(const struct music_fused *f);

#endif
