/* catalog.c - the built-in offline catalog: for each detected mood and
 * strategy ("match" the mood or "lift" it), a few playlist ideas, each a
 * Spotify search query and the open.spotify.com search link for it (no
 * invented playlist ids). Seeded into the store on first run. */
#include <stdio.h>
#include <string.h>

#include "moodsync/music.h"
#include "moodsync/store.h"

struct seed {
	int mood, strategy;
	const char *name, *description, *query;
};

#define M MUSIC_MATCH
#define L MUSIC_LIFT
static const struct seed seeds[] = {
	{MUSIC_ANGRY, M, "Full-throttle rock", "Loud guitars to burn it off.",
	 "angry hard rock"},
	{MUSIC_ANGRY, M, "Rage workout", "Heavy, fast and relentless.",
	 "rage workout metal"},
	{MUSIC_ANGRY, M, "Aggressive rap", "Punchy beats and sharp verses.",
	 "aggressive rap"},
	{MUSIC_ANGRY, L, "Calm down", "Slow, warm tracks to lower the heat.",
	 "calm down chill"},
	{MUSIC_ANGRY, L, "Deep breath lo-fi", "Soft beats to reset.",
	 "lofi relax"},
	{MUSIC_ANGRY, L, "Peaceful piano", "Quiet piano to unwind.",
	 "peaceful piano"},
	{MUSIC_DISGUST, M, "Punk attitude", "Short, snarling, unimpressed.",
	 "punk rock attitude"},
	{MUSIC_DISGUST, M, "Dark alternative", "Brooding alt-rock.",
	 "dark alternative"},
	{MUSIC_DISGUST, M, "Grunge", "Distorted and weary.", "90s grunge"},
	{MUSIC_DISGUST, L, "Fresh start", "Bright indie to clear the air.",
	 "fresh indie pop"},
	{MUSIC_DISGUST, L, "Feel-good classics", "Songs everyone smiles at.",
	 "feel good classics"},
	{MUSIC_DISGUST, L, "Sunny acoustic", "Light guitars and sunshine.",
	 "sunny acoustic"},
	{MUSIC_FEAR, M, "Dark ambient", "Tense, cinematic atmospheres.",
	 "dark ambient"},
	{MUSIC_FEAR, M, "Suspense soundtrack", "Film scores on edge.",
	 "suspense soundtrack"},
	{MUSIC_FEAR, M, "Haunting vocals", "Eerie and beautiful.",
	 "haunting ethereal"},
	{MUSIC_FEAR, L, "Safe and sound", "Reassuring, gentle songs.",
	 "comforting songs"},
	{MUSIC_FEAR, L, "Confidence boost", "Anthems that make you brave.",
	 "confidence boost"},
	{MUSIC_FEAR, L, "Calm ambient", "Slow, soft and steady.",
	 "calm ambient"},
	{MUSIC_HAPPY, M, "Happy hits", "Upbeat pop that keeps the smile.",
	 "happy hits"},
	{MUSIC_HAPPY, M, "Good vibes", "Sunny, danceable, carefree.",
	 "good vibes"},
	{MUSIC_HAPPY, M, "Dance party", "Energy for a great mood.",
	 "dance party"},
	{MUSIC_HAPPY, L, "Euphoria", "From happy to ecstatic.",
	 "euphoric dance"},
	{MUSIC_HAPPY, L, "Sing-along anthems", "Songs to shout out loud.",
	 "sing along anthems"},
	{MUSIC_HAPPY, L, "Feel-good funk", "Groove and brass.",
	 "feel good funk"},
	{MUSIC_SAD, M, "Rainy-day acoustic", "Quiet songs for a grey mood.",
	 "sad acoustic"},
	{MUSIC_SAD, M, "Melancholy piano", "Slow, reflective piano.",
	 "melancholy piano"},
	{MUSIC_SAD, M, "Heartbreak ballads", "For when it hurts.",
	 "heartbreak ballads"},
	{MUSIC_SAD, L, "Gentle uplift", "Soft songs that slowly brighten.",
	 "gentle uplifting"},
	{MUSIC_SAD, L, "Hopeful indie", "Warm indie with a lift.",
	 "hopeful indie"},
	{MUSIC_SAD, L, "Comfort classics", "Familiar songs that hug back.",
	 "comfort songs"},
	{MUSIC_SURPRISE, M, "Eclectic discoveries", "Expect the unexpected.",
	 "eclectic mix"},
	{MUSIC_SURPRISE, M, "Experimental electronic", "Twists and turns.",
	 "experimental electronic"},
	{MUSIC_SURPRISE, M, "Genre-bending", "Songs that refuse a box.",
	 "genre bending"},
	{MUSIC_SURPRISE, L, "Upbeat wonder", "Keep the spark going.",
	 "upbeat indie"},
	{MUSIC_SURPRISE, L, "Joyful energy", "Bright and bouncy.",
	 "joyful energy"},
	{MUSIC_SURPRISE, L, "Fun pop", "Playful pop with a grin.", "fun pop"},
	{MUSIC_NEUTRAL, M, "Focus flow", "Steady instrumentals to work to.",
	 "focus flow"},
	{MUSIC_NEUTRAL, M, "Chill lo-fi", "Relaxed beats in the background.",
	 "chill lofi beats"},
	{MUSIC_NEUTRAL, M, "Easy listening", "Pleasant, unobtrusive.",
	 "easy listening"},
	{MUSIC_NEUTRAL, L, "Mood booster", "A little push towards happy.",
	 "mood booster"},
	{MUSIC_NEUTRAL, L, "Morning energy", "Bright songs to wake up to.",
	 "morning energy"},
	{MUSIC_NEUTRAL, L, "Feel-good indie", "Light, warm and upbeat.",
	 "feel good indie"},
};
#undef M
#undef L

/* What each mood's music sounds like under each strategy. */
static const char *const targets[MUSIC_MOODS][2] = {
	[MUSIC_ANGRY] = {"intense, loud", "calming"},
	[MUSIC_DISGUST] = {"raw, defiant", "fresh and bright"},
	[MUSIC_FEAR] = {"dark, tense", "reassuring"},
	[MUSIC_HAPPY] = {"upbeat", "euphoric"},
	[MUSIC_SAD] = {"melancholic", "gently uplifting"},
	[MUSIC_SURPRISE] = {"eclectic", "joyful"},
	[MUSIC_NEUTRAL] = {"relaxed background", "mood-boosting"},
};

const char *music_target_describe(int mood, int strategy)
{
	if (mood < 0 || mood >= MUSIC_MOODS || strategy < 0 ||
	    strategy >= MUSIC_STRATEGIES)
		return "";
	return targets[mood][music_strategy_catalog(strategy)];
}

size_t music_catalog_builtin_count(void)
{
	return MS_ARRAY_LEN(seeds);
}

int music_search_url(const char *query, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	static const char prefix[] = "https://open.spotify.com/search/";
	size_t k = sizeof(prefix) - 1;

	if (outlen <= k)
		return MS_ELIMIT;
	memcpy(out, prefix, k);
	for (const unsigned char *q = (const unsigned char *)query; *q; q++) {
		int plain = (*q >= 'a' && *q <= 'z') ||
			    (*q >= 'A' && *q <= 'Z') ||
			    (*q >= '0' && *q <= '9') || *q == '-' ||
			    *q == '_' || *q == '.' || *q == '~';

		if (k + (plain ? 1 : 3) >= outlen)
			return MS_ELIMIT;
		if (plain) {
			out[k++] = (char)*q;
		} else {
			out[k++] = '%';
			out[k++] = hex[*q >> 4];
			out[k++] = hex[*q & 15];
		}
	}
	out[k] = '\0';
	return MS_OK;
}

int music_catalog_seed(struct store *s, int *added, char *err, size_t errlen)
{
	int64_t have = 0;
	int rc = store_catalog_count(s, &have);

	*added = 0;
	if (rc)
		return ms_errf(err, errlen, rc, "reading the catalog");
	if (have > 0)
		return MS_OK;
	rc = store_begin(s);
	if (rc)
		return ms_errf(err, errlen, rc, "catalog: cannot begin");
	for (size_t i = 0; i < MS_ARRAY_LEN(seeds) && !rc; i++) {
		struct store_playlist p;

		memset(&p, 0, sizeof(p));
		snprintf(p.mood, sizeof(p.mood), "%s",
			 music_mood_names[seeds[i].mood]);
		snprintf(p.strategy, sizeof(p.strategy), "%s",
			 music_strategy_names[seeds[i].strategy]);
		snprintf(p.name, sizeof(p.name), "%s", seeds[i].name);
		snprintf(p.description, sizeof(p.description), "%s",
			 seeds[i].description);
		snprintf(p.query, sizeof(p.query), "%s", seeds[i].query);
		rc = music_search_url(p.query, p.url, sizeof(p.url));
		if (!rc)
			rc = store_catalog_add(s, &p);
	}
	if (rc) {
		store_rollback(s);
		return ms_errf(err, errlen, rc, "seeding the catalog failed");
	}
	rc = store_commit(s);
	if (rc)
		return ms_errf(err, errlen, rc, "catalog: commit failed");
	*added = (int)MS_ARRAY_LEN(seeds);
	return MS_OK;
}
